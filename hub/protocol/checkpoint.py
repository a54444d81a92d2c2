"""Signed channel checkpoints (PROTOCOL.md Appendix C): what a hub signs about a channel
epoch's Merkle log (:mod:`hub.protocol.merkle`) — its size and root hash at a time.

A checkpoint is a canonical msgpack map (the rules of §4) with exactly the keys ``ch``,
``epoch``, ``root`` (bin, 32 bytes), ``size``, ``time`` (ms) and ``v`` (1) — plus, in the
first checkpoints of an epoch that followed another, the epoch link ``prev`` (bin, the
SHA-256 of the old epoch's last signed checkpoint bytes) and ``prev_epoch`` (that epoch),
both or neither — signed with Ed25519 over ``"cordon-checkpoint-v1" || 0x00 ||
checkpoint``. :func:`fingerprint` is a short text two officers can read to each other to
compare the log they were shown. Sans-I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

import msgpack
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.protocol import ed25519
from hub.protocol.errors import BadSignature, InvalidAlert, InvalidFrame
from hub.protocol.identity import ChannelName, check_channel
from hub.protocol.merkle import HASH_BYTES

__all__ = [
    "CHECKPOINT_CONTEXT",
    "CHECKPOINT_VERSION",
    "Checkpoint",
    "checkpoint_hash",
    "decode_checkpoint",
    "encode_checkpoint",
    "fingerprint",
    "sign_checkpoint",
    "verify_checkpoint",
]

CHECKPOINT_VERSION: Final = 1
CHECKPOINT_CONTEXT: Final = b"cordon-checkpoint-v1\x00"
_KEYS: Final = frozenset({"ch", "epoch", "root", "size", "time", "v"})
_LINK_KEYS: Final = frozenset({"prev", "prev_epoch"})
_MAX_INT: Final = 2**53
_MAX_BYTES: Final = 512
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The log of ``channel``'s epoch ``epoch`` held ``size`` alerts with root ``root``
    at ``time`` (ms since 1970, the hub's clock)."""

    channel: ChannelName
    epoch: str
    size: int
    root: bytes
    time: int
    v: int = CHECKPOINT_VERSION
    #: The epoch link: SHA-256 of the previous epoch's last signed checkpoint bytes
    #: (:func:`checkpoint_hash`), and that epoch; both None when there is no link.
    prev: bytes | None = None
    prev_epoch: str | None = None


def encode_checkpoint(cp: Checkpoint) -> bytes:
    """The canonical bytes that are signed (keys in ascending order, shortest forms)."""
    obj: dict[str, object] = {"ch": cp.channel, "epoch": cp.epoch}
    if cp.prev is not None:
        obj["prev"] = bytes(cp.prev)
        obj["prev_epoch"] = cp.prev_epoch
    obj.update({"root": bytes(cp.root), "size": cp.size, "time": cp.time, "v": cp.v})
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


def checkpoint_hash(data: bytes) -> bytes:
    """SHA-256 of checkpoint bytes: what the next epoch's first checkpoint links (``prev``)."""
    return hashlib.sha256(data).digest()


def _epoch(value: object) -> str:
    if not isinstance(value, str) or len(value) != 32 or value.strip("0123456789abcdef"):
        raise _refuse("epoch must be 32 hex characters")
    return value


def _refuse(why: str) -> InvalidAlert:
    return InvalidAlert(f"invalid checkpoint: {why}")


def decode_checkpoint(data: bytes) -> Checkpoint:
    """Decode and check checkpoint bytes; :class:`InvalidAlert` (424) if they are not one."""
    if len(data) > _MAX_BYTES:
        raise _refuse("too large")
    try:
        obj: Any = msgpack.unpackb(data, raw=False, strict_map_key=True)
        canonical = isinstance(obj, dict) and msgpack.packb(obj, use_bin_type=True) == data
    except Exception:
        canonical = False
    if not canonical or any(type(k) is not str for k in obj) or list(obj) != sorted(obj):
        raise _refuse("not canonical msgpack")
    linked = obj.keys() == _KEYS | _LINK_KEYS
    if obj.keys() != _KEYS and not linked:
        raise _refuse("keys must be exactly " + ", ".join(sorted(_KEYS))
                      + " (and both or neither of prev, prev_epoch)")
    v, size, time, root, epoch = obj["v"], obj["size"], obj["time"], obj["root"], obj["epoch"]
    if type(v) is not int or v != CHECKPOINT_VERSION:
        raise _refuse("unsupported version")
    for value in (size, time):
        if type(value) is not int or not 0 <= value <= _MAX_INT:
            raise _refuse("size and time must be integers from 0")
    if type(root) is not bytes or len(root) != HASH_BYTES:
        raise _refuse("root must be 32 bytes")
    prev: bytes | None = None
    prev_epoch: str | None = None
    if linked:
        prev = obj["prev"]
        if type(prev) is not bytes or len(prev) != HASH_BYTES:
            raise _refuse("prev must be 32 bytes")
        prev_epoch = _epoch(obj["prev_epoch"])
    try:
        channel = check_channel(obj["ch"])
    except InvalidFrame as exc:
        raise _refuse(exc.detail) from exc
    return Checkpoint(channel=channel, epoch=_epoch(epoch), size=size, root=root, time=time,
                      prev=prev, prev_epoch=prev_epoch)


def sign_checkpoint(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The hub's signature over checkpoint bytes."""
    return key.sign(CHECKPOINT_CONTEXT + data)


def verify_checkpoint(public_key: bytes, data: bytes, sig: bytes) -> Checkpoint:
    """The checkpoint, if ``sig`` is the log key's signature over ``data`` (strict, as
    :func:`hub.protocol.envelope.verify_alert`); else :class:`BadSignature`."""
    checkpoint = decode_checkpoint(data)
    if len(sig) != 64:
        raise BadSignature("signature must be 64 bytes")
    if not ed25519.verify(public_key, CHECKPOINT_CONTEXT + data, sig):
        raise BadSignature("checkpoint signature does not verify")
    return checkpoint


def fingerprint(cp: Checkpoint) -> str:
    """16 characters in four groups (Crockford base32 of 80 bits of SHA-256 over channel,
    epoch, size and root — not the time): equal for two checkpoints of the same log at
    the same size, so officers can compare them by phone."""
    digest = hashlib.sha256(
        msgpack.packb([cp.channel, cp.epoch, cp.size, bytes(cp.root)], use_bin_type=True)
    ).digest()
    value = int.from_bytes(digest[:10], "big")
    chars = "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(75, -1, -5))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))
