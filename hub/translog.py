"""Channel logs served: signed checkpoints and proofs (PROTOCOL.md §6.9, Appendix C).

The append script keeps each channel's Merkle leaf hashes in the store (hub.storage.logs),
atomically with the alert. This module

- keeps, per channel, the leaf hashes and every complete subtree hash in memory
  (:class:`_Tree`: level j holds the roots of the aligned subtrees of 2^j leaves, 32 bytes
  each in one bytearray: ~64 bytes per leaf), filled from the store once and then extended
  with the new leaves only, so a proof costs O(log² n) hashes at worst, never O(n);
  at most :data:`LOG_CACHE_LEAVES` leaves are kept (least recently used channels go first);
- signs, every ``checkpoint_interval_ms``, the checkpoint of each channel whose durable
  watermark moved (or that has none in its epoch), with the hub's log key (one process per
  channel per interval, by a lease in the store), and stores it, so every hub process
  serves the same latest checkpoint and a restarted hub continues. Only durable offsets
  are ever covered. Before signing it checks that the log still extends the stored
  checkpoint (its leaves give the stored root at the stored size): a store whose leaves
  were rewritten gets no signature (logged);
- answers ``ckpt`` and ``prove``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.protocol.checkpoint import (
    Checkpoint,
    checkpoint_hash,
    decode_checkpoint,
    encode_checkpoint,
    sign_checkpoint,
)
from hub.protocol.envelope import key_id
from hub.protocol.errors import CordonError, EpochMismatch, InvalidFrame, NotFound
from hub.protocol.identity import ChannelName
from hub.protocol.merkle import (
    EMPTY_ROOT,
    HASH_BYTES,
    consistency_path,
    inclusion_path,
    node_hash,
    pair_hash,
)
from hub.protocol.trust import verify_log_certificate
from hub.storage import Store, StoredCheckpoint

if TYPE_CHECKING:
    from hub.config import Settings
    from hub.registry import CASync

__all__ = ["CHECKPOINT_INTERVAL_MS", "LOG_CACHE_LEAVES", "LogKey", "TransLog", "load_log_key",
           "start_translog"]

log = logging.getLogger("cordon.translog")

#: Default milliseconds between two signed checkpoints of a channel (0: no signing).
CHECKPOINT_INTERVAL_MS = 1000
#: Leaf hashes (and their subtree hashes, ~64 bytes per leaf in all) kept in memory per hub
#: process across channels; least recently used channels are dropped first (the one in
#: use is always kept).
LOG_CACHE_LEAVES = 2_000_000


@dataclass(frozen=True, slots=True)
class LogKey:
    """The hub's log key and certificate (``kid`` = key id of the certificate DER)."""

    key: Ed25519PrivateKey
    cert_der: bytes
    kid: str


def load_log_key(key_path: Path, cert_path: Path, ca: x509.Certificate) -> LogKey:
    """Read the log key and its certificate; ValueError unless the certificate is a log
    key certificate of ``ca`` valid now, for this key."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{key_path}: not an Ed25519 key")
    try:
        _hub, public = verify_log_certificate(cert, ca, at_ms=time.time_ns() // 1_000_000)
    except CordonError as exc:
        raise ValueError(f"{cert_path}: {exc.detail}") from exc
    if public != key.public_key().public_bytes_raw():
        raise ValueError(f"{key_path} does not belong to {cert_path}")
    der = cert.public_bytes(serialization.Encoding.DER)
    return LogKey(key=key, cert_der=der, kid=key_id(der))


class _Tree:
    """The leaf hashes of one channel epoch's log and all its complete subtree hashes."""

    __slots__ = ("epoch", "levels")

    def __init__(self, epoch: str) -> None:
        self.epoch = epoch
        self.levels: list[bytearray] = [bytearray()]

    @property
    def size(self) -> int:
        return len(self.levels[0]) // HASH_BYTES

    def extend(self, leaves: bytes) -> None:
        """Append leaf hashes (32 bytes each) and the subtree hashes they complete: level by
        level, each level's new pairs hashed in one loop (merkle.pair_hash)."""
        levels = self.levels
        levels[0] += leaves
        pair = 2 * HASH_BYTES
        j = 0
        while len(levels[j]) >= pair:
            level = levels[j]
            if j + 1 == len(levels):
                levels.append(bytearray())
            parents = levels[j + 1]
            done, complete = len(parents) // HASH_BYTES, len(level) // pair
            if done == complete:  # nothing new completed here, so nothing above either
                break
            for at in range(done * pair, complete * pair, pair):
                parents += pair_hash(level[at:at + pair])
            j += 1

    def node(self, j: int, i: int) -> bytes:
        return bytes(self.levels[j][i * HASH_BYTES:(i + 1) * HASH_BYTES])

    def subtree_root(self, lo: int, hi: int) -> bytes:
        """MTH of leaves lo..hi-1 (hi <= size): stored subtrees, O(log n) hashes."""
        n = hi - lo
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and lo % n == 0:
            return self.node(n.bit_length() - 1, lo // n)
        k = 1 << ((n - 1).bit_length() - 1)
        return node_hash(self.subtree_root(lo, lo + k), self.subtree_root(lo + k, hi))

    def root(self, size: int) -> bytes:
        return self.subtree_root(0, size)


class TransLog:
    """One hub process's side of channel logs: its cache, its signer, its answers."""

    def __init__(self, store: Store, *, key: LogKey | None, interval_ms: int,
                 cache_leaves: int = LOG_CACHE_LEAVES) -> None:
        self.store = store
        self.key = key
        self.interval_ms = interval_ms
        self.cache_leaves = cache_leaves
        self._trees: OrderedDict[str, _Tree] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        #: Signatures made by this process (for metrics and tests).
        self.signed = 0
        #: Channels whose stored leaves do not extend their signed checkpoint (not signed).
        self.refused: set[str] = set()

    @property
    def signing(self) -> bool:
        return self.key is not None and self.interval_ms > 0

    # --- the cache -------------------------------------------------------------
    async def _tree(self, channel: str) -> tuple[_Tree, StoredCheckpoint | None, int]:
        """The channel's tree brought up to date with the store; its latest checkpoint and
        durable watermark. NotFound if there is no such channel."""
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            tree = self._trees.get(channel)
            start = 0 if tree is None else tree.size
            state = await self.store.log_state(channel, start)
            if state is None:
                self._trees.pop(channel, None)
                raise NotFound("no such channel")
            if tree is None or tree.epoch != state.epoch or state.count < tree.size:
                tree = _Tree(state.epoch)
                if start:
                    state = await self.store.log_state(channel, 0)
                    if state is None:
                        raise NotFound("no such channel")
                if state.leaves:
                    await asyncio.to_thread(tree.extend, state.leaves)
            elif state.leaves:
                if len(state.leaves) > 4096 * HASH_BYTES:
                    await asyncio.to_thread(tree.extend, state.leaves)
                else:
                    tree.extend(state.leaves)
            self._trees[channel] = tree
            self._trees.move_to_end(channel)
            self._evict(keep=channel)
            return tree, state.checkpoint, state.durable

    def _evict(self, *, keep: str) -> None:
        total = sum(t.size for t in self._trees.values())
        for name in list(self._trees):
            if total <= self.cache_leaves:
                break
            if name != keep:
                total -= self._trees.pop(name).size

    # --- signing -----------------------------------------------------------------
    async def run(self) -> None:
        """Sign the checkpoints that moved, every interval."""
        while True:
            await asyncio.sleep(self.interval_ms / 1000)
            try:
                await self.sign_due()
            except CordonError as exc:
                log.warning("checkpoint signing round failed: %s", exc)

    async def sign_due(self) -> int:
        """One round: sign each channel whose durable watermark is past its latest signed
        checkpoint (or whose epoch has none). Returns how many were signed."""
        if not self.signing:
            return 0
        assert self.key is not None
        status = (await self.store.cert_statuses([self.key.kid])).get(self.key.kid)
        if status != "active":
            log.error("log key %s is %s in the registry: no checkpoint signed", self.key.kid,
                      status or "unknown")
            return 0
        done = 0
        for channel, (epoch, durable, cp_epoch, cp_size) in (
                await self.store.log_overview()).items():
            if cp_epoch == epoch and cp_size >= durable:
                continue
            if not await self.store.take_checkpoint_lease(channel, self.interval_ms):
                continue
            done += await self._sign(channel)
        return done

    async def _sign(self, channel: str) -> int:
        assert self.key is not None
        try:
            tree, stored, durable = await self._tree(channel)
        except NotFound:
            return 0
        if tree.size < durable:  # alerts stored before logs were kept: no leaves for them
            if channel not in self.refused:
                log.error("channel %s: %d durable alerts but %d leaf hashes in the store: "
                          "not signing", channel, durable, tree.size)
            self.refused.add(channel)
            return 0
        if stored is not None and stored.epoch == tree.epoch:
            if durable <= stored.size:
                return 0
            old = decode_checkpoint(stored.cp)
            if stored.size > tree.size or tree.root(stored.size) != old.root:
                if channel not in self.refused:
                    log.error("channel %s: the stored log does not extend the signed "
                              "checkpoint at size %d: not signing (store rewritten?)",
                              channel, stored.size)
                self.refused.add(channel)
                return 0
        link_cp = None
        if stored is not None:
            link_cp = stored.cp if stored.epoch != tree.epoch else stored.link_cp
        prev = prev_epoch = None
        if link_cp is not None:
            prev, prev_epoch = checkpoint_hash(link_cp), decode_checkpoint(link_cp).epoch
        cp = Checkpoint(channel=ChannelName(channel), epoch=tree.epoch, size=durable,
                        root=tree.root(durable), time=time.time_ns() // 1_000_000,
                        prev=prev, prev_epoch=prev_epoch)
        data = encode_checkpoint(cp)
        sig = sign_checkpoint(self.key.key, data)
        if await self.store.put_checkpoint(channel, epoch=tree.epoch, size=durable, cp=data,
                                           sig=sig, kid=self.key.kid, read=stored):
            self.signed += 1
            self.refused.discard(channel)
            return 1
        return 0

    # --- answers -----------------------------------------------------------------
    async def latest(self, channel: str) -> StoredCheckpoint:
        """The channel's latest signed checkpoint; signs one first when its epoch has
        none yet (signing on). NotFound (406) when there is none."""
        stored = await self.store.checkpoint(channel)
        meta = await self.store.channel(channel)
        if meta is not None and self.signing and (stored is None or stored.epoch != meta.epoch):
            await self._sign(channel)
            stored = await self.store.checkpoint(channel)
        if stored is None or meta is None or stored.epoch != meta.epoch:
            raise NotFound("no signed checkpoint of this channel's epoch yet")
        return stored

    async def proofs(self, channel: str, *, epoch: str, size: int, offs: tuple[int, ...],
                     from_size: int | None) -> tuple[list[tuple[int, list[bytes]]],
                                                     list[bytes] | None]:
        """Inclusion paths of ``offs`` and the consistency proof from ``from_size``, in
        the log of ``epoch`` at ``size``: 412 when the epoch is not the channel's, 401 when
        ``size`` is beyond the latest signed checkpoint or an offset or ``from`` is outside
        the tree."""
        tree, stored, _durable = await self._tree(channel)
        if epoch != tree.epoch:
            raise EpochMismatch(tree.epoch)
        if stored is None or stored.epoch != epoch or size > stored.size:
            raise InvalidFrame("size is beyond the latest signed checkpoint")
        if size > tree.size:  # pragma: no cover - leaves are stored with the alerts
            raise InvalidFrame("size is beyond the log")
        for off in offs:
            if not 1 <= off <= size:
                raise InvalidFrame("offset outside the checkpoint's log")
        if from_size is not None and from_size > size:
            raise InvalidFrame("from is beyond size")
        paths = [(off, inclusion_path(tree.subtree_root, off - 1, size)) for off in offs]
        cons = None if from_size is None else consistency_path(tree.subtree_root, from_size,
                                                               size)
        return paths, cons


async def start_translog(store: Store, settings: Settings, ca: x509.Certificate,
                         casync: CASync) -> TransLog:
    """The hub process's :class:`TransLog`: with its log key when signing is on. A missing
    key is issued (``cordon ca issue-log-key``) when the CA key is in ``ca_dir`` — the
    embedded and demo set-up — and imported into the registry at once; otherwise the hub
    signs nothing and says so."""
    interval = settings.checkpoint_interval_ms
    if interval <= 0:
        return TransLog(store, key=None, interval_ms=0)
    key_path, cert_path = settings.log_key_path, settings.log_cert_path
    if not (key_path.exists() and cert_path.exists()) and (
            settings.ca_dir / "ca.key").exists():
        await asyncio.to_thread(_issue_log_key, settings)
        await casync.sync_once()
    try:
        key = load_log_key(key_path, cert_path, ca)
    except (OSError, ValueError) as exc:
        log.error("no checkpoints will be signed: cannot use the log key (%s); issue one "
                  "with 'cordon ca issue-log-key --dir %s'", exc, settings.ca_dir)
        return TransLog(store, key=None, interval_ms=0)
    log.info("signing channel checkpoints every %d ms with log key %s", interval, key.kid)
    return TransLog(store, key=key, interval_ms=interval)


def _issue_log_key(settings: Settings) -> None:
    from certs.ca import issue_log
    from certs.errors import CAError

    cert_path = settings.log_cert_path
    if settings.log_key_path != cert_path.with_suffix(".key"):
        return  # only the pair issue_log writes (<out>/<name>.pem and .key)
    try:
        issue_log(settings.ca_dir, out=cert_path.parent, basename=cert_path.stem)
        log.info("issued the log key %s (cordon ca issue-log-key)", cert_path)
    except CAError as exc:  # another hub process issued it meanwhile: load that one
        log.info("log key not issued here: %s", exc)
