"""hub.protocol.checkpoint: the signed checkpoint's bytes, signature and fingerprint."""

from __future__ import annotations

import msgpack
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.protocol.checkpoint import (
    CHECKPOINT_CONTEXT,
    Checkpoint,
    checkpoint_hash,
    decode_checkpoint,
    encode_checkpoint,
    fingerprint,
    sign_checkpoint,
    verify_checkpoint,
)
from hub.protocol.errors import BadSignature, InvalidAlert
from hub.protocol.identity import ChannelName
from hub.protocol.merkle import leaf_hash, root

EPOCH = "0123456789abcdef0123456789abcdef"
ROOT = root([leaf_hash(b"a"), leaf_hash(b"b")])
CP = Checkpoint(channel=ChannelName("stop-iii"), epoch=EPOCH, size=2, root=ROOT,
                time=1_772_323_200_000)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUB = KEY.public_key().public_bytes_raw()


def test_round_trip_and_signature() -> None:
    data = encode_checkpoint(CP)
    assert list(msgpack.unpackb(data)) == ["ch", "epoch", "root", "size", "time", "v"]
    assert decode_checkpoint(data) == CP
    sig = sign_checkpoint(KEY, data)
    KEY.public_key().verify(sig, CHECKPOINT_CONTEXT + data)
    assert verify_checkpoint(PUB, data, sig) == CP
    with pytest.raises(BadSignature):
        verify_checkpoint(PUB, data, bytes([sig[0] ^ 1]) + sig[1:])
    with pytest.raises(BadSignature):
        verify_checkpoint(PUB, data, sig[:63])
    other = encode_checkpoint(Checkpoint(CP.channel, EPOCH, 3, ROOT, CP.time))
    with pytest.raises(BadSignature):
        verify_checkpoint(PUB, other, sig)


def _raw(**over: object) -> bytes:
    obj = {"ch": "stop-iii", "epoch": EPOCH, "root": ROOT, "size": 2, "time": 1, "v": 1}
    obj.update(over)
    return msgpack.packb({k: v for k, v in sorted(obj.items()) if v is not _DROP},
                         use_bin_type=True)


_DROP = object()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\xc1", "not canonical"),
        (b"\x90", "not canonical"),
        (msgpack.packb({"v": 1, "ch": "x"}), "not canonical"),
        (msgpack.packb({b"ch": 1}, use_bin_type=True), "not canonical"),
        (_raw() + b"\x00", "not canonical"),
        (b"\x86" + b"\xd9\x02ch" + _raw()[4:], "not canonical"),  # str 8 for a short key
        (bytes(600), "too large"),
        (_raw(extra=1), "keys must be"),
        (_raw(v=_DROP), "keys must be"),
        (_raw(v=2), "version"),
        (_raw(v=True), "version"),
        (_raw(size=-1), "size and time"),
        (_raw(time=1.5), "size and time"),
        (_raw(size=2**53 + 1), "size and time"),
        (_raw(root=b"\x00" * 31), "root must be"),
        (_raw(root="00" * 32), "root must be"),
        (_raw(epoch="ABCDEF0123456789ABCDEF0123456789"), "epoch must be"),
        (_raw(epoch=7), "epoch must be"),
        (_raw(ch="Bad Name"), "invalid checkpoint"),
        (_raw(prev=b"\x00" * 32), "both or neither"),
        (_raw(prev_epoch=EPOCH), "both or neither"),
        (_raw(prev=b"\x00" * 31, prev_epoch=EPOCH), "prev must be"),
        (_raw(prev="00" * 32, prev_epoch=EPOCH), "prev must be"),
        (_raw(prev=b"\x00" * 32, prev_epoch="x"), "epoch must be"),
    ],
)
def test_invalid_checkpoints(data: bytes, match: str) -> None:
    with pytest.raises(InvalidAlert, match=match):
        decode_checkpoint(data)


def test_fingerprint_names_the_log_not_the_time() -> None:
    fp = fingerprint(CP)
    assert len(fp) == 19 and fp.count("-") == 3
    assert set(fp.replace("-", "")) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert fingerprint(Checkpoint(CP.channel, EPOCH, 2, ROOT, CP.time + 1)) == fp
    assert fingerprint(Checkpoint(CP.channel, EPOCH, 3, ROOT, CP.time)) != fp
    assert fingerprint(Checkpoint(CP.channel, EPOCH, 2, leaf_hash(b"x"), CP.time)) != fp


def test_epoch_link_round_trip() -> None:
    """The first checkpoint of a new epoch names the old epoch's last one by hash."""
    old = encode_checkpoint(CP)
    new_epoch = "f" * 32
    linked = Checkpoint(CP.channel, new_epoch, 2, ROOT, CP.time + 5,
                        prev=checkpoint_hash(old), prev_epoch=EPOCH)
    data = encode_checkpoint(linked)
    assert list(msgpack.unpackb(data)) == ["ch", "epoch", "prev", "prev_epoch", "root",
                                           "size", "time", "v"]
    assert decode_checkpoint(data) == linked
    assert linked.prev == __import__("hashlib").sha256(old).digest()
    sig = sign_checkpoint(KEY, data)
    assert verify_checkpoint(PUB, data, sig).prev_epoch == EPOCH
    # the link is signed: dropping it changes the bytes
    assert encode_checkpoint(Checkpoint(CP.channel, new_epoch, 2, ROOT, CP.time + 5)) != data
