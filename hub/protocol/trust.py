"""Who signed an alert, and may they be trusted? Certificates and signatures, sans I/O.

Used by the hub (before storing an alert) and by every recipient (before
believing one): both need only the CA certificate.

- :func:`identity_from_certificate` reads the principal a certificate names,
  from the fixed field described in :mod:`hub.protocol.identity` and nothing
  else.
- :func:`check_client_purpose` checks a certificate is for client authentication
  (the hub re-checks it after every TLS handshake: OpenSSL accepts "no EKU").
- :func:`verify_certificate` checks that the CA issued a certificate for a
  Cordon principal and that it was valid at a given time.
- :func:`verify_signed_alert` checks a stored or received alert end to end:
  envelope, signing certificate, sender, signature, channel.
- :func:`verify_log_certificate` checks a hub's log key certificate (the key that
  signs channel checkpoints, PROTOCOL.md Appendix C): issued by the CA, valid,
  ``urn:cordon:log:<hub>``, the cordon-log EKU, not on the CRL when one is given.

Every refusal raises a :class:`~hub.protocol.errors.AlertRejected` subclass:

==========================  =================================================
:class:`BadSignature`       certificate not issued by the CA, expired or not
                            yet valid, wrong purpose, names no (or several)
                            identities; signature does not verify
:class:`EnvelopeMismatch`   the envelope's key id, sender or channel is not
                            the certificate's / the expected one
:class:`InvalidAlert`       the bytes are not a valid alert envelope
==========================  =================================================

Revocation is not checked here: the hub refuses alerts from revoked
certificates when they are published, and refuses revoked certificates at the
TLS handshake. An alert signed before a revocation stays verifiable.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID

from hub.protocol.envelope import Envelope, decode_envelope, key_id, verify_alert
from hub.protocol.errors import BadSignature, EnvelopeMismatch, InvalidFrame
from hub.protocol.identity import (
    ADMIN_EKU_OID,
    CORDON_URI_PREFIX,
    LOG_EKU_OID,
    LOG_URI_PREFIX,
    Identity,
    check_name,
    cordon_uris,
    identity_from_uri,
)

__all__ = [
    "CORDON_URI_PREFIX",
    "check_client_purpose",
    "identity_from_certificate",
    "verify_certificate",
    "verify_log_certificate",
    "verify_signed_alert",
]

_ADMIN_EKU = x509.ObjectIdentifier(ADMIN_EKU_OID)
_LOG_EKU = x509.ObjectIdentifier(LOG_EKU_OID)


def _extension_value(cert: x509.Certificate, cls: type[x509.ExtensionType]) -> object | None:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _ekus(cert: x509.Certificate) -> frozenset[x509.ObjectIdentifier]:
    value = _extension_value(cert, x509.ExtendedKeyUsage)
    if not isinstance(value, x509.ExtendedKeyUsage):
        return frozenset()
    return frozenset(value)


def identity_from_certificate(cert: x509.Certificate) -> Identity:
    """The principal a certificate names; :class:`BadSignature` if it names none or several.

    Reads only subjectAltName URIs starting with ``urn:cordon:``; exactly one
    is required. An admin URI requires the admin extended key usage
    (:data:`~hub.protocol.identity.ADMIN_EKU_OID`); a principal URI must not
    carry it. The certificate's validity and issuer are not checked here (see
    :func:`verify_certificate`).
    """
    san = _extension_value(cert, x509.SubjectAlternativeName)
    uris = (
        list(san.get_values_for_type(x509.UniformResourceIdentifier))
        if isinstance(san, x509.SubjectAlternativeName)
        else []
    )
    cordon = cordon_uris(uris)
    if len(cordon) != 1:
        raise BadSignature("certificate must name exactly one Cordon identity")
    try:
        identity = identity_from_uri(cordon[0])
    except InvalidFrame as exc:
        raise BadSignature("certificate identity is invalid") from exc
    if identity.admin != (_ADMIN_EKU in _ekus(cert)):
        raise BadSignature("certificate identity and admin key usage disagree")
    return identity


def _ms(moment: datetime) -> int:
    return int(moment.timestamp()) * 1000


def verify_certificate(cert: x509.Certificate, ca: x509.Certificate, *, at_ms: int) -> Identity:
    """Check that ``ca`` issued ``cert`` for a Cordon principal, valid at ``at_ms``.

    Checks: issuer is the CA's subject and the CA's key signed it; both were
    valid at ``at_ms`` (milliseconds since the epoch, bounds inclusive); the
    certificate is not a CA, allows ``digitalSignature`` and has the
    ``clientAuth`` extended key usage. Returns the identity it names; raises
    :class:`BadSignature` otherwise.
    """
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise BadSignature("certificate not issued by the Cordon CA") from exc
    for who, checked in (("certificate", cert), ("CA certificate", ca)):
        not_before = _ms(checked.not_valid_before_utc)
        not_after = _ms(checked.not_valid_after_utc)
        if not not_before <= at_ms <= not_after:
            raise BadSignature(f"{who} not valid at the alert's time")
    check_client_purpose(cert)
    return identity_from_certificate(cert)


def check_client_purpose(cert: x509.Certificate) -> None:
    """Raise :class:`BadSignature` unless ``cert`` is fit to act as a Cordon principal:
    not a CA, keyUsage with ``digitalSignature``, and an extendedKeyUsage that includes
    ``clientAuth``. OpenSSL's handshake accepts a client certificate with no keyUsage
    or no extendedKeyUsage at all; the hub calls this after every handshake, and
    before trusting a signing certificate. (Whether an admin URI carries the admin
    EKU is part of the identity: :func:`identity_from_certificate`.)"""
    try:
        constraints = _extension_value(cert, x509.BasicConstraints)
        usage = _extension_value(cert, x509.KeyUsage)
        ekus = _ekus(cert)
    except (ValueError, x509.DuplicateExtension) as exc:
        raise BadSignature("certificate extensions are malformed") from exc
    if isinstance(constraints, x509.BasicConstraints) and constraints.ca:
        raise BadSignature("a CA certificate cannot act as a principal")
    if not isinstance(usage, x509.KeyUsage) or not usage.digital_signature:
        raise BadSignature("certificate does not allow digital signatures")
    if ExtendedKeyUsageOID.CLIENT_AUTH not in ekus:
        raise BadSignature("certificate lacks the clientAuth extended key usage")


def verify_signed_alert(
    alert: bytes,
    sig: bytes,
    cert_der: bytes,
    ca: x509.Certificate,
    *,
    channel: str | None = None,
) -> Envelope:
    """Verify an alert end to end and return its envelope.

    In order: the bytes decode to an envelope (:class:`InvalidAlert`); the
    envelope's ``kid`` is the key id of ``cert_der`` (:class:`EnvelopeMismatch`);
    the certificate is trusted at the envelope's time (:class:`BadSignature`);
    it names the envelope's sender (:class:`EnvelopeMismatch`); its Ed25519 key
    signed the bytes (:class:`BadSignature`); and, when ``channel`` is given,
    the alert was signed for that channel (:class:`EnvelopeMismatch`).
    """
    envelope = decode_envelope(alert)
    if key_id(cert_der) != envelope.kid:
        raise EnvelopeMismatch("signing certificate does not match the alert's key id")
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError as exc:
        raise BadSignature("signing certificate is not DER") from exc
    identity = verify_certificate(cert, ca, at_ms=envelope.ts)
    if identity.principal != envelope.sender:
        raise EnvelopeMismatch("alert sender is not the signing certificate's principal")
    public_key = cert.public_key()
    if not isinstance(public_key, Ed25519PublicKey):
        raise BadSignature("signing key is not Ed25519")
    verify_alert(public_key, alert, sig)
    if channel is not None and envelope.channel != channel:
        raise EnvelopeMismatch("alert was signed for another channel")
    return envelope


def verify_log_certificate(
    cert: x509.Certificate,
    ca: x509.Certificate,
    *,
    at_ms: int,
    crl: x509.CertificateRevocationList | None = None,
) -> tuple[str, bytes]:
    """Check that ``ca`` issued ``cert`` as a hub's log key, valid at ``at_ms``, and (with
    ``crl``, which must be the CA's) not revoked; return ``(hub name, raw public key)``.

    Required: issued and signed by the CA; both valid at ``at_ms``; not a CA; keyUsage
    ``digitalSignature``; the cordon-log extended key usage
    (:data:`~hub.protocol.identity.LOG_EKU_OID`); exactly one ``urn:cordon:`` SAN URI,
    ``urn:cordon:log:<hub>``; an Ed25519 key. :class:`BadSignature` otherwise.
    """
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise BadSignature("log certificate not issued by the Cordon CA") from exc
    for who, checked in (("log certificate", cert), ("CA certificate", ca)):
        if not _ms(checked.not_valid_before_utc) <= at_ms <= _ms(checked.not_valid_after_utc):
            raise BadSignature(f"{who} not valid at the checkpoint's time")
    try:
        constraints = _extension_value(cert, x509.BasicConstraints)
        usage = _extension_value(cert, x509.KeyUsage)
        ekus = _ekus(cert)
        san = _extension_value(cert, x509.SubjectAlternativeName)
    except (ValueError, x509.DuplicateExtension) as exc:
        raise BadSignature("log certificate extensions are malformed") from exc
    if isinstance(constraints, x509.BasicConstraints) and constraints.ca:
        raise BadSignature("a CA certificate is not a log key")
    if not isinstance(usage, x509.KeyUsage) or not usage.digital_signature:
        raise BadSignature("log certificate does not allow digital signatures")
    if _LOG_EKU not in ekus:
        raise BadSignature("certificate lacks the cordon-log extended key usage")
    uris = (list(san.get_values_for_type(x509.UniformResourceIdentifier))
            if isinstance(san, x509.SubjectAlternativeName) else [])
    cordon = cordon_uris(uris)
    if len(cordon) != 1 or not cordon[0].startswith(LOG_URI_PREFIX):
        raise BadSignature("log certificate must name exactly one urn:cordon:log: URI")
    try:
        hub = check_name(cordon[0][len(LOG_URI_PREFIX):], "hub name")
    except InvalidFrame as exc:
        raise BadSignature("log certificate names an invalid hub") from exc
    public_key = cert.public_key()
    if not isinstance(public_key, Ed25519PublicKey):
        raise BadSignature("log key is not Ed25519")
    if crl is not None:
        if crl.issuer != ca.subject or not crl.is_signature_valid(
            ca.public_key()  # type: ignore[arg-type]
        ):
            raise BadSignature("the CRL is not the Cordon CA's")
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise BadSignature("log certificate revoked")
    return hub, public_key.public_bytes_raw()
