"""Open the officer's credentials: PEM key and certificate, or PKCS#12 with a passphrase.

The passphrase is used in memory and forgotten; nothing decrypted is written
to a lasting file. The SDK reads credentials from paths, once, when a
:class:`~client.sdk.Client` is built: :func:`materialized` hands it paths to
anonymous in-memory files (Linux ``memfd``) or, elsewhere, to files in a
private temporary folder that is removed as soon as the client is built.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12

from client.desktop.settings import DeskSettings

__all__ = ["CredentialError", "Credentials", "load_credentials", "materialized", "needs_passphrase"]


class CredentialError(Exception):
    """The credentials cannot be used (unreadable, wrong passphrase, not Ed25519 ...)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    cert_pem: bytes
    key_pem: bytes  # unencrypted PKCS#8, kept in memory only
    ca_pem: bytes

    def __repr__(self) -> str:
        return "<Credentials (key redacted)>"

    @property
    def ca_certificates(self) -> list[x509.Certificate]:
        return x509.load_pem_x509_certificates(self.ca_pem)


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise CredentialError(f"cannot read the {what} {path}: {exc.strerror}") from exc


def needs_passphrase(settings: DeskSettings) -> bool:
    """True when the key is a PKCS#12 file or an encrypted PEM key."""
    if settings.p12:
        return True
    if not settings.key:
        return False
    try:
        data = Path(settings.key).expanduser().read_bytes()
    except OSError:
        return False
    return b"ENCRYPTED" in data


def _pem_key(key: object) -> bytes:
    if not isinstance(key, Ed25519PrivateKey):
        raise CredentialError("the private key is not an Ed25519 key")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_credentials(settings: DeskSettings, passphrase: str | None = None) -> Credentials:
    """Decrypt/parse the configured credentials; raise :class:`CredentialError`."""
    password = passphrase.encode() if passphrase else None
    ca_pem = _read(settings.ca, "CA certificate") if settings.ca else b""
    if settings.p12:
        data = _read(settings.p12, "PKCS#12 file")
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password)
        except ValueError as exc:
            raise CredentialError("cannot open the PKCS#12 file: wrong passphrase?") from exc
        if cert is None or key is None:
            raise CredentialError("the PKCS#12 file holds no certificate and key")
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        if not ca_pem:
            ca_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in extra or [])
        key_pem = _pem_key(key)
    else:
        cert_pem = _read(settings.cert, "certificate")
        raw = _read(settings.key, "private key")
        try:
            key_obj = serialization.load_pem_private_key(raw, password=password)
        except TypeError as exc:
            raise CredentialError("the private key needs a passphrase") from exc
        except ValueError as exc:
            raise CredentialError("cannot open the private key: wrong passphrase?") from exc
        key_pem = _pem_key(key_obj)
    if not ca_pem:
        raise CredentialError("no CA certificate: choose the hub's CA file")
    try:
        x509.load_pem_x509_certificates(ca_pem)
        x509.load_pem_x509_certificates(cert_pem)
    except ValueError as exc:
        raise CredentialError("a certificate file is not PEM") from exc
    return Credentials(cert_pem=cert_pem, key_pem=key_pem, ca_pem=ca_pem)


@contextlib.contextmanager
def materialized(creds: Credentials) -> Iterator[tuple[Path, Path, Path]]:
    """Paths ``(cert, key, ca)`` to read the credentials from, valid inside the block."""
    contents = (creds.cert_pem, creds.key_pem, creds.ca_pem)
    if hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir():
        fds = []
        try:
            for index, data in enumerate(contents):
                fd = os.memfd_create(f"cordon-{index}", 0)
                fds.append(fd)
                os.write(fd, data)
            cert, key, ca = (Path(f"/proc/self/fd/{fd}") for fd in fds)
            yield cert, key, ca
        finally:
            for fd in fds:
                os.close(fd)
        return
    folder = Path(tempfile.mkdtemp(prefix="cordon-"))  # mode 0700
    try:
        paths = []
        for name, data in zip(("cert.pem", "key.pem", "ca.pem"), contents, strict=True):
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            paths.append(path)
        yield paths[0], paths[1], paths[2]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
