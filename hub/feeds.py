"""Live fan-out of each channel's stream, and the gap-free hand-over from history to live.

One :class:`ChannelFeed` per channel with subscribers in this process waits for
the channel's *durable watermark* to rise (XREAD BLOCK on the channel's watermark
stream, through the store), then reads the channel's stream up to it in offset
order and hands each alert, encoded once, to every subscriber whose cursor is
behind it. Alerts written by any hub process sharing the store arrive the same
way, so every subscriber everywhere sees one order.

The watermark (Kafka's high watermark) is the highest offset known to be fsynced:
a committer raises it only after its batch's WAITAOF confirmed the fsync
(:meth:`hub.storage.Store.append_batch`), monotonically, in the store, so every
hub process sees the same one. It lives in the channel's meta hash (``durable``:
read with the meta, so ``subok.head``, ``chanlist`` heads and ``hist`` pages are
capped by it) and as a one-entry stream whose entry id is ``0-<watermark>`` (so a
feed can block on it, like it blocked on the log before, with no pub/sub message
that could be lost). An alert appended but never confirmed (its publisher got
503) stays above the watermark and is delivered to no one — unless a later
confirmed fsync, which covers every earlier write of the sequential AOF, makes
it durable; then it is history like any other (a retry of it gets ``dup``).

A new subscriber first reads history from its ``since`` offset up to the feed's
position, then joins the feed in the same step of the event loop in which it
checked that it is level with the feed — no await in between — so nothing
falls between history and live, and the feed skips what the subscriber
already has (its cursor).

This process's own publishes take a shorter way (issue 17, W2): the group committer
hands each batch's stored alerts to :meth:`Feeds.durable` as soon as the store confirmed
their fsync (WAITAOF), and the feed fans them out from memory when they follow on from
its position (otherwise it leaves them to its read). So they reach subscribers without
waiting for the watermark raise's round trip — which, being a write, waits for an fsync
of its own — and for the feed's XREAD wake-up and read of what was just written; the
watermark raise is queued ahead of them, so the store shows the new watermark before a
subscriber can react to an alert. What they see is still durable only, in offset order
without gaps: the feed's position moves by one path or the other, never past a gap.

Alerts leave in batches: one ``alerts`` frame carries consecutive alerts (at most
_BATCH_ITEMS of them, about _BATCH_BYTES in all), so a catch-up or a burst costs one
WebSocket message, one encoding and one queue slot per batch rather than per alert. A
feed step encodes each batch once for every subscriber level with its start; one
whose cursor is inside it gets the batch's remainder.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from hub.aio import cancel_and_wait
from hub.lazydeque import LazyDeque
from hub.metrics import Metrics
from hub.protocol import codec
from hub.protocol.errors import CordonError, HistoryGone
from hub.protocol.frames import Synced
from hub.protocol.limits import MAX_FRAME_BYTES
from hub.storage import Store, StoredAlert

__all__ = ["ChannelFeed", "Feeds", "Outbox", "Subscription"]

log = logging.getLogger("cordon.feeds")

_READ_BATCH = 1000
_BLOCK_MS = 2000
#: One ``alerts`` frame: at most this many alerts, of about this many bytes in all (well
#: under the frame limit: a single alert may exceed it, and then travels alone).
_BATCH_ITEMS = 256
_BATCH_BYTES = 128 * 1024
_ITEM_OVERHEAD = 16
#: Bytes of history a catch-up keeps queued at most (besides _history_room frames):
#: batches are large, and the queue's frame bound alone would let one catch-up hold
#: thousands of them.
_HISTORY_BYTES = 1024 * 1024
assert _BATCH_BYTES * 2 <= MAX_FRAME_BYTES


def _spans(sized: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """``(offset, bytes)`` of items in ascending offsets, cut into ``(start, end)`` index
    ranges for one frame each: consecutive offsets, at most _BATCH_ITEMS items and
    _BATCH_BYTES bytes (at least one item)."""
    out: list[tuple[int, int]] = []
    start, size, prev, count = 0, 0, -1, 0
    for n, (off, length) in enumerate(sized):
        cost = length + _ITEM_OVERHEAD
        if n > start and (n - start >= _BATCH_ITEMS or size + cost > _BATCH_BYTES
                          or off != prev + 1):
            out.append((start, n))
            start, size = n, 0
        size += cost
        prev, count = off, n + 1
    if start < count:
        out.append((start, count))
    return out


def batches(items: Sequence[StoredAlert]) -> list[Sequence[StoredAlert]]:
    """``items`` (ascending offsets) cut into runs for one frame each (:func:`_spans`)."""
    return [items[a:b] for a, b in _spans((i.off, len(i.alert) + len(i.sig)) for i in items)]


def item_batches(items: Sequence[tuple[int, bytes, bytes]]
                 ) -> list[Sequence[tuple[int, bytes, bytes]]]:
    """:func:`batches` of ``(off, alert, sig)`` items (the history catch-up's)."""
    return [items[a:b] for a, b in _spans((off, len(alert) + len(sig))
                                          for off, alert, sig in items)]


class Outbox:
    """A connection's bounded send queue, emptied by the connection's writer
    (``get_nowait``; the session starts its writer when a frame is queued: ``_push``).

    ``offer`` (answers, live alerts) never waits: False means full, and the
    connection is a slow consumer. ``put`` (history catch-up) waits while the queue
    is half full: a catch-up runs as fast as the client reads, but never takes the
    room that answers and live alerts need, so a client that keeps up is never
    mistaken for a slow one because it asked for a long history.

    One deque, and waiting futures only while a catch-up waits (one per subscription):
    every idle connection holds an outbox (W4), and asyncio.Queue plus an Event cost five
    deques (~3.8 KiB) per connection.
    """

    def __init__(self, maxsize: int, on_overflow: Callable[[], None], *,
                 max_bytes: int | None = None,
                 backlog: Callable[[], int] | None = None) -> None:
        self._items: LazyDeque[bytes] = LazyDeque()  # no deque while empty (W4)
        self._maxsize = maxsize
        self._max_bytes = max_bytes
        #: Bytes already handed to the connection and not yet sent (pongs included):
        #: they count against ``max_bytes`` too.
        self._backlog = backlog
        self._on_overflow = on_overflow
        self._history_room = max(1, maxsize // 2)
        self._putters: list[asyncio.Future[None]] = []  # catch-ups, waiting for room
        self.overflowed = False
        self.queued_bytes = 0

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def get_nowait(self) -> bytes:
        """The next frame, without waiting (IndexError if there is none)."""
        data = self._items.popleft()
        self.queued_bytes -= len(data)
        if self._putters:  # each checks again whether there is room for it
            for putter in self._putters:
                _wake(putter)
        return data

    def _push(self, data: bytes) -> None:
        self._items.append(data)
        self.queued_bytes += len(data)

    def offer(self, data: bytes) -> bool:
        if self.overflowed:
            return False
        if len(self._items) >= self._maxsize or (
                self._max_bytes is not None and self._over_bytes(len(data))):
            self.overflowed = True
            self._on_overflow()
            return False
        self._push(data)
        return True

    def _over_bytes(self, size: int) -> bool:
        queued = self.queued_bytes
        if self._backlog is not None:
            queued += self._backlog()
        return bool(queued) and queued + size > (self._max_bytes or 0)

    async def put(self, data: bytes) -> None:
        """Queue with back-pressure, in the lower half of the queue and under
        _HISTORY_BYTES (history catch-up)."""
        while len(self._items) >= self._history_room or self.queued_bytes >= _HISTORY_BYTES:
            putter = asyncio.get_running_loop().create_future()
            self._putters.append(putter)
            try:
                await putter
            finally:
                self._putters.remove(putter)
        self._push(data)



def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


@dataclass(eq=False)
class Subscription:
    channel: str
    member: str | None
    principal: str
    outbox: Outbox
    cursor: int
    attached: bool = field(default=False)


class ChannelFeed:
    def __init__(self, store: Store, name: str, head: int, metrics: Metrics | None = None
                 ) -> None:
        self.store = store
        self.metrics = metrics if metrics is not None else Metrics()
        self.name = name
        self.last = head
        self.subs: set[Subscription] = set()
        self.users = 0
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"feed:{self.name}")

    async def stop(self) -> None:
        if self.task is not None:
            await cancel_and_wait(self.task)

    def fan_out(self, items: Sequence[StoredAlert]) -> None:
        """Hand one batch (consecutive offsets), encoded once, to every subscriber
        behind its end; one whose cursor is inside it gets only what follows it."""
        first, last = items[0].off, items[-1].off
        data: bytes | None = None
        rests: dict[int, bytes] = {}
        delivered = 0
        for sub in tuple(self.subs):
            cursor = sub.cursor
            if cursor >= last:
                continue
            if cursor < first:
                if data is None:
                    data = codec.encode_alerts(self.name, items)
                frame = data
            else:
                rest = rests.get(cursor)
                if rest is None:
                    rest = rests[cursor] = codec.encode_alerts(
                        self.name, items[cursor - first + 1:])
                frame = rest
            delivered += last - max(cursor, first - 1)
            sub.cursor = last
            sub.outbox.offer(frame)
        self.metrics.delivered_live += delivered
        self.last = last

    def deliver(self, items: Sequence[StoredAlert]) -> None:
        """Fan out durable alerts (ascending offsets) that follow on from the feed's
        position: those it has already are skipped, and nothing past a gap leaves (the
        feed reads that part from the store)."""
        start = 0
        while start < len(items) and items[start].off <= self.last:
            start += 1
        end = start
        while end < len(items) and items[end].off == self.last + 1 + end - start:
            end += 1
        if end > start:
            for batch in batches(items[start:end]):
                self.fan_out(batch)

    async def _run(self) -> None:
        delay = 0.05
        while True:
            try:
                mark = await self.store.wait_watermark(self.name, self.last, block_ms=_BLOCK_MS)
                while self.last < mark:
                    started = time.perf_counter()
                    items = await self.store.read_range(self.name, self.last, mark,
                                                        _READ_BATCH)
                    self.metrics.store_seconds["feed_read"].observe(
                        time.perf_counter() - started)
                    fresh = [item for item in items if item.off > self.last]
                    if not fresh:
                        break
                    for batch in batches(fresh):
                        self.fan_out(batch)
            except CordonError as exc:
                self.metrics.store_failed("feed_read")
                log.warning("feed %s: store read failed (%s); retrying", self.name, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.05


class Feeds:
    """The feeds of this process, created on first subscriber, stopped after the last."""

    def __init__(self, store: Store, *, metrics: Metrics | None = None) -> None:
        self.store = store
        self.metrics = metrics if metrics is not None else Metrics()
        self.feeds: dict[str, ChannelFeed] = {}
        self._lock = asyncio.Lock()

    # --- the group committer's listener (hub.committer.Listener) --------------------
    def before_commit(self, channels: Collection[str]) -> dict[str, ChannelFeed] | None:
        """The feeds of a batch's channels as it is sent: only they may be handed its
        alerts (a feed started later, e.g. for a channel deleted and made again
        meanwhile, reads from the store instead). None when there is none: the batch's
        alerts are then not gathered for :meth:`durable` at all (no subscriber)."""
        feeds = self.feeds
        return {name: feed for name in channels
                if (feed := feeds.get(name)) is not None} or None

    def durable(self, token: dict[str, ChannelFeed],
                stored: dict[str, list[StoredAlert]]) -> None:
        """A batch's newly stored alerts, now durable: to the subscribers of each channel
        whose feed is still the one it was when the batch was sent."""
        for name, items in stored.items():
            feed = token.get(name)
            if feed is not None and items and self.feeds.get(name) is feed:
                feed.deliver(items)

    async def _acquire(self, name: str, head: int) -> ChannelFeed:
        async with self._lock:
            feed = self.feeds.get(name)
            if feed is None:
                feed = ChannelFeed(self.store, name, head, self.metrics)
                self.feeds[name] = feed
                feed.start()
            feed.users += 1
            return feed

    async def _release(self, feed: ChannelFeed) -> None:
        feed.users -= 1
        if feed.users == 0 and self.feeds.get(feed.name) is feed:
            del self.feeds[feed.name]
            await feed.stop()

    async def attach(self, sub: Subscription, *, head: int) -> None:
        """Send history after ``sub.cursor``, then join the live feed without a gap."""
        feed = await self._acquire(sub.channel, head)
        read = self.store.read_items
        try:
            while sub.cursor < feed.last:
                items = await read(sub.channel, sub.cursor, feed.last, _READ_BATCH)
                if not items or items[0][0] != sub.cursor + 1:
                    raise HistoryGone("history was trimmed during catch-up")
                for batch in item_batches(items):
                    await sub.outbox.put(codec.encode_alert_items(sub.channel, batch))
                    sub.cursor = batch[-1][0]
                    self.metrics.delivered_history += len(batch)
        except BaseException:
            await self._release(feed)
            raise
        # Level with the feed: join it in this same step (no await since the check).
        feed.subs.add(sub)
        sub.attached = True
        sub.outbox.offer(codec.encode(Synced(ch=sub.channel, off=sub.cursor)))

    async def reset(self, name: str) -> None:
        """Stop the channel's feed (its history changed: its subscribers are being closed);
        the next subscriber starts a fresh one."""
        async with self._lock:
            feed = self.feeds.pop(name, None)
        if feed is not None:
            feed.subs.clear()
            await feed.stop()

    async def detach(self, sub: Subscription) -> None:
        if not sub.attached:
            return
        sub.attached = False
        feed = self.feeds.get(sub.channel)
        if feed is not None and sub in feed.subs:
            feed.subs.discard(sub)
            await self._release(feed)

    async def close(self) -> None:
        for feed in list(self.feeds.values()):
            await feed.stop()
        self.feeds.clear()
