"""Every byte the hub queues for a peer counts (issue 10, items 3 and 6).

A member certificate is all an attacker needs. These tests run the hub as its own
process (``cordon serve`` on the session's Valkey, real mutual TLS on 127.0.0.1) and
read its resident memory from ``/proc/PID/status`` while a client that never reads
floods it:

- with pings: websockets answers each one with a pong written straight to the
  transport, outside the session's bounded send queue. Before the fix, 600,000 pings
  made the hub hold 73 MiB of pongs. Now pings are rate-limited (close 4030), and
  whatever the hub writes for a peer that does not read counts against its send
  bound: past it the hub stops reading that peer, and closes it (4008) if it stays
  there;
- with other frames (history requests, invalid frames, subscribe/unsubscribe churn):
  every answer goes through the bounded send queue.

Meanwhile another client on the same hub keeps getting its acks and alerts. A peer
that stops answering the hub's pings is closed with 4009, not 1011 (§7 reserves 1011
for internal errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.frames import Frame, Opcode

from hub import admin
from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.errors import CloseCode
from hub.storage import Store
from hub.wsconn import PEER_UNRESPONSIVE_REASON, PING_FLOOD_REASON, CoalescingConnection
from tests.bodies import note
from tests.harness import HubHarness, client_context
from tests.hub.conftest import MakeHub
from tests.hub.wire import WAIT, Raw, cast, close_code, eventually
from tests.pki import Leaf, make_pki
from tests.serve import Serve

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads the hub's memory from /proc")

CH = "stop-iii"
MIB = 1024 * 1024


@pytest.fixture
async def served(tmp_path: Path, valkey_url: str, raw: Any
                 ) -> AsyncIterator[tuple[Serve, dict[str, Leaf]]]:
    """A hub process (not yet started) and the cast: fr/ops contributes to ``stop-iii``,
    it/gdf reads it, de/zoll is the attacker (a reader)."""
    await raw.flushdb()
    pki = make_pki(tmp_path)
    leaves = {"fr": pki.member("fr", "ops"), "it": pki.member("it", "gdf"),
              "de": pki.member("de", "zoll")}
    store = await Store.connect(valkey_url)
    try:
        await admin.create_channel(store, CH, title=CH)
        for member, role in (("fr", "contributor"), ("it", "reader"), ("de", "reader")):
            await store.add_member(member, name=member.upper(), country="")
            await admin.grant(store, CH, member, role)
    finally:
        await store.close()
    hub = Serve(pki, tmp_path / "hub", redis_url=valkey_url,
                client_options={"reconnect": False})
    try:
        yield hub, leaves
    finally:
        await hub.stop()


# --- a client that speaks WebSocket by hand and never reads -----------------------------


def _frame(opcode: Opcode, payload: bytes) -> bytes:
    """One client frame (masked, as RFC 6455 requires of clients)."""
    return Frame(opcode, payload).serialize(mask=True, extensions=[])


async def _open_raw(hub: Serve | HubHarness, leaf: Leaf
                    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TLS connection with the WebSocket upgrade done by hand (nothing else read)."""
    ctx: ssl.SSLContext = client_context(hub.pki, leaf)
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port, ssl=ctx,
                                                   server_hostname="localhost")
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: cordon.v1\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
    assert head.startswith(b"HTTP/1.1 101"), head[:200]
    return reader, writer


async def _flood(writer: asyncio.StreamWriter, chunk: bytes, *, total: int,
                 seconds: float) -> int:
    """Write ``chunk`` until ``total`` bytes are sent, ``seconds`` pass, the hub stops
    reading (a write waits 2 s) or it closes the connection; return the bytes sent."""
    sent = 0
    deadline = time.monotonic() + seconds
    while sent < total and time.monotonic() < deadline:
        try:
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), 2.0)
        except (TimeoutError, ConnectionError, ssl.SSLError):
            break
        sent += len(chunk)
    return sent


async def _peak_rss_growth(hub: Serve, attack: Any, *, settle: float = 1.0) -> int:
    """Run ``attack`` while sampling the hub's RSS; the largest growth over the baseline
    (sampling goes on ``settle`` seconds after the attack ends)."""
    base = hub.rss()
    peak = base
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        end: float | None = None
        while end is None or time.monotonic() < end:
            with contextlib.suppress(OSError):
                peak = max(peak, hub.rss())
            if done.is_set() and end is None:
                end = time.monotonic() + settle
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    try:
        await attack
    finally:
        done.set()
        await sampler
    return peak - base



def _hub_holds(hub_port: int, client_port: int) -> bool:
    """Whether the hub's end of the connection from ``client_port`` is still established
    (read from /proc/net/tcp: the hub side, local port = the hub's)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            next(fh)
            for line in fh:
                cols = line.split()
                local = int(cols[1].rsplit(":", 1)[1], 16)
                remote = int(cols[2].rsplit(":", 1)[1], 16)
                if (local, remote) == (hub_port, client_port) and cols[3] == "01":
                    return True
    return False


async def _bystanders(hub: Serve, leaves: dict[str, Leaf], attack: Any) -> int:
    """Run ``attack`` (measuring the hub's RSS growth, returned) while fr/ops publishes
    and it/gdf follows the channel: every publish must be acked and every acked alert
    delivered, during the attack and after it."""
    acked: list[int] = []
    got: list[int] = []
    over = asyncio.Event()
    async with hub.client(leaves["fr"]) as pub, hub.client(leaves["it"]) as reader, \
            reader.subscribe(CH) as sub:

        async def follow() -> None:
            async for alert in sub:
                got.append(alert.offset)

        async def publish() -> None:
            n = 0
            while not over.is_set() or n < 3:
                ack = await pub.publish(CH, "notice", note(f"meanwhile {n}"))
                acked.append(ack.offset)
                n += 1
                await asyncio.sleep(0.05)

        follower = asyncio.create_task(follow())
        publisher = asyncio.create_task(publish())
        try:
            growth = await _peak_rss_growth(hub, attack)
        finally:
            over.set()
        async with asyncio.timeout(30):
            await publisher
        await eventually(lambda: len(got) >= len(acked))
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
    assert acked and got == acked, (acked, got)
    return growth


# --- 1. ping floods ------------------------------------------------------------------------

#: Pings of the largest control payload (125 bytes): each pong is 127 bytes the hub holds.
PING = _frame(Opcode.PING, b"p" * 125)
#: A flood of at most this many pings, for at most FLOOD_S seconds (before the fix: ~55
#: MiB of pongs held by the hub, measured 115 MiB for 600,000).
FLOOD_PINGS = 300_000
FLOOD_S = 4.0


async def test_a_ping_flood_from_a_client_that_never_reads_leaves_memory_bounded(
        served: tuple[Serve, dict[str, Leaf]]) -> None:
    """Default settings: at most 10 pings a second, so the flood is cut off (4030) at once;
    the hub's memory barely moves, and the connection is gone."""
    hub, leaves = served
    await hub.start()
    _reader, writer = await _open_raw(hub, leaves["de"])
    client_port = writer.get_extra_info("sockname")[1]
    sent = 0

    async def attack() -> None:
        nonlocal sent
        sent = await _flood(writer, PING * 1000, total=FLOOD_PINGS * len(PING),
                            seconds=FLOOD_S)

    try:
        growth = await _bystanders(hub, leaves, attack())
        assert growth < 5 * MIB, (
            f"hub RSS grew {growth / MIB:.1f} MiB ({sent // len(PING)} pings)")
        await eventually(lambda: not _hub_holds(hub.port, client_port))
    finally:
        writer.transport.abort()


async def test_with_pings_allowed_the_send_bound_holds_what_a_non_reader_costs(
        served: tuple[Serve, dict[str, Leaf]]) -> None:
    """With the ping limit out of the way, the pongs count against the connection's
    send bound (4 MiB here): past it the hub stops reading the peer, and drops it after
    the idle timeout (4008). Before: RSS grew by everything the peer sent."""
    hub, leaves = served
    await hub.start(max_pings_per_s=10**9, send_queue_bytes=4 * MIB, idle_timeout_s=2)
    _reader, writer = await _open_raw(hub, leaves["de"])
    client_port = writer.get_extra_info("sockname")[1]
    sent = 0

    async def attack() -> None:
        nonlocal sent
        sent = await _flood(writer, PING * 1000, total=FLOOD_PINGS * len(PING),
                            seconds=FLOOD_S)

    try:
        growth = await _bystanders(hub, leaves, attack())
        assert growth < 12 * MIB, (
            f"hub RSS grew {growth / MIB:.1f} MiB ({sent // len(PING)} pings)")
        # Not reading, the peer is dropped: idle timeout, then the bounded close.
        await eventually(lambda: not _hub_holds(hub.port, client_port))
    finally:
        writer.transport.abort()


# --- 2. floods of other frames ----------------------------------------------------------


async def test_a_request_flood_from_a_client_that_never_reads_leaves_memory_bounded(
        served: tuple[Serve, dict[str, Leaf]]) -> None:
    """History requests (each answer a page of up to 256 KiB), channel lists and
    subscribe/unsubscribe churn from a client that never reads, and invalid frames (each
    answered with err) from another: every answer goes through the bounded send queue
    (4 MiB here), which closes the connection (4008) when full; the invalid frames end
    theirs (4002). (This one held before the fix too: it pins the bound.)"""
    hub, leaves = served
    await hub.start(send_queue_bytes=4 * MIB)
    async with hub.client(leaves["fr"]) as pub:
        for i in range(24):  # history worth a full page per request
            await pub.publish(CH, "notice", note("\u20ac" * 9000 + str(i)))
    _reader, writer = await _open_raw(hub, leaves["de"])
    client_port = writer.get_extra_info("sockname")[1]
    frames = []
    for rid in range(1, 401, 4):
        frames += [f.HistoryRequest(rid=rid, ch=CH, limit=1000), f.ChannelsRequest(rid=rid + 1),
                   f.Subscribe(rid=rid + 2, ch=CH, since=0), f.Unsubscribe(rid=rid + 3, ch=CH)]
    chunk = b"".join(_frame(Opcode.BINARY, codec.encode(fr)) for fr in frames)
    _reader2, writer2 = await _open_raw(hub, leaves["de"])
    client_port2 = writer2.get_extra_info("sockname")[1]
    invalid = (_frame(Opcode.BINARY, b"\xc1 not msgpack") + _frame(Opcode.TEXT, b"{}")
               + _frame(Opcode.BINARY, codec.encode(f.ChannelsRequest(rid=1))[:-1])) * 300

    async def attack() -> None:
        await asyncio.gather(_flood(writer, chunk, total=64 * MIB, seconds=FLOOD_S),
                             _flood(writer2, invalid, total=64 * MIB, seconds=FLOOD_S))

    try:
        growth = await _bystanders(hub, leaves, attack())
        assert growth < 12 * MIB, f"hub RSS grew {growth / MIB:.1f} MiB"
        await eventually(lambda: not _hub_holds(hub.port, client_port))
        await eventually(lambda: not _hub_holds(hub.port, client_port2))
    finally:
        writer.transport.abort()
        writer2.transport.abort()



# --- 3. the same limits, seen from inside the hub -------------------------------------


async def test_more_pings_than_the_limit_close_the_connection_4030(make_hub: MakeHub) -> None:
    """A burst within the limit is answered; a flood is closed with 4030 and its fixed
    phrase (the SDK takes 4030 as final: reconnecting would only repeat it)."""
    h = await make_hub()  # at most 10 pings a second (bursts of 10)
    leaves = await cast(h)
    async with Raw.open(h, leaves["it"], ping_interval=None) as c:
        async with asyncio.timeout(WAIT):
            await asyncio.gather(*[await c.ws.ping(str(n)) for n in range(10)])
        answer = await c.request(f.ChannelsRequest(rid=c.rid()))
        assert isinstance(answer, f.ChannelsResult)
        for n in range(200):
            await c.ws.ping(f"flood {n}")
        closed = await c.closed()
    assert close_code(closed) == CloseCode.PING_FLOOD
    assert closed.rcvd is not None and closed.rcvd.reason == PING_FLOOD_REASON


async def test_a_peer_that_does_not_read_its_pongs_is_held_at_the_bound_then_closed_4008(
        make_hub: MakeHub) -> None:
    """With pings allowed, what the hub writes by itself still counts: once the transport
    holds more than send_queue_bytes for a peer that never reads, the hub reads nothing
    more from it, and closes it as a slow consumer after the idle timeout."""
    bound = 256 * 1024
    h = await make_hub(max_pings_per_s=10**9, send_queue_bytes=bound, idle_timeout_s=1.0,
                       ping_interval_s=3600.0)
    leaves = await cast(h)
    assert h.hub is not None
    _reader, writer = await _open_raw(h, leaves["de"])
    try:
        await eventually(lambda: "de/zoll" in h.hub.sessions if h.hub else False)
        session = next(iter(h.hub.sessions["de/zoll"]))
        ws = session.ws
        assert isinstance(ws, CoalescingConnection)
        held: list[int] = []

        def holding() -> bool:
            if ws.held_for(asyncio.get_running_loop().time()) > 0:
                held.append(ws.transport.get_write_buffer_size())
            return bool(held) or session.closing

        async def flood() -> None:
            await _flood(writer, PING * 1000, total=64 * MIB, seconds=20)

        flooding = asyncio.create_task(flood())
        try:
            await eventually(holding)
        finally:
            flooding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flooding
        assert held, "the hub never stopped reading the peer"
        # At most one read's worth of pongs past the bound: asyncio's TLS layer hands
        # over at most what its incoming buffer holds (256 KiB) at once.
        assert held[0] <= bound + 320 * 1024, held[0]
        await eventually(lambda: "de/zoll" not in h.hub.sessions if h.hub else False)
        assert ws.protocol.close_sent is not None
        assert ws.protocol.close_sent.code == CloseCode.SLOW_CONSUMER
    finally:
        writer.transport.abort()


async def test_a_peer_that_stops_answering_pings_is_closed_4009(make_hub: MakeHub) -> None:
    """No pong within the idle timeout: close 4009 with its fixed phrase, not 1011
    (an internal error, PROTOCOL §7). The peer still reads, so it sees the code."""
    h = await make_hub(ping_interval_s=0.2, idle_timeout_s=0.5)
    leaves = await cast(h)
    async with Raw.open(h, leaves["it"], ping_interval=None) as c:
        protocol: Any = c.ws.protocol
        send_frame = protocol.send_frame

        def no_pongs(frame: Frame) -> None:  # this client's automatic pong, disabled
            if frame.opcode is not Opcode.PONG:
                send_frame(frame)

        protocol.send_frame = no_pongs
        closed = await c.closed()
    assert close_code(closed) == CloseCode.PEER_UNRESPONSIVE
    assert closed.rcvd is not None and closed.rcvd.reason == PEER_UNRESPONSIVE_REASON


def test_every_close_code_is_documented_in_protocol_section_7() -> None:
    text = (Path(__file__).parents[2] / "PROTOCOL.md").read_text()
    section = text[text.index("## 7. Close codes"):text.index("## 8. ")]
    documented = {int(code) for code in re.findall(r"^\| (\d{4}) \|", section, re.M)}
    assert {int(code) for code in CloseCode} <= documented
    assert {4009, 4030} <= documented
