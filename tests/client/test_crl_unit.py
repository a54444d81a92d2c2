"""The SDK's check of a hub-served CRL (client._crl.verify_crl): each way a CRL can be wrong
gives its documented error; the conformance vectors' CRLs (one right, one foreign)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from client._crl import CRLError, ForeignCRL, StaleCRL, verify_crl
from hub.protocol import codec
from hub.protocol import frames as f
from tests.vectors.make import HERE, TS

NOW = datetime(2026, 3, 1, 10, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cordon CA")])


def _ca(key: Ed25519PrivateKey) -> x509.Certificate:
    return (x509.CertificateBuilder().subject_name(NAME).issuer_name(NAME)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW - timedelta(days=30)).not_valid_after(NOW + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, None))


KEY = Ed25519PrivateKey.generate()
CA = _ca(KEY)


def _crl(*, key: Ed25519PrivateKey = KEY, issuer: x509.Name = NAME, number: int | None = 5,
         this: datetime = NOW - timedelta(hours=1),
         nxt: datetime = NOW + timedelta(days=6)) -> bytes:
    # (cryptography cannot build a CRL without nextUpdate; verify_crl refuses one anyway)
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer).last_update(this)
         .next_update(nxt))
    if number is not None:
        b = b.add_extension(x509.CRLNumber(number), critical=False)
    return b.sign(key, None).public_bytes(serialization.Encoding.DER)


def test_a_good_crl() -> None:
    crl = verify_crl(_crl(), [CA], now_ms=NOW_MS, number=5,
                     next_ms=int((NOW + timedelta(days=6)).timestamp() * 1000), at_least=5)
    assert crl.issuer == NAME
    other = _ca(Ed25519PrivateKey.generate())  # several CAs held: the right one is found
    assert verify_crl(_crl(), [other, CA], now_ms=NOW_MS).issuer == NAME


@pytest.mark.parametrize(("der", "kwargs", "error", "match"), [
    (b"not a crl", {}, CRLError, "not a DER"),
    (_crl(key=Ed25519PrivateKey.generate()), {}, ForeignCRL, "not signed by this client's"),
    (_crl(issuer=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Other")])), {},
     ForeignCRL, "not signed"),
    (_crl(nxt=NOW - timedelta(seconds=1)), {}, StaleCRL, "expired"),
    (_crl(this=NOW + timedelta(hours=1)), {}, CRLError, "in the future"),
    (_crl(), {"number": 6}, CRLError, "number 6"),
    (_crl(), {"next_ms": 1}, CRLError, "nextUpdate is not"),
    (_crl(), {"at_least": 6}, CRLError, "older than number 6"),
    (_crl(number=None), {"at_least": 1}, CRLError, "older than"),
])
def test_refusals(der: bytes, kwargs: dict[str, Any], error: type[CRLError],
                  match: str) -> None:
    with pytest.raises(error, match=match) as caught:
        verify_crl(der, [CA], now_ms=NOW_MS, **kwargs)
    assert str(caught.value).startswith("the hub's CRL is refused: ")
    if error is CRLError:
        assert not isinstance(caught.value, ForeignCRL | StaleCRL)


def test_the_vectors() -> None:
    vectors = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))
    frames = {v["name"]: bytes.fromhex(v["hex"]) for v in vectors["frames"]}
    ca = x509.load_pem_x509_certificate((HERE / "ca.pem").read_bytes())
    ok = codec.decode_server(frames["crlok"])
    bad = codec.decode_server(frames["crlok-foreign"])
    assert isinstance(ok, f.CrlResult) and isinstance(bad, f.CrlResult)
    verify_crl(ok.crl, [ca], now_ms=TS, number=ok.number, next_ms=ok.next)
    with pytest.raises(ForeignCRL):
        verify_crl(bad.crl, [ca], now_ms=TS, number=bad.number, next_ms=bad.next)
    with pytest.raises(StaleCRL):
        verify_crl(ok.crl, [ca], now_ms=ok.next)
