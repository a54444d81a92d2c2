"""The CA's CRL as the hub serves it (``crl`` → ``crlok``, PROTOCOL.md §6.10), and how the
SDK checks it: the hub is not trusted for it, so the client verifies the CRL against its
own CA certificate(s) and its dates before any use.

Errors (under :class:`~client._model.ClientError`)::

    CRLError .............. the CRL the hub served cannot be used: unreadable, its fields
    │                       do not match its bytes, dated in the future, or older than one
    │                       this client verified before (a rollback)
    ├── ForeignCRL ........ not issued and signed by this client's CA (another CA's, or
    │                       forged): the hub (or its store) serves someone else's list
    └── StaleCRL .......... past its nextUpdate (or without one): expired, a revocation
                            since may be missing
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from client._model import ClientError
from hub.protocol.limits import CLOCK_SKEW_MS

__all__ = ["CRLError", "ForeignCRL", "StaleCRL", "crl_number", "verify_crl"]


class CRLError(ClientError):
    """The hub's CRL cannot be used (see the module docstring); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the hub's CRL is refused: {reason}")
        self.reason = reason


class ForeignCRL(CRLError):
    """The CRL is not issued and signed by this client's CA."""


class StaleCRL(CRLError):
    """The CRL is past its nextUpdate (or has none)."""


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def crl_number(crl: x509.CertificateRevocationList) -> int | None:
    """The CRL's CRLNumber, None if it has none."""
    try:
        return int(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
    except x509.ExtensionNotFound:
        return None


def verify_crl(der: bytes, cas: Sequence[x509.Certificate], *, now_ms: int,
               number: int | None = None, next_ms: int | None = None,
               at_least: int = 0) -> x509.CertificateRevocationList:
    """Parse ``der`` and check it is a CRL issued by one of ``cas`` (issuer name and Ed25519
    signature), dated no later than ``now_ms`` (give or take the clock skew), before its
    nextUpdate, with ``number``/``next_ms`` (the frame's fields, when given) those of its
    bytes and a CRLNumber of at least ``at_least``. Raises :class:`ForeignCRL`,
    :class:`StaleCRL` or :class:`CRLError`."""
    try:
        crl = x509.load_der_x509_crl(der)
    except ValueError:
        raise CRLError("not a DER certificate revocation list") from None
    signed = False
    for ca in cas:
        key = ca.public_key()
        if crl.issuer == ca.subject and isinstance(key, Ed25519PublicKey):
            try:
                signed = crl.is_signature_valid(key)
            except (ValueError, TypeError):  # pragma: no cover - an unusual signature
                signed = False
            if signed:
                break
    if not signed:
        raise ForeignCRL("not signed by this client's CA")
    have = crl_number(crl)
    nxt = crl.next_update_utc
    if number is not None and number != have:
        raise CRLError(f"the frame says number {number}, the CRL {have}")
    if next_ms is not None and (nxt is None or next_ms != _ms(nxt)):
        raise CRLError("the frame's nextUpdate is not the CRL's")
    if _ms(crl.last_update_utc) > now_ms + CLOCK_SKEW_MS:
        raise CRLError("issued in the future (thisUpdate after now)")
    if nxt is None:
        raise StaleCRL("it has no nextUpdate")
    if _ms(nxt) <= now_ms:
        raise StaleCRL(f"expired at {nxt:%Y-%m-%d %H:%M:%S} UTC (its nextUpdate)")
    if (have or 0) < at_least:
        raise CRLError(f"number {have} is older than number {at_least} this client "
                       "verified before")
    return crl
