"""A channel subscription: history then live alerts, resumed across reconnections.

The subscription remembers the channel's epoch and the offset of the last
alert it yielded. When the connection drops for a reason that allows it, it
reconnects (through its client) and subscribes again with ``since`` = that
offset and the epoch, so its consumer sees every alert exactly once, in order.

If the channel's epoch changed meanwhile (the hub's store lost history: the hub
closes subscribers with 4012, then refuses the old epoch with 412), the next
iteration raises :class:`~hub.protocol.errors.EpochMismatch` with the new epoch in
``detail`` and the subscription ends: it never continues over reused offsets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from client._conn import Connection, Lost, SinkItem
from client._model import (
    ChainViolation,
    ClientClosed,
    ClientError,
    ConnectionLost,
    ProtocolViolation,
    Received,
    SessionRefused,
    chain_state,
)
from hub.protocol import frames as f
from hub.protocol.chain import ChainTracker
from hub.protocol.errors import CordonError, error_for_code
from hub.protocol.identity import ChannelName

if TYPE_CHECKING:
    from client.sdk import Client

__all__ = ["Subscription"]

log = logging.getLogger("cordon.client")

_UNSUBSCRIBE_TIMEOUT_S = 5.0
#: Queued alerts whose signers are looked up along with a missing one.
_PREFETCH = 255


class Subscription:
    """Async iterator of :class:`Received` alerts of one channel (see :meth:`Client.subscribe`).

    Attributes, readable at any time:

    - ``epoch``: the channel's epoch (known after the hub accepted the subscription);
    - ``offset``: the offset of the last alert yielded (or the starting point);
      save ``(epoch, offset)`` to resume later without gap or duplicate;
    - ``synced``: true once history has been delivered and alerts are live;
      ``synced_offset`` is the offset at which that happened. Both reset on
      every resubscription after a reconnect; ``on_synced(sub)`` is called each
      time the hub reports it.
    - ``first``, ``head``: the channel's first retained and last offset when
      the hub last accepted the subscription.
    """

    def __init__(
        self,
        client: Client,
        channel: ChannelName,
        *,
        since: int | None,
        epoch: str | None,
        verify: bool,
        on_synced: Callable[[Subscription], None] | None,
        max_queue: int,
        raise_on_chain_break: bool = False,
    ) -> None:
        self.channel = channel
        self.epoch = epoch
        self.offset = since
        self.synced = False
        self.synced_offset: int | None = None
        self.first: int | None = None
        self.head: int | None = None
        self._client = client
        self._verify = verify
        self._on_synced = on_synced
        self._max_queue = max_queue
        self._items: deque[SinkItem] = deque()
        self._alerts = 0
        self._discard = False
        self._wakeup = asyncio.Event()
        self._conn: Connection | None = None
        self._rid: int | None = None
        self._closed = False
        self._losses = 0
        self._since = since
        self._raise_on_chain_break = raise_on_chain_break
        #: Every sender's chain over what this subscription yields (set on subok).
        self.chains: ChainTracker | None = None

    # --- consumer side -------------------------------------------------------
    def __aiter__(self) -> Subscription:
        return self

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        return self._closed

    async def __anext__(self) -> Received:
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._conn is None:
                await self._subscribe()
                continue
            item = await self._pop()
            try:
                received = await self._handle(item)
            except (ConnectionLost, ClientClosed, TimeoutError, asyncio.CancelledError):
                if isinstance(item, f.AlertFrame) and not self._closed:
                    # Not yielded: keep it for the next call (verification needed the hub).
                    self._items.appendleft(item)
                    self._alerts += 1
                raise
            if received is not None:
                return received

    async def aclose(self) -> None:
        """Stop the subscription (unsubscribe if connected). Iteration then ends."""
        if self._closed:
            return
        conn = self._detach()
        if conn is not None and conn.is_open:
            rid = self._client._next_rid()
            with contextlib.suppress(CordonError, ClientError, TimeoutError):
                await conn.request(
                    f.Unsubscribe(rid=rid, ch=self.channel), answer_within=_UNSUBSCRIBE_TIMEOUT_S
                )

    # --- internals -----------------------------------------------------------
    def _detach(self) -> Connection | None:
        """Mark closed, stop routing frames here, wake the consumer; return the connection."""
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            if conn.routes.get(self.channel) == self._sink:
                del conn.routes[self.channel]
            if self._rid is not None:
                conn.sub_rids.pop(self._rid, None)
        if self._client._subs.get(self.channel) is self:
            del self._client._subs[self.channel]
        self._items.clear()
        self._alerts = 0
        self._wakeup.set()
        return conn

    def _sink(self, item: SinkItem) -> bool:
        """Called by the connection's reader, synchronously, in arrival order."""
        if isinstance(item, f.AlertBatch):
            # Exactly as many ``alert`` frames: queued (and counted) one by one.
            return all(self._sink(one) for one in item.frames())
        if isinstance(item, f.AlertFrame | f.Synced):
            if self._discard:
                return True
            if isinstance(item, f.AlertFrame):
                if self._alerts >= self._max_queue:
                    # Drop this and everything after it until we resubscribe; the
                    # connection closes and we resume from the last yielded offset.
                    self._discard = True
                    return False
                self._alerts += 1
        self._items.append(item)
        self._wakeup.set()
        return True

    async def _pop(self) -> SinkItem:
        while not self._items:
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        item = self._items.popleft()
        if isinstance(item, f.AlertFrame):
            self._alerts -= 1
        return item

    async def _subscribe(self) -> None:
        client = self._client
        if self._losses:
            if not client._reconnect or self._losses > client._max_attempts:
                self._detach()
                raise ConnectionLost(f"gave up resubscribing to {self.channel}")
            await asyncio.sleep(client._backoff(self._losses))
        try:
            conn = await client._connection()
        except ClientClosed:
            self._detach()
            raise StopAsyncIteration from None
        except SessionRefused:
            self._detach()
            raise
        if self._closed:
            raise StopAsyncIteration
        if not conn.is_open:
            self._losses += 1
            return
        rid = client._next_rid()
        self._items.clear()
        self._alerts = 0
        self._discard = False
        self.synced = False
        self._conn, self._rid = conn, rid
        conn.routes[self.channel] = self._sink
        conn.sub_rids[rid] = self._sink
        frame = f.Subscribe(rid=rid, ch=self.channel, since=self.offset, epoch=self.epoch)
        # A failed send needs no handling here: the reader delivers Lost to the sink.
        with contextlib.suppress(ConnectionLost):
            await conn.send(frame)

    async def _handle(self, item: SinkItem) -> Received | None:
        if isinstance(item, f.AlertFrame):
            return await self._alert(item)
        if isinstance(item, f.Subscribed):
            self.epoch = item.epoch
            self.first, self.head = item.first, item.head
            if self.chains is None:
                self.chains = ChainTracker(complete=self._since == 0 and item.first == 1)
            if self.offset is None:
                self.offset = item.head
            return None
        if isinstance(item, f.Synced):
            self.synced, self.synced_offset = True, item.off
            self._losses = 0
            if self._on_synced is not None:
                self._on_synced(self)
            return None
        if isinstance(item, f.Ended):
            self._detach()
            raise error_for_code(item.code, item.msg)
        if isinstance(item, f.ErrorFrame):
            self._detach()
            raise error_for_code(item.code, item.detail or item.msg)
        if isinstance(item, Lost):
            self._lost(item)
            return None
        self._detach()
        raise ProtocolViolation(f"unexpected {item.TYPE!r} frame for a subscription")

    def _lost(self, item: Lost) -> None:
        self._conn = None
        if self._client.closed:
            self._detach()
            raise StopAsyncIteration
        error = item.error
        if isinstance(error, SessionRefused) or not self._client._reconnect:
            self._detach()
            raise error
        self._losses += 1
        log.info("subscription %s: %s; resuming after offset %s", self.channel, error, self.offset)

    def _upcoming(self) -> list[bytes]:
        """The next queued alerts (a batch's rest): their signers' certificates are
        fetched with the one missing now, in one directory request."""
        upcoming: list[bytes] = []
        for item in self._items:
            if len(upcoming) >= _PREFETCH:
                break
            if isinstance(item, f.AlertFrame):
                upcoming.append(item.alert)
        return upcoming

    async def _alert(self, frame: f.AlertFrame) -> Received | None:
        last = self.offset
        if last is None:
            self._detach()
            raise ProtocolViolation("alert before the subscription was accepted")
        if frame.off <= last:
            return None  # already yielded (resent by the hub): never deliver twice
        if frame.off != last + 1:
            self._detach()
            raise ProtocolViolation(
                f"offset gap in {self.channel}: expected {last + 1}, got {frame.off}"
            )
        received = await self._client._receive(
            frame.ch, frame.off, frame.alert, frame.sig, verify=self._verify,
            upcoming=self._upcoming,
        )
        self.offset = frame.off
        self._losses = 0
        if self.chains is not None:
            received = chain_state(self.chains, received)
            if received.chain_broken and self._raise_on_chain_break:
                raise ChainViolation(received)
        return received
