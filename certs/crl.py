"""``crl.pem``: the certificate revocation list, built from the index.

The CRL is signed by the CA key, carries a CRLNumber one higher than the
previous CRL's and an AuthorityKeyIdentifier, and lists every revoked serial
with its revocation time and reason code (no reason code for
``unspecified``, as RFC 5280 §5.3.1 asks). It is regenerated in full from
``index.json`` on every write, so it can always be rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from certs.errors import CorruptCA
from certs.index import REASONS, CertRecord

__all__ = ["CRL_FILE", "build_crl", "crl_number"]

CRL_FILE = "crl.pem"


def crl_number(path: Path, issuer_key: Ed25519PublicKey) -> int:
    """The CRLNumber of the CRL at ``path`` (0 if there is none yet).

    Raises :class:`CorruptCA` if the file is not a CRL signed by ``issuer_key``.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    try:
        crl = x509.load_pem_x509_crl(data)
        valid = crl.is_signature_valid(issuer_key)
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except (ValueError, x509.ExtensionNotFound) as exc:
        raise CorruptCA(f"{path} is corrupt: {exc}") from exc
    if not valid:
        raise CorruptCA(f"{path} is not signed by this CA")
    return number


def build_crl(
    *,
    issuer: x509.Certificate,
    key: Ed25519PrivateKey,
    records: Iterable[CertRecord],
    number: int,
    now: datetime,
    days: int,
) -> x509.CertificateRevocationList:
    """A CRL listing every revoked record, valid from ``now`` for ``days``."""
    try:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key())
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now)
        .next_update(now + timedelta(days=days))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(aki, critical=False)
    )
    for record in records:
        if record.status != "revoked" or record.revoked_at is None or record.reason is None:
            continue
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(record.serial)
            .revocation_date(record.revoked_at)
        )
        flag = REASONS[record.reason]
        if flag is not x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(flag), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(key, None)
