"""certs.ca: a real CA in tmp_path — extensions, files, index, revocation, CRL, identity."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from certs.ca import (
    ADMIN_EKU,
    CLIENT_AUTH,
    SERVER_AUTH,
    AlreadyRevoked,
    BadCertificate,
    CAError,
    CAExists,
    CANotFound,
    CorruptCA,
    InvalidIdentity,
    InvalidRequest,
    UnknownCertificate,
    WrongPurpose,
    check_purpose,
    identity_of,
    init_ca,
    issue_admin,
    issue_member,
    issue_server,
    load_index,
    revoke,
    write_crl,
)
from certs.files import write_atomic
from hub.protocol.envelope import key_id
from hub.protocol.errors import BadSignature
from hub.protocol.identity import Identity
from hub.protocol.trust import identity_from_certificate
from tests.pki import make_pki

E = TypeVar("E", bound=x509.ExtensionType)
NOW = datetime.now(UTC)
DAY = timedelta(days=1)


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_crl(ca_dir: Path) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl((ca_dir / "crl.pem").read_bytes())


def ca_public_key(ca_dir: Path) -> Ed25519PublicKey:
    key = load_cert(ca_dir / "ca.pem").public_key()
    assert isinstance(key, Ed25519PublicKey)
    return key


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def ext(cert: x509.Certificate, cls: type[E]) -> x509.Extension[E]:
    return cert.extensions.get_extension_for_class(cls)


def crl_number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    d = tmp_path / "ca"
    init_ca(d)
    return d


# --------------------------------------------------------------------------- init


def test_init_ca_certificate_and_files(tmp_path: Path) -> None:
    d = tmp_path / "new" / "ca"
    path = init_ca(d, name="Test Hub CA", days=30)
    assert path == d / "ca.pem"
    cert = load_cert(path)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Test Hub CA"
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)
    assert isinstance(cert.public_key(), Ed25519PublicKey)
    bc = ext(cert, x509.BasicConstraints)
    assert bc.critical
    assert bc.value.ca is True
    assert bc.value.path_length == 0
    ku = ext(cert, x509.KeyUsage)
    assert ku.critical
    assert ku.value.key_cert_sign
    assert ku.value.crl_sign
    assert not ku.value.digital_signature
    ski = ext(cert, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(ca_public_key(d))
    left = cert.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(days=29) < left <= timedelta(days=30, seconds=2)

    assert mode(d) == 0o700
    assert mode(d / "ca.key") == 0o600
    assert mode(d / "ca.pem") == mode(d / "crl.pem") == mode(d / "index.json") == 0o644
    key = serialization.load_pem_private_key((d / "ca.key").read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    assert key.public_key() == cert.public_key()
    assert json.loads((d / "index.json").read_text()) == {"version": 1, "certificates": []}
    assert load_index(d) == []
    crl = load_crl(d)
    assert len(crl) == 0
    assert crl_number(crl) == 1
    assert crl.is_signature_valid(ca_public_key(d))


def test_init_refuses_existing_ca_and_changes_nothing(ca: Path) -> None:
    before = {p.name: p.read_bytes() for p in ca.iterdir() if p.is_file()}
    with pytest.raises(CAExists, match="already exists"):
        init_ca(ca)
    assert {p.name: p.read_bytes() for p in ca.iterdir() if p.is_file()} == before


def test_init_refuses_a_partial_ca(tmp_path: Path) -> None:
    (tmp_path / "ca.key").write_bytes(b"left over")
    with pytest.raises(CAExists, match=r"ca\.key"):
        init_ca(tmp_path)
    assert (tmp_path / "ca.key").read_bytes() == b"left over"


@pytest.mark.parametrize(("kwargs", "match"), [({"days": 0}, "days"), ({"name": " "}, "name")])
def test_init_rejects_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidRequest, match=match):
        init_ca(tmp_path / "ca", **kwargs)


def test_no_ca(tmp_path: Path) -> None:
    for d in (tmp_path, tmp_path / "missing"):
        with pytest.raises(CANotFound, match="no CA"):
            issue_member(d, member="fr", name="ops")
        with pytest.raises(CANotFound):
            load_index(d)
        with pytest.raises(CANotFound):
            revoke(d, serial=1)
        with pytest.raises(CANotFound):
            write_crl(d)


# --------------------------------------------------------------------------- issuing


def check_leaf_basics(ca_dir: Path, cert: x509.Certificate) -> None:
    ca_cert = load_cert(ca_dir / "ca.pem")
    cert.verify_directly_issued_by(ca_cert)
    assert isinstance(cert.public_key(), Ed25519PublicKey)
    bc = ext(cert, x509.BasicConstraints)
    assert bc.critical
    assert bc.value.ca is False
    assert bc.value.path_length is None
    ku = ext(cert, x509.KeyUsage)
    assert ku.critical
    assert ku.value.digital_signature
    assert not (ku.value.key_cert_sign)
    assert not (ku.value.crl_sign)
    assert not (ku.value.key_encipherment)
    aki = ext(cert, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ext(ca_cert, x509.SubjectKeyIdentifier).value.digest
    ski = ext(cert, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    assert 0 < cert.serial_number < 2**64
    assert cert.not_valid_before_utc <= NOW


def test_issue_server(ca: Path, tmp_path: Path) -> None:
    issued = issue_server(
        ca,
        dns_names=["localhost", "Hub.Example.org", "localhost"],
        ip_addresses=["127.0.0.1", IPv4Address("10.0.0.1")],
        out=tmp_path / "srv",
    )
    assert issued.cert == tmp_path / "srv" / "server.pem"
    assert issued.key == tmp_path / "srv" / "server.key"
    assert issued.ca == tmp_path / "srv" / "ca.pem"
    assert issued.ca.read_bytes() == (ca / "ca.pem").read_bytes()
    cert = load_cert(issued.cert)
    check_leaf_basics(ca, cert)
    assert list(ext(cert, x509.ExtendedKeyUsage).value) == [SERVER_AUTH]
    san = ext(cert, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "hub.example.org"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "10.0.0.1"]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == []
    assert cert.subject.rfc4514_string() == "CN=localhost"
    left = cert.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(days=396) < left <= timedelta(days=397, seconds=2)
    with pytest.raises(InvalidIdentity):
        identity_of(cert)

    der = cert.public_bytes(serialization.Encoding.DER)
    (record,) = load_index(ca)
    assert record == issued.record
    assert record.kid == key_id(der) == issued.kid
    assert record.serial == cert.serial_number == issued.serial
    assert (record.kind, record.principal, record.principal_kind) == ("server", None, None)
    assert record.dns_names == ("localhost", "hub.example.org")
    assert record.ip_addresses == ("127.0.0.1", "10.0.0.1")
    assert (record.not_before, record.not_after) == (
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
    )
    assert (record.status, record.revoked_at, record.reason) == ("active", None, None)
    copy = ca / "issued" / f"{cert.serial_number:016x}.pem"
    assert copy.read_bytes() == issued.cert.read_bytes()
    assert mode(issued.key) == 0o600
    assert mode(issued.cert) == 0o644
    assert mode(tmp_path / "srv") == 0o700


def test_issue_member(ca: Path) -> None:
    issued = issue_member(ca, member="fr", name="ops", kind="officer")
    assert issued.cert == ca / "out" / "fr-ops.pem"
    assert issued.key == ca / "out" / "fr-ops.key"
    cert = load_cert(issued.cert)
    check_leaf_basics(ca, cert)
    san = ext(cert, x509.SubjectAlternativeName)
    assert not san.critical
    assert list(san.value) == [x509.UniformResourceIdentifier("urn:cordon:principal:fr/ops")]
    assert list(ext(cert, x509.ExtendedKeyUsage).value) == [CLIENT_AUTH]
    assert cert.subject.rfc4514_string() == "CN=ops,O=fr"  # display only
    assert identity_of(cert) == Identity.for_member("fr", "ops")
    check_purpose(cert, admin=False)
    with pytest.raises(WrongPurpose, match="admin"):
        check_purpose(cert, admin=True)
    key = serialization.load_pem_private_key(issued.key.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    assert key.public_key() == cert.public_key()
    assert mode(issued.key) == 0o600
    assert mode(issued.cert) == 0o644
    (record,) = load_index(ca)
    assert (record.kind, record.principal, record.principal_kind) == ("member", "fr/ops", "officer")
    assert (record.dns_names, record.ip_addresses) == ((), ())
    left = record.not_after - datetime.now(UTC)
    assert timedelta(days=364) < left <= timedelta(days=365, seconds=2)


def test_issue_admin(ca: Path) -> None:
    issued = issue_admin(ca, name="alice", days=10)
    assert issued.cert.name == "admin-alice.pem"
    cert = load_cert(issued.cert)
    check_leaf_basics(ca, cert)
    assert list(ext(cert, x509.SubjectAlternativeName).value) == [
        x509.UniformResourceIdentifier("urn:cordon:admin:alice")
    ]
    assert set(ext(cert, x509.ExtendedKeyUsage).value) == {CLIENT_AUTH, ADMIN_EKU}
    identity = identity_of(cert)
    assert identity == Identity.for_admin("alice")
    assert identity.admin
    check_purpose(cert, admin=True)
    with pytest.raises(WrongPurpose, match="admin"):
        check_purpose(cert, admin=False)
    (record,) = load_index(ca)
    assert (record.kind, record.principal, record.principal_kind) == ("admin", "admin/alice", None)


def test_index_keeps_issue_order_and_unique_serials(ca: Path) -> None:
    a = issue_member(ca, member="fr", name="ops")
    b = issue_member(ca, member="de", name="ops")
    c = issue_admin(ca, name="bob")
    records = load_index(ca)
    assert [r.serial for r in records] == [a.serial, b.serial, c.serial]
    assert len({a.kid, b.kid, c.kid}) == 3
    assert sorted(p.name for p in (ca / "issued").iterdir()) == sorted(
        f"{r.serial:016x}.pem" for r in records
    )
    assert not list(ca.rglob("*.tmp"))


@pytest.mark.parametrize(
    ("issue", "match"),
    [
        (lambda d: issue_member(d, member="FR", name="ops"), "member id"),
        (lambda d: issue_member(d, member="fr", name="a/b"), "principal name"),
        (lambda d: issue_member(d, member="admin", name="x"), "reserved"),
        (lambda d: issue_member(d, member="fr", name="ops", kind="boss"), "kind"),  # type: ignore[arg-type]
        (lambda d: issue_member(d, member="fr", name="ops", days=0), "days"),
        (lambda d: issue_member(d, member="fr", name="ops", basename="../x"), "basename"),
        (lambda d: issue_member(d, member="fr", name="ops", basename="ca"), "basename"),
        (lambda d: issue_admin(d, name="Alice Smith"), "admin name"),
        (lambda d: issue_server(d, dns_names=[]), "at least one"),
        (lambda d: issue_server(d, dns_names="localhost"), "sequence"),
        (lambda d: issue_server(d, dns_names=["bad name"]), "DNS name"),
        (lambda d: issue_server(d, dns_names=["*.example.org"]), "DNS name"),
        (lambda d: issue_server(d, dns_names=["localhost"], ip_addresses=["999.1.1.1"]), "IP"),
        (
            lambda d: issue_member(d, member="fr", name="ops", not_before=NOW, not_after=NOW - DAY),
            "later",
        ),
        (
            lambda d: issue_member(d, member="fr", name="ops", not_after=datetime(2099, 1, 1)),
            "timezone",
        ),
        (lambda d: issue_member(d, member="fr", name="ops", days=4000), "outlive the CA"),
    ],
)
def test_issue_rejects_bad_requests(ca: Path, issue: Callable[[Path], object], match: str) -> None:
    with pytest.raises(InvalidRequest, match=match):
        issue(ca)
    assert load_index(ca) == []
    assert not (ca / "out").exists()


def test_existing_output_is_not_replaced_unless_asked(ca: Path) -> None:
    first = issue_member(ca, member="fr", name="ops")
    key_before = first.key.read_bytes()
    with pytest.raises(InvalidRequest, match="already exists"):
        issue_member(ca, member="fr", name="ops")
    assert first.key.read_bytes() == key_before
    assert len(load_index(ca)) == 1
    second = issue_member(ca, member="fr", name="ops", overwrite=True)
    assert second.key == first.key
    assert second.key.read_bytes() != key_before
    assert mode(second.key) == 0o600
    assert [r.serial for r in load_index(ca)] == [first.serial, second.serial]


def test_file_modes_do_not_depend_on_the_umask(ca: Path) -> None:
    old = os.umask(0o077)
    try:
        strict = issue_member(ca, member="fr", name="a")
    finally:
        os.umask(0)
    try:
        loose = issue_member(ca, member="fr", name="b")
    finally:
        os.umask(old)
    for issued in (strict, loose):
        assert mode(issued.key) == 0o600
        assert mode(issued.cert) == 0o644
    assert mode(ca / "index.json") == 0o644


def test_test_knobs_make_expired_and_wrong_purpose_certificates(ca: Path) -> None:
    expired = issue_member(
        ca, member="fr", name="ops", not_before=NOW - 10 * DAY, not_after=NOW - DAY
    )
    cert = load_cert(expired.cert)
    assert cert.not_valid_after_utc < NOW
    assert cert.not_valid_after_utc == (NOW - DAY).replace(microsecond=0)
    wrong = issue_member(ca, member="fr", name="web", eku=[SERVER_AUTH])
    cert = load_cert(wrong.cert)
    assert list(ext(cert, x509.ExtendedKeyUsage).value) == [SERVER_AUTH]
    with pytest.raises(WrongPurpose, match="clientAuth"):
        identity_of(cert)


def test_concurrent_issues_do_not_lose_records(ca: Path) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            issue_member(ca, member="fr", name=f"sys{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    records = load_index(ca)
    assert sorted(r.principal or "" for r in records) == sorted(f"fr/sys{i}" for i in range(12))
    assert len({r.serial for r in records}) == 12
    assert len(list((ca / "issued").iterdir())) == 12


# --------------------------------------------------------------------------- corruption


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"{not json", "corrupt"),
        (b"\xff\xfe", "corrupt"),
        (b"[]", "version"),
        (b'{"version": 2, "certificates": []}', "version"),
        (b'{"version": 1}', "certificates"),
        (b'{"version": 1, "certificates": [{"serial": 1}]}', "record 0"),
    ],
)
def test_corrupt_index_is_reported_and_left_untouched(ca: Path, content: bytes, match: str) -> None:
    issue_member(ca, member="fr", name="ops")
    (ca / "index.json").write_bytes(content)
    crl_before = (ca / "crl.pem").read_bytes()
    issued_before = sorted((ca / "issued").iterdir())
    operations: list[Callable[[], object]] = [
        lambda: load_index(ca),
        lambda: issue_member(ca, member="de", name="ops"),
        lambda: revoke(ca, principal="fr/ops"),
        lambda: write_crl(ca),
    ]
    for operation in operations:
        with pytest.raises(CorruptCA, match=match):
            operation()
    assert (ca / "index.json").read_bytes() == content
    assert (ca / "crl.pem").read_bytes() == crl_before
    assert sorted((ca / "issued").iterdir()) == issued_before
    assert not (ca / "out" / "de-ops.key").exists()


def test_corrupt_record_fields(ca: Path) -> None:
    issued = issue_member(ca, member="fr", name="ops")
    good = json.loads((ca / "index.json").read_text())
    record = good["certificates"][0]
    bad_values = {
        "serial": "12",
        "kid": "ABC",
        "kind": "robot",
        "principal": None,
        "principal_kind": "boss",
        "status": "lost",
        "revoked_at": "2025-01-01T00:00:00+00:00",
        "not_after": "2025-01-01T00:00:00",
        "dns_names": "localhost",
    }
    for key, value in bad_values.items():
        doc = {"version": 1, "certificates": [{**record, key: value}]}
        (ca / "index.json").write_text(json.dumps(doc))
        with pytest.raises(CorruptCA, match="record 0"):
            load_index(ca)
    doc = {"version": 1, "certificates": [record, record]}
    (ca / "index.json").write_text(json.dumps(doc))
    with pytest.raises(CorruptCA, match="duplicate serial"):
        load_index(ca)
    assert issued.record.serial == record["serial"]


def test_corrupt_or_mismatched_ca_files(ca: Path) -> None:
    key_pem = (ca / "ca.key").read_bytes()
    other = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (ca / "ca.key").write_bytes(other)
    with pytest.raises(CorruptCA, match="does not belong"):
        issue_member(ca, member="fr", name="ops")
    (ca / "ca.key").write_bytes(b"garbage")
    with pytest.raises(CorruptCA, match="private key"):
        issue_member(ca, member="fr", name="ops")
    (ca / "ca.key").unlink()
    with pytest.raises(CorruptCA, match="missing"):
        issue_member(ca, member="fr", name="ops")
    (ca / "ca.key").write_bytes(key_pem)
    pem = (ca / "ca.pem").read_bytes()
    (ca / "ca.pem").write_bytes(pem[:100])
    with pytest.raises(CorruptCA, match="CA certificate"):
        issue_member(ca, member="fr", name="ops")
    (ca / "ca.pem").write_bytes(pem)
    (ca / "crl.pem").write_bytes(b"not a crl")
    with pytest.raises(CorruptCA, match=r"crl\.pem"):
        write_crl(ca)
    assert (ca / "crl.pem").read_bytes() == b"not a crl"


def test_crl_signed_by_another_key_is_refused(ca: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    init_ca(other)
    (ca / "crl.pem").write_bytes((other / "crl.pem").read_bytes())
    with pytest.raises(CorruptCA, match="not signed"):
        write_crl(ca)


# --------------------------------------------------------------------------- revocation


def test_revoke_by_serial_publishes_a_signed_crl(ca: Path) -> None:
    keep = issue_member(ca, member="de", name="ops")
    gone = issue_member(ca, member="fr", name="ops")
    before = load_crl(ca)
    (record,) = revoke(ca, serial=gone.serial, reason="keyCompromise")
    assert record.serial == gone.serial
    assert (record.status, record.reason) == ("revoked", "keyCompromise")
    assert record.revoked_at is not None
    assert abs(record.revoked_at - NOW) < timedelta(minutes=5)
    assert load_index(ca) == [keep.record, record]

    crl = load_crl(ca)
    assert crl.is_signature_valid(ca_public_key(ca))
    assert crl.issuer == load_cert(ca / "ca.pem").subject
    assert crl_number(crl) == crl_number(before) + 1
    assert crl.next_update_utc is not None
    assert crl.next_update_utc - crl.last_update_utc == timedelta(days=7)
    entry = crl.get_revoked_certificate_by_serial_number(gone.serial)
    assert entry is not None
    assert entry.revocation_date_utc == record.revoked_at
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(keep.serial) is None
    assert len(crl) == 1
    forged = Ed25519PrivateKey.generate().public_key()
    assert not crl.is_signature_valid(forged)


def test_revoke_by_kid_and_unspecified_reason_has_no_reason_code(ca: Path) -> None:
    issued = issue_admin(ca, name="alice")
    (record,) = revoke(ca, kid=issued.kid.upper())
    assert record.reason == "unspecified"
    entry = load_crl(ca).get_revoked_certificate_by_serial_number(issued.serial)
    assert entry is not None
    with pytest.raises(x509.ExtensionNotFound):
        entry.extensions.get_extension_for_class(x509.CRLReason)


def test_revoke_by_principal_revokes_all_its_active_certificates(ca: Path) -> None:
    old = issue_member(ca, member="fr", name="ops", basename="fr-ops-old")
    revoke(ca, serial=old.serial, reason="superseded")
    a = issue_member(ca, member="fr", name="ops", basename="fr-ops-a")
    b = issue_member(ca, member="fr", name="ops", basename="fr-ops-b")
    other = issue_member(ca, member="fr", name="other")
    revoked = revoke(ca, principal="fr/ops", reason="cessationOfOperation")
    assert [r.serial for r in revoked] == [a.serial, b.serial]
    by_serial = {r.serial: r for r in load_index(ca)}
    assert by_serial[old.serial].reason == "superseded"  # untouched
    assert by_serial[other.serial].status == "active"
    crl = load_crl(ca)
    assert {e.serial_number for e in crl} == {old.serial, a.serial, b.serial}
    with pytest.raises(AlreadyRevoked, match="every certificate"):
        revoke(ca, principal="fr/ops")


def test_revoke_errors(ca: Path) -> None:
    issued = issue_member(ca, member="fr", name="ops")
    with pytest.raises(UnknownCertificate, match="serial 0000000000000001"):
        revoke(ca, serial=1)
    with pytest.raises(UnknownCertificate, match="kid"):
        revoke(ca, kid="00" * 32)
    with pytest.raises(UnknownCertificate, match="principal de/ops"):
        revoke(ca, principal="de/ops")
    with pytest.raises(InvalidRequest, match="exactly one"):
        revoke(ca)
    with pytest.raises(InvalidRequest, match="exactly one"):
        revoke(ca, serial=issued.serial, kid=issued.kid)
    with pytest.raises(InvalidRequest, match="reason"):
        revoke(ca, serial=issued.serial, reason="because")
    index_before = (ca / "index.json").read_bytes()
    assert load_index(ca)[0].status == "active"
    revoke(ca, serial=issued.serial)
    crl_after = (ca / "crl.pem").read_bytes()
    assert (ca / "index.json").read_bytes() != index_before
    with pytest.raises(AlreadyRevoked, match="already revoked"):
        revoke(ca, serial=issued.serial)
    assert (ca / "crl.pem").read_bytes() == crl_after


def test_write_crl_increments_the_number_and_keeps_entries(ca: Path) -> None:
    issued = issue_member(ca, member="fr", name="ops")
    revoke(ca, serial=issued.serial)
    n = crl_number(load_crl(ca))
    path = write_crl(ca, days=2)
    assert path == ca / "crl.pem"
    crl = load_crl(ca)
    assert crl_number(crl) == n + 1
    assert crl.next_update_utc is not None
    assert crl.next_update_utc - crl.last_update_utc == timedelta(days=2)
    assert [e.serial_number for e in crl] == [issued.serial]
    assert crl.is_signature_valid(ca_public_key(ca))
    with pytest.raises(InvalidRequest, match="days"):
        write_crl(ca, days=0)


def test_errors_share_one_root() -> None:
    for cls in (CAExists, CANotFound, CorruptCA, UnknownCertificate, AlreadyRevoked):
        assert issubclass(cls, CAError)
    for sub in (InvalidIdentity, WrongPurpose):
        assert issubclass(sub, BadCertificate)
        assert issubclass(sub, CAError)


# --------------------------------------------------------------------------- identity_of


class Forge:
    """Builds certificates the CA would never issue, signed by the real CA key."""

    def __init__(self, ca_dir: Path) -> None:
        self.ca = load_cert(ca_dir / "ca.pem")
        key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), None)
        assert isinstance(key, Ed25519PrivateKey)
        self.key = key

    def __call__(
        self,
        *,
        uris: list[str] | None = None,
        dns: list[str] | None = None,
        eku: list[x509.ObjectIdentifier] | None = None,
        digital_signature: bool = True,
        ca: bool = False,
        cn: str = "fr/ops",
    ) -> x509.Certificate:
        leaf = Ed25519PrivateKey.generate()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(self.ca.subject)
            .public_key(leaf.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - DAY)
            .not_valid_after(NOW + DAY)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=digital_signature,
                    content_commitment=False,
                    key_encipherment=not digital_signature,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=ca,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        )
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in uris or []]
        names += [x509.DNSName(d) for d in dns or []]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(self.key, None)


MEMBER = "urn:cordon:principal:fr/ops"
ADMIN = "urn:cordon:admin:alice"
CLIENT = [ExtendedKeyUsageOID.CLIENT_AUTH]
CLIENT_ADMIN = [ExtendedKeyUsageOID.CLIENT_AUTH, ADMIN_EKU]

GOOD: dict[str, tuple[dict[str, Any], Identity]] = {
    "member": ({"uris": [MEMBER], "eku": CLIENT}, Identity.for_member("fr", "ops")),
    "admin": ({"uris": [ADMIN], "eku": CLIENT_ADMIN}, Identity.for_admin("alice")),
    "other uris ignored": (
        {"uris": ["https://fr.example/ops", MEMBER, "urn:other:x"], "dns": ["x.fr"], "eku": CLIENT},
        Identity.for_member("fr", "ops"),
    ),
}
BAD: dict[str, tuple[dict[str, Any], type[BadCertificate], str]] = {
    "no SAN, identity only in CN": ({"eku": CLIENT}, InvalidIdentity, "no subjectAltName"),
    "SAN without URI": ({"dns": ["fr.example"], "eku": CLIENT}, InvalidIdentity, "no urn"),
    "non-cordon URI only": (
        {"uris": ["https://x/fr/ops"], "eku": CLIENT},
        InvalidIdentity,
        "no urn",
    ),
    "two member URIs": (
        {"uris": [MEMBER, "urn:cordon:principal:de/ops"], "eku": CLIENT},
        InvalidIdentity,
        "2 urn:cordon",
    ),
    "same URI twice": ({"uris": [MEMBER, MEMBER], "eku": CLIENT}, InvalidIdentity, "2 urn"),
    "member and admin URIs": (
        {"uris": [MEMBER, ADMIN], "eku": CLIENT_ADMIN},
        InvalidIdentity,
        "2 urn",
    ),
    "second URI differently cased": (
        {"uris": [MEMBER, "URN:Cordon:principal:de/ops"], "eku": CLIENT},
        InvalidIdentity,
        "2 urn",
    ),
    "upper-case member": (
        {"uris": ["urn:cordon:principal:FR/ops"], "eku": CLIENT},
        InvalidIdentity,
        "malformed",
    ),
    "reserved member admin": (
        {"uris": ["urn:cordon:principal:admin/x"], "eku": CLIENT},
        InvalidIdentity,
        "malformed",
    ),
    "unknown cordon kind": (
        {"uris": ["urn:cordon:robot:x"], "eku": CLIENT},
        InvalidIdentity,
        "malformed",
    ),
    "admin URI without admin EKU": ({"uris": [ADMIN], "eku": CLIENT}, WrongPurpose, "lacks"),
    "member URI with admin EKU": (
        {"uris": [MEMBER], "eku": CLIENT_ADMIN},
        WrongPurpose,
        "carries",
    ),
    "serverAuth only": (
        {"uris": [MEMBER], "eku": [ExtendedKeyUsageOID.SERVER_AUTH]},
        WrongPurpose,
        "clientAuth",
    ),
    "no EKU": ({"uris": [MEMBER]}, WrongPurpose, "extendedKeyUsage"),
    "no digitalSignature": (
        {"uris": [MEMBER], "eku": CLIENT, "digital_signature": False},
        WrongPurpose,
        "digitalSignature",
    ),
    "CA certificate": ({"uris": [MEMBER], "eku": CLIENT, "ca": True}, InvalidIdentity, "CA"),
}


@pytest.mark.parametrize("case", list(GOOD))
def test_identity_of_good_certificates(ca: Path, case: str) -> None:
    kwargs, expected = GOOD[case]
    cert = Forge(ca)(**kwargs)
    assert identity_of(cert) == expected
    assert identity_from_certificate(cert) == expected  # the hub reads the same identity


@pytest.mark.parametrize("case", list(BAD))
def test_identity_of_bad_certificates(ca: Path, case: str) -> None:
    kwargs, error, match = BAD[case]
    cert = Forge(ca)(**kwargs)
    with pytest.raises(error, match=match):
        identity_of(cert)


@pytest.mark.parametrize("case", list(BAD))
def test_identity_of_is_never_looser_than_the_hub(ca: Path, case: str) -> None:
    """Whatever hub.protocol.trust accepts as an identity, identity_of agrees or refuses."""
    cert = Forge(ca)(**BAD[case][0])
    try:
        hub_identity = identity_from_certificate(cert)
    except BadSignature:
        return
    with pytest.raises(BadCertificate):
        assert identity_of(cert) == hub_identity


def test_pki_helper_variants(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    ca_cert = load_cert(pki.ca)
    ops, ops2 = pki.member(), pki.member()
    assert ops.cert != ops2.cert
    assert ops.kid != ops2.kid
    assert identity_of(load_cert(ops.cert)) == Identity.for_member("fr", "ops")
    assert identity_of(load_cert(pki.admin("bob").cert)).admin
    assert ops.kid == key_id(load_cert(ops.cert).public_bytes(serialization.Encoding.DER))
    assert load_cert(pki.expired_member().cert).not_valid_after_utc < NOW
    assert load_cert(pki.not_yet_valid_member().cert).not_valid_before_utc > NOW
    with pytest.raises(WrongPurpose):
        identity_of(load_cert(pki.wrong_eku_member().cert))
    foreign = load_cert(pki.foreign_ca_member().cert)
    pki.foreign_ca_member()
    assert foreign.issuer == ca_cert.subject  # same name, different key
    with pytest.raises(InvalidSignature):
        foreign.verify_directly_issued_by(ca_cert)
    pki.revoke(ops)
    entry = x509.load_pem_x509_crl(pki.crl.read_bytes()).get_revoked_certificate_by_serial_number(
        ops.serial
    )
    assert entry is not None


def test_atomic_write_failure_leaves_target_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    target.mkdir()  # os.replace of a file onto a directory fails
    (target / "keep").write_text("x")
    with pytest.raises(OSError):
        write_atomic(target, b"new", mode=0o644)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.json"]
    assert (target / "keep").read_text() == "x"
