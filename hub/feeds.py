"""Live fan-out of each channel's stream, and the gap-free hand-over from history to live.

One :class:`ChannelFeed` per channel with subscribers in this process reads the
channel's stream in offset order (XREAD BLOCK through the store) and hands each
alert, encoded once, to every subscriber whose cursor is behind it. Alerts
written by any hub process sharing the store arrive the same way, so every
subscriber everywhere sees one order.

A new subscriber first reads history from its ``since`` offset up to the feed's
position, then joins the feed in the same step of the event loop in which it
checked that it is level with the feed — no await in between — so nothing
falls between history and live, and the feed skips what the subscriber
already has (its cursor).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.aio import cancel_and_wait
from hub.protocol import codec
from hub.protocol.errors import CordonError, HistoryGone
from hub.protocol.frames import AlertFrame, Synced
from hub.storage import Store

__all__ = ["ChannelFeed", "Feeds", "Outbox", "Subscription"]

log = logging.getLogger("cordon.feeds")

_READ_BATCH = 1000
_BLOCK_MS = 2000


class Outbox:
    """A connection's bounded send queue, emptied by the connection's writer (``get``).

    ``offer`` (answers, live alerts) never waits: False means full, and the
    connection is a slow consumer. ``put`` (history catch-up) waits while the queue
    is half full: a catch-up runs as fast as the client reads, but never takes the
    room that answers and live alerts need, so a client that keeps up is never
    mistaken for a slow one because it asked for a long history.
    """

    def __init__(self, maxsize: int, on_overflow: Callable[[], None]) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize)
        self._on_overflow = on_overflow
        self._history_room = max(1, maxsize // 2)
        self._taken = asyncio.Event()
        self.overflowed = False

    def offer(self, data: bytes) -> bool:
        if self.overflowed:
            return False
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.overflowed = True
            self._on_overflow()
            return False
        return True

    async def put(self, data: bytes) -> None:
        """Queue with back-pressure, in the lower half of the queue (history catch-up)."""
        while self.queue.qsize() >= self._history_room:
            self._taken.clear()
            await self._taken.wait()
        self.queue.put_nowait(data)

    async def get(self) -> bytes:
        """The next frame to send (the connection's writer)."""
        data = await self.queue.get()
        self._taken.set()
        return data


@dataclass(eq=False)
class Subscription:
    channel: str
    member: str | None
    principal: str
    outbox: Outbox
    cursor: int
    attached: bool = field(default=False)


class ChannelFeed:
    def __init__(self, store: Store, name: str, head: int) -> None:
        self.store = store
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

    def fan_out(self, off: int, data: bytes) -> None:
        for sub in tuple(self.subs):
            if off > sub.cursor:
                sub.cursor = off
                sub.outbox.offer(data)
        self.last = off

    async def _run(self) -> None:
        delay = 0.05
        while True:
            try:
                items = await self.store.wait_after(
                    self.name, self.last, count=_READ_BATCH, block_ms=_BLOCK_MS
                )
            except CordonError as exc:
                log.warning("feed %s: store read failed (%s); retrying", self.name, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.05
            for item in items:
                if item.off <= self.last:
                    continue
                data = codec.encode(AlertFrame(ch=self.name, off=item.off, alert=item.alert,
                                               sig=item.sig))
                self.fan_out(item.off, data)


class Feeds:
    """The feeds of this process, created on first subscriber, stopped after the last."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.feeds: dict[str, ChannelFeed] = {}
        self._lock = asyncio.Lock()

    async def _acquire(self, name: str, head: int) -> ChannelFeed:
        async with self._lock:
            feed = self.feeds.get(name)
            if feed is None:
                feed = ChannelFeed(self.store, name, head)
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
        try:
            while sub.cursor < feed.last:
                want = min(_READ_BATCH, feed.last - sub.cursor)
                items = await self.store.read_after(sub.channel, sub.cursor, want)
                if not items or items[0].off != sub.cursor + 1:
                    raise HistoryGone("history was trimmed during catch-up")
                for item in items:
                    await sub.outbox.put(codec.encode(AlertFrame(
                        ch=sub.channel, off=item.off, alert=item.alert, sig=item.sig)))
                    sub.cursor = item.off
        except BaseException:
            await self._release(feed)
            raise
        # Level with the feed: join it in this same step (no await since the check).
        feed.subs.add(sub)
        sub.attached = True
        sub.outbox.offer(codec.encode(Synced(ch=sub.channel, off=sub.cursor)))

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
