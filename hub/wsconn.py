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
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import weakref
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

__all__ = ["TLS_READ_BUFFER", "CoalescingConnection", "on_tls_refusal",
           "use_small_tls_read_buffers"]

#: Bytes of the buffer asyncio's TLS layer reads ciphertext into (one ``recv`` at most).
#: asyncio's default (256 KiB, allocated and zeroed for every connection) dominated the
#: hub's memory per idle connection (W4: ~310 KiB each); one TLS record is at most
#: ~16.7 KiB, so 32 KiB still takes two full records per read.
TLS_READ_BUFFER = 32 * 1024


#: Listening context -> what to call when its TLS handshake refuses a peer (hub.server
#: audits it): such refusals never reach the WebSocket layer or the hub's code otherwise.
_tls_refusal_hooks: weakref.WeakKeyDictionary[
    ssl.SSLContext, Callable[[Any, ssl.SSLError], None]] = weakref.WeakKeyDictionary()


def on_tls_refusal(context: ssl.SSLContext,
                   hook: Callable[[Any, ssl.SSLError], None] | None) -> None:
    """Call ``hook(peername, error)`` whenever a TLS handshake on a listener using
    ``context`` fails with an SSL error (bad, expired, revoked or missing client
    certificate; not TLS at all); None removes it. Needs the protocol class installed
    by :func:`use_small_tls_read_buffers`."""
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

    class SharedReadBufferSSLProtocol(base):  # type: ignore[misc, valid-type]
        _cordon_shared = True
        max_size = size

        def __init__(self, loop: asyncio.AbstractEventLoop, *args: Any, **kwargs: Any
                     ) -> None:
            super().__init__(loop, *args, **kwargs)
            if isinstance(loop, asyncio.selector_events.BaseSelectorEventLoop):
                view = shared.get(loop)
                if view is None:
                    view = shared[loop] = memoryview(bytearray(size))
                self._ssl_buffer_view = view
                self._ssl_buffer = view.obj

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
            # get_extra_info("peercert"); the hub reads the DER from the SSL object.
            extra = getattr(self, "_extra", None)
            if isinstance(extra, dict):
                extra.pop("peercert", None)

    asyncio.sslproto.SSLProtocol = SharedReadBufferSSLProtocol  # type: ignore[misc]


class CoalescingConnection(ServerConnection):
    _pending: list[bytes] | None = None

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
        if pending and not self.transport.is_closing():
            self.transport.write(pending[0] if len(pending) == 1 else b"".join(pending))
