"""Before a command connects: are the credentials usable? And after it failed: what to say.

:func:`check_credentials` reads the certificate, key and CA files the way the TLS
layer will, and says in one sentence what is wrong and what to do: a file that
cannot be read or is not PEM (named), a key that is not the certificate's, a
certificate that is not from the given CA, one that has expired or is not yet
valid. The hub would refuse the last three during the TLS handshake, where TLS 1.3
gives the client no reason at all.

:func:`explain` turns a connection error into the one line the command prints.
"""

from __future__ import annotations

import ssl
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from client._model import ClientError, SessionRefused
from hub.protocol.errors import CordonError

__all__ = [
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "NOT_FROM_YOUR_CA",
    "CredentialProblem",
    "build_client",
    "check_credentials",
    "explain",
    "refusal",
]

EXIT_USAGE, EXIT_REFUSED = 2, 3

#: Start of the message for a hub certificate that the given CA did not issue
#: (:func:`explain` adds the CA file's name).
NOT_FROM_YOUR_CA = "the hub's certificate is not from the CA you gave"

_ASK_ADMIN = "ask the hub's administrator for a new certificate"


class CredentialProblem(Exception):
    """The credentials cannot work; ``refused`` is True when the hub would refuse them
    (expired, not yet valid), False when they cannot even be used (unreadable, mismatched)."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CredentialProblem(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _certs(path: Path, what: str) -> list[x509.Certificate]:
    data = _read(path, what)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise CredentialProblem(f"{what} {path} is not a PEM certificate "
                                "(-----BEGIN CERTIFICATE-----)")
    return certs


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def check_credentials(cert: Path, key: Path, ca: Path, *, now: datetime | None = None) -> None:
    """Raise :class:`CredentialProblem` if ``cert``/``key``/``ca`` cannot connect."""
    own = _certs(cert, "certificate")[0]
    cas = _certs(ca, "CA certificate")
    data = _read(key, "private key")
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise CredentialProblem(f"private key {key} is encrypted; Cordon needs it "
                                "unencrypted (mode 0600)") from None
    except ValueError:
        raise CredentialProblem(f"private key {key} is not a PEM private key "
                                "(-----BEGIN PRIVATE KEY-----)") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise CredentialProblem(f"private key {key} is not an Ed25519 key")
    public = own.public_key()
    if not isinstance(public, Ed25519PublicKey) or (
        public.public_bytes_raw() != private.public_key().public_bytes_raw()
    ):
        raise CredentialProblem(f"private key {key} does not belong to the certificate {cert}: "
                                "give the key made with the certificate request "
                                "('cordon key new') or issued with it")
    if not any(_issued_by(own, authority) for authority in cas):
        raise CredentialProblem(f"certificate {cert} is not issued by the CA in {ca}: give the "
                                "hub's CA certificate (ca.pem, sent with your certificate)")
    now = datetime.now(UTC) if now is None else now
    if own.not_valid_after_utc < now:
        raise CredentialProblem(f"certificate {cert} expired on "
                                f"{_day(own.not_valid_after_utc)}: {_ASK_ADMIN}", refused=True)
    if own.not_valid_before_utc > now:
        raise CredentialProblem(f"certificate {cert} is not valid before "
                                f"{_day(own.not_valid_before_utc)} (check this machine's "
                                "clock)", refused=True)


def _issued_by(cert: x509.Certificate, authority: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(authority)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def explain(exc: ClientError, *, ca: Path | None = None) -> str:
    """The one line a command prints for a connection error."""
    text = str(exc)
    if isinstance(exc, SessionRefused) and text.startswith(NOT_FROM_YOUR_CA) and ca is not None:
        text = text.replace(NOT_FROM_YOUR_CA, f"{NOT_FROM_YOUR_CA} ({ca})", 1)
    return text


def refusal(exc: CordonError, *, channel: str | None = None) -> str:
    """A hub refusal as one line: code, phrase, detail (never the phrase twice), next step."""
    text = f"{exc.code} {exc.phrase}"
    if exc.detail and exc.detail != exc.phrase:
        text += f": {exc.detail}"
    if exc.code == 404:
        named = f" {channel!r}" if channel else ""
        text = (f"{exc.code} no such channel{named}, or you have no role in it: check the "
                "name with the hub's administrator, who grants roles")
    return text


def build_client(prog: str, hub: str, *, cert: Path, key: Path, ca: Path,
                 **options: Any) -> Any:
    """Check the credentials, then build a :class:`client.sdk.Client`; on a problem print
    one line and return the exit code (2 unusable credentials, 3 the hub would refuse)."""
    from client.sdk import Client

    try:
        check_credentials(cert, key, ca)
        return Client(hub, cert=cert, key=key, ca=ca, **options)
    except CredentialProblem as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_REFUSED if exc.refused else EXIT_USAGE
    except (OSError, ValueError, ssl.SSLError) as exc:
        print(f"{prog}: error: cannot load credentials ({cert}, {key}, {ca}): {exc}",
              file=sys.stderr)
        return EXIT_USAGE
