"""One WebSocket connection to the hub: TLS, the opening ``welcome``, and the reader task.

The reader never blocks: answers go to the waiting request's future by
``rid``; subscription frames go to the subscription's sink (a plain callback).

Publishes are batched when the hub accepts ``pubs`` (``max_pub_items`` in its
``welcome.limits``, PROTOCOL.md §6.3): the publishes of one channel queued in the same
event-loop step leave as one ``pubs`` frame (at most ``max_pub_items`` alerts; a lone
one as ``pub``), in the order they were queued, and each caller gets the answer for its
own alert (``ack`` or ``err``, as for ``pub``) from the ``acks``. Nothing waits to fill
a batch: with one publish at a time every frame is a ``pub``.

Publishes that sign (:meth:`client.sdk.Client.publish`) first take a turn
(:meth:`Connection.publish_turn`): at most ``pub_chunk`` of them are signed and queued
before what is queued is written, the others wait (in order) until it is. So of many
publishes started at once the first ``pub_chunk`` are on the wire, and the hub checks
and commits them, while the next ones are signed, instead of every one being signed
before anything leaves; and the reader gets a turn (acks) between chunks.
When the connection ends, every pending request fails with
:class:`ConnectionLost` (or :class:`SessionRefused` for final close codes) and
every sink is told so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections import deque
from collections.abc import Callable
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidMessage, InvalidStatus
from websockets.typing import Subprotocol

from client._model import ConnectionLost, HandshakeCut, ProtocolViolation, SessionRefused
from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.errors import CloseCode, ProtocolError
from hub.protocol.limits import MAX_FRAME_BYTES

__all__ = [
    "FINAL_CLOSE_CODES",
    "SUBPROTOCOL",
    "Connection",
    "Lost",
    "Sink",
    "make_tls_context",
    "open_connection",
]

log = logging.getLogger("cordon.client")

SUBPROTOCOL = "cordon.v1"

#: Close codes after which reconnecting cannot help (PROTOCOL.md §7).
FINAL_CLOSE_CODES = frozenset(
    {
        1002,  # subprotocol not offered / protocol error
        1003,
        1007,
        1008,
        CloseCode.PROTOCOL_ABUSE,
        CloseCode.PING_FLOOD,  # the client pings too often: reconnecting would repeat it
        CloseCode.REVOKED,
        CloseCode.IDENTITY,
        CloseCode.WRONG_PURPOSE,
    }
)
#: Our own close code when a subscription's local queue overflows (mirrors the hub's).
LOCAL_SLOW_CONSUMER = int(CloseCode.SLOW_CONSUMER)
#: Publishes signed and queued before they are written (``Client(pub_chunk=...)``).
PUB_CHUNK = 128


class Lost:
    """Sink item: the connection carrying the subscription ended."""

    __slots__ = ("error",)

    def __init__(self, error: ConnectionLost) -> None:
        self.error = error


SinkItem = f.ServerFrame | Lost
#: A subscription's receiver; called synchronously by the reader. Returns False when
#: the subscription cannot take more (local queue full): the connection is then
#: closed like a slow consumer, and every subscription resumes from its last offset.
Sink = Callable[[SinkItem], bool]


def make_tls_context(*, cert: Path, key: Path, ca: Path) -> ssl.SSLContext:
    """TLS 1.3 client context: trusts only ``ca``, presents ``cert``/``key``, checks host names."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=str(ca))
    ctx.load_cert_chain(certfile=str(cert), keyfile=str(key))
    return ctx


def _close_error(code: int | None, reason: str) -> ConnectionLost:
    text = reason or "connection closed by the hub"
    if code in FINAL_CLOSE_CODES:
        return SessionRefused(text, code=code)
    return ConnectionLost(text, code=code)


def _causes(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(out) < 10:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


_HANDSHAKE_CUT = (
    "the hub ended the connection during the TLS handshake: it refused your certificate "
    "(revoked, expired, unknown or from another CA; the hub's audit log says which), so "
    "ask the hub's administrator; or the hub was restarting: try again"
)
_NOT_TLS = (
    "not a TLS server at that address ({where}): check --hub's host and port "
    "(a Cordon hub speaks wss://, TLS 1.3)"
)
#: OpenSSL reasons meaning the peer does not speak TLS (plain HTTP, another protocol).
_NOT_TLS_REASONS = (
    "WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG",
    "UNKNOWN_PROTOCOL", "HTTP_REQUEST", "UNEXPECTED_MESSAGE", "RECORD_TOO_LARGE",
    "TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL",
)  # fmt: skip
#: X.509 verify codes meaning "issued by a CA you did not give" (self-signed in chain,
#: unable to get the local issuer, self-signed leaf, issuer not found).
_FOREIGN_CA_CODES = frozenset({2, 18, 19, 20, 21})
_HOSTNAME_MISMATCH = 62
_EXPIRED = 10


def _where(url: str | None) -> str:
    if not url:
        return "the hub's address"
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "?", parts.port or 443
    except ValueError:
        return url
    return f"{host}:{port}"


def _server_cert_error(cause: ssl.SSLCertVerificationError, where: str) -> SessionRefused:
    code = getattr(cause, "verify_code", None)
    if code in _FOREIGN_CA_CODES:
        return SessionRefused(
            f"the hub's certificate is not from the CA you gave: wrong --ca file, or "
            f"{where} is not the hub you mean ({cause.verify_message})"
        )
    if code == _HOSTNAME_MISMATCH:
        return SessionRefused(
            f"the hub's certificate does not name the host in --hub ({where}): use the "
            "name it was issued for, or give it with --server-name"
        )
    if code == _EXPIRED:
        return SessionRefused(
            "the hub's own certificate has expired: tell the hub's administrator "
            "('cordon ca issue-server')"
        )
    return SessionRefused(f"the hub's certificate is not trusted: {cause.verify_message}")


def classify_open_error(exc: BaseException, url: str | None = None) -> ConnectionLost:
    """Map a failure to open a connection to a retryable or a final error, whose text
    names the cause and what to do next."""
    where = _where(url)
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return _server_cert_error(cause, where)
        if isinstance(cause, ssl.SSLError):
            reason = str(getattr(cause, "reason", None) or "")
            if reason.upper() in _NOT_TLS_REASONS or "WRONG_VERSION" in reason.upper():
                return ConnectionLost(_NOT_TLS.format(where=where))
            if "alert" in reason.lower():
                # The peer sent a TLS alert: our certificate was refused (revoked, unknown
                # CA, wrong purpose, expired). Retrying cannot change that.
                return SessionRefused(
                    f"the hub refused your certificate (TLS alert {reason}: revoked, expired, "
                    "unknown or from another CA): ask the hub's administrator"
                )
            if isinstance(cause, ssl.SSLEOFError):
                return ConnectionLost(
                    f"{where} closed the connection before the TLS handshake finished: not a "
                    "Cordon hub, or the hub was restarting"
                )
        if isinstance(cause, ConnectionClosed):
            code = cause.rcvd.code if cause.rcvd is not None else 1006
            reason = cause.rcvd.reason if cause.rcvd is not None else ""
            return _close_error(code, reason or "hub closed the connection while opening")
        if isinstance(cause, InvalidStatus):
            status = cause.response.status_code
            error = f"{where} answered HTTP {status}: is --hub the hub's wss:// address?"
            if 400 <= status < 500 and status not in (408, 429):
                return SessionRefused(error)
            return ConnectionLost(error)
        if isinstance(cause, InvalidMessage) and isinstance(cause.__cause__, EOFError):
            return HandshakeCut(_HANDSHAKE_CUT)
        if isinstance(cause, InvalidHandshake):
            return SessionRefused(f"{where} is not a Cordon hub (WebSocket handshake: {cause})")
        if isinstance(cause, ConnectionRefusedError):
            return ConnectionLost(
                f"nothing listens at {where} (connection refused): is the hub running, and "
                "are --hub's host and port right?"
            )
        if isinstance(cause, socket.gaierror):
            return ConnectionLost(f"cannot resolve the hub's host name ({where}): check --hub")
        if isinstance(cause, TimeoutError):
            return ConnectionLost(
                f"no answer from {where} in time: a firewall, a wrong address, or a hub "
                "too busy to answer"
            )
    if any(isinstance(c, ConnectionResetError | BrokenPipeError | EOFError) for c in _causes(exc)):
        return ConnectionLost(
            f"{where} closed the connection before the TLS handshake finished: not a "
            "Cordon hub, or the hub was restarting"
        )
    detail = str(exc) or type(exc).__name__
    return ConnectionLost(f"cannot reach the hub at {where}: {detail}")


class Connection:
    """An open, welcomed connection. Build with :func:`open_connection`."""

    def __init__(self, ws: ClientConnection, welcome: f.Welcome, *,
                 pub_chunk: int = PUB_CHUNK) -> None:
        self.ws = ws
        self.welcome = welcome
        self.pending: dict[int, asyncio.Future[f.ServerFrame]] = {}
        #: Subscription sinks by channel (alert, synced, ended) ...
        self.routes: dict[str, Sink] = {}
        #: ... and by the rid of their ``sub`` request (subok, and err after subok).
        self.sub_rids: dict[int, Sink] = {}
        self.error: ConnectionLost | None = None
        self.last_error: f.ErrorFrame | None = None
        self.done = asyncio.Event()
        self._local_close: tuple[int, str] | None = None
        self._closer: asyncio.Task[None] | None = None
        #: Most alerts per ``pubs`` (0: the hub does not take ``pubs``; send ``pub``).
        limit = welcome.limits.get("max_pub_items", 0)
        self.max_pub_items = limit if type(limit) is int and limit >= 2 else 0
        #: The largest frame the hub reads (a ``pubs`` past it would close the connection).
        size = welcome.limits.get("max_frame_bytes", MAX_FRAME_BYTES)
        self.max_frame_bytes = size if type(size) is int and size > 0 else MAX_FRAME_BYTES
        #: Publishes queued in this step, per channel, not yet sent.
        self._queued: dict[str, list[f.Publish]] = {}
        #: rid of a ``pubs`` sent -> the rids of its alerts' publishes, in order.
        self._batches: dict[int, list[int]] = {}
        #: Publish frames leave in the order they were queued (asyncio.Lock is FIFO).
        self._pub_send = asyncio.Lock()
        self._senders: set[asyncio.Task[None]] = set()
        #: ``pubs`` frames sent on this connection (and the alerts they carried).
        self.pubs_sent = 0
        self.pubs_alerts = 0
        #: Signing publishes let through before what is queued is written (publish_turn).
        self.pub_chunk = max(1, pub_chunk)
        #: Publishes queued and not yet written; publish_turn's waiters, in order, and
        #: those of them let through that have not run yet.
        self._unsent = 0
        self._turns: deque[asyncio.Future[None]] = deque()
        self._let_through = 0
        self._reader = asyncio.create_task(self._read_loop(), name="cordon-client-reader")

    @property
    def is_open(self) -> bool:
        return self.error is None

    # --- sending -------------------------------------------------------------
    async def send(self, frame: f.Frame) -> None:
        if self.error is not None:
            raise self.error
        try:
            await self.ws.send(codec.encode(frame))
        except ConnectionClosed:
            await self.done.wait()
            assert self.error is not None
            raise self.error from None

    async def request(self, frame: f.ClientFrame, *, answer_within: float) -> f.ServerFrame:
        """Send a request and wait for the frame answering its ``rid``. A ``pub`` is
        batched with the others of its channel queued in this step (module docstring);
        its answer is still an ``ack`` or an ``err`` with its own ``rid``."""
        rid: int = frame.rid
        future: asyncio.Future[f.ServerFrame] = asyncio.get_running_loop().create_future()
        self.pending[rid] = future
        try:
            if isinstance(frame, f.Publish) and self.max_pub_items:
                self._queue_publish(frame)
            else:
                await self.send(frame)
            async with asyncio.timeout(answer_within):
                return await future
        finally:
            self.pending.pop(rid, None)

    async def publish_turn(self, *, within: float) -> None:
        """Wait, if ``pub_chunk`` publishes are queued and not written yet (or others
        wait before this one), until they are: call it before signing a publish, then
        sign and queue it without awaiting anything in between. ``TimeoutError`` after
        ``within`` seconds (the hub stopped reading: as a request's answer would)."""
        if not self.max_pub_items or self.error is not None or (
                self._unsent + self._let_through < self.pub_chunk and not self._turns):
            return
        turn = asyncio.get_running_loop().create_future()
        self._turns.append(turn)
        try:
            async with asyncio.timeout(within):
                await turn
        finally:
            if turn.done() and not turn.cancelled():
                self._let_through -= 1
            else:  # cancelled while waiting
                with contextlib.suppress(ValueError):
                    self._turns.remove(turn)
                self._next_turns()

    def _next_turns(self) -> None:
        """Let waiting publishes through while fewer than ``pub_chunk`` are unsent."""
        turns = self._turns
        while turns and (self.error is not None
                         or self._unsent + self._let_through < self.pub_chunk):
            turn = turns.popleft()
            if not turn.done():
                turn.set_result(None)
                self._let_through += 1

    def _queue_publish(self, frame: f.Publish) -> None:
        """Queue a publish; the first of its channel in this step starts the task that
        sends them (it runs after the others of this step have joined)."""
        if self.error is not None:
            raise self.error
        queued = self._queued.get(frame.ch)
        if queued is None:
            queued = self._queued[frame.ch] = []
            task = asyncio.get_running_loop().create_task(self._send_queued(frame.ch))
            self._senders.add(task)
            task.add_done_callback(self._senders.discard)
        queued.append(frame)
        self._unsent += 1

    async def _send_queued(self, ch: str) -> None:
        """Send a channel's queued publishes: ``pubs`` of at most ``max_pub_items`` (a
        lone one as ``pub``), after those queued before (FIFO lock). A lost connection
        fails every waiting publish (``_finish``)."""
        queued = self._queued.pop(ch)
        left = len(queued)  # not written yet (publish_turn counts them as unsent)
        try:
            async with self._pub_send:
                for chunk in _pub_chunks(queued, self.max_pub_items, self.max_frame_bytes):
                    if len(chunk) == 1:
                        await self.send(chunk[0])
                    else:
                        rid = chunk[0].rid  # unique while any of its publishes waits
                        self._batches[rid] = [p.rid for p in chunk]
                        self.pubs_sent += 1
                        self.pubs_alerts += len(chunk)
                        await self.send(f.PublishBatch(rid=rid, ch=ch, items=tuple(
                            f.SignedItem(p.alert, p.sig) for p in chunk)))
                    left -= len(chunk)
                    self._unsent -= len(chunk)
                    self._next_turns()
        except ConnectionLost:
            pass  # every waiting publish already failed with it (_finish)
        except Exception as exc:  # pragma: no cover - a bug: the callers must not hang
            for frame in queued:
                future = self.pending.get(frame.rid)
                if future is not None and not future.done():
                    future.set_exception(exc)
        finally:
            self._unsent -= left
            self._next_turns()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self._local_close = (code, reason)
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)
        await self.done.wait()

    def abort_slow_consumer(self) -> None:
        """Close because a local subscription queue is full; everyone resumes after reconnect."""
        if self._local_close is None:
            log.warning("subscription queue full: closing the connection to resume later")
            self._local_close = (LOCAL_SLOW_CONSUMER, "client queue full")
            self._closer = asyncio.get_running_loop().create_task(
                self.ws.close(LOCAL_SLOW_CONSUMER, "client queue full")
            )

    # --- receiving -----------------------------------------------------------
    async def _read_loop(self) -> None:
        error: ConnectionLost
        try:
            while True:
                data = await self.ws.recv()
                self._dispatch(_decode(data))
        except ConnectionClosed as exc:
            error = self._error_for(exc)
        except ProtocolViolation as exc:
            log.error("closing: %s", exc)
            error = ConnectionLost(f"hub sent an invalid frame: {exc}")
            self._local_close = (1002, "invalid frame")
            with contextlib.suppress(Exception):
                await self.ws.close(1002, "invalid frame")
        except Exception as exc:  # pragma: no cover - a bug here must not hang the client
            log.exception("client reader failed")
            error = ConnectionLost(f"client reader failed: {exc!r}")
            with contextlib.suppress(Exception):
                await self.ws.close(1011, "client error")
        self._finish(error)

    def _error_for(self, exc: ConnectionClosed) -> ConnectionLost:
        if self._local_close is not None:
            code, reason = self._local_close
            if code == 1000:
                return ConnectionLost("connection closed by the client", code=code)
            return ConnectionLost(reason, code=code)
        code = exc.rcvd.code if exc.rcvd is not None else 1006
        reason = exc.rcvd.reason if exc.rcvd is not None else ""
        if not reason and self.last_error is not None:
            reason = f"{self.last_error.code} {self.last_error.msg}"
        return _close_error(code, reason)

    def _finish(self, error: ConnectionLost) -> None:
        self.error = error
        for future in self.pending.values():
            if not future.done():
                future.set_exception(error)
        self.pending.clear()
        lost = Lost(error)
        for sink in {id(s): s for s in self.routes.values()}.values():
            sink(lost)
        self.routes.clear()
        self.sub_rids.clear()
        self._next_turns()  # waiting publishes go on, to find the connection lost
        self.done.set()

    def _dispatch(self, frame: f.ServerFrame) -> None:
        if isinstance(frame, f.AlertFrame | f.AlertBatch | f.Synced | f.Ended):
            sink = self.routes.get(frame.ch)
            if sink is None:
                return  # after an unsubscribe, or an ended subscription: nothing waits
            if not sink(frame):
                self.abort_slow_consumer()
            if isinstance(frame, f.Ended):
                self.routes.pop(frame.ch, None)
            return
        if isinstance(frame, f.Welcome):
            raise ProtocolViolation("second welcome frame")
        rid = frame.rid
        if rid is None:
            assert isinstance(frame, f.ErrorFrame)
            self.last_error = frame
            log.warning(
                "hub error on the connection: %s %s %s", frame.code, frame.msg, frame.detail
            )
            return
        rids = self._batches.pop(rid, None)
        if rids is not None:  # the answer to a ``pubs``: each publish gets its own
            self._settle_batch(frame, rids)
            return
        sub_sink = self.sub_rids.get(rid)
        if sub_sink is not None:
            if isinstance(frame, f.ErrorFrame):
                # Refused, or failed after ``subok`` (e.g. history trimmed during catch-up).
                self.sub_rids.pop(rid, None)
                for ch, sink in list(self.routes.items()):
                    if sink is sub_sink:
                        del self.routes[ch]
            sub_sink(frame)
            return
        future = self.pending.get(rid)
        if future is not None and not future.done():
            future.set_result(frame)


    def _settle_batch(self, frame: f.ServerFrame, rids: list[int]) -> None:
        """Hand each publish of a ``pubs`` its answer, as ``ack``/``err`` with its rid."""
        answers: list[f.ServerFrame]
        if isinstance(frame, f.Acks):
            if len(frame.items) != len(rids):
                raise ProtocolViolation("acks does not answer each alert of its pubs")
            answers = [
                f.Ack(rid=r, ch=frame.ch, off=i.off, epoch=i.epoch, dup=i.dup)
                if isinstance(i, f.ItemAck)
                else f.ErrorFrame(rid=r, code=i.code, msg=i.msg, detail=i.detail)
                for r, i in zip(rids, frame.items, strict=True)
            ]
        elif isinstance(frame, f.ErrorFrame):  # the whole frame was refused
            answers = [f.ErrorFrame(rid=r, code=frame.code, msg=frame.msg,
                                    detail=frame.detail) for r in rids]
        else:
            raise ProtocolViolation(f"hub answered pubs with {frame.TYPE!r}")
        for r, answer in zip(rids, answers, strict=True):
            future = self.pending.get(r)
            if future is not None and not future.done():
                future.set_result(answer)


def _decode(data: str | bytes) -> f.ServerFrame:
    if isinstance(data, str):
        raise ProtocolViolation("text message")
    try:
        return codec.decode_server(data)
    except ProtocolError as exc:
        raise ProtocolViolation(str(exc)) from exc


async def open_connection(
    url: str,
    *,
    ssl_context: ssl.SSLContext,
    server_hostname: str | None,
    open_timeout: float,
    pub_chunk: int = PUB_CHUNK,
) -> Connection:
    """Open the WebSocket, read the ``welcome``, start the reader; or raise ConnectionLost."""
    kwargs: dict[str, object] = {}
    if server_hostname is not None:
        kwargs["server_hostname"] = server_hostname
    try:
        ws = await connect(
            url,
            ssl=ssl_context,
            subprotocols=[Subprotocol(SUBPROTOCOL)],
            compression=None,
            max_size=MAX_FRAME_BYTES,
            open_timeout=open_timeout,
            proxy=None,
            user_agent_header="cordon-sdk",
            **kwargs,  # type: ignore[arg-type]
        )
    except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed, EOFError) as exc:
        raise classify_open_error(exc, url) from exc
    try:
        async with asyncio.timeout(open_timeout):
            first = await ws.recv()
        frame = _decode(first)
    except ConnectionClosed as exc:
        raise classify_open_error(exc, url) from exc
    except TimeoutError as exc:
        await ws.close(1002, "no welcome")
        raise ConnectionLost("hub sent no welcome frame") from exc
    except ProtocolViolation:
        await ws.close(1002, "invalid frame")
        raise
    if isinstance(frame, f.ErrorFrame):
        # The hub explains and then closes; report its close code if it arrives quickly.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await ws.wait_closed()
        code = ws.close_code
        raise _close_error(code, f"{frame.code} {frame.msg} {frame.detail}".strip())
    if not isinstance(frame, f.Welcome):
        await ws.close(1002, "expected welcome")
        raise ProtocolViolation(f"expected a welcome frame, got {frame.TYPE!r}")
    return Connection(ws, frame, pub_chunk=pub_chunk)


#: Bytes a ``pubs`` frame spends besides its items' alert and signature bytes (map keys,
#: rid, channel), and per item (array and bin headers): generous upper bounds.
_PUBS_OVERHEAD = 160
_PUBS_ITEM_OVERHEAD = 16


def _pub_chunks(queued: list[f.Publish], max_items: int, max_bytes: int
                ) -> list[list[f.Publish]]:
    """``queued`` in order, cut into runs that each fit one ``pubs`` frame: at most
    ``max_items`` alerts and, encoded, at most ``max_bytes`` (the hub closes a connection
    that sends a larger frame). A publish too large to share a frame goes alone."""
    chunks: list[list[f.Publish]] = []
    chunk: list[f.Publish] = []
    size = _PUBS_OVERHEAD
    for frame in queued:
        item = len(frame.alert) + len(frame.sig) + _PUBS_ITEM_OVERHEAD
        if chunk and (len(chunk) >= max_items or size + item > max_bytes):
            chunks.append(chunk)
            chunk, size = [], _PUBS_OVERHEAD
        chunk.append(frame)
        size += item
    if chunk:
        chunks.append(chunk)
    return chunks
