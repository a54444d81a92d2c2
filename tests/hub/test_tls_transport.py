"""hub.tlstransport: the hub's TLS transport (a non-blocking OpenSSL socket on the
selector) against real TLS clients — ordering and integrity through partial writes,
flow control both ways, a peer closing mid-record, stalled and refused handshakes,
close (buffer first, then close_notify, bounded) and abort. The hub's own tests (TLS
refusals, revocation, slow consumers, shutdown) run on it too."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from hub import tlstransport
from hub.tls import build_context
from hub.tlstransport import TLSTransport, serve_natively
from hub.wsconn import on_tls_refusal
from tests.harness import client_context
from tests.hub.wire import echo_round_trip, eventually
from tests.pki import Pki, make_pki

MiB = 1024 * 1024


class Recorder(asyncio.Protocol):
    """Records what the transport tells it; ``on_made`` runs at connection_made."""

    def __init__(self, on_made: Callable[[Any], None] | None = None,
                 echo: bool = False) -> None:
        loop = asyncio.get_running_loop()
        self.events: list[Any] = []
        self.data = bytearray()
        self.made: asyncio.Future[Any] = loop.create_future()
        self.lost: asyncio.Future[BaseException | None] = loop.create_future()
        self.transport: Any = None
        self.on_made = on_made
        self.echo = echo

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.events.append("made")
        self.made.set_result(transport)
        if self.on_made is not None:
            self.on_made(transport)

    def data_received(self, data: bytes) -> None:
        self.data += data
        if self.echo:
            self.transport.write(data)

    def eof_received(self) -> None:
        self.events.append("eof")

    def pause_writing(self) -> None:
        self.events.append("pause")

    def resume_writing(self) -> None:
        self.events.append("resume")

    def connection_lost(self, exc: BaseException | None) -> None:
        self.events.append(("lost", exc))
        assert not self.lost.done(), "connection_lost twice"
        self.lost.set_result(exc)


class Native:
    def __init__(self, pki: Pki, ctx: ssl.SSLContext, port: int, protos: list[Recorder],
                 refusals: list[tuple[Any, ssl.SSLError]]) -> None:
        self.pki, self.ctx, self.port = pki, ctx, port
        self.protos, self.refusals = protos, refusals
        self.leaf = pki.member("fr", "ops")

    def client_ctx(self) -> ssl.SSLContext:
        return client_context(self.pki, self.leaf)

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port, ssl=self.client_ctx(),
                                             server_hostname="127.0.0.1")


@asynccontextmanager
async def native(tmp_path: Path, *, handshake_timeout: float = 10.0,
                 shutdown_timeout: float = 5.0, **proto: Any) -> AsyncIterator[Native]:
    pki = make_pki(tmp_path)
    ctx = build_context(ca_cert=pki.ca, crl=None, server_cert=pki.server.cert,
                        server_key=pki.server.key)
    serve_natively(ctx)
    refusals: list[tuple[Any, ssl.SSLError]] = []
    on_tls_refusal(ctx, lambda peer, exc: refusals.append((peer, exc)))
    protos: list[Recorder] = []

    def factory() -> Recorder:
        p = Recorder(**proto)
        protos.append(p)
        return p

    loop = asyncio.get_running_loop()
    srv = await loop.create_server(factory, "127.0.0.1", 0, ssl=ctx,
                                   ssl_handshake_timeout=handshake_timeout,
                                   ssl_shutdown_timeout=shutdown_timeout)
    try:
        yield Native(pki, ctx, srv.sockets[0].getsockname()[1], protos, refusals)
    finally:
        for p in protos:
            if p.transport is not None:
                p.transport.abort()
        srv.close()
        await srv.wait_closed()


async def made(n: Native, index: int = 0) -> Recorder:
    await eventually(lambda: len(n.protos) > index, 10)
    async with asyncio.timeout(10):
        await n.protos[index].made
    return n.protos[index]


async def test_the_hub_context_gets_this_transport_and_others_keep_asyncios(
        tmp_path: Path) -> None:
    async with native(tmp_path) as n:
        _reader, writer = await n.open()
        p = await made(n)
        assert isinstance(p.transport, TLSTransport)
        ssl_object = p.transport.get_extra_info("ssl_object")
        assert ssl_object.version() == "TLSv1.3"
        der = ssl_object.getpeercert(binary_form=True)
        assert der and der == ssl.PEM_cert_to_DER_cert(
            n.leaf.cert.read_text())
        assert p.transport.get_extra_info("peername") == writer.get_extra_info("sockname")
        assert p.transport.get_extra_info("sockname")[1] == n.port
        assert p.transport.get_extra_info("peercert") is None
        writer.close()
    # a context not registered: asyncio's own transport
    other = build_context(ca_cert=n.pki.ca, crl=None, server_cert=n.pki.server.cert,
                          server_key=n.pki.server.key)
    got: list[Any] = []

    async def handler(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        got.append(w.transport)
        w.close()

    srv = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=other)
    port = srv.sockets[0].getsockname()[1]
    _r, w = await asyncio.open_connection("127.0.0.1", port, ssl=n.client_ctx(),
                                          server_hostname="127.0.0.1")
    await eventually(lambda: bool(got), 10)
    assert not isinstance(got[0], TLSTransport)
    w.close()
    srv.close()
    await srv.wait_closed()


async def test_many_connections_echo_through_one_read_buffer_without_mixing(
        tmp_path: Path) -> None:
    async with native(tmp_path, echo=True) as n:

        async def one(i: int) -> None:
            reader, writer = await n.open()
            # below and above a record
            await echo_round_trip(reader, writer, (7000 * (1 + (i + k) % 9) for k in range(30)))
            writer.close()

        async with asyncio.timeout(60):
            await asyncio.gather(*(one(i) for i in range(12)))
    assert len(n.protos) == 12
    # one read buffer for the loop, whatever the number of connections
    assert len(tlstransport._buffers[asyncio.get_running_loop()]) == tlstransport.READ_SIZE


async def test_partial_writes_keep_order_and_flow_control_pauses_and_resumes(
        tmp_path: Path) -> None:
    """Writes far beyond what the socket takes: OpenSSL's want-write, retried with the same
    bytes, while later writes queue behind; pause_writing past the high-water mark,
    resume_writing once drained; every byte arrives, in order."""
    chunks = [os.urandom(1 + (k * 7919) % (300 * 1024)) for k in range(40)]
    expect = hashlib.sha256(b"".join(chunks)).digest()
    total = sum(map(len, chunks))

    def write_all(t: Any) -> None:
        t.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        t.set_write_buffer_limits(high=256 * 1024)
        for c in chunks:
            t.write(c)

    async with native(tmp_path, on_made=write_all) as n:
        reader, writer = await n.open()
        p = await made(n)
        await asyncio.sleep(0.3)  # the client does not read yet: the socket fills
        assert p.transport.get_write_buffer_size() > 256 * 1024
        assert p.events == ["made", "pause"]
        got = hashlib.sha256()
        received = 0
        async with asyncio.timeout(30):
            while received < total:
                data = await reader.read(256 * 1024)
                assert data
                got.update(data)
                received += len(data)
        assert received == total and got.digest() == expect
        assert p.transport.get_write_buffer_size() == 0
        assert p.events == ["made", "pause", "resume"]
        assert p.transport._buf is None  # nothing kept once drained
        writer.close()


async def test_pause_reading_holds_the_peer_and_resume_delivers_it_all(
        tmp_path: Path) -> None:
    async with native(tmp_path, on_made=lambda t: t.pause_reading()) as n:
        _reader, writer = await n.open()
        p = await made(n)
        assert not p.transport.is_reading()
        payload = os.urandom(3 * MiB)
        writer.write(payload)
        drained = asyncio.create_task(writer.drain())
        await asyncio.sleep(0.5)
        assert len(p.data) == 0  # held
        p.transport.resume_reading()
        assert p.transport.is_reading()
        async with asyncio.timeout(30):
            await drained
        await eventually(lambda: len(p.data) >= len(payload), 30)
        assert bytes(p.data) == payload
        writer.close()


def _client_handshake(sock: socket.socket, ctx: ssl.SSLContext
                      ) -> tuple[ssl.SSLObject, ssl.MemoryBIO]:
    """A TLS client on memory BIOs over a blocking socket (so the test controls every
    byte sent)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            if outgoing.pending:
                sock.sendall(outgoing.read())
            data = sock.recv(65536)
            assert data
            incoming.write(data)
    if outgoing.pending:
        sock.sendall(outgoing.read())
    return obj, outgoing


async def test_a_peer_closing_mid_record_is_an_eof_and_delivers_nothing_of_it(
        tmp_path: Path) -> None:
    async with native(tmp_path) as n:
        ctx = n.client_ctx()

        def client() -> None:
            with socket.create_connection(("127.0.0.1", n.port), timeout=10) as sock:
                obj, outgoing = _client_handshake(sock, ctx)
                obj.write(b"whole")
                sock.sendall(outgoing.read())
                obj.write(os.urandom(5000))
                record = outgoing.read()
                sock.sendall(record[: len(record) // 2])  # then the TCP connection ends

        await asyncio.to_thread(client)
        p = await made(n)
        async with asyncio.timeout(10):
            exc = await p.lost
        assert exc is None
        assert bytes(p.data) == b"whole"
        assert p.events == ["made", "eof", ("lost", None)]
        assert not n.refusals


async def test_a_stalled_handshake_is_dropped_at_the_timeout_and_is_no_refusal(
        tmp_path: Path) -> None:
    async with native(tmp_path, handshake_timeout=0.5) as n:
        hello = ssl.MemoryBIO()
        obj = n.client_ctx().wrap_bio(ssl.MemoryBIO(), hello, server_hostname="127.0.0.1")
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        client_hello = hello.read()

        def stall(first: bytes) -> float:
            with socket.create_connection(("127.0.0.1", n.port), timeout=10) as sock:
                sock.sendall(first)  # nothing, or part of a ClientHello; then silence
                t0 = time.monotonic()
                try:
                    assert sock.recv(65536) == b""  # the server closes it
                except ConnectionResetError:
                    pass
                return time.monotonic() - t0

        for first in (b"", client_hello[:20]):
            waited = await asyncio.to_thread(stall, first)
            assert 0.3 < waited < 5.0
        assert not n.refusals  # a timeout is not a refusal (as with asyncio's transport)
        assert all(not p.made.done() and p.events == [] for p in n.protos)


async def test_a_refused_handshake_is_reported_and_never_reaches_the_protocol(
        tmp_path: Path) -> None:
    async with native(tmp_path) as n:
        no_cert = client_context(n.pki, None)

        async def attempt(ctx: ssl.SSLContext | None, data: bytes = b"") -> None:
            try:
                r, w = await asyncio.open_connection(
                    "127.0.0.1", n.port, ssl=ctx,
                    server_hostname="127.0.0.1" if ctx else None)
                if data:
                    w.write(data)
                await asyncio.wait_for(r.read(), 10)  # TLS 1.3: refused after the client's
            except (ssl.SSLError, ConnectionError):  # handshake
                pass

        await attempt(no_cert)
        await attempt(None, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # not TLS at all
        await eventually(lambda: len(n.refusals) >= 2, 10)
        reasons = sorted(str(exc.reason) for _peer, exc in n.refusals)
        assert "PEER_DID_NOT_RETURN_A_CERTIFICATE" in reasons
        assert all(peer[0] == "127.0.0.1" for peer, _exc in n.refusals)
        assert all(p.events == [] for p in n.protos)
        # a plain TCP connect and close is not a refusal either
        with socket.create_connection(("127.0.0.1", n.port)):
            pass
        await asyncio.sleep(0.3)
        assert len(n.refusals) == 2


async def test_close_sends_the_buffer_then_close_notify(tmp_path: Path) -> None:
    payload = os.urandom(4 * MiB)

    def write_and_close(t: Any) -> None:
        t.write(payload)
        t.close()
        assert t.is_closing()
        t.write(b"dropped after close")

    async with native(tmp_path, on_made=write_and_close) as n:
        reader, writer = await n.open()
        async with asyncio.timeout(30):
            data = await reader.read()  # up to the close_notify: a clean EOF
        assert data == payload
        p = await made(n)
        async with asyncio.timeout(10):
            assert await p.lost is None
        writer.close()


async def test_close_is_bounded_when_the_peer_never_reads(tmp_path: Path) -> None:
    def write_and_close(t: Any) -> None:
        t.write(os.urandom(8 * MiB))
        t.close()

    async with native(tmp_path, shutdown_timeout=0.5, on_made=write_and_close) as n:
        _reader, writer = await n.open()  # and never reads
        p = await made(n)
        async with asyncio.timeout(5):
            assert await p.lost is None
        assert p.transport.get_write_buffer_size() == 0
        writer.close()


async def test_abort_closes_at_once(tmp_path: Path) -> None:
    async with native(tmp_path) as n:
        reader, writer = await n.open()
        p = await made(n)
        p.transport.write(os.urandom(4 * MiB))
        p.transport.abort()
        assert p.transport.is_closing()
        async with asyncio.timeout(5):
            assert await p.lost is None
            try:
                while await reader.read(MiB):
                    pass
            except (ConnectionError, ssl.SSLError):
                pass
        writer.close()


async def test_the_peers_eof_and_its_reset_reach_the_protocol(tmp_path: Path) -> None:
    async with native(tmp_path) as n:
        _reader, writer = await n.open()
        writer.write(b"bye")
        await writer.drain()
        writer.close()  # close_notify, then FIN
        p = await made(n)
        async with asyncio.timeout(10):
            assert await p.lost is None
        assert bytes(p.data) == b"bye" and p.events == ["made", "eof", ("lost", None)]

        _reader, writer = await n.open()
        p = await made(n, 1)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()  # RST
        async with asyncio.timeout(10):
            await p.lost
        assert p.events[0] == "made" and p.events[-1][0] == "lost"
