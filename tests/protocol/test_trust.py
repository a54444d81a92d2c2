"""hub.protocol.trust: identities from certificates, certificate and alert verification.

Certificates come from a throwaway CA built here with ``cryptography``; every
refusal path is exercised with a certificate that is wrong in exactly one way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.protocol.envelope import Envelope, encode_envelope, key_id, sign_alert
from hub.protocol.errors import BadSignature, EnvelopeMismatch, InvalidAlert
from hub.protocol.identity import (
    ADMIN_EKU_OID,
    AlertId,
    ChannelName,
    Identity,
    PrincipalId,
)
from hub.protocol.trust import (
    identity_from_certificate,
    verify_certificate,
    verify_signed_alert,
)

ADMIN_EKU = x509.ObjectIdentifier(ADMIN_EKU_OID)
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH
NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
NOW_MS = int(NOW.timestamp()) * 1000
DAY = dt.timedelta(days=1)
_DEFAULT = object()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class CA:
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    cn: str = "Cordon test CA"
    not_before: dt.datetime = NOW - 30 * DAY
    not_after: dt.datetime = NOW + 365 * DAY

    def __post_init__(self) -> None:
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(self.cn))
            .issuer_name(_name(self.cn))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.not_before)
            .not_valid_after(self.not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, None)
        )

    def issue(
        self,
        *,
        uris: Sequence[str] = ("urn:cordon:principal:fr/system",),
        ekus: Sequence[x509.ObjectIdentifier] | None = (CLIENT_AUTH,),
        digital_signature: bool | None = True,
        ca: bool | None = None,
        key: object = _DEFAULT,
        not_before: dt.datetime = NOW - DAY,
        not_after: dt.datetime = NOW + 90 * DAY,
        issuer_cn: str | None = None,
        other_names: Sequence[x509.GeneralName] = (),
    ) -> tuple[x509.Certificate, Ed25519PrivateKey | ec.EllipticCurvePrivateKey]:
        """A leaf certificate; each keyword makes it wrong in one way."""
        leaf_key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey = (
            Ed25519PrivateKey.generate() if key is _DEFAULT else key  # type: ignore[assignment]
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name("leaf"))
            .issuer_name(_name(issuer_cn or self.cn))
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
        )
        names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in uris]
        names.extend(other_names)
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        if ca is not None:
            builder = builder.add_extension(
                x509.BasicConstraints(ca=ca, path_length=None), critical=True
            )
        if digital_signature is not None:
            builder = builder.add_extension(
                x509.KeyUsage(
                    digital_signature=digital_signature,
                    content_commitment=False,
                    key_encipherment=not digital_signature,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        if ekus is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(ekus)), critical=False)
        return builder.sign(self.key, None), leaf_key


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def signed(
    cert: x509.Certificate,
    key: Ed25519PrivateKey,
    *,
    sender: str = "fr/system",
    channel: str = "stop-iii",
    ts: int = NOW_MS,
    kid: str | None = None,
) -> tuple[bytes, bytes]:
    env = Envelope(
        id=AlertId("01J0000000000000000000000A"),
        channel=ChannelName(channel),
        sender=PrincipalId(sender),
        kid=kid or key_id(der(cert)),
        ts=ts,
        kind="seizure",
        body={"goods": [{"category": "medicines", "qty": 12}]},
    )
    alert = encode_envelope(env)
    return alert, sign_alert(key, alert)


@pytest.fixture(scope="module")
def ca() -> CA:
    return CA()


# --- identity_from_certificate ----------------------------------------------


def test_member_identity(ca: CA) -> None:
    cert, _ = ca.issue(
        uris=("https://example.org/x", "urn:cordon:principal:fr/system"),
        other_names=(x509.RFC822Name("officer@douane.example"), x509.DNSName("fr.example")),
    )
    assert identity_from_certificate(cert) == Identity.for_member("fr", "system")


def test_admin_identity_needs_admin_eku(ca: CA) -> None:
    cert, _ = ca.issue(uris=("urn:cordon:admin:alice",), ekus=(CLIENT_AUTH, ADMIN_EKU))
    assert identity_from_certificate(cert) == Identity.for_admin("alice")
    cert, _ = ca.issue(uris=("urn:cordon:admin:alice",))
    with pytest.raises(BadSignature, match="admin key usage"):
        identity_from_certificate(cert)
    cert, _ = ca.issue(uris=("urn:cordon:admin:alice",), ekus=None)
    with pytest.raises(BadSignature, match="admin key usage"):
        identity_from_certificate(cert)


def test_member_identity_must_not_have_admin_eku(ca: CA) -> None:
    cert, _ = ca.issue(ekus=(CLIENT_AUTH, ADMIN_EKU))
    with pytest.raises(BadSignature, match="admin key usage"):
        identity_from_certificate(cert)


@pytest.mark.parametrize(
    "uris",
    [
        pytest.param((), id="no-san"),
        pytest.param(("https://fr.example/system",), id="no-cordon-uri"),
        pytest.param(
            ("urn:cordon:principal:fr/system", "urn:cordon:principal:de/system"),
            id="two-cordon-uris",
        ),
        pytest.param(
            ("urn:cordon:principal:fr/system", "urn:cordon:admin:alice"),
            id="principal-and-admin",
        ),
    ],
)
def test_exactly_one_cordon_uri(ca: CA, uris: tuple[str, ...]) -> None:
    cert, _ = ca.issue(uris=uris)
    with pytest.raises(BadSignature, match="exactly one"):
        identity_from_certificate(cert)


def test_san_without_uris(ca: CA) -> None:
    cert, _ = ca.issue(uris=(), other_names=(x509.DNSName("fr.example"),))
    with pytest.raises(BadSignature, match="exactly one"):
        identity_from_certificate(cert)


@pytest.mark.parametrize(
    "uri",
    [
        "urn:cordon:principal:FR/system",
        "urn:cordon:principal:fr",
        "urn:cordon:principal:admin/alice",
        "urn:cordon:admin:",
        "urn:cordon:other:fr/system",
    ],
)
def test_invalid_cordon_uri(ca: CA, uri: str) -> None:
    cert, _ = ca.issue(uris=(uri,))
    with pytest.raises(BadSignature, match="identity is invalid"):
        identity_from_certificate(cert)


def test_cn_is_never_read(ca: CA) -> None:
    """A CN that looks like an identity is ignored."""
    cert, _ = ca.issue(uris=())
    assert cert.subject.rfc4514_string() == "CN=leaf"
    with pytest.raises(BadSignature):
        identity_from_certificate(cert)


# --- verify_certificate -----------------------------------------------------


def test_verify_certificate_ok(ca: CA) -> None:
    cert, _ = ca.issue()
    assert verify_certificate(cert, ca.cert, at_ms=NOW_MS) == Identity.for_member("fr", "system")


def test_verify_certificate_validity_bounds_are_inclusive(ca: CA) -> None:
    nb, na = NOW - DAY, NOW + DAY
    cert, _ = ca.issue(not_before=nb, not_after=na)
    verify_certificate(cert, ca.cert, at_ms=int(nb.timestamp()) * 1000)
    verify_certificate(cert, ca.cert, at_ms=int(na.timestamp()) * 1000)
    with pytest.raises(BadSignature, match=r"^certificate not valid"):
        verify_certificate(cert, ca.cert, at_ms=int(nb.timestamp()) * 1000 - 1)
    with pytest.raises(BadSignature, match=r"^certificate not valid"):
        verify_certificate(cert, ca.cert, at_ms=int(na.timestamp()) * 1000 + 1)


def test_verify_certificate_ca_must_be_valid_too() -> None:
    old_ca = CA(not_before=NOW - 400 * DAY, not_after=NOW - 10 * DAY)
    cert, _ = old_ca.issue()
    with pytest.raises(BadSignature, match="CA certificate not valid"):
        verify_certificate(cert, old_ca.cert, at_ms=NOW_MS)


def test_verify_certificate_other_ca(ca: CA) -> None:
    other = CA(cn="Other CA")
    cert, _ = other.issue()
    with pytest.raises(BadSignature, match="not issued by"):
        verify_certificate(cert, ca.cert, at_ms=NOW_MS)


def test_verify_certificate_same_name_other_key(ca: CA) -> None:
    impostor = CA(cn=ca.cn)
    cert, _ = impostor.issue()
    with pytest.raises(BadSignature, match="not issued by"):
        verify_certificate(cert, ca.cert, at_ms=NOW_MS)


def test_verify_certificate_issuer_name_differs(ca: CA) -> None:
    cert, _ = ca.issue(issuer_cn="Someone else")
    with pytest.raises(BadSignature, match="not issued by"):
        verify_certificate(cert, ca.cert, at_ms=NOW_MS)


def test_verify_certificate_refuses_ca_certificates(ca: CA) -> None:
    cert, _ = ca.issue(ca=True)
    with pytest.raises(BadSignature, match="CA certificate cannot"):
        verify_certificate(cert, ca.cert, at_ms=NOW_MS)
    cert, _ = ca.issue(ca=False)
    verify_certificate(cert, ca.cert, at_ms=NOW_MS)


@pytest.mark.parametrize("digital_signature", [False, None])
def test_verify_certificate_needs_digital_signature(ca: CA, digital_signature: bool | None) -> None:
    cert, _ = ca.issue(digital_signature=digital_signature)
    with pytest.raises(BadSignature, match="digital signatures"):
        verify_certificate(cert, ca.cert, at_ms=NOW_MS)


@pytest.mark.parametrize(
    "ekus",
    [None, (ExtendedKeyUsageOID.SERVER_AUTH,), (ExtendedKeyUsageOID.CODE_SIGNING,)],
)
def test_verify_certificate_needs_client_auth(
    ca: CA, ekus: tuple[x509.ObjectIdentifier, ...] | None
) -> None:
    cert, _ = ca.issue(ekus=ekus)
    with pytest.raises(BadSignature, match="clientAuth"):
        verify_certificate(cert, ca.cert, at_ms=NOW_MS)


def test_verify_certificate_checks_identity(ca: CA) -> None:
    cert, _ = ca.issue(uris=("urn:cordon:principal:fr/a", "urn:cordon:principal:fr/b"))
    with pytest.raises(BadSignature, match="exactly one"):
        verify_certificate(cert, ca.cert, at_ms=NOW_MS)


def test_verify_certificate_admin(ca: CA) -> None:
    cert, _ = ca.issue(uris=("urn:cordon:admin:alice",), ekus=(CLIENT_AUTH, ADMIN_EKU))
    assert verify_certificate(cert, ca.cert, at_ms=NOW_MS) == Identity.for_admin("alice")


def test_verify_certificate_unsupported_ca_key() -> None:
    """A CA certificate whose key cannot verify signatures (X25519) is refused cleanly."""
    ca = CA(cn="X CA")
    x_ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("X CA"))
        .issuer_name(_name("X CA"))
        .public_key(X25519PrivateKey.generate().public_key())
        .serial_number(1)
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + DAY)
        .sign(ca.key, None)
    )
    cert, _ = ca.issue()
    with pytest.raises(BadSignature, match="not issued by"):
        verify_certificate(cert, x_ca_cert, at_ms=NOW_MS)


def test_verify_certificate_ca_key_type_differs() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("EC CA"))
        .issuer_name(_name("EC CA"))
        .public_key(ec_key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + DAY)
        .sign(ec_key, hashes.SHA256())
    )
    cert, _ = CA(cn="EC CA").issue()
    with pytest.raises(BadSignature, match="not issued by"):
        verify_certificate(cert, ec_ca_cert, at_ms=NOW_MS)


# --- verify_signed_alert ----------------------------------------------------


def test_verify_signed_alert_ok(ca: CA) -> None:
    cert, key = ca.issue()
    assert isinstance(key, Ed25519PrivateKey)
    alert, sig = signed(cert, key)
    env = verify_signed_alert(alert, sig, der(cert), ca.cert)
    assert env.sender == "fr/system"
    assert env.channel == "stop-iii"
    assert verify_signed_alert(alert, sig, der(cert), ca.cert, channel="stop-iii") == env


def test_verify_signed_alert_not_an_envelope(ca: CA) -> None:
    cert, _ = ca.issue()
    with pytest.raises(InvalidAlert):
        verify_signed_alert(b"\xc1", b"\0" * 64, der(cert), ca.cert)


def test_verify_signed_alert_kid_mismatch(ca: CA) -> None:
    cert, key = ca.issue()
    other, _ = ca.issue()
    assert isinstance(key, Ed25519PrivateKey)
    alert, sig = signed(cert, key)
    with pytest.raises(EnvelopeMismatch, match="key id"):
        verify_signed_alert(alert, sig, der(other), ca.cert)


def test_verify_signed_alert_cert_not_der(ca: CA) -> None:
    cert, key = ca.issue()
    assert isinstance(key, Ed25519PrivateKey)
    junk = b"not a certificate"
    alert, sig = signed(cert, key, kid=key_id(junk))
    with pytest.raises(BadSignature, match="not DER"):
        verify_signed_alert(alert, sig, junk, ca.cert)


def test_verify_signed_alert_checks_certificate_at_alert_time(ca: CA) -> None:
    cert, key = ca.issue(not_before=NOW - 10 * DAY, not_after=NOW - DAY)
    assert isinstance(key, Ed25519PrivateKey)
    alert, sig = signed(cert, key, ts=NOW_MS - 5 * 86_400_000)
    verify_signed_alert(alert, sig, der(cert), ca.cert)
    alert, sig = signed(cert, key, ts=NOW_MS)
    with pytest.raises(BadSignature, match="not valid"):
        verify_signed_alert(alert, sig, der(cert), ca.cert)


def test_verify_signed_alert_untrusted_signer(ca: CA) -> None:
    other = CA(cn="Other CA")
    cert, key = other.issue()
    assert isinstance(key, Ed25519PrivateKey)
    alert, sig = signed(cert, key)
    with pytest.raises(BadSignature, match="not issued by"):
        verify_signed_alert(alert, sig, der(cert), ca.cert)


def test_verify_signed_alert_sender_mismatch(ca: CA) -> None:
    cert, key = ca.issue()
    assert isinstance(key, Ed25519PrivateKey)
    alert, sig = signed(cert, key, sender="de/system")
    with pytest.raises(EnvelopeMismatch, match="sender"):
        verify_signed_alert(alert, sig, der(cert), ca.cert)


def test_verify_signed_alert_admin_signer(ca: CA) -> None:
    cert, key = ca.issue(uris=("urn:cordon:admin:alice",), ekus=(CLIENT_AUTH, ADMIN_EKU))
    assert isinstance(key, Ed25519PrivateKey)
    alert, sig = signed(cert, key, sender="admin/alice")
    assert verify_signed_alert(alert, sig, der(cert), ca.cert).sender == "admin/alice"


def test_verify_signed_alert_non_ed25519_key(ca: CA) -> None:
    cert, _ = ca.issue(key=ec.generate_private_key(ec.SECP256R1()))
    signer = Ed25519PrivateKey.generate()
    alert, sig = signed(cert, signer)
    with pytest.raises(BadSignature, match="not Ed25519"):
        verify_signed_alert(alert, sig, der(cert), ca.cert)


def test_verify_signed_alert_bad_signature(ca: CA) -> None:
    cert, key = ca.issue()
    assert isinstance(key, Ed25519PrivateKey)
    alert, sig = signed(cert, key)
    forged = bytes([sig[0] ^ 1]) + sig[1:]
    with pytest.raises(BadSignature):
        verify_signed_alert(alert, forged, der(cert), ca.cert)
    with pytest.raises(BadSignature, match="64 bytes"):
        verify_signed_alert(alert, sig[:10], der(cert), ca.cert)
    # Signed by someone else's key, presented with this certificate:
    _, sig_other = signed(cert, Ed25519PrivateKey.generate())
    with pytest.raises(BadSignature):
        verify_signed_alert(alert, sig_other, der(cert), ca.cert)


def test_verify_signed_alert_tampered_bytes(ca: CA) -> None:
    cert, key = ca.issue()
    assert isinstance(key, Ed25519PrivateKey)
    alert, sig = signed(cert, key)
    tampered = alert.replace(b"medicines", b"medicinez")
    with pytest.raises(BadSignature):
        verify_signed_alert(tampered, sig, der(cert), ca.cert)


def test_verify_signed_alert_channel_replay(ca: CA) -> None:
    cert, key = ca.issue()
    assert isinstance(key, Ed25519PrivateKey)
    alert, sig = signed(cert, key, channel="stop-iii")
    with pytest.raises(EnvelopeMismatch, match="another channel"):
        verify_signed_alert(alert, sig, der(cert), ca.cert, channel="pangea")
