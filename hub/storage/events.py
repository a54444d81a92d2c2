"""Events between hub processes: pub/sub publish and :class:`EventStream`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Any

import msgpack
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from hub.protocol.errors import Unavailable
from hub.storage._common import _MAX_EVENT_BYTES, _Base, _guard, log
from hub.storage._keys import EVENTS_CHANNEL

#: Seconds between two looks, while waiting for an event, at whether the store became
#: another server (a restart or a failover): then the stream ends (Unavailable).
_EVENT_POLL_S = 0.25

#: What the stream yields after its connection was silently re-established (the client
#: library retries and resubscribes by itself): events published meanwhile are lost, so
#: the consumer must re-read the state they would have changed.
RESYNC: dict[str, Any] = {"type": "resync"}


class EventStream:
    """Events from every hub process (an async iterator on its own connection).

    ``async with store.events() as events`` subscribes before the body runs, so
    nothing published after entry is missed; plain ``async for`` subscribes on
    the first iteration. Raises :class:`Unavailable` when the connection is lost
    (events published meanwhile are lost: resubscribe and re-read state), and also
    when the store is noticed to be another server than at subscription (a restart,
    a Sentinel failover): a subscription on a primary that froze receives nothing and
    reports no error, and events published on the new one would never reach it. When
    the client library re-establishes the connection by itself (its retries), the
    stream yields :data:`RESYNC` once it is subscribed again, for the same reason.
    """

    def __init__(self, client: aioredis.Redis[bytes],
                 generation: Callable[[], int] | None = None) -> None:
        self._client = client
        self._generation = generation
        self._subscribed_at = generation() if generation is not None else 0
        self._pubsub: Any = None
        self._closed = False
        self._reconnected = False

    async def start(self) -> None:
        """Subscribe now (idempotent)."""
        if self._pubsub is not None or self._closed:
            return
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            with _guard():
                await pubsub.subscribe(EVENTS_CHANNEL)
        except BaseException:
            await pubsub.aclose()  # type: ignore[attr-defined]
            raise
        self._pubsub = pubsub
        if self._generation is not None:
            self._subscribed_at = self._generation()
        # Called on every later connect of this pub/sub connection (the first is done).
        pubsub.connection.register_connect_callback(self._on_connect)

    def _on_connect(self, _connection: object) -> None:
        self._reconnected = True

    async def aclose(self) -> None:
        self._closed = True
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def __aenter__(self) -> EventStream:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self._closed:
            raise StopAsyncIteration
        try:
            await self.start()
            while True:
                if (self._generation is not None
                        and self._generation() != self._subscribed_at):
                    raise Unavailable("the store is another server now: resubscribe")
                with _guard():
                    msg = await self._pubsub.get_message(
                        ignore_subscribe_messages=True,
                        timeout=None if self._generation is None else _EVENT_POLL_S,
                    )
                if self._reconnected:  # resubscribed: its confirmation came as None
                    self._reconnected = False
                    return dict(RESYNC)
                if msg is None or msg.get("type") != "message":
                    continue
                event = self._decode(msg.get("data"))
                if event is not None:
                    return event
        except BaseException:
            await self.aclose()
            raise

    @staticmethod
    def _decode(data: object) -> dict[str, Any] | None:
        if not isinstance(data, bytes) or len(data) > _MAX_EVENT_BYTES:
            log.warning("ignoring an event that is not bytes or too large")
            return None
        try:
            event = msgpack.unpackb(data, raw=False)
        except (ValueError, TypeError, msgpack.UnpackException):
            log.warning("ignoring an event that is not msgpack")
            return None
        if not isinstance(event, dict):
            log.warning("ignoring an event that is not a map")
            return None
        return event


class EventsMixin(_Base):
    """Publishing events and subscribing to them."""

    async def publish_event(self, event: dict[str, Any]) -> None:
        """Broadcast an event (msgpack) to every hub process."""
        data = msgpack.packb(event, use_bin_type=True)
        if len(data) > _MAX_EVENT_BYTES:
            raise ValueError("event too large")
        with _guard():
            await self._r.publish(EVENTS_CHANNEL, data)

    def events(self) -> EventStream:
        """Events published by any hub process, until cancelled (see :class:`EventStream`)."""
        return EventStream(self._block, lambda: self._generation)
