"""hub.protocol.ed25519: the one Ed25519 check behind alerts, checkpoints and enrolment
requests, through libsodium's detached call and through crypto_sign_open alike."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.protocol import ed25519
from hub.protocol.checkpoint import (
    CHECKPOINT_CONTEXT,
    Checkpoint,
    encode_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from hub.protocol.errors import BadSignature
from hub.protocol.identity import ChannelName

_ORDER = 2**252 + 27742317777372353535851937790883648493
#: The identity point as a public key and as R, with S = 0: a "signature" valid for every
#: message under cofactored or lax checks, refused by libsodium (small order).
_IDENTITY = bytes([1]) + bytes(31)
_UNIVERSAL_SIG = _IDENTITY + bytes(32)


@pytest.fixture(params=["detached", "open"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "open":
        monkeypatch.setattr(ed25519, "_DETACHED", None)
    else:
        assert ed25519._DETACHED is not None
    return str(request.param)


def test_both_paths_accept_and_refuse_alike(path: str) -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes_raw()
    message = b"any bytes" * 50
    sig = key.sign(message)
    assert ed25519.verify(raw, message, sig)
    s_plus_l = (int.from_bytes(sig[32:], "little") + _ORDER).to_bytes(32, "little")
    for bad_key, bad_message, bad_sig in [
        (raw, message + b"\x00", sig),
        (raw, message, sig[:32] + s_plus_l),  # non-canonical S
        (_IDENTITY, message, _UNIVERSAL_SIG),  # small-order key and R
        (Ed25519PrivateKey.generate().public_key().public_bytes_raw(), message, sig),
        (raw[:31], message, sig),  # not a key
        (raw + b"\x00", message, sig),
        (raw, message, sig[:63]),  # not a signature
        (raw, message, sig + b"\x00"),
    ]:
        assert not ed25519.verify(bad_key, bad_message, bad_sig)


def test_checkpoints_use_the_same_strict_check(path: str) -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes_raw()
    data = encode_checkpoint(Checkpoint(channel=ChannelName("op-x"), epoch="ab" * 16, size=3,
                                        root=bytes(32), time=1_700_000_000_000))
    sig = sign_checkpoint(key, data)
    assert verify_checkpoint(raw, data, sig).size == 3
    assert ed25519.verify(raw, CHECKPOINT_CONTEXT + data, sig)
    s_plus_l = (int.from_bytes(sig[32:], "little") + _ORDER).to_bytes(32, "little")
    for bad_key, bad_sig in [(raw, sig[:32] + s_plus_l), (_IDENTITY, _UNIVERSAL_SIG),
                             (raw[:31], sig)]:
        with pytest.raises(BadSignature, match="does not verify"):
            verify_checkpoint(bad_key, data, bad_sig)


def test_detached_call_missing_means_crypto_sign_open(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes

    def missing(*args: object, **kwargs: object) -> None:
        raise OSError("no such library")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    assert ed25519._detached() is None


def test_libsodium_signs_the_same_bytes_as_openssl() -> None:
    key = Ed25519PrivateKey.generate()
    message = b"cordon" * 200
    sig = ed25519.sign(ed25519.signing_key(key), message)
    assert sig == key.sign(message)  # deterministic: the same signature either way
    assert ed25519.verify(key.public_key().public_bytes_raw(), message, sig)
