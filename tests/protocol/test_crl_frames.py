"""The ``crl``/``crlok`` frames (PROTOCOL.md §6.10): round trips, the size limit, wrong types,
and the conformance vectors' CRLs (the right CA's verifies, the foreign one does not)."""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.errors import FrameTooLarge, InvalidFrame, UnknownFrameType
from hub.protocol.limits import MAX_CRL_BYTES, MAX_FRAME_BYTES
from tests.vectors.make import HERE

VECTORS: dict[str, Any] = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))


def _pack(obj: dict[str, Any]) -> bytes:
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


def test_round_trips() -> None:
    ask = f.CrlRequest(rid=2**64 - 1)
    assert codec.decode_client(codec.encode(ask)) == ask
    ok = f.CrlResult(rid=3, crl=b"\x30" * 100, number=7, next=1_772_877_600_000)
    assert codec.decode_server(codec.encode(ok)) == ok
    assert msgpack.unpackb(codec.encode(ok)) == {"t": "crlok", "rid": 3, "crl": b"\x30" * 100,
                                                  "number": 7, "next": 1_772_877_600_000}


def test_the_limit_fits_in_a_frame() -> None:
    biggest = f.CrlResult(rid=2**64 - 1, crl=b"\x00" * MAX_CRL_BYTES, number=2**64 - 1,
                          next=2**64 - 1)
    assert len(codec.encode(biggest)) <= MAX_FRAME_BYTES
    assert codec.decode_server(codec.encode(biggest)) == biggest


@pytest.mark.parametrize(("over", "error", "match"), [
    ({"crl": b"\x00" * (MAX_CRL_BYTES + 1)}, FrameTooLarge, "CRL too large"),
    ({"crl": "text"}, InvalidFrame, "crl: expected binary"),
    ({"number": -1}, InvalidFrame, "number"),
    ({"next": 1.5}, InvalidFrame, "next"),
    ({"extra": 1}, InvalidFrame, "unknown field"),
])
def test_bad_crlok_is_refused(over: dict[str, Any], error: type[Exception],
                              match: str) -> None:
    obj: dict[str, Any] = {"t": "crlok", "rid": 3, "crl": b"\x30", "number": 1, "next": 2}
    obj.update(over)
    with pytest.raises(error, match=match):
        codec.decode_server(_pack(obj))


def test_crl_is_a_client_frame_only() -> None:
    with pytest.raises(InvalidFrame, match="unknown field"):
        codec.decode_client(_pack({"t": "crl", "rid": 1, "ch": "stop-iii"}))
    with pytest.raises(UnknownFrameType):
        codec.decode_server(_pack({"t": "crl", "rid": 1}))
    with pytest.raises(UnknownFrameType):
        codec.decode_client(_pack({"t": "crlok", "rid": 1, "crl": b"", "number": 1,
                                   "next": 1}))


def test_vector_crls() -> None:
    """``crlok`` verifies with ca.pem and revokes fr-other.pem; ``crlok-foreign`` does not
    verify (same issuer name, another key); both state their own number and nextUpdate."""
    frames = {v["name"]: bytes.fromhex(v["hex"]) for v in VECTORS["frames"]}
    ca = x509.load_pem_x509_certificate((HERE / "ca.pem").read_bytes())
    other = x509.load_pem_x509_certificate((HERE / "fr-other.pem").read_bytes())
    key = ca.public_key()
    assert isinstance(key, Ed25519PublicKey)
    assert codec.decode_client(frames["crl"]) == f.CrlRequest(rid=23)
    for name, valid in (("crlok", True), ("crlok-foreign", False)):
        ok = codec.decode_server(frames[name])
        assert isinstance(ok, f.CrlResult)
        crl = x509.load_der_x509_crl(ok.crl)
        assert crl.issuer == ca.subject and crl.is_signature_valid(key) is valid
        assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == \
            ok.number == 7
        assert crl.next_update_utc is not None
        assert int(crl.next_update_utc.timestamp() * 1000) == ok.next
        assert crl.get_revoked_certificate_by_serial_number(other.serial_number) is not None
