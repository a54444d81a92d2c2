"""Every name the grammar allows (PROTOCOL.md §3), the longest included, goes into a real
certificate and comes back as the same identity; certificates from members' own requests.

A 32-character member with a 32-character name is a 65-character principal id: it used
to be written into the 64-character CN, and the CA failed (err 500 at the hub).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from certs.ca import (
    BadRequest,
    InvalidRequest,
    identity_of,
    init_ca,
    issue_admin,
    issue_from_request,
    issue_member,
    issue_server,
    load_index,
)
from hub.protocol.enrol import CSR_NOT_ED25519, CSR_WRONG_SUBJECT, build_request
from hub.protocol.identity import NAME_PATTERN, RESERVED_MEMBER, Identity
from hub.protocol.trust import identity_from_certificate, verify_certificate

NAMES = st.from_regex(NAME_PATTERN, fullmatch=True)
MEMBERS = NAMES.filter(lambda m: m != RESERVED_MEMBER)
LONGEST = "z" * 32
SHORTEST = "0"
HYPHENS = "a" + "-" * 30 + "b"


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("names") / "ca"
    init_ca(d, name="N" * 64)  # the longest CA name
    return d


def _check(cert_path: Path, ca_dir: Path, identity: Identity) -> None:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert identity_of(cert) == identity
    assert identity_from_certificate(cert) == identity
    ca = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())
    at = int(cert.not_valid_before_utc.timestamp()) * 1000 + 1000
    assert verify_certificate(cert, ca, at_ms=at) == identity
    for attribute in cert.subject:
        assert len(str(attribute.value)) <= 64


@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(member=MEMBERS, name=NAMES)
@example(member=LONGEST, name=LONGEST)
@example(member=SHORTEST, name=LONGEST)
@example(member=HYPHENS, name=HYPHENS)
@example(member=SHORTEST, name=SHORTEST)
def test_every_member_principal_round_trips(ca_dir: Path, tmp_path: Path, member: str,
                                            name: str) -> None:
    identity = Identity.for_member(member, name)
    central = issue_member(ca_dir, member=member, name=name, out=tmp_path, overwrite=True)
    _check(central.cert, ca_dir, identity)
    key = Ed25519PrivateKey.generate()
    certified = issue_from_request(ca_dir, build_request(key, identity), member=member,
                                   name=name, out=tmp_path, basename="req", overwrite=True)
    _check(certified.cert, ca_dir, identity)
    cert = x509.load_pem_x509_certificate(certified.cert.read_bytes())
    assert cert.public_key() == key.public_key()
    assert {r.principal for r in load_index(ca_dir) if r.kid == certified.kid} == {
        identity.principal}


@settings(max_examples=10, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(name=NAMES)
@example(name=LONGEST)
def test_every_admin_round_trips(ca_dir: Path, tmp_path: Path, name: str) -> None:
    identity = Identity.for_admin(name)
    _check(issue_admin(ca_dir, name=name, out=tmp_path, overwrite=True).cert, ca_dir, identity)
    certified = issue_from_request(ca_dir, build_request(Ed25519PrivateKey.generate(), identity),
                                   name=name, admin=True, out=tmp_path, basename="adm",
                                   overwrite=True)
    _check(certified.cert, ca_dir, identity)


def test_request_issuance_writes_no_key_and_refuses_bad_requests(ca_dir: Path,
                                                                 tmp_path: Path) -> None:
    ops = Identity.for_member("fr", "ops")
    certified = issue_from_request(ca_dir, build_request(Ed25519PrivateKey.generate(), ops),
                                   member="fr", name="ops", kind="officer", out=tmp_path)
    assert certified.cert == tmp_path / "fr-ops.pem" and certified.ca == tmp_path / "ca.pem"
    assert not list(tmp_path.glob("*.key"))
    assert stat.S_IMODE(os.stat(certified.cert).st_mode) == 0o644
    assert certified.serial == certified.record.serial
    record = next(r for r in load_index(ca_dir) if r.kid == certified.kid)
    assert (record.kind, record.principal_kind) == ("member", "officer")
    # an existing key file of the requester beside it is not in the way
    (tmp_path / "de-ops.key").write_text("the member's own key")
    de = Identity.for_member("de", "ops")
    issue_from_request(ca_dir, build_request(Ed25519PrivateKey.generate(), de), member="de",
                       name="ops", out=tmp_path)
    with pytest.raises(InvalidRequest, match="already exists"):
        issue_from_request(ca_dir, build_request(Ed25519PrivateKey.generate(), de),
                           member="de", name="ops", out=tmp_path)
    with pytest.raises(BadRequest, match=re.escape(CSR_WRONG_SUBJECT)):
        issue_from_request(ca_dir, build_request(Ed25519PrivateKey.generate(), ops),
                           member="fr", name="other", out=tmp_path)
    p256 = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
            .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()))
    with pytest.raises(BadRequest, match=re.escape(CSR_NOT_ED25519)):
        issue_from_request(ca_dir, p256.public_bytes(Encoding.PEM), member="fr", name="x",
                           out=tmp_path)
    for bad in ({"member": "fr", "admin": True}, {"member": None}, {"member": "fr",
                                                                     "kind": "robot"},
                {"member": "FR"}):
        with pytest.raises(InvalidRequest):
            issue_from_request(ca_dir, b"", name="x", out=tmp_path, **bad)


def test_long_names_elsewhere_fit_too(ca_dir: Path, tmp_path: Path) -> None:
    """The server's CN is its first DNS name that fits; a CA name over 64 is refused."""
    long_dns = "a" * 63 + ".example.org"
    server = issue_server(ca_dir, dns_names=[long_dns], out=tmp_path)
    cert = x509.load_pem_x509_certificate(server.cert.read_bytes())
    assert cert.subject.rfc4514_string() == "CN=cordon-hub"
    assert long_dns in cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    server = issue_server(ca_dir, dns_names=[long_dns, "hub.example.org"], out=tmp_path,
                          overwrite=True)
    assert x509.load_pem_x509_certificate(server.cert.read_bytes()).subject.rfc4514_string() \
        == "CN=hub.example.org"
    with pytest.raises(InvalidRequest, match="at most 64"):
        init_ca(tmp_path / "ca2", name="N" * 65)
