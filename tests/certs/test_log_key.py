"""The hub's log key (signs channel checkpoints, PROTOCOL.md §2 and Appendix C): issued by
``cordon ca issue-log-key``, recorded in the index, revocable on its own, never a session."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from certs.ca import (
    LOG_EKU,
    InvalidIdentity,
    InvalidRequest,
    identity_of,
    init_ca,
    issue_log,
    load_index,
)
from certs.cli import EXIT_OK, main
from hub.protocol.errors import BadSignature
from hub.protocol.trust import identity_from_certificate, verify_log_certificate


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    init_ca(tmp_path / "ca")
    return tmp_path / "ca"


def test_issue_log_key(ca: Path) -> None:
    issued = issue_log(ca, hub="eu-hub")
    assert issued.cert.name == "log.pem" and issued.key.stat().st_mode & 0o777 == 0o600
    cert = x509.load_pem_x509_certificate(issued.cert.read_bytes())
    ca_cert = x509.load_pem_x509_certificate((ca / "ca.pem").read_bytes())
    now = int(datetime.now(UTC).timestamp() * 1000)
    hub, public = verify_log_certificate(cert, ca_cert, at_ms=now)
    key = load_pem_private_key(issued.key.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    assert (hub, public) == ("eu-hub", key.public_key().public_bytes_raw())
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [LOG_EKU]  # no clientAuth: it can never open a session
    record = load_index(ca)[-1]
    assert (record.kind, record.principal, record.kid) == ("log", "log:eu-hub", issued.kid)
    with pytest.raises(InvalidIdentity):  # names no principal
        identity_of(cert)
    with pytest.raises(BadSignature):
        identity_from_certificate(cert)
    with pytest.raises(InvalidRequest):
        issue_log(ca, hub="Bad Name", basename="other")


def test_cli_issue_log_key_list_and_revoke(ca: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    assert main(["issue-log-key", "--dir", str(ca)]) == EXIT_OK
    assert "log key for hub main" in capsys.readouterr().out
    assert main(["list", "--dir", str(ca)]) == EXIT_OK
    assert "log:main" in capsys.readouterr().out
    assert main(["revoke", "--dir", str(ca), "--principal", "log:main",
                 "--reason", "keyCompromise"]) == EXIT_OK
    record = load_index(ca)[-1]
    assert record.status == "revoked"
    crl = x509.load_pem_x509_crl((ca / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(record.serial) is not None
