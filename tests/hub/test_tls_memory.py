"""Memory per idle connection (issue #6, W4): what the hub keeps per connection.

- asyncio's TLS read buffer is one per event loop, shared by its connections
  (``hub.wsconn.use_small_tls_read_buffers``): bytes must never cross connections, however
  many read at once in both directions.
- The keepalive runs on timers (no task per connection) and the queues of an idle
  connection hold no deque while empty (``hub.lazydeque``).
- The hub's context issues no TLS 1.3 session tickets: with ``OP_NO_TICKET`` alone OpenSSL
  sends two *stateful* tickets per handshake and keeps both sessions in the context's
  cache (memory after the connection is gone, and a resumption that skips the client
  certificate); ``num_tickets = 0`` sends none.
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import gc
import ssl
from pathlib import Path
from typing import Any

from hub.lazydeque import LazyDeque
from hub.protocol import frames as f
from hub.registry import Authenticated
from hub.tls import build_context
from hub.tlstransport import TLSTransport
from hub.wsconn import TLS_READ_BUFFER, CoalescingConnection, use_small_tls_read_buffers
from tests.harness import HubHarness, client_context
from tests.hub.conftest import MakeHub
from tests.hub.wire import CH, Raw, Signer, cast, echo_round_trip, eventually
from tests.pki import Pki, make_pki

CONNS = 20
CHUNKS = 40


def _server_context(tmp_path: Path) -> tuple[Pki, ssl.SSLContext]:
    pki = make_pki(tmp_path)
    server = build_context(ca_cert=pki.ca, crl=None, server_cert=pki.server.cert,
                           server_key=pki.server.key)
    return pki, server


async def test_connections_share_one_read_buffer_and_never_mix_bytes(tmp_path: Path) -> None:
    use_small_tls_read_buffers()
    pki, server_ctx = _server_context(tmp_path)
    client_ctx = client_context(pki, pki.member("fr", "ops"))
    protocols: list[Any] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        transport: Any = writer.transport
        protocols.append(transport._ssl_protocol)
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    srv = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=server_ctx)
    port = srv.sockets[0].getsockname()[1]

    async def one(n: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx,
                                                       server_hostname="127.0.0.1")
        # sizes around and above the buffer, so reads fill it and span records
        await echo_round_trip(reader, writer, (TLS_READ_BUFFER // 3 * (1 + (i + n) % 5)
                                               for i in range(CHUNKS)))
        writer.close()
        await writer.wait_closed()

    try:
        await asyncio.gather(*(one(n) for n in range(CONNS)))
    finally:
        srv.close()
        await srv.wait_closed()
    assert len(protocols) == CONNS
    buffers = {id(p._ssl_buffer) for p in protocols}
    assert len(buffers) == 1
    assert len(protocols[0]._ssl_buffer) == TLS_READ_BUFFER


async def test_no_session_tickets_so_nothing_cached_per_connection(tmp_path: Path) -> None:
    pki, server_ctx = _server_context(tmp_path)
    assert server_ctx.num_tickets == 0
    client_ctx = client_context(pki, pki.member("fr", "ops"))

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.close()

    srv = await asyncio.start_server(hold, "127.0.0.1", 0, ssl=server_ctx)
    port = srv.sockets[0].getsockname()[1]
    try:
        for _ in range(3):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=client_ctx, server_hostname="127.0.0.1")
            writer.write(b"x")
            await reader.read(1)  # the server's close: any ticket would have come before it
            ssl_object = writer.get_extra_info("ssl_object")
            assert ssl_object.session is None or not ssl_object.session.has_ticket
            writer.close()
    finally:
        srv.close()
        await srv.wait_closed()
    stats = server_ctx.session_stats()
    assert stats["accept_good"] == 3 and stats["number"] == 0


async def test_an_open_session_keeps_no_handshake_leftovers(h: HubHarness) -> None:
    """What W4 measures: after the opening handshake the hub drops websockets' response
    and the request's headers, asyncio's decoded peer certificate, and the parsed
    certificate the handler authenticated with — and the connection still works."""
    fr = (await cast(h))["fr"]
    async with Raw.open(h, fr) as c:
        assert h.hub is not None
        session = next(iter(h.hub.sessions["fr/ops"]))
        ws = session.ws
        assert ws.response is None
        assert ws.request is not None and len(ws.request.headers) == 0
        assert ws.transport.get_extra_info("peercert") is None
        assert ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
        gc.collect()
        assert not [o for o in gc.get_objects() if isinstance(o, Authenticated)]
        alert, sig = Signer(fr).sign(CH)
        ack = await c.publish(CH, alert, sig)
        assert isinstance(ack, f.Ack) and ack.off == 1


async def test_an_idle_connection_keeps_alive_without_a_task_or_empty_deques(
        make_hub: MakeHub) -> None:
    """W4, issue 17: the keepalive runs on timers, not a task per connection; the
    queues an idle connection holds (websockets' frames and drain waiters, asyncio's TLS
    write backlog, the session's send queue and in-flight slots' waiters) hold no deque
    while empty; websockets'
    connection and asyncio's TLS protocol keep their attributes in slots, not a dict.
    The keepalive still pings and reads the pongs; the connection stays open and works."""
    h = await make_hub(ping_interval_s=0.05, idle_timeout_s=5.0)
    fr = (await cast(h))["fr"]
    async with Raw.open(h, fr) as c:  # this client answers pings
        assert h.hub is not None
        session = next(iter(h.hub.sessions["fr/ops"]))
        ws = session.ws
        assert isinstance(ws, CoalescingConnection)
        pings = 0
        send_ping = ws.protocol.send_ping

        def counted(data: bytes) -> None:
            nonlocal pings
            pings += 1
            send_ping(data)

        ws.protocol.send_ping = counted  # type: ignore[method-assign, assignment]
        await eventually(lambda: pings >= 3)  # three pings, each answered before the next
        assert ws.latency > 0 and not session.closing
        assert ws.keepalive_task is None
        def of_this_connection(task: asyncio.Task[Any]) -> bool:
            frame = getattr(task.get_coro(), "cr_frame", None)
            return frame is not None and frame.f_locals.get("self") is ws

        assert not [t for t in asyncio.all_tasks() if of_this_connection(t)
                    and getattr(t.get_coro(), "__name__", "") == "keepalive"]
        transport: Any = ws.transport
        queues = [ws.drain_waiters, ws.recv_messages.frames.queue, session.outbox._items,
                  session._in_flight._waiters]
        for queue in queues:
            assert isinstance(queue, LazyDeque) and queue._d is None
        # the hub's TLS transport (hub.tlstransport) holds no write buffer while idle
        assert isinstance(transport, TLSTransport) and transport._buf is None
        # the session's writer runs only while there is something to send
        await eventually(lambda: session._writer is None)
        assert session._task_set is None and session._committing_set is None
        # everything websockets' connection and the transport set is in slots: no dict
        # per connection (~1.6 KiB each when their keys are not shared)
        assert vars(ws) == {} and not hasattr(transport, "__dict__")
        alert, sig = Signer(fr).sign(CH)
        ack = await c.publish(CH, alert, sig)
        assert isinstance(ack, f.Ack) and ack.off == 1
    await eventually(lambda: ws._ka_handle is None)  # nothing scheduled after the close


def _session_frames(session: Any) -> dict[str, dict[str, Any]]:
    """The locals of the session's reader (``run``) and writer (``_write_loop``) frames."""
    found: dict[str, dict[str, Any]] = {}
    for task in asyncio.all_tasks():
        coro: Any = task.get_coro()
        while coro is not None:
            frame = getattr(coro, "cr_frame", None)
            if (frame is not None and frame.f_locals.get("self") is session
                    and frame.f_code.co_name in ("run", "_write_loop")):
                found[frame.f_code.co_name] = dict(frame.f_locals)
            coro = getattr(coro, "cr_await", None)
    return found


async def test_an_idle_session_keeps_neither_the_last_frame_read_nor_the_last_sent(
        h: HubHarness) -> None:
    """Between frames the reader and the writer wait with nothing of the last frame in
    hand: an idle connection after a large frame in either direction (a publish, a
    history page or a batch of alerts: up to max_frame_bytes) does not keep it."""
    fr = (await cast(h))["fr"]
    async with Raw.open(h, fr) as c:
        assert h.hub is not None
        session = next(iter(h.hub.sessions["fr/ops"]))
        await c.send_bytes(b"\xc1" * 100_000)  # not msgpack: 401, after reading it all
        assert isinstance(await c.recv(), f.ErrorFrame)
        alert, sig = Signer(fr).sign(CH)
        assert isinstance(await c.publish(CH, alert, sig), f.Ack)
        # the writer ends once the outbox is empty (W4: no task while idle), so it can
        # keep nothing either
        await eventually(lambda: session.outbox.empty() and set(_session_frames(session))
                         == {"run"})
        frames = _session_frames(session)
        assert "message" not in frames["run"]
        assert session._writer is None
