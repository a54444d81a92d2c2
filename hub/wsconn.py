"""The hub's WebSocket connection class: frames queued in one event-loop step leave in
one write.

With websockets' stock connection every frame sent is its own ``transport.write``: one
TLS record and one ``send()`` system call per alert per subscriber. Fan-out and
history catch-up queue many frames for a connection at once (its writer empties the
send queue without yielding while the queue has frames), so while the connection is
open :class:`CoalescingConnection` collects the bytes of the frames sent during the
current step and writes them once, at the end of the step (``loop.call_soon``).
Anything else (the opening handshake, a close frame, end of stream) is written at
once, after whatever was collected, so the order on the wire never changes.

Flow control is unchanged: the send queue (``send_queue_frames``) bounds what one step
can collect, and websockets' ``drain`` waits once the transport's buffer is full.

What websockets writes by itself, outside the session's send queue (a pong for every
ping, the echo of a close frame), counts too, because a peer that never reads would
otherwise make the hub hold it without end (600,000 pings: 73 MiB of pongs):

- :meth:`CoalescingConnection.backlog` is every byte handed to the connection and not
  yet sent; the session's :class:`hub.feeds.Outbox` counts it against
  ``send_queue_bytes``;
- once the transport holds more than ``send_queue_bytes`` for the peer, the hub stops
  reading it (nothing it sends can make the hub write more) until the peer reads; the
  session closes it as a slow consumer (4008) if that lasts the idle timeout
  (:meth:`CoalescingConnection.held_for`);
- a peer may send at most ``max_pings_per_s`` pings a second (a token bucket as deep
  as one second's worth): more closes the connection with 4030;
- a peer that does not answer the hub's keepalive ping within the idle timeout is
  closed with 4009, where websockets would use 1011 (an internal error, PROTOCOL §7).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import struct
import weakref
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Event, State

from hub.lazydeque import LazyDeque
from hub.protocol.errors import CloseCode
from hub.protocol.limits import MAX_PINGS_PER_S, SEND_QUEUE_BYTES

__all__ = ["PEER_UNRESPONSIVE_REASON", "PING_FLOOD_REASON", "TLS_READ_BUFFER",
           "CoalescingConnection", "on_tls_refusal", "use_small_tls_read_buffers"]

#: Close reasons (fixed phrases) for the codes this module closes with.
PEER_UNRESPONSIVE_REASON = "peer unresponsive: no pong within the idle timeout"
PING_FLOOD_REASON = "too many pings"

#: Bytes of the buffer asyncio's TLS layer reads ciphertext into (one ``recv`` at most).
#: asyncio's default (256 KiB, allocated and zeroed for every connection) dominated the
#: hub's memory per idle connection (W4: ~310 KiB each); one TLS record is at most
#: ~16.7 KiB, so 32 KiB still takes two full records per read.
TLS_READ_BUFFER = 32 * 1024


def _slotted(base: type, names: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The attributes of ``names`` a subclass of ``base`` can hold in slots — all but the
    base's methods and properties (a slot would hide them) — and the class-level defaults
    among them (a slot hides those too: the subclass sets them before the base's
    ``__init__`` runs).

    Why: a class with more than 30 instance attributes, or whose instances add them in
    different orders, gets a dict of its own per instance (~1.6 KiB for websockets'
    connection and for asyncio's TLS protocol, W4) instead of sharing its keys. Slots
    for everything they set make the dict unnecessary; an attribute a newer version adds
    just lands in the dict again (tests/hub/test_tls_memory.py checks there is none).
    """
    slots, defaults = [], {}
    for name in names:
        value = next((vars(c)[name] for c in base.__mro__ if name in vars(c)), _MISSING)
        if value is _MISSING:
            slots.append(name)
        elif not callable(value) and not hasattr(value, "__get__"):
            slots.append(name)
            defaults[name] = value
    return tuple(slots), defaults


_MISSING = object()

#: What websockets' server connection sets on its instances (websockets 17).
_CONNECTION_ATTRS = (
    "close_deadline", "close_timeout", "connection_exc", "connection_lost_waiter", "debug",
    "drain_waiters", "id", "keepalive_task", "latency", "logger", "loop", "max_queue_high",
    "max_queue_low", "paused", "pending_pings", "ping_interval", "ping_timeout", "protocol",
    "recv_messages", "request", "request_rcvd", "response", "send_in_progress", "server",
    "transport", "write_limit_high", "write_limit_low")
#: What asyncio's SSLProtocol sets on its instances (CPython 3.11-3.13).
_SSL_PROTOCOL_ATTRS = (
    "_app_protocol", "_app_protocol_buffer_updated", "_app_protocol_get_buffer",
    "_app_protocol_is_buffer", "_app_reading_paused", "_app_state", "_app_transport",
    "_app_transport_created", "_app_writing_paused", "_conn_lost", "_eof_received", "_extra",
    "_handshake_start_time", "_handshake_timeout_handle", "_incoming", "_incoming_high_water",
    "_incoming_low_water", "_loop", "_outgoing", "_outgoing_high_water",
    "_outgoing_low_water", "_server_hostname", "_server_side", "_shutdown_timeout_handle",
    "_ssl_buffer", "_ssl_buffer_view", "_ssl_handshake_timeout", "_ssl_reading_paused",
    "_ssl_shutdown_timeout", "_ssl_writing_paused", "_sslcontext", "_sslobj", "_state",
    "_transport", "_waiter", "_write_backlog", "_write_buffer_size")
_CONNECTION_SLOTS, _CONNECTION_DEFAULTS = _slotted(ServerConnection, _CONNECTION_ATTRS)


#: Listening context -> what to call when its TLS handshake refuses a peer (hub.server
#: audits it): such refusals never reach the WebSocket layer or the hub's code otherwise.
_tls_refusal_hooks: weakref.WeakKeyDictionary[
    ssl.SSLContext, Callable[[Any, ssl.SSLError], None]] = weakref.WeakKeyDictionary()


def on_tls_refusal(context: ssl.SSLContext,
                   hook: Callable[[Any, ssl.SSLError], None] | None) -> None:
    """Call ``hook(peername, error)`` whenever a TLS handshake on a listener using
    ``context`` fails with an SSL error (bad, expired, revoked or missing client
    certificate; not TLS at all); None removes it. Needs the hub's TLS transport
    (:func:`hub.tlstransport.serve_natively`) or the protocol class installed by
    :func:`use_small_tls_read_buffers`."""
    if hook is None:
        _tls_refusal_hooks.pop(context, None)
    else:
        _tls_refusal_hooks[context] = hook


def use_small_tls_read_buffers(size: int = TLS_READ_BUFFER) -> None:
    """Make asyncio's TLS connections in this process read into one ``size``-byte buffer
    per event loop, shared by all its connections, instead of one buffer each.

    The buffer only passes ciphertext from ``recv_into`` to the connection's OpenSSL
    memory BIO: a selector event loop calls the protocol's ``get_buffer``, ``recv_into``
    and ``buffer_updated`` (whose first step copies the bytes into the BIO) in one
    callback, so no connection ever finds another's bytes in it. Other loops (proactor:
    the receive completes later) keep a buffer per connection. W4: 32 KiB less per idle
    connection. ``asyncio.sslproto.SSLProtocol`` (its ``max_size`` and ``_ssl_buffer``)
    is CPython 3.11-3.13's; uvloop has its own TLS layer and is unaffected.
    """
    import asyncio.selector_events
    import asyncio.sslproto

    base = asyncio.sslproto.SSLProtocol
    if getattr(base, "max_size", None) is None or getattr(base, "_cordon_shared", False):
        return
    shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, memoryview] = (
        weakref.WeakKeyDictionary())

    slots, defaults = _slotted(base, _SSL_PROTOCOL_ATTRS)

    class SharedReadBufferSSLProtocol(base):  # type: ignore[misc, valid-type]
        __slots__ = slots  # no dict per connection (_slotted)
        _cordon_shared = True
        max_size = size

        def __init__(self, loop: asyncio.AbstractEventLoop, *args: Any, **kwargs: Any
                     ) -> None:
            for name, value in defaults.items():
                setattr(self, name, value)
            super().__init__(loop, *args, **kwargs)
            if isinstance(loop, asyncio.selector_events.BaseSelectorEventLoop):
                view = shared.get(loop)
                if view is None:
                    view = shared[loop] = memoryview(bytearray(size))
                self._ssl_buffer_view = view
                self._ssl_buffer = view.obj
            # Empty while the connection is idle, and asyncio's own is a deque (~760 B).
            self._write_backlog: LazyDeque[Any] = LazyDeque()

        def _on_handshake_complete(self, handshake_exc: BaseException | None) -> None:
            if isinstance(handshake_exc, ssl.SSLError):
                on_refusal = _tls_refusal_hooks.get(self._sslcontext)
                if on_refusal is not None:
                    peer = (self._transport.get_extra_info("peername")
                            if self._transport is not None else None)
                    with contextlib.suppress(Exception):  # never in the handshake's way
                        on_refusal(peer, handshake_exc)
            super()._on_handshake_complete(handshake_exc)
            # asyncio keeps the peer certificate decoded into a dict (~1.8 KiB) for
            # get_extra_info("peercert"), and the cipher as a tuple (~0.2 KiB); the hub
            # reads the DER from the SSL object, and the SSL object has the cipher.
            extra = getattr(self, "_extra", None)
            if isinstance(extra, dict):
                extra.pop("peercert", None)
                extra.pop("cipher", None)

    asyncio.sslproto.SSLProtocol = SharedReadBufferSSLProtocol  # type: ignore[misc]


class CoalescingConnection(ServerConnection):
    """A server connection whose writes are coalesced per event-loop step, and whose
    every queued byte counts (module docstring).

    Until the session calls :meth:`bound` (right after authentication) the limits are
    the protocol's defaults and a broken limit fails the connection at once.
    """

    # Everything in slots, websockets' attributes too: no instance dict (_slotted).
    __slots__ = ("_held_since", "_ka_handle", "_ka_unstarted", "_on_violation", "_pending",
                 "_pending_bytes", "_ping_at", "_ping_rate", "_ping_tokens", "_queue_paused",
                 "_send_bound", "_stopped", "_violated", *_CONNECTION_SLOTS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for name, value in _CONNECTION_DEFAULTS.items():
            setattr(self, name, value)
        self._pending: list[bytes] | None = None
        super().__init__(*args, **kwargs)
        # websockets wraps its logger per connection (a LoggerAdapter, its extra dict, a
        # weakref proxy: ~0.3 KiB) so that log formats may name the connection; the hub
        # logs connections itself (hub.server), so use the logger underneath.
        logger = self.protocol.logger
        if isinstance(logger, logging.LoggerAdapter):
            self.logger = self.protocol.logger = logger.logger
        self._pending_bytes = 0
        #: Bytes the transport may hold for the peer before the hub stops reading it.
        self._send_bound = SEND_QUEUE_BYTES
        #: Pings the peer may send per second (and at once): a token bucket.
        self._ping_rate = self._ping_tokens = float(MAX_PINGS_PER_S)
        self._ping_at = 0.0
        #: loop.time() since when reading is held because the transport holds more than
        #: the send bound; None while reading normally.
        self._held_since: float | None = None
        #: websockets' receive queue (max_queue) paused reading too.
        self._queue_paused = False
        #: Nothing more is read from this peer (it sent too many pings).
        self._stopped = False
        self._violated = False
        self._on_violation: Callable[[int, str], None] | None = None
        #: The keepalive's next step (a ping, or the end of the wait for its pong).
        self._ka_handle: asyncio.TimerHandle | None = None
        #: A keepalive ping whose pong wait starts when writing resumes (sent while paused).
        self._ka_unstarted: asyncio.Future[float] | None = None
        # Empty deques cost ~760 B each per idle connection: none until there is a waiter.
        self.drain_waiters = LazyDeque()  # type: ignore[assignment]

    def bound(self, *, send_bytes: int, pings_per_s: float,
              on_violation: Callable[[int, str], None]) -> None:
        """Apply the hub's settings: ``send_bytes`` (``send_queue_bytes``) bounds what the
        transport may hold for the peer, ``pings_per_s`` the pings it may send;
        ``on_violation(code, reason)`` closes the connection (the session's close)."""
        self._send_bound = send_bytes
        self._ping_rate = self._ping_tokens = float(pings_per_s)
        self._on_violation = on_violation

    def backlog(self) -> int:
        """Bytes handed to this connection and not yet sent (frames collected in this
        step, the transport's buffers; pongs and close frames included)."""
        return self._pending_bytes + self.transport.get_write_buffer_size()

    def held_for(self, now: float) -> float:
        """Seconds reading has been held because the peer does not read (0 if not)."""
        since = self._held_since
        return 0.0 if since is None else now - since

    def _violation(self, code: int, reason: str) -> None:
        if self._violated:
            return
        self._violated = True
        if self._on_violation is not None:
            self._on_violation(code, reason)
        elif self.protocol.state is State.OPEN:  # before the session: fail at once
            self.protocol.fail(code, reason)
            self.send_data()

    # --- reading: held while the peer does not read ------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # websockets' receive queue pauses and resumes reading too: keep one answer.
        self.recv_messages.pause = self._pause_for_queue
        self.recv_messages.resume = self._resume_for_queue
        # The frame queue is empty between messages: no deque while it is.
        self.recv_messages.frames.queue = LazyDeque()  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)  # fails the pending pings: no keepalive step follows
        if self._ka_handle is not None:
            self._ka_handle.cancel()
            self._ka_handle = None

    def _pause_for_queue(self) -> None:
        self._queue_paused = True
        self.transport.pause_reading()

    def _resume_for_queue(self) -> None:
        self._queue_paused = False
        if self._held_since is None and not self._stopped:
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # may have written pongs or a close frame
        # Past the bound the transport's buffer is over its high-water mark, so writing is
        # paused and resume_writing() will come when the peer reads (or the connection is
        # lost): nothing more is read from it until then.
        if (self._held_since is None and self.paused
                and self.transport.get_write_buffer_size() > self._send_bound):
            self._held_since = self.loop.time()
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        pong, self._ka_unstarted = self._ka_unstarted, None
        if pong is not None and not pong.done():
            self._await_pong(pong)
        if self._held_since is not None:
            self._held_since = None
            if not self._queue_paused and not self._stopped:
                self.transport.resume_reading()

    def process_event(self, event: Event) -> None:
        if isinstance(event, Frame) and event.opcode is Opcode.PING:
            now = self.loop.time()
            rate = self._ping_rate
            tokens = min(rate, self._ping_tokens + (now - self._ping_at) * rate)
            self._ping_at = now
            if tokens < 1.0:
                # Read nothing more: the closing handshake would answer more pings.
                self._stopped = True
                self.transport.pause_reading()
                self._violation(CloseCode.PING_FLOOD, PING_FLOOD_REASON)
            else:
                self._ping_tokens = tokens - 1.0
        super().process_event(event)

    # --- keepalive: timers, not a task -------------------------------------------------
    def start_keepalive(self) -> None:
        """websockets' keepalive (a ping every ``ping_interval``, a pong expected within
        ``ping_timeout``), closing with 4009 instead of 1011 when none comes — driven by
        timer callbacks instead of a task per connection (W4: a task, its coroutine and
        its sleep cost ~1.2 KiB per idle connection; a timer handle ~0.2 KiB).

        As websockets does, a ping is written at once, and its pong awaited from when the
        transport has room again (a peer that does not read is the slow-consumer check's,
        4008, not this one's)."""
        if self.ping_interval is not None:
            self._ka_handle = self.loop.call_later(self.ping_interval, self._ka_ping)

    def _ka_ping(self) -> None:
        self._ka_handle = None
        if self.protocol.state is not State.OPEN or self._violated:
            return  # closing: nothing more to keep alive
        data = struct.pack("!I", random.getrandbits(32))
        while data in self.pending_pings:
            data = struct.pack("!I", random.getrandbits(32))
        pong: asyncio.Future[float] = self.loop.create_future()
        self.pending_pings[data] = (pong, self.loop.time())
        self.protocol.send_ping(data)
        self.send_data()
        if self.ping_timeout is None:
            assert self.ping_interval is not None
            self._ka_handle = self.loop.call_later(self.ping_interval, self._ka_ping)
            return
        pong.add_done_callback(self._ka_ponged)
        if self.paused:
            self._ka_unstarted = pong
        else:
            self._await_pong(pong)

    def _await_pong(self, pong: asyncio.Future[float]) -> None:
        assert self.ping_timeout is not None
        self._ka_handle = self.loop.call_later(self.ping_timeout, self._ka_timed_out, pong)

    def _ka_ponged(self, pong: asyncio.Future[float]) -> None:
        if self._ka_handle is not None:
            self._ka_handle.cancel()
            self._ka_handle = None
        self._ka_unstarted = None
        if pong.cancelled() or pong.exception() is not None:
            return  # the connection closed
        assert self.ping_interval is not None
        self._ka_handle = self.loop.call_later(
            max(0.0, self.ping_interval - pong.result()), self._ka_ping)

    def _ka_timed_out(self, pong: asyncio.Future[float]) -> None:
        self._ka_handle = None
        if not pong.done():
            self._violation(CloseCode.PEER_UNRESPONSIVE, PEER_UNRESPONSIVE_REASON)

    # --- writing -------------------------------------------------------------------------
    async def send(self, message: Any, text: bool | None = None) -> None:
        """``send(bytes)`` on an open connection whose buffer has room, without the
        per-call machinery of the general path (same effect: the frame is queued for
        writing and nothing waits); everything else goes the general way."""
        if (type(message) is bytes and text is None and self.protocol.state is State.OPEN
                and not self.paused and self.send_in_progress is None
                and not self.transport.is_closing()):
            self.protocol.send_binary(message)
            self.send_data()
            return
        await super().send(message, text=text)

    def send_data(self) -> None:
        chunks = self.protocol.data_to_send()
        if self.protocol.state is State.OPEN and all(chunks):
            if chunks:
                if self._pending is None:
                    self._pending = []
                    self.loop.call_soon(self._flush)
                self._pending.extend(chunks)
                self._pending_bytes += sum(map(len, chunks))
            return
        self._flush()
        for data in chunks:
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                # As websockets does: half-close when possible, else close.
                with contextlib.suppress(Exception):
                    self.transport.write_eof()
            else:
                self.transport.close()

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        self._pending_bytes = 0
        if pending and not self.transport.is_closing():
            self.transport.write(pending[0] if len(pending) == 1 else b"".join(pending))
