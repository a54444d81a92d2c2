"""Certificate requests (hub.protocol.enrol) and the post-handshake purpose check
(hub.protocol.trust.check_client_purpose): every refusal, with real keys and requests."""

from __future__ import annotations

import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from hub.protocol.enrol import (
    CSR_BAD_SIGNATURE,
    CSR_MALFORMED,
    CSR_NOT_ED25519,
    CSR_TOO_LARGE,
    CSR_WEAK_KEY,
    CSR_WRONG_SUBJECT,
    MAX_CSR_BYTES,
    build_request,
    check_request,
    is_strong_key,
    principal_subject,
)
from hub.protocol.errors import BadSignature, InvalidFrame
from hub.protocol.identity import Identity
from hub.protocol.trust import check_client_purpose
from tests.protocol.test_trust import CA

OPS = Identity.for_member("fr", "ops")
#: Points of small order (the neutral element, and order 2 / 4 points) and a
#: non-canonical encoding: all refused as keys.
WEAK_KEYS = [
    bytes([1]) + bytes(31),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes(32),
    bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000080"),
]


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _seq(*parts: bytes) -> bytes:
    body = b"".join(parts)
    return b"\x30" + _der_len(len(body)) + body


def _reassemble(csr: x509.CertificateSigningRequest, *, tbs: bytes | None = None,
                algorithm: bytes = bytes.fromhex("06032b6570"), sig: bytes | None = None
                ) -> bytes:
    """A request's DER rebuilt from its parts, with any of them replaced."""
    signature = csr.signature if sig is None else sig
    bits = b"\x03" + _der_len(len(signature) + 1) + b"\x00" + signature
    return _pem(_seq(csr.tbs_certrequest_bytes if tbs is None else tbs, _seq(algorithm), bits))


def _pem(der: bytes) -> bytes:
    return x509.load_der_x509_csr(der).public_bytes(serialization.Encoding.PEM)


def _request(key: Ed25519PrivateKey | None = None) -> tuple[bytes, x509.CertificateSigningRequest]:
    pem = build_request(key or Ed25519PrivateKey.generate(), OPS)
    return pem, x509.load_pem_x509_csr(pem)


def test_a_request_names_its_principal_and_its_key_is_certified() -> None:
    key = Ed25519PrivateKey.generate()
    pem, csr = _request(key)
    assert csr.subject == principal_subject(OPS)
    assert csr.subject.rfc4514_string() == "CN=ops,O=fr"
    assert check_request(pem, OPS) == key.public_key()
    assert check_request(pem.decode(), OPS) == key.public_key()  # str or bytes


def test_admin_subject_is_o_admin() -> None:
    admin = Identity.for_admin("alice")
    assert principal_subject(admin).rfc4514_string() == "CN=alice,O=admin"
    key = Ed25519PrivateKey.generate()
    assert check_request(build_request(key, admin), admin) == key.public_key()


def test_subject_fields_fit_x509_at_the_longest_names() -> None:
    longest = Identity.for_member("m" * 32, "n" * 32)
    names = principal_subject(longest)
    assert [len(a.value) for a in names] == [32, 32]
    check_request(build_request(Ed25519PrivateKey.generate(), longest), longest)


def test_a_request_without_san_but_with_the_subject_is_accepted() -> None:
    key = Ed25519PrivateKey.generate()
    csr = x509.CertificateSigningRequestBuilder().subject_name(principal_subject(OPS)).sign(
        key, None)
    assert check_request(csr.public_bytes(serialization.Encoding.PEM), OPS) == key.public_key()


def test_too_large() -> None:
    pem, _csr = _request()
    with pytest.raises(InvalidFrame, match=re.escape(CSR_TOO_LARGE)):
        check_request(pem + b" " * MAX_CSR_BYTES, OPS)


@pytest.mark.parametrize("data", [b"", b"hello", b"-----BEGIN CERTIFICATE REQUEST-----\nAA==\n"
                                  b"-----END CERTIFICATE REQUEST-----\n"])
def test_malformed(data: bytes) -> None:
    with pytest.raises(InvalidFrame, match=re.escape(CSR_MALFORMED)):
        check_request(data, OPS)


@pytest.mark.parametrize("key", [ec.generate_private_key(ec.SECP256R1()),
                                 Ed448PrivateKey.generate()])
def test_not_ed25519(key: ec.EllipticCurvePrivateKey | Ed448PrivateKey) -> None:
    builder = x509.CertificateSigningRequestBuilder().subject_name(principal_subject(OPS))
    csr = builder.sign(key, hashes.SHA256() if isinstance(key, ec.EllipticCurvePrivateKey)
                       else None)
    with pytest.raises(InvalidFrame, match=CSR_NOT_ED25519):
        check_request(csr.public_bytes(serialization.Encoding.PEM), OPS)


@pytest.mark.parametrize("weak", WEAK_KEYS)
def test_weak_keys(weak: bytes) -> None:
    csr = _request()[1]
    good = csr.public_key()
    assert isinstance(good, Ed25519PublicKey)
    tbs = csr.tbs_certrequest_bytes.replace(good.public_bytes_raw(), weak)
    assert not is_strong_key(weak)
    with pytest.raises(InvalidFrame, match=re.escape(CSR_WEAK_KEY)):
        check_request(_reassemble(csr, tbs=tbs), OPS)


def test_strong_key() -> None:
    key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert is_strong_key(key) and not is_strong_key(key[:31])


def test_bad_self_signature() -> None:
    csr = _request()[1]
    sig = bytearray(csr.signature)
    sig[0] ^= 1
    with pytest.raises(InvalidFrame, match=re.escape(CSR_BAD_SIGNATURE)):
        check_request(_reassemble(csr, sig=bytes(sig)), OPS)


def test_signature_by_another_key() -> None:
    mine = _request()[1]
    theirs = _request()[1]
    with pytest.raises(InvalidFrame, match=re.escape(CSR_BAD_SIGNATURE)):
        check_request(_reassemble(mine, sig=theirs.signature), OPS)


def test_signature_algorithm_and_length_must_be_ed25519() -> None:
    csr = _request()[1]
    ed448 = bytes.fromhex("06032b6571")
    with pytest.raises(InvalidFrame, match=re.escape(CSR_BAD_SIGNATURE)):
        check_request(_reassemble(csr, algorithm=ed448), OPS)
    with pytest.raises(InvalidFrame, match=re.escape(CSR_BAD_SIGNATURE)):
        check_request(_reassemble(csr, sig=csr.signature[:63]), OPS)


@pytest.mark.parametrize("subject", [
    principal_subject(Identity.for_member("fr", "other")),
    principal_subject(Identity.for_member("de", "ops")),
    principal_subject(Identity.for_admin("ops")),
    x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fr/ops")]),
    x509.Name([]),
])
def test_subject_must_name_the_principal(subject: x509.Name) -> None:
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(
        Ed25519PrivateKey.generate(), None)
    with pytest.raises(InvalidFrame, match=re.escape(CSR_WRONG_SUBJECT)):
        check_request(csr.public_bytes(serialization.Encoding.PEM), OPS)


@pytest.mark.parametrize("names", [
    [x509.UniformResourceIdentifier("urn:cordon:principal:de/ops")],
    [x509.UniformResourceIdentifier(OPS.uri), x509.DNSName("example.org")],
    [x509.UniformResourceIdentifier(OPS.uri)] * 2,
])
def test_a_requested_san_must_be_exactly_the_principal(names: list[x509.GeneralName]) -> None:
    csr = (x509.CertificateSigningRequestBuilder().subject_name(principal_subject(OPS))
           .add_extension(x509.SubjectAlternativeName(names), critical=False)
           .sign(Ed25519PrivateKey.generate(), None))
    with pytest.raises(InvalidFrame, match=re.escape(CSR_WRONG_SUBJECT)):
        check_request(csr.public_bytes(serialization.Encoding.PEM), OPS)


# --- check_client_purpose: what OpenSSL's handshake lets through ---------------------------


def test_client_certificate_passes() -> None:
    cert, _key = CA().issue()
    check_client_purpose(cert)


@pytest.mark.parametrize(("options", "reason"), [
    ({"ekus": None}, "clientAuth"),  # no extendedKeyUsage at all: OpenSSL accepts it
    ({"ekus": [ExtendedKeyUsageOID.SERVER_AUTH]}, "clientAuth"),
    ({"digital_signature": None}, "digital signatures"),
    ({"digital_signature": False}, "digital signatures"),
    ({"ca": True}, "CA certificate"),
])
def test_wrong_purpose(options: dict[str, object], reason: str) -> None:
    cert, _key = CA().issue(**options)  # type: ignore[arg-type]
    with pytest.raises(BadSignature, match=reason):
        check_client_purpose(cert)


def test_malformed_extensions() -> None:
    ca = CA()
    leaf = Ed25519PrivateKey.generate()
    cert = (x509.CertificateBuilder().subject_name(ca.cert.subject).issuer_name(ca.cert.subject)
            .public_key(leaf.public_key()).serial_number(1)
            .not_valid_before(ca.not_before).not_valid_after(ca.not_after)
            .add_extension(x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, b"\x05\x00"),
                           critical=True)
            .sign(ca.key, None))
    with pytest.raises(BadSignature, match="malformed"):
        check_client_purpose(cert)
