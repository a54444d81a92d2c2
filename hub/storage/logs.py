"""Channel logs: the Merkle leaf hashes the append script keeps, and signed checkpoints.

Keys (each channel's, in its hash slot)::

    cordon:{ch:NAME}:leaves     string: the leaf hashes of the channel's log, 32 bytes each,
                                in offset order (leaf i = SHA-256(0x00 || alert at offset
                                i + 1)); appended by the append script with the XADD, never
                                trimmed by retention, deleted with the channel
    cordon:{ch:NAME}:ckpt       hash: the latest signed checkpoint — epoch, size, cp (bytes),
                                sig, kid — and the epoch link: link_cp, link_sig, link_kid
                                (the previous epoch's last signed checkpoint; empty when
                                none). Outlives a deletion of the channel (evidence; a
                                re-created channel's checkpoints link it)
    cordon:{ch:NAME}:ckptlease  string, SET NX PX interval: the hub process signing next

The leaf string is 32 bytes per alert ever stored in the epoch (3.2 MB per 100,000).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.storage._common import _Base, _guard
from hub.storage._keys import (
    CHANNELS_KEY,
    _ckpt_key,
    _ckpt_lease_key,
    _leaves_key,
    _meta_key,
)

__all__ = ["LogState", "LogsMixin", "StoredCheckpoint"]

# Stores a signed checkpoint (KEYS: ckpt, meta). ARGV: epoch, size, cp, sig, kid, and the
# epoch the stored checkpoint had when the signer read it ('' none) with its size. Kept
# only if the channel is still in that epoch and the checkpoint is newer than the stored
# one: a larger size in the same epoch, or the first of a new epoch (the stored one then
# becomes the link, if it is the one the signer linked). Returns 1 stored, 0 not.
_PUT_CHECKPOINT = """
if redis.call('HGET', KEYS[2], 'epoch') ~= ARGV[1] then return 0 end
local epoch = redis.call('HGET', KEYS[1], 'epoch') or ''
local size = tonumber(redis.call('HGET', KEYS[1], 'size') or '-1')
if epoch ~= ARGV[6] or (epoch ~= '' and size ~= tonumber(ARGV[7])) then return 0 end
if epoch == ARGV[1] then
  if size >= tonumber(ARGV[2]) then return 0 end
elseif epoch ~= '' then
  local old = redis.call('HMGET', KEYS[1], 'cp', 'sig', 'kid')
  redis.call('HSET', KEYS[1], 'link_cp', old[1], 'link_sig', old[2], 'link_kid', old[3])
end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'size', ARGV[2], 'cp', ARGV[3], 'sig', ARGV[4],
  'kid', ARGV[5])
return 1
"""


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """The latest signed checkpoint of a channel as stored, with its epoch link."""

    epoch: str
    size: int
    cp: bytes
    sig: bytes
    kid: str
    link_cp: bytes | None = None
    link_sig: bytes | None = None
    link_kid: str | None = None

    @classmethod
    def _from_hash(cls, h: dict[bytes, bytes]) -> StoredCheckpoint | None:
        if not h.get(b"cp"):
            return None
        link = h.get(b"link_cp") or None
        return cls(
            epoch=h[b"epoch"].decode(), size=int(h[b"size"]), cp=h[b"cp"], sig=h[b"sig"],
            kid=h[b"kid"].decode(), link_cp=link,
            link_sig=h.get(b"link_sig") if link else None,
            link_kid=h[b"link_kid"].decode() if link and h.get(b"link_kid") else None,
        )


@dataclass(frozen=True, slots=True)
class LogState:
    """One consistent read of a channel's log: its epoch, durable watermark, how many leaf
    hashes the store holds, those from leaf ``start`` on, and the latest checkpoint."""

    epoch: str
    durable: int
    count: int
    start: int
    leaves: bytes
    checkpoint: StoredCheckpoint | None


class LogsMixin(_Base):
    """Merkle leaf hashes and signed checkpoints of channel logs."""

    async def log_state(self, channel: str, start: int) -> LogState | None:
        """The channel's log from leaf ``start`` (one MULTI: epoch, watermark, leaves and
        checkpoint agree); None if there is no such channel."""
        with _guard():
            pipe = self._r.pipeline(transaction=True)
            pipe.hmget(_meta_key(channel), ["epoch", "head", "durable"])
            pipe.strlen(_leaves_key(channel))
            pipe.getrange(_leaves_key(channel), 32 * start, -1)
            pipe.hgetall(_ckpt_key(channel))
            (epoch, head, durable), length, leaves, ckpt = await pipe.execute()
        if epoch is None:
            return None
        count = int(length) // 32
        leaves = bytes(leaves)[: 32 * max(0, count - start)]
        return LogState(
            epoch=epoch.decode(), durable=min(int(head or 0), int(durable or 0)), count=count,
            start=start, leaves=leaves, checkpoint=StoredCheckpoint._from_hash(ckpt),
        )

    async def checkpoint(self, channel: str) -> StoredCheckpoint | None:
        """The channel's latest signed checkpoint (None: none signed)."""
        with _guard():
            h = await self._r.hgetall(_ckpt_key(channel))
        return StoredCheckpoint._from_hash(h)

    async def log_overview(self) -> dict[str, tuple[str, int, str, int]]:
        """Per channel: (epoch, durable watermark, epoch and size of its latest signed
        checkpoint — '' and -1 when none), in two round trips."""
        with _guard():
            names = sorted(n.decode() for n in await self._r.smembers(CHANNELS_KEY))
            if not names:
                return {}
            pipe = self._r.pipeline(transaction=False)
            for name in names:
                pipe.hmget(_meta_key(name), ["epoch", "head", "durable"])
                pipe.hmget(_ckpt_key(name), ["epoch", "size"])
            replies = await pipe.execute()
        out: dict[str, tuple[str, int, str, int]] = {}
        for n, name in enumerate(names):
            (epoch, head, durable), (cp_epoch, cp_size) = replies[2 * n], replies[2 * n + 1]
            if epoch is None:
                continue
            out[name] = (epoch.decode(), min(int(head or 0), int(durable or 0)),
                         (cp_epoch or b"").decode(), int(cp_size) if cp_size else -1)
        return out

    async def take_checkpoint_lease(self, channel: str, ms: int) -> bool:
        """True if this process may sign the channel's next checkpoint: no other took the
        lease within the last ``ms`` (so one signature per channel per interval, whatever
        the number of hub processes)."""
        with _guard():
            return bool(await self._r.set(_ckpt_lease_key(channel), b"1", nx=True, px=ms))

    async def put_checkpoint(self, channel: str, *, epoch: str, size: int, cp: bytes,
                             sig: bytes, kid: str, read: StoredCheckpoint | None) -> bool:
        """Store a signed checkpoint if it is still the newest (see the script); ``read``
        is the stored checkpoint the signer built on. True if stored."""
        r: Any = self._r
        with _guard():
            stored = await r.eval(
                _PUT_CHECKPOINT, 2, _ckpt_key(channel), _meta_key(channel), epoch, size, cp,
                sig, kid, "" if read is None else read.epoch, -1 if read is None else read.size)
        return bool(stored)
