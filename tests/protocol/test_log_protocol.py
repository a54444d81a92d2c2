"""The log key certificate check, the ``ckpt``/``ckptok`` and ``prove``/``proof`` frames, and
the subtree-root form of the Merkle proofs (PROTOCOL.md §2, §6.9, Appendix C)."""

from __future__ import annotations

import msgpack
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.errors import BadSignature, FrameTooLarge, InvalidFrame
from hub.protocol.identity import LOG_EKU_OID
from hub.protocol.limits import PROOF_MAX_HASHES, PROOF_MAX_OFFSETS
from hub.protocol.merkle import (
    consistency_path,
    consistency_proof,
    inclusion_path,
    inclusion_proof,
    leaf_hash,
    root,
)
from hub.protocol.trust import verify_log_certificate
from tests.protocol.test_trust import CA, DAY, NOW, NOW_MS

LOG_EKU = x509.ObjectIdentifier(LOG_EKU_OID)
URI = ("urn:cordon:log:main",)
EPOCH = "0123456789abcdef" * 2


def _crl(ca: CA, serials: list[int], *, key: Ed25519PrivateKey | None = None
         ) -> x509.CertificateRevocationList:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.cert.subject)
               .last_update(NOW - DAY).next_update(NOW + DAY))
    for serial in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW - DAY)
            .build())
    return builder.sign(key or ca.key, None)


def test_log_certificate_ok_and_revoked() -> None:
    ca = CA()
    cert, key = ca.issue(uris=URI, ekus=[LOG_EKU])
    assert isinstance(key, Ed25519PrivateKey)
    hub, public = verify_log_certificate(cert, ca.cert, at_ms=NOW_MS, crl=_crl(ca, [7]))
    assert (hub, public) == ("main", key.public_key().public_bytes_raw())
    assert verify_log_certificate(cert, ca.cert, at_ms=NOW_MS)[0] == "main"
    with pytest.raises(BadSignature, match="revoked"):
        verify_log_certificate(cert, ca.cert, at_ms=NOW_MS,
                               crl=_crl(ca, [cert.serial_number]))
    with pytest.raises(BadSignature, match="not the Cordon CA's"):
        verify_log_certificate(cert, ca.cert, at_ms=NOW_MS,
                               crl=_crl(ca, [], key=Ed25519PrivateKey.generate()))


@pytest.mark.parametrize(("options", "reason"), [
    ({"ekus": [ExtendedKeyUsageOID.CLIENT_AUTH]}, "cordon-log"),  # a member's key
    ({"ekus": [ExtendedKeyUsageOID.SERVER_AUTH]}, "cordon-log"),  # the TLS server key
    ({"ekus": None}, "cordon-log"),
    ({"digital_signature": None}, "digital signatures"),
    ({"digital_signature": False}, "digital signatures"),
    ({"ca": True}, "CA certificate"),
    ({"uris": ("urn:cordon:principal:fr/ops",)}, "urn:cordon:log"),
    ({"uris": (*URI, "urn:cordon:log:other")}, "urn:cordon:log"),
    ({"uris": ()}, "urn:cordon:log"),
    ({"uris": ("urn:cordon:log:Bad_Name",)}, "invalid hub"),
    ({"not_after": NOW - DAY, "not_before": NOW - 2 * DAY}, "not valid"),
    ({"key": Ed448PrivateKey.generate()}, "not Ed25519"),
])
def test_log_certificate_refused(options: dict[str, object], reason: str) -> None:
    ca = CA()
    opts: dict[str, object] = {"uris": URI, "ekus": [LOG_EKU], **options}
    cert, _key = ca.issue(**opts)  # type: ignore[arg-type]
    with pytest.raises(BadSignature, match=reason):
        verify_log_certificate(cert, ca.cert, at_ms=NOW_MS)


def test_log_certificate_of_another_ca_and_malformed() -> None:
    cert, _key = CA().issue(uris=URI, ekus=[LOG_EKU])
    with pytest.raises(BadSignature, match="not issued"):
        verify_log_certificate(cert, CA().cert, at_ms=NOW_MS)
    ca = CA()
    leaf = Ed25519PrivateKey.generate()
    bad = (x509.CertificateBuilder().subject_name(ca.cert.subject).issuer_name(ca.cert.subject)
           .public_key(leaf.public_key()).serial_number(1)
           .not_valid_before(ca.not_before).not_valid_after(ca.not_after)
           .add_extension(x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, b"\x05\x00"),
                          critical=True)
           .sign(ca.key, None))
    with pytest.raises(BadSignature, match="malformed"):
        verify_log_certificate(bad, ca.cert, at_ms=NOW_MS)
    cert, _key = ca.issue(uris=URI, ekus=[LOG_EKU], not_before=NOW - 60 * DAY)
    with pytest.raises(BadSignature, match="CA certificate not valid"):
        verify_log_certificate(cert, ca.cert, at_ms=NOW_MS - 40 * 86_400_000)


H = b"\x01" * 32
FRAMES: list[f.Frame] = [
    f.CheckpointRequest(rid=1, ch="stop-iii"),
    f.ProofRequest(rid=2, ch="stop-iii", epoch=EPOCH, size=9, offs=(1, 9), from_size=4),
    f.ProofRequest(rid=3, ch="stop-iii", epoch=EPOCH, size=0),
    f.CheckpointResult(rid=1, ch="stop-iii", cp=b"cp", sig=b"s" * 64, kid="a" * 64),
    f.CheckpointResult(rid=1, ch="stop-iii", cp=b"cp", sig=b"s" * 64, kid="a" * 64,
                       prev_cp=b"old", prev_sig=b"t" * 64, prev_kid="b" * 64),
    f.Proof(rid=2, ch="stop-iii", epoch=EPOCH, size=9,
            paths=(f.ProofPath(1, (H, H)), f.ProofPath(9, ())), cons=(H,)),
    f.Proof(rid=3, ch="stop-iii", epoch=EPOCH, size=0, paths=()),
]


@pytest.mark.parametrize("frame", FRAMES)
def test_round_trip(frame: f.Frame) -> None:
    data = codec.encode(frame)
    decode = codec.decode_client if frame.TYPE in ("ckpt", "prove") else codec.decode_server
    assert decode(data) == frame


def test_prove_wire_names_from() -> None:
    obj = msgpack.unpackb(codec.encode(FRAMES[1]))
    assert obj["from"] == 4 and "from_size" not in obj


def _prove(**over: object) -> bytes:
    obj: dict[str, object] = {"t": "prove", "rid": 5, "ch": "stop-iii", "epoch": EPOCH,
                              "size": 3}
    obj.update(over)
    return msgpack.packb(obj, use_bin_type=True)


def _proof(**over: object) -> bytes:
    obj: dict[str, object] = {"t": "proof", "rid": 5, "ch": "stop-iii", "epoch": EPOCH,
                              "size": 3, "paths": []}
    obj.update(over)
    return msgpack.packb(obj, use_bin_type=True)


@pytest.mark.parametrize(("data", "error", "match"), [
    (_prove(offs=list(range(PROOF_MAX_OFFSETS + 1))), FrameTooLarge, "at most 64"),
    (_prove(offs=5), InvalidFrame, "list of offsets"),
    (_prove(offs=[-1]), InvalidFrame, "unsigned"),
    (_prove(epoch="XYZ"), InvalidFrame, "epoch"),
    (_prove(**{"from": "2"}), InvalidFrame, "unsigned"),
    (_prove(from_size=2), InvalidFrame, "unknown field"),
])
def test_prove_refused(data: bytes, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        codec.decode_client(data)


@pytest.mark.parametrize("data", [
    _proof(paths={}),
    _proof(paths=[[1]]),
    _proof(paths=[[1, [b"short"]]]),
    _proof(paths=[[1, "x"]]),
    _proof(paths=[[1, [H]]] * (PROOF_MAX_OFFSETS + 1)),
    _proof(cons=[H] * (PROOF_MAX_HASHES + 1)),
    _proof(cons=[1]),
])
def test_proof_refused(data: bytes) -> None:
    with pytest.raises(InvalidFrame):
        codec.decode_server(data)


def test_subtree_root_form_gives_the_same_proofs() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(21)]
    def sub(lo: int, hi: int) -> bytes:
        return root(leaves[lo:hi])
    for size in range(1, 22):
        for i in range(size):
            assert inclusion_path(sub, i, size) == inclusion_proof(leaves[:size], i)
        for m in range(size + 1):
            assert consistency_path(sub, m, size) == consistency_proof(leaves[:size], m)
    with pytest.raises(ValueError, match="outside"):
        consistency_path(sub, 5, 4)
