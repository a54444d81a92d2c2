"""Speaking the wire protocol by hand, for tests that must see exactly what the hub sends.

The SDK hides duplicates, retries and reconnects; these helpers hide nothing.
:class:`Raw` is one WebSocket connection (real TLS, the harness's CA) that
sends :mod:`hub.protocol.frames` and hands back every decoded frame in order.

::

    async with Raw.open(h, leaf) as c:        # welcome already read: c.welcome
        await c.send(f.Subscribe(rid=1, ch="stop-iii", since=0))
        frame = await c.recv()                # the next frame, decoded
        ack = await c.request(f.Publish(rid=c.rid(), ...))   # the frame answering that rid
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import itertools
import os
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.envelope import Envelope, encode_envelope, key_id, sign_alert
from tests.harness import HubHarness, client_context
from tests.pki import Leaf

__all__ = [
    "CH",
    "FAT",
    "WAIT",
    "Raw",
    "Signer",
    "alerts_of",
    "cast",
    "close_code",
    "connect_raw",
    "eventually",
    "flatten_causes",
    "follow",
    "log_len",
    "notice",
    "pipeline",
    "tls_probe",
    "tls_refusal",
]

#: Generous bound for anything the hub should do "at once" (never a speed assertion).
WAIT = 20.0


async def echo_round_trip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                          sizes: Iterable[int]) -> None:
    """Write random chunks of ``sizes`` bytes (draining after each) while reading what
    an echo server sends back; every byte comes back, in order (SHA-256 of both)."""
    sent, got = hashlib.sha256(), hashlib.sha256()
    total = 0

    async def send() -> None:
        nonlocal total
        for size in sizes:
            chunk = os.urandom(size)
            sent.update(chunk)
            total += len(chunk)
            writer.write(chunk)
            await writer.drain()

    sender = asyncio.create_task(send())
    received = 0
    while not sender.done() or received < total:
        data = await reader.read(65536)
        assert data
        got.update(data)
        received += len(data)
    await sender
    assert received == total and got.digest() == sent.digest()


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = WAIT,
                     interval: float = 0.02) -> None:
    """Poll ``check`` (sync or async) until it is true; fail after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await asyncio.sleep(interval)


def flatten_causes(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        cur = todo.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        out.append(cur)
        if isinstance(cur, BaseExceptionGroup):
            todo.extend(cur.exceptions)
        for nxt in (cur.__cause__, cur.__context__):
            if nxt is not None:
                todo.append(nxt)
    return out


def close_code(exc: ConnectionClosed) -> int | None:
    """The close code the hub sent (None if the connection dropped without one)."""
    return exc.rcvd.code if exc.rcvd is not None else None


@asynccontextmanager
async def connect_raw(
    h: HubHarness,
    leaf: Leaf | None,
    *,
    ssl_context: ssl.SSLContext | None = None,
    subprotocols: list[str] | None = None,
    **kwargs: Any,
) -> AsyncIterator[ClientConnection]:
    """A bare websockets connection to the hub (nothing read yet)."""
    ctx = ssl_context if ssl_context is not None else client_context(h.pki, leaf)
    protos = [h.subprotocol] if subprotocols is None else subprotocols
    ws = await connect(
        h.url,
        ssl=ctx,
        server_hostname="localhost",
        subprotocols=[Subprotocol(p) for p in protos] or None,
        compression=None,
        open_timeout=WAIT,
        close_timeout=1,
        proxy=None,
        **kwargs,
    )
    try:
        yield ws
    finally:
        await ws.close()


def notice(text: str) -> dict[str, Any]:
    """A valid ``notice`` body (the alert schema's smallest record)."""
    return {"schema": 1, "handling": "H1", "text": text}


#: A valid body of about 27 KB (9,000 three-byte characters): fills buffers quickly.
FAT = {"schema": 1, "handling": "H1", "text": "\u20ac" * 9000}


class Signer:
    """Builds and signs envelopes with a leaf's own key, any field overridable."""

    def __init__(self, leaf: Leaf) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        cert = x509.load_pem_x509_certificate(leaf.cert.read_bytes())
        key = serialization.load_pem_private_key(leaf.key.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        self.key = key
        self.kid = key_id(cert.public_bytes(serialization.Encoding.DER))
        assert leaf.principal is not None
        self.principal = leaf.principal
        self._ids = itertools.count(1)

    def envelope(self, ch: str, **changes: Any) -> Envelope:
        n = next(self._ids)
        fields: dict[str, Any] = {
            "id": f"{self.principal.replace('/', '-')}-{n}-{time.time_ns()}",
            "channel": ch,
            "sender": self.principal,
            "kid": self.kid,
            "ts": time.time_ns() // 1_000_000,
            "kind": "notice",
            "body": notice(f"alert {n}"),
        }
        fields.update(changes)
        return Envelope(**fields)

    def sign(self, ch: str, **changes: Any) -> tuple[bytes, bytes]:
        alert = encode_envelope(self.envelope(ch, **changes))
        return alert, sign_alert(self.key, alert)


class Raw:
    """One hand-driven connection. ``recv`` returns frames in arrival order, an ``alerts``
    batch as the ``alert`` frames it stands for (``recv_frame``: frames as sent)."""

    def __init__(self, ws: ClientConnection, welcome: f.Welcome) -> None:
        self.ws = ws
        self.welcome = welcome
        self._rids = itertools.count(1)
        self._split: collections.deque[f.AlertFrame] = collections.deque()
        self.batches = 0  # ``alerts`` frames received

    @classmethod
    @asynccontextmanager
    async def open(cls, h: HubHarness, leaf: Leaf, **kwargs: Any) -> AsyncIterator[Raw]:
        async with connect_raw(h, leaf, **kwargs) as ws:
            async with asyncio.timeout(WAIT):
                first = codec.decode_server(await ws.recv())  # type: ignore[arg-type]
            assert isinstance(first, f.Welcome), first
            yield cls(ws, first)

    def rid(self) -> int:
        return next(self._rids)

    async def send(self, frame: f.Frame) -> None:
        await self.ws.send(codec.encode(frame))

    async def send_bytes(self, data: bytes | str) -> None:
        await self.ws.send(data)

    async def recv(self, timeout: float = WAIT) -> f.ServerFrame:
        if self._split:
            return self._split.popleft()
        frame = await self.recv_frame(timeout)
        if isinstance(frame, f.AlertBatch):
            self.batches += 1
            self._split.extend(frame.frames())
            return self._split.popleft()
        return frame

    async def recv_frame(self, timeout: float = WAIT) -> f.ServerFrame:
        """The next frame as the hub sent it (an ``alerts`` batch whole)."""
        assert not self._split, "alerts of a batch not read yet"
        async with asyncio.timeout(timeout):
            data = await self.ws.recv()
        assert isinstance(data, bytes), "the hub sent a text message"
        return codec.decode_server(data)

    async def request(self, frame: f.ClientFrame) -> f.ServerFrame:
        """Send ``frame``; return the frame answering its rid (others are not expected)."""
        await self.send(frame)
        answer = await self.recv()
        assert getattr(answer, "rid", None) == frame.rid, answer
        return answer

    async def publish(self, ch: str, alert: bytes, sig: bytes) -> f.ServerFrame:
        return await self.request(f.Publish(rid=self.rid(), ch=ch, alert=alert, sig=sig))

    async def closed(self, timeout: float = WAIT) -> ConnectionClosed:
        """Read (and drop) frames until the hub closes; return the closing exception."""
        return (await self.until_closed(timeout))[1]

    async def until_closed(self, timeout: float = WAIT
                           ) -> tuple[list[f.ServerFrame], ConnectionClosed]:
        """Read frames until the hub closes; return them and the closing exception."""
        frames: list[f.ServerFrame] = []
        async with asyncio.timeout(timeout):
            while True:
                try:
                    frames.append(await self.recv())
                except ConnectionClosed as exc:
                    return frames, exc


def tls_refusal(h: HubHarness, leaf: Leaf | None, *, ssl_context: ssl.SSLContext | None = None
                ) -> str | None:
    """Open a blocking TLS connection to the hub and ask for a WebSocket upgrade; return
    None if the hub let the handshake through (it answered the HTTP request), else what
    the client saw instead (see :func:`tls_probe`). Blocking: run it in a thread."""
    ctx = ssl_context if ssl_context is not None else client_context(h.pki, leaf)
    return tls_probe(h.port, ctx)


def tls_probe(port: int, ctx: ssl.SSLContext) -> str | None:
    """Blocking TLS connection to 127.0.0.1:``port`` sending a WebSocket upgrade request.

    None when the server answered (``HTTP/1.1 101``); otherwise "connection dropped", or
    the TLS alert's reason if one arrived. Blocking on purpose: in TLS 1.3 the client's
    handshake completes before the server has judged the client's certificate, so a
    refusal shows only on the first read, and asyncio's TLS transport reports it as a
    bare EOF. (The hub's asyncio drops the connection without flushing its alert, so the
    reason is read on the hub's side; see test_tls_refusals.)
    """
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock, \
            ctx.wrap_socket(sock, server_hostname="localhost") as tls:
        try:
            tls.sendall(
                b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: cordon.v1\r\n\r\n"
            )
            reply = tls.recv(4096)
        except ssl.SSLError as exc:
            return str(exc.reason)
        except ConnectionResetError:
            return "connection dropped"
        if not reply:
            return "connection dropped"
        assert reply.startswith(b"HTTP/1.1 101"), reply[:200]
        return None


CH = "stop-iii"


async def cast(h: HubHarness) -> dict[str, Leaf]:
    """The usual cast: fr/ops and de/zoll contribute to ``stop-iii``, it/gdf reads it,
    nl/fiod is a registered member with no role in it."""
    leaves = {
        "fr": await h.member("fr", "ops", sync=False),
        "de": await h.member("de", "zoll", sync=False),
        "it": await h.member("it", "gdf", sync=False),
        "nl": await h.member("nl", "fiod", sync=False),
    }
    await h.sync()
    await h.channel(CH, {"fr": "contributor", "de": "contributor", "it": "reader"})
    return leaves


async def log_len(h: HubHarness, ch: str = CH) -> int:
    """XLEN of the channel's stream, straight from the store."""
    from hub.storage import _log_key

    n: int = await h.store._r.xlen(_log_key(ch))
    return n


async def pipeline(c: Raw, ch: str, signed: list[tuple[bytes, bytes]]) -> list[f.Ack]:
    """Send every publish at once, then read the answers; return the acks in send order."""
    rids = []
    for alert, sig in signed:
        rid = c.rid()
        rids.append(rid)
        await c.send(f.Publish(rid=rid, ch=ch, alert=alert, sig=sig))
    answers: dict[int, f.ServerFrame] = {}
    while len(answers) < len(rids):
        frame = await c.recv()
        answered = getattr(frame, "rid", None)
        assert answered in rids, frame
        answers[answered] = frame
    acks = [answers[rid] for rid in rids]
    assert all(isinstance(a, f.Ack) for a in acks), [a for a in acks if not isinstance(a, f.Ack)]
    return acks  # type: ignore[return-value]


async def follow(c: Raw, ch: str, last: int) -> list[f.ServerFrame]:
    """Read a subscription's frames until the alert at offset ``last``; return them all
    (alerts and ``synced``; anything else fails the test)."""
    frames: list[f.ServerFrame] = []
    while True:
        frame = await c.recv()
        assert isinstance(frame, f.AlertFrame | f.Synced) and frame.ch == ch, frame
        frames.append(frame)
        if isinstance(frame, f.AlertFrame) and frame.off >= last:
            return frames


def alerts_of(frames: list[f.ServerFrame]) -> list[f.AlertFrame]:
    return [fr for fr in frames if isinstance(fr, f.AlertFrame)]
