"""The hub's TLS transport: a non-blocking OpenSSL socket driven by the selector.

asyncio's TLS transport (``asyncio.sslproto``) runs OpenSSL on two memory BIOs and
passes ciphertext through them, with an ``SSLProtocol``, an app transport and a socket
transport per connection. An OpenSSL memory BIO never gives back what it grew to: it
keeps 4/3 of the most it ever held (the handshake's flights on an idle connection, up to
a whole write burst after traffic), and the three objects cost ~1.5 KiB more. Here
OpenSSL reads and writes the socket itself (``SSLContext._wrap_socket``, what
``ssl.SSLSocket`` is made of, without its Python object), so an idle connection holds
no buffer: W4, ~5 KiB less per idle mutual-TLS connection (bench/README.md).

What it keeps of asyncio's transport, so websockets and the hub see no difference:

- the TLS handshake before ``connection_made``, bounded by ``ssl_handshake_timeout``; a
  handshake OpenSSL refuses (no, bad, expired or revoked client certificate, not TLS)
  goes to the listening context's refusal hook (:func:`hub.wsconn.on_tls_refusal`), and
  the protocol never hears of the connection, as with asyncio;
- flow control: ``pause_writing``/``resume_writing`` at the write buffer's high/low
  water marks (``set_write_buffer_limits``), ``pause_reading``/``resume_reading``;
- ``close()`` sends what is buffered, then a close_notify, and waits (at most
  ``ssl_shutdown_timeout``) for the peer's before closing the socket; ``abort()`` closes
  at once; ``connection_lost`` follows either, once;
- reads go into one buffer per event loop, shared by its connections (only within one
  callback), as :func:`hub.wsconn.use_small_tls_read_buffers` does for asyncio's.

OpenSSL's rules for a non-blocking socket: a write that wants to write (the socket is
full) is retried with the same bytes; a read may want to write (a TLS 1.3 KeyUpdate
answered while the socket is full) and a write may want to read; both are waited for.

Installed per listening context (:func:`serve_natively`) in the selector event loop's
``_make_ssl_transport`` (CPython 3.11-3.13), which the loop's ``create_server`` (and so
websockets' ``serve``) calls for each accepted connection. Other contexts, client
connections and other loops (uvloop, proactor) keep asyncio's transport.
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import asyncio.selector_events
import collections
import contextlib
import inspect
import logging
import socket
import ssl
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["TLSTransport", "serve_natively"]

log = logging.getLogger("cordon.tls")

#: Bytes read from OpenSSL at once (one TLS record is at most 16 KiB of plaintext).
READ_SIZE = 32 * 1024
#: Records read per readable event before the loop runs others (fairness).
_READS_PER_EVENT = 8
_HIGH, _LOW = 64 * 1024, 16 * 1024
#: Writes longer than one TLS record are sent corked (Linux); 0 where there is no cork.
_CORK_ABOVE = 16 * 1024
_CORK: int = getattr(socket, "TCP_CORK", 0)

_HANDSHAKE, _OPEN, _SHUTDOWN, _CLOSED = range(4)

#: Listening contexts served by this transport (:func:`serve_natively`).
_native: weakref.WeakSet[ssl.SSLContext] = weakref.WeakSet()
#: One read buffer per event loop.
_buffers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, memoryview] = (
    weakref.WeakKeyDictionary())
_AGAIN = (ssl.SSLWantReadError, ssl.SSLWantWriteError)


def _refusal_hook(ctx: ssl.SSLContext) -> Callable[[Any, ssl.SSLError], None] | None:
    from hub.wsconn import _tls_refusal_hooks  # one registry for both transports
    return _tls_refusal_hooks.get(ctx)


class TLSTransport(asyncio.Transport):
    """A server-side TLS connection (module docstring)."""

    __slots__ = ("__weakref__", "_buf", "_buf_size", "_closing", "_ctx", "_high", "_loop",
                 "_low", "_made", "_peer", "_protocol", "_r_on", "_read_wants_write",
                 "_reading_paused", "_server", "_shutdown_timeout", "_sock", "_ssl", "_state",
                 "_timer", "_w_on", "_waiter", "_write_wants_read", "_writing_paused")

    def __init__(self, loop: asyncio.AbstractEventLoop, rawsock: socket.socket,
                 protocol: asyncio.BaseProtocol, sslcontext: ssl.SSLContext,
                 waiter: asyncio.Future[None] | None, *, extra: dict[str, Any] | None,
                 server: Any, handshake_timeout: float | None,
                 shutdown_timeout: float | None) -> None:
        self._loop = loop
        self._sock = rawsock
        self._protocol: Any = protocol
        self._ctx = sslcontext
        self._waiter = waiter
        self._server = server
        self._peer = (extra or {}).get("peername")
        self._shutdown_timeout = shutdown_timeout
        self._buf: collections.deque[bytes] | None = None
        self._buf_size = 0
        self._high, self._low = _HIGH, _LOW
        self._state = _HANDSHAKE
        self._closing = False
        self._made = False  # connection_made called (so connection_lost is owed)
        self._reading_paused = False
        self._writing_paused = False
        self._read_wants_write = False
        self._write_wants_read = False
        self._r_on = self._w_on = False
        self._timer: asyncio.TimerHandle | None = None
        if rawsock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):  # as asyncio's socket transport does
                rawsock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if server is not None:
            _attach(server, self)
        # The owner is what the context's sni_callback gets (it sets .context).
        self._ssl: Any = sslcontext._wrap_socket(  # type: ignore[attr-defined]
            rawsock, True, None, owner=self)
        if handshake_timeout is not None:
            self._timer = loop.call_later(handshake_timeout, self._handshake_timed_out,
                                          handshake_timeout)
        loop.call_soon(self._handshake)

    # --- what the sni_callback sets (hub.tls.ReloadableTLS) -----------------------------
    @property
    def context(self) -> ssl.SSLContext:
        ctx: ssl.SSLContext = self._ssl.context
        return ctx

    @context.setter
    def context(self, ctx: ssl.SSLContext) -> None:
        self._ssl.context = ctx

    # --- selector registration ----------------------------------------------------------
    def _want_read(self, on: bool) -> None:
        if on != self._r_on:
            self._r_on = on
            if on:
                self._loop._add_reader(self._sock.fileno(), self._readable)  # type: ignore[attr-defined]
            else:
                self._loop._remove_reader(self._sock.fileno())  # type: ignore[attr-defined]

    def _want_write(self, on: bool) -> None:
        if on != self._w_on:
            self._w_on = on
            if on:
                self._loop._add_writer(self._sock.fileno(), self._writable)  # type: ignore[attr-defined]
            else:
                self._loop._remove_writer(self._sock.fileno())  # type: ignore[attr-defined]

    def _readable(self) -> None:
        if self._state == _HANDSHAKE:
            self._handshake()
        elif self._state == _SHUTDOWN:
            self._shutdown_step()
        elif self._state == _OPEN:
            if self._write_wants_read:
                self._write_wants_read = False
                self._flush()
            if self._state == _OPEN:
                self._read()

    def _writable(self) -> None:
        if self._state == _HANDSHAKE:
            self._handshake()
        elif self._state == _SHUTDOWN and not self._buf:
            self._shutdown_step()
        elif self._state in (_OPEN, _SHUTDOWN):
            if self._read_wants_write:
                self._read_wants_write = False
                self._update_reading()
                self._read()
            self._flush()

    # --- handshake ----------------------------------------------------------------------
    def _handshake(self) -> None:
        if self._state != _HANDSHAKE:
            return
        try:
            self._ssl.do_handshake()
        except ssl.SSLWantReadError:
            self._want_write(False)
            self._want_read(True)
            return
        except ssl.SSLWantWriteError:
            self._want_read(False)
            self._want_write(True)
            return
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            self._handshake_failed(exc)
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._state = _OPEN
        self._want_write(False)
        self._made = True
        self._protocol.connection_made(self)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        self._waiter = None
        if self._state == _OPEN:
            self._update_reading()
            if self._buf:
                self._flush()

    def _handshake_timed_out(self, timeout: float) -> None:
        self._timer = None
        if self._state == _HANDSHAKE:
            self._handshake_failed(ConnectionAbortedError(
                f"SSL handshake is taking longer than {timeout} seconds: aborting the "
                "connection"))

    def _handshake_failed(self, exc: BaseException) -> None:
        # As with asyncio's transport: a peer that closes or resets the TCP connection
        # during the handshake is not a refusal (asyncio sees ConnectionResetError).
        if isinstance(exc, ssl.SSLError) and not isinstance(
                exc, ssl.SSLEOFError | ssl.SSLSyscallError):
            hook = _refusal_hook(self._ctx)
            if hook is not None:
                with contextlib.suppress(Exception):  # never in the handshake's way
                    hook(self._peer, exc)
        if self._loop.get_debug():
            log.debug("%r: TLS handshake failed: %s", self, exc)
        waiter, self._waiter = self._waiter, None
        self._force_close(exc)
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc if isinstance(exc, OSError)
                                 else ConnectionResetError(str(exc)))

    # --- reading ------------------------------------------------------------------------
    def _update_reading(self) -> None:
        self._want_read(self._state != _CLOSED and (
            (self._state == _OPEN and not self._reading_paused and not self._read_wants_write)
            or self._write_wants_read or self._state == _SHUTDOWN))

    def _read(self) -> None:
        view = _buffers.get(self._loop)
        if view is None:
            view = _buffers[self._loop] = memoryview(bytearray(READ_SIZE))
        for _ in range(_READS_PER_EVENT):
            if self._reading_paused or self._read_wants_write or self._state != _OPEN:
                return
            try:
                n = self._ssl.read(READ_SIZE, view)
            except ssl.SSLWantReadError:
                return
            except ssl.SSLWantWriteError:  # OpenSSL must write first (e.g. a KeyUpdate)
                self._read_wants_write = True
                self._update_reading()
                self._want_write(True)
                return
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self._eof()
                return
            except (OSError, ValueError) as exc:
                self._fatal(exc)
                return
            if not n:
                self._eof()
                return
            try:
                self._protocol.data_received(bytes(view[:n]))
            except Exception as exc:  # as asyncio's transport: the connection ends
                log.error("%r: protocol.data_received() failed", self, exc_info=True)
                self._fatal(exc)
                return
        # Out of turns: what is still in the socket wakes the selector again, but plaintext
        # OpenSSL already holds would not (none without read-ahead; checked all the same).
        if self._state == _OPEN and not self._reading_paused and self._ssl.pending():
            self._loop.call_soon(self._readable)

    def _eof(self) -> None:
        """The peer closed (close_notify, or the TCP connection without one). TLS cannot
        stay half-open: closed whatever eof_received answers, as with asyncio's."""
        try:
            if not self._closing:
                self._protocol.eof_received()
        finally:
            self._force_close(None)

    def pause_reading(self) -> None:
        self._reading_paused = True
        if self._state == _OPEN:
            self._update_reading()

    def resume_reading(self) -> None:
        if not self._reading_paused:
            return
        self._reading_paused = False
        if self._state == _OPEN:
            self._update_reading()
            if self._ssl.pending():  # plaintext OpenSSL holds: the selector cannot tell
                self._loop.call_soon(self._readable)

    def is_reading(self) -> bool:
        return self._state in (_HANDSHAKE, _OPEN) and not self._reading_paused

    # --- writing ------------------------------------------------------------------------
    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data: expecting a bytes-like instance, got {type(data).__name__}")
        if not data or self._closing or self._state == _CLOSED:
            return
        if self._state == _OPEN and not self._buf and not self._write_wants_read:
            try:
                self._write_records(data)
                return
            except ssl.SSLWantWriteError:
                pass  # part of it may be out: retried with the same bytes (OpenSSL's rule)
            except ssl.SSLWantReadError:
                self._write_wants_read = True
            except (OSError, ValueError) as exc:
                self._fatal(exc)
                return
        if self._buf is None:
            self._buf = collections.deque()
        self._buf.append(bytes(data))
        self._buf_size += len(data)
        if self._state == _OPEN:
            if self._write_wants_read:
                self._update_reading()
            else:
                self._want_write(True)
        self._maybe_pause()

    def _flush(self) -> None:
        buf = self._buf
        while buf:
            head = buf[0]
            try:
                self._write_records(head)
            except ssl.SSLWantWriteError:
                self._want_write(True)
                return
            except ssl.SSLWantReadError:
                self._write_wants_read = True
                self._want_write(self._read_wants_write)
                self._update_reading()
                return
            except (OSError, ValueError) as exc:
                self._fatal(exc)
                return
            buf.popleft()
            self._buf_size -= len(head)
        self._buf = None
        self._buf_size = 0
        if not self._read_wants_write:
            self._want_write(False)
        self._maybe_resume()
        if self._closing and self._state == _OPEN:
            self._start_shutdown()

    def _write_records(self, data: bytes | bytearray | memoryview) -> None:
        """``SSL_write``: OpenSSL sends each record (16 KiB at most) with a send() of its
        own; for more than one, the socket is corked meanwhile so that the kernel sends
        full segments rather than one push per record (W1 fan-out)."""
        if len(data) <= _CORK_ABOVE or not _CORK:
            self._ssl.write(data)
            return
        sock = self._sock
        sock.setsockopt(socket.IPPROTO_TCP, _CORK, 1)
        try:
            self._ssl.write(data)
        finally:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _CORK, 0)

    def _maybe_pause(self) -> None:
        if not self._writing_paused and self._buf_size > self._high:
            self._writing_paused = True
            try:
                self._protocol.pause_writing()
            except Exception:
                log.exception("protocol.pause_writing() failed")

    def _maybe_resume(self) -> None:
        if self._writing_paused and self._buf_size <= self._low:
            self._writing_paused = False
            try:
                self._protocol.resume_writing()
            except Exception:
                log.exception("protocol.resume_writing() failed")

    def get_write_buffer_size(self) -> int:
        return self._buf_size

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._low, self._high

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None
                                ) -> None:
        if high is None:
            high = _HIGH if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high, self._low = high, low
        self._maybe_pause()

    def can_write_eof(self) -> bool:
        return False

    def write_eof(self) -> None:
        raise NotImplementedError("TLS cannot half-close")

    # --- closing ------------------------------------------------------------------------
    def is_closing(self) -> bool:
        return self._closing or self._state == _CLOSED

    def close(self) -> None:
        """Send what is buffered, then a close_notify; close once the peer's comes (or
        ``ssl_shutdown_timeout`` passed)."""
        if self._closing or self._state == _CLOSED:
            return
        self._closing = True
        if self._state != _OPEN:
            self._force_close(None)
            return
        self._reading_paused = True  # nothing more for the protocol
        self._update_reading()
        if self._shutdown_timeout is not None:
            self._timer = self._loop.call_later(self._shutdown_timeout, self.abort)
        if not self._buf:
            self._start_shutdown()

    def _start_shutdown(self) -> None:
        self._state = _SHUTDOWN
        self._read_wants_write = self._write_wants_read = False
        self._update_reading()
        self._shutdown_step()

    def _shutdown_step(self) -> None:
        while self._state == _SHUTDOWN:
            try:
                self._ssl.shutdown()
            except ssl.SSLWantReadError:
                # close_notify sent; what the peer still sends is read and dropped until
                # its own close_notify (or EOF) comes.
                self._want_write(False)
                try:
                    view = _buffers.get(self._loop) or memoryview(bytearray(READ_SIZE))
                    if self._ssl.read(READ_SIZE, view):
                        continue
                except ssl.SSLWantReadError:
                    return
                except ssl.SSLWantWriteError:
                    self._want_write(True)
                    return
                except (OSError, ValueError):
                    pass  # close_notify, EOF or an error: done either way
                self._force_close(None)
                return
            except ssl.SSLWantWriteError:
                self._want_write(True)
                return
            except (OSError, ValueError):
                self._force_close(None)
                return
            self._force_close(None)  # both close_notify exchanged

    def abort(self) -> None:
        self._closing = True
        self._force_close(None)

    def _fatal(self, exc: BaseException) -> None:
        if self._loop.get_debug():
            log.debug("%r: fatal error: %s", self, exc)
        self._closing = True
        self._force_close(exc)

    def _force_close(self, exc: BaseException | None) -> None:
        if self._state == _CLOSED:
            return
        self._state = _CLOSED
        self._closing = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._want_read(False)
        self._want_write(False)
        self._buf = None
        self._buf_size = 0
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionResetError("connection closed"))
        self._waiter = None
        self._loop.call_soon(self._connection_lost, exc)

    def _connection_lost(self, exc: BaseException | None) -> None:
        try:
            if self._made:
                self._protocol.connection_lost(exc)
        finally:
            self._sock.close()
            self._protocol = None
            server, self._server = self._server, None
            if server is not None:
                _detach(server, self)

    # --- the rest of asyncio's transport API ---------------------------------------------
    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return self._peer
        if name == "sockname":
            with contextlib.suppress(OSError):
                return self._sock.getsockname()
            return default
        if name == "socket":
            return self._sock
        if name == "ssl_object":
            # A view on this connection's OpenSSL object (getpeercert(binary_form=...),
            # cipher(), version() ...), made on demand: nothing kept per connection.
            view: Any = ssl.SSLObject.__new__(ssl.SSLObject)
            view._sslobj = self._ssl
            return view
        if name == "sslcontext":
            return self._ssl.context
        return default

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        protocol: asyncio.BaseProtocol = self._protocol
        return protocol

    def __repr__(self) -> str:
        state = ("handshake", "open", "shutdown", "closed")[self._state]
        return f"<TLSTransport {state} peer={self._peer}>"


# asyncio.Server counts its connections (wait_closed); 3.13 also keeps them (a set).
_SERVER_TAKES_TRANSPORT = len(inspect.signature(
    asyncio.base_events.Server._attach).parameters) > 1  # type: ignore[attr-defined]


def _attach(server: Any, transport: TLSTransport) -> None:
    if _SERVER_TAKES_TRANSPORT:
        server._attach(transport)
    else:
        server._attach()


def _detach(server: Any, transport: TLSTransport) -> None:
    if _SERVER_TAKES_TRANSPORT:
        server._detach(transport)
    else:
        server._detach()


def serve_natively(context: ssl.SSLContext) -> None:
    """Serve connections accepted with ``context`` (a listening context) with
    :class:`TLSTransport` in selector event loops, instead of asyncio's TLS transport."""
    _install()
    _native.add(context)


def _install() -> None:
    cls: Any = asyncio.selector_events.BaseSelectorEventLoop
    if getattr(cls._make_ssl_transport, "_cordon_native", False):
        return
    base = cls._make_ssl_transport

    def _make_ssl_transport(self: Any, rawsock: socket.socket, protocol: Any,
                            sslcontext: ssl.SSLContext, waiter: Any = None, *,
                            server_side: bool = False, server_hostname: str | None = None,
                            extra: dict[str, Any] | None = None, server: Any = None,
                            ssl_handshake_timeout: float | None = None,
                            ssl_shutdown_timeout: float | None = None) -> Any:
        if server_side and sslcontext in _native:
            return TLSTransport(self, rawsock, protocol, sslcontext, waiter, extra=extra,
                                server=server, handshake_timeout=ssl_handshake_timeout,
                                shutdown_timeout=ssl_shutdown_timeout)
        kwargs: dict[str, Any] = {}
        if ssl_handshake_timeout is not None:
            kwargs["ssl_handshake_timeout"] = ssl_handshake_timeout
        if ssl_shutdown_timeout is not None:
            kwargs["ssl_shutdown_timeout"] = ssl_shutdown_timeout
        return base(self, rawsock, protocol, sslcontext, waiter, server_side=server_side,
                    server_hostname=server_hostname, extra=extra, server=server, **kwargs)

    _make_ssl_transport._cordon_native = True  # type: ignore[attr-defined]
    cls._make_ssl_transport = _make_ssl_transport
