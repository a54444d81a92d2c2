"""A scriptable stand-in for the hub: real TLS 1.3 mutual auth, real frames, in-memory channels.

It speaks the wire protocol (PROTOCOL.md) through :mod:`hub.protocol` so the
SDK can be tested without the server or a store, including the things a real
hub does rarely: dropping connections at chosen moments, closing with chosen
codes, refusing with chosen errors, sending forged or out-of-order frames.

::

    async with FakeHub(pki) as hub:          # hub.url
        hub.add_channel("stop-iii")
        hub.register(pki.member("de", "ops"))   # directory entry
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.envelope import decode_envelope, key_id
from hub.protocol.errors import (
    AlertIdConflict,
    Conflict,
    CordonError,
    EpochMismatch,
    HistoryGone,
    InvalidFrame,
    NoSuchChannel,
)
from hub.protocol.trust import identity_from_certificate
from tests.pki import Leaf, Pki

__all__ = ["FakeChannel", "FakeHub", "FakeSession"]


@dataclass
class FakeChannel:
    name: str
    epoch: str = field(default_factory=lambda: uuid.uuid4().hex)
    log: list[tuple[bytes, bytes]] = field(default_factory=list)
    ids: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    first: int = 1

    @property
    def head(self) -> int:
        return len(self.log)


class FakeSession:
    def __init__(self, hub: FakeHub, ws: ServerConnection, principal: str) -> None:
        self.hub = hub
        self.ws = ws
        self.principal = principal
        self.subs: set[str] = set()
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def send(self, frame: f.Frame) -> None:
        self.queue.put_nowait(codec.encode(frame))

    def send_raw(self, data: bytes) -> None:
        self.queue.put_nowait(data)

    async def close(self, code: int, reason: str = "") -> None:
        await self.ws.close(code, reason)

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (the client sees 1006)."""
        self.ws.transport.abort()


Hook = Callable[[FakeSession, f.ClientFrame], Awaitable[bool]]


class FakeHub:
    def __init__(self, pki: Pki) -> None:
        self.pki = pki
        self.channels: dict[str, FakeChannel] = {}
        self.certs: dict[str, bytes] = {}
        self.sessions: list[FakeSession] = []
        self.frames: list[f.ClientFrame] = []
        self.connections = 0
        #: Called for every frame before the default handling; return True when handled.
        self.hook: Hook | None = None
        #: Close code to send instead of the welcome (e.g. 4011), for the next connections.
        self.refuse_with: int | None = None
        #: Raw messages to send instead of the welcome (then close with ``refuse_with``).
        self.greeting: list[bytes] | None = None
        #: Opening handshakes to cut (TCP dropped before the HTTP response), as a hub
        #: refusing a certificate or dying mid-handshake does.
        self.cut_handshakes = 0
        self.handshakes_cut = 0
        #: Added to the welcome's ``time`` (to simulate a skewed client clock).
        self.clock_offset_ms = 0
        #: Send history in ``alerts`` frames of up to this many alerts (1: ``alert`` frames).
        self.batch = 1
        self.server: Server | None = None
        self.url = ""
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> FakeHub:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=str(self.pki.ca))
        ctx.load_cert_chain(str(self.pki.server.cert), str(self.pki.server.key))
        self.server = await serve(
            self._handler,
            "127.0.0.1",
            0,
            ssl=ctx,
            subprotocols=["cordon.v1"],  # type: ignore[list-item]
            compression=None,
            process_request=self._maybe_cut,
        )
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"wss://localhost:{port}/"
        return self

    def _maybe_cut(self, ws: ServerConnection, _request: object) -> None:
        if self.cut_handshakes > 0:
            self.cut_handshakes -= 1
            self.handshakes_cut += 1
            ws.transport.abort()

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close(close_connections=True)
        await self.server.wait_closed()

    # --- set-up ---------------------------------------------------------------
    def add_channel(self, name: str) -> FakeChannel:
        channel = FakeChannel(name)
        self.channels[name] = channel
        return channel

    def register(self, leaf: Leaf) -> str:
        """Make a certificate known to the directory; returns its kid."""
        cert = x509.load_pem_x509_certificate(leaf.cert.read_bytes())
        der = cert.public_bytes(serialization.Encoding.DER)
        self.certs[key_id(der)] = der
        return key_id(der)

    def append(self, name: str, alert: bytes, sig: bytes) -> int:
        """Store an alert (no checks) and send it to live subscribers."""
        channel = self.channels[name]
        channel.log.append((alert, sig))
        off = channel.head
        for session in self.sessions:
            if name in session.subs:
                session.send(f.AlertFrame(ch=name, off=off, alert=alert, sig=sig))
        return off

    async def drop_all(self, code: int | None = None, reason: str = "") -> None:
        """Abort every connection (1006), or close them with ``code``."""
        for session in list(self.sessions):
            if code is None:
                session.abort()
            else:
                await session.close(code, reason)

    async def wait_sessions(self, count: int) -> None:
        """Wait (at most 5 s) until ``count`` sessions are open."""
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(lambda: len(self.sessions) >= count)

    # --- connection -------------------------------------------------------------
    async def _handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        der = ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
        identity = identity_from_certificate(x509.load_der_x509_certificate(der))
        self.certs.setdefault(key_id(der), der)
        if self.refuse_with is not None or self.greeting is not None:
            for data in self.greeting or []:
                await ws.send(data)
            if self.refuse_with is not None:  # like the hub: before any other frame
                await ws.close(self.refuse_with, "" if self.greeting else "refused by the fake hub")
            else:
                await ws.wait_closed()
            return
        session = FakeSession(self, ws, identity.principal)
        writer = asyncio.create_task(self._write(session))
        session.send(
            f.Welcome(
                principal=identity.principal,
                member=identity.member,
                admin=identity.admin,
                server="fake",
                time=time.time_ns() // 1_000_000 + self.clock_offset_ms,
                limits={},
            )
        )
        self.sessions.append(session)
        async with self._changed:
            self._changed.notify_all()
        try:
            async for message in ws:
                assert isinstance(message, bytes)
                frame = codec.decode_client(message)
                self.frames.append(frame)
                if self.hook is not None and await self.hook(session, frame):
                    continue
                try:
                    self._answer(session, frame)
                except CordonError as exc:
                    session.send(
                        f.ErrorFrame(
                            rid=frame.rid, code=exc.code, msg=exc.phrase, detail=exc.detail
                        )
                    )
        except ConnectionClosed:
            pass
        finally:
            self.sessions.remove(session)
            session.queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _write(self, session: FakeSession) -> None:
        with contextlib.suppress(ConnectionClosed):
            while (data := await session.queue.get()) is not None:
                await session.ws.send(data)

    def _channel(self, name: str) -> FakeChannel:
        channel = self.channels.get(name)
        if channel is None:
            raise NoSuchChannel()
        return channel

    def _answer(self, session: FakeSession, frame: f.ClientFrame) -> None:
        match frame:
            case f.Publish():
                channel = self._channel(frame.ch)
                env = decode_envelope(frame.alert)
                known = channel.ids.get(env.id)
                if known is not None:
                    if known[1] != frame.alert:
                        raise AlertIdConflict(f"offset {known[0]}")
                    session.send(
                        f.Ack(
                            rid=frame.rid, ch=frame.ch, off=known[0], epoch=channel.epoch, dup=True
                        )
                    )
                    return
                off = self.append(frame.ch, frame.alert, frame.sig)
                channel.ids[env.id] = (off, frame.alert)
                session.send(
                    f.Ack(rid=frame.rid, ch=frame.ch, off=off, epoch=channel.epoch, dup=False)
                )
            case f.Subscribe():
                channel = self._channel(frame.ch)
                if frame.ch in session.subs:
                    raise Conflict("already subscribed")
                if frame.epoch is not None and frame.epoch != channel.epoch:
                    raise EpochMismatch(channel.epoch)
                since = channel.head if frame.since is None else frame.since
                if since > channel.head:
                    raise InvalidFrame("since is beyond the channel's last offset")
                if since < channel.first - 1:
                    raise HistoryGone(f"first retained offset is {channel.first}")
                session.send(
                    f.Subscribed(
                        rid=frame.rid,
                        ch=frame.ch,
                        epoch=channel.epoch,
                        first=channel.first,
                        head=channel.head,
                    )
                )
                for start in range(since + 1, channel.head + 1, self.batch):
                    items = tuple(f.PageItem(off, *channel.log[off - 1]) for off in
                                  range(start, min(start + self.batch, channel.head + 1)))
                    if len(items) == 1:
                        session.send(f.AlertFrame(frame.ch, *dataclasses.astuple(items[0])))
                    else:
                        session.send(f.AlertBatch(ch=frame.ch, items=items))
                session.send(f.Synced(ch=frame.ch, off=channel.head))
                session.subs.add(frame.ch)
            case f.Unsubscribe():
                if frame.ch not in session.subs:
                    raise Conflict("not subscribed")
                session.subs.discard(frame.ch)
                session.send(f.Unsubscribed(rid=frame.rid, ch=frame.ch))
            case f.HistoryRequest():
                channel = self._channel(frame.ch)
                end = channel.head if frame.before is None else min(frame.before - 1, channel.head)
                start = max(channel.first, end - frame.limit + 1)
                items = tuple(
                    f.PageItem(off, *channel.log[off - 1]) for off in range(start, end + 1)
                )
                session.send(
                    f.HistoryPage(
                        rid=frame.rid,
                        ch=frame.ch,
                        epoch=channel.epoch,
                        items=items,
                        more=start > channel.first,
                    )
                )
            case f.DirectoryRequest():
                certs = {kid: self.certs[kid] for kid in frame.kids if kid in self.certs}
                session.send(f.Directory(rid=frame.rid, certs=certs))
            case f.ChannelsRequest():
                chans = tuple(
                    f.ChannelInfo(
                        ch=c.name,
                        title=c.name,
                        role="contributor",
                        state="open",
                        head=c.head,
                        epoch=c.epoch,
                    )
                    for c in self.channels.values()
                )
                session.send(f.ChannelsResult(rid=frame.rid, chans=chans))
            case _:
                raise InvalidFrame("not supported by the fake hub")
