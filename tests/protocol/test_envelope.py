from __future__ import annotations

import msgpack
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from hypothesis import given
from hypothesis import strategies as st

from hub.protocol import ed25519, envelope
from hub.protocol.envelope import (
    SIGN_CONTEXT,
    Envelope,
    decode_envelope,
    encode_envelope,
    key_id,
    sign_alert,
    verify_alert,
)
from hub.protocol.errors import BadSignature, InvalidAlert
from hub.protocol.identity import AlertId, ChannelName, PrincipalId
from hub.protocol.limits import MAX_ALERT_BYTES

KID = key_id(b"certificate der")


def make(**over) -> Envelope:
    values = {"id": AlertId("FR-0001"), "channel": ChannelName("stop-iii"),
              "sender": PrincipalId("fr/ops"), "kid": KID, "ts": 1_701_648_000_000,
              "kind": "seizure", "body": {"items": 3}}
    values.update(over)
    return Envelope(**values)  # type: ignore[arg-type]


def raw(**over) -> bytes:
    obj = {"v": 1, "id": "a1", "ch": "c", "from": "fr/ops", "kid": KID, "ts": 1,
           "kind": "notice", "body": {}}
    obj.update(over)
    # canonical key order (PROTOCOL.md §4), so each case fails for its own reason
    return msgpack.packb({k: obj[k] for k in sorted(obj) if obj[k] is not ...},
                         use_bin_type=True)


def test_key_id_is_hex_sha256():
    assert len(KID) == 64 and int(KID, 16) >= 0


def test_round_trip_and_signature():
    env = make()
    data = encode_envelope(env)
    assert decode_envelope(data) == env
    key = Ed25519PrivateKey.generate()
    sig = sign_alert(key, data)
    verify_alert(key.public_key(), data, sig)
    # the signature covers the context prefix: a bare signature over the bytes fails
    with pytest.raises(BadSignature):
        verify_alert(key.public_key(), data, key.sign(data))
    assert key.public_key().verify(sig, SIGN_CONTEXT + data) is None


def test_decoded_envelope_sets_every_field():
    """decode_envelope sets the slots itself (not through __init__): all of them."""
    import dataclasses

    assert tuple(fld.name for fld in dataclasses.fields(Envelope)) == envelope._SET_FIELDS
    chained = make(seq=2, prev=b"\x01" * 32)
    decoded = decode_envelope(encode_envelope(chained))
    assert decoded == chained
    assert decoded.chained and not decode_envelope(encode_envelope(make())).chained
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.ts = 5  # type: ignore[misc]


def test_flipped_byte_fails():
    key = Ed25519PrivateKey.generate()
    data = encode_envelope(make())
    sig = sign_alert(key, data)
    tampered = bytearray(data)
    tampered[-1] ^= 1
    with pytest.raises(BadSignature):
        verify_alert(key.public_key(), bytes(tampered), sig)
    with pytest.raises(BadSignature, match="64 bytes"):
        verify_alert(key.public_key(), data, sig[:10])


def test_raw_key_bytes_verify_like_the_key_object():
    key = Ed25519PrivateKey.generate()
    data = encode_envelope(make())
    sig = sign_alert(key, data)
    raw_key = key.public_key().public_bytes_raw()
    verify_alert(raw_key, data, sig)
    with pytest.raises(BadSignature):
        verify_alert(raw_key, data + b"\x00", sig)
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    with pytest.raises(BadSignature):
        verify_alert(other, data, sig)


# The neutral element as public key and as R, with S = 0: [S]B = R + [k]A holds for
# every message, so anyone could "sign" anything under such a key. OpenSSL (via
# cryptography) accepts it; the hub and recipients must not.
_IDENTITY = b"\x01" + bytes(31)
_UNIVERSAL_SIG = _IDENTITY + bytes(32)


def test_small_order_key_forgery_is_refused():
    data = encode_envelope(make())
    weak = Ed25519PublicKey.from_public_bytes(_IDENTITY)
    weak.verify(_UNIVERSAL_SIG, SIGN_CONTEXT + data)  # what OpenSSL's check lets through
    with pytest.raises(BadSignature):
        verify_alert(weak, data, _UNIVERSAL_SIG)
    with pytest.raises(BadSignature):
        verify_alert(_IDENTITY, data, _UNIVERSAL_SIG)


def test_non_canonical_s_is_refused():
    key = Ed25519PrivateKey.generate()
    data = encode_envelope(make())
    sig = sign_alert(key, data)
    # S + L encodes the same scalar; a malleated copy of a valid signature
    order = 2**252 + 27742317777372353535851937790883648493
    s_plus_l = (int.from_bytes(sig[32:], "little") + order).to_bytes(32, "little")
    with pytest.raises(BadSignature):
        verify_alert(key.public_key(), data, sig[:32] + s_plus_l)


@pytest.fixture(params=["detached", "open"])
def check_path(request, monkeypatch):
    """Both ways verify_alert reaches libsodium: crypto_sign_verify_detached (PyNaCl's
    build, through ctypes), and crypto_sign_open where that cannot be found."""
    if request.param == "open":
        monkeypatch.setattr(ed25519, "_DETACHED", None)
    else:
        assert ed25519._DETACHED is not None
    return request.param


def test_both_paths_accept_and_refuse_alike(check_path):
    key = Ed25519PrivateKey.generate()
    data = encode_envelope(make())
    sig = sign_alert(key, data)
    raw_key = key.public_key().public_bytes_raw()
    verify_alert(raw_key, data, sig)
    verify_alert(key.public_key(), data, sig)
    order = 2**252 + 27742317777372353535851937790883648493
    s_plus_l = (int.from_bytes(sig[32:], "little") + order).to_bytes(32, "little")
    for bad_key, bad_data, bad_sig in [
        (raw_key, data + b"\x00", sig),  # other bytes
        (raw_key, data, key.sign(data)),  # no signing context
        (raw_key, data, sig[:32] + s_plus_l),  # non-canonical S
        (_IDENTITY, data, _UNIVERSAL_SIG),  # small-order key and R
        (Ed25519PrivateKey.generate().public_key().public_bytes_raw(), data, sig),
        (raw_key[:31], data, sig),  # not a key: libsodium would read past it
    ]:
        with pytest.raises(BadSignature):
            verify_alert(bad_key, bad_data, bad_sig)


def test_detached_check_missing_means_crypto_sign_open(monkeypatch):
    import ctypes

    def missing(*args, **kwargs):
        raise OSError("no such library")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    assert ed25519._detached() is None


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\xc1", "not msgpack"),
        (b"x" * (MAX_ALERT_BYTES + 1), "too large"),
        (msgpack.packb([1]), "exactly"),
        (raw(extra=1), "exactly"),
        (raw(body=...), "exactly"),
        (raw(v=2), "version"),
        (raw(v=True), "version"),
        (raw(ts=-1), "ts"),
        (raw(ts=1.5), "ts"),
        (raw(kind="gossip"), "kind"),
        (raw(kid="AB" * 32), "kid"),
        (raw(kid=5), "kid"),
        (raw(body=[1]), "body"),
        (raw(id="bad id"), "alert id"),
        (raw(ch="BAD"), "channel"),
        (raw(**{"from": "nobody"}), "principal"),
    ],
)
def test_invalid_envelopes(data, match):
    with pytest.raises(InvalidAlert, match=match):
        decode_envelope(data)


@given(st.binary(max_size=200))
def test_fuzz_envelope_decoder_raises_only_invalid_alert(data):
    try:
        decode_envelope(data)
    except InvalidAlert:
        pass


@pytest.mark.parametrize(("key", "value", "detail"), [
    ("from", 5, "invalid principal id"), ("from", "fr/ops/x", "invalid principal id"),
    ("ch", 5, "channel"), ("ch", "Stop", "channel"),
])
def test_sender_and_channel_that_are_not_names_are_424(key: str, value: object,
                                                       detail: str) -> None:
    """Also once valid names were seen (decode_envelope remembers those)."""
    obj = {"body": {"handling": "H0", "schema": 1, "text": "t"}, "ch": "stop-iii",
           "from": "fr/ops", "id": "a-1", "kid": "ab" * 32, "kind": "notice", "ts": 1, "v": 1}
    assert decode_envelope(msgpack.packb(obj, use_bin_type=True)).sender == "fr/ops"
    obj[key] = value
    with pytest.raises(InvalidAlert, match=detail):
        decode_envelope(msgpack.packb(dict(sorted(obj.items())), use_bin_type=True))
