"""The six delivery guarantees of DESIGN.md, checked on the wire against a real hub.

Subscribers here are hand-driven connections (tests.hub.wire.Raw) so that every
frame the hub sends is seen: the SDK would hide a duplicate or a resend.

1. ack means durable ............ test_acked_alerts_survive_kill_9_of_the_store
2. idempotent publish ........... test_same_id_*, test_concurrent_identical_publishes_*
3. one order per channel ........ test_concurrent_publishers_and_late_joiners_see_one_order
4. gap-free resume .............. test_resume_*, test_history_gone_*, test_epoch_*
5. slow consumers ............... test_slow_consumer_*, test_catch_up_*, test_stop_*
6. bad input .................... test_malformed.py
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from hub import admin
from hub.embedded import EmbeddedValkey
from hub.protocol import frames as f
from hub.protocol.errors import CloseCode
from hub.session import Session
from hub.storage import Store
from tests.harness import HubHarness
from tests.hub.conftest import MakeHub
from tests.hub.wire import (
    CH,
    FAT,
    WAIT,
    Raw,
    Signer,
    alerts_of,
    cast,
    close_code,
    follow,
    log_len,
    pipeline,
)

# --- 1. acknowledged means durable --------------------------------------------------------


async def test_acked_alerts_survive_kill_9_of_the_store(
    tmp_path: Path, private_valkey: EmbeddedValkey
) -> None:
    """Publishers pipeline alerts; the store is SIGKILLed mid-stream. After a restart of
    the store, every alert that was acked is there, byte for byte, at its acked offset."""
    h = HubHarness(tmp_path / "hub", private_valkey.url)
    await h.start()
    acked: dict[int, tuple[bytes, bytes]] = {}
    sent: dict[int, tuple[bytes, bytes]] = {}
    try:
        assert h.store.durability == "waitaof"
        leaves = await cast(h)

        async def publisher(leaf: Any) -> None:
            signer = Signer(leaf)
            async with Raw.open(h, leaf) as c:
                try:
                    while True:
                        batch = {}
                        for _ in range(50):
                            rid = c.rid()
                            batch[rid] = signer.sign(CH)
                            sent[id(batch[rid])] = batch[rid]
                            await c.send(f.Publish(rid=rid, ch=CH, alert=batch[rid][0],
                                                   sig=batch[rid][1]))
                        for _ in batch:
                            answer = await c.recv()
                            if isinstance(answer, f.Ack):
                                acked[answer.off] = batch[answer.rid]
                except (ConnectionClosed, TimeoutError):
                    return

        tasks = [asyncio.create_task(publisher(leaves[m])) for m in ("fr", "de")]
        await h.wait_for(lambda: len(acked) >= 500, timeout=60)
        await private_valkey.kill()
        at_kill = dict(acked)
        await asyncio.sleep(0.5)  # publishers see their in-flight publishes refused
        async with asyncio.timeout(60):
            await h.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await h.stop()
    assert len(at_kill) >= 500
    await private_valkey.start()
    store = await Store.connect(private_valkey.url)
    try:
        stored = {a.off: (a.alert, a.sig) for a in await store.read_after(CH, 0, 100_000)}
    finally:
        await store.close()
    missing = {off for off in acked if stored.get(off) != acked[off]}
    assert not missing, f"{len(missing)} acked alerts lost or changed"
    assert sorted(stored) == list(range(1, len(stored) + 1))


# --- 2. idempotent publish ------------------------------------------------------------------


async def test_same_id_same_bytes_is_a_dup_everywhere(h: HubHarness) -> None:
    """Same bytes again: original offset, dup, nothing stored; on the same connection,
    another connection of the principal, and after a hub restart."""
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    first, other = signer.sign(CH), signer.sign(CH)
    async with Raw.open(h, fr) as c:
        a1 = await c.publish(CH, *first)
        a2 = await c.publish(CH, *other)
        again = await c.publish(CH, *first)
    assert isinstance(a1, f.Ack) and isinstance(a2, f.Ack) and isinstance(again, f.Ack)
    assert (a1.off, a1.dup, a2.off, a2.dup) == (1, False, 2, False)
    assert (again.off, again.dup, again.epoch) == (1, True, a1.epoch)
    assert await log_len(h) == 2
    async with Raw.open(h, fr) as c2:
        again = await c2.publish(CH, *other)
        assert isinstance(again, f.Ack) and (again.off, again.dup) == (2, True)
    await h.restart()
    async with Raw.open(h, fr) as c3:
        again = await c3.publish(CH, *first)
        assert isinstance(again, f.Ack) and (again.off, again.dup) == (1, True)
    assert await log_len(h) == 2


async def test_same_id_other_bytes_is_409_naming_the_original(h: HubHarness) -> None:
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        assert isinstance(await c.publish(CH, *signer.sign(CH)), f.Ack)
        env = signer.envelope(CH, id="FR-2026-0042")
        original = signer.sign(CH, id=env.id)
        ack = await c.publish(CH, *original)
        assert isinstance(ack, f.Ack) and ack.off == 2
        changed = signer.sign(CH, id=env.id, body={"schema": 1, "handling": "H1",
                                                   "text": "changed"})
        answer = await c.publish(CH, *changed)
        assert isinstance(answer, f.ErrorFrame) and answer.code == 409
        assert "2" in answer.detail.split()[-1]
        assert await log_len(h) == 2
        # The original is still the one stored and still answers dup.
        again = await c.publish(CH, *original)
        assert isinstance(again, f.Ack) and (again.off, again.dup) == (2, True)


async def test_concurrent_identical_publishes_store_once(h: HubHarness) -> None:
    """The same signed alert sent at once over several connections: stored once, every
    ack names the same offset, exactly one is not a dup."""
    leaves = await cast(h)
    fr = leaves["fr"]
    signer = Signer(fr)
    alerts = [signer.sign(CH) for _ in range(20)]
    async with Raw.open(h, fr) as c1, Raw.open(h, fr) as c2, Raw.open(h, fr) as c3:
        results = await asyncio.gather(*(pipeline(c, CH, alerts) for c in (c1, c2, c3)))
    for i in range(len(alerts)):
        acks = [r[i] for r in results]
        assert len({a.off for a in acks}) == 1
        assert sorted(a.dup for a in acks) == [False, True, True]
    assert await log_len(h) == len(alerts)


async def test_dedup_outlives_retention(h: HubHarness) -> None:
    """Ids are remembered for the channel's life: a resend after its alert was trimmed
    is still answered with the original offset, not stored again."""
    fr = (await cast(h))["fr"]
    await admin.create_channel(h.store, "short", retention_ms=1)
    await admin.grant(h.store, "short", "fr", "contributor")
    signer = Signer(fr)
    alert = signer.sign("short")
    async with Raw.open(h, fr) as c:
        ack = await c.publish("short", *alert)
        assert isinstance(ack, f.Ack) and ack.off == 1
        assert await h.store.trim("short", now_ms=int(time.time() * 1000) + 60_000) == 1
        assert await log_len(h, "short") == 0
        again = await c.publish("short", *alert)
        assert isinstance(again, f.Ack) and (again.off, again.dup) == (1, True)
    assert await log_len(h, "short") == 0


# --- 3. one order per channel ------------------------------------------------------------


async def test_concurrent_publishers_and_late_joiners_see_one_order(h: HubHarness) -> None:
    """Three publishers pipeline concurrently; one subscriber is there from the start,
    two join mid-stream (from the beginning, and live only). Everyone receives the same
    alerts at the same offsets, gap-free and without duplicates; each publisher's alerts
    are stored in the order it sent them; the acks name exactly those offsets."""
    leaves = await cast(h)
    await h.channel(CH + "-b", {"fr": "contributor", "de": "reader"})  # unrelated traffic
    per_publisher, rounds = 40, 5
    total = 3 * per_publisher * rounds
    pubs = [leaves["fr"], leaves["de"], await h.member("fr", "desk")]
    async with Raw.open(h, leaves["it"]) as early, Raw.open(h, leaves["de"]) as late, \
            Raw.open(h, leaves["it"]) as live_only:
        ok = await early.request(f.Subscribe(rid=early.rid(), ch=CH, since=0))
        assert isinstance(ok, f.Subscribed) and ok.head == 0
        early_task = asyncio.create_task(follow(early, CH, total))
        halfway = asyncio.Event()
        acks: dict[str, list[f.Ack]] = {}

        async def publish(leaf: Any) -> None:
            signer = Signer(leaf)
            mine: list[f.Ack] = []
            async with Raw.open(h, leaf) as c:
                for r in range(rounds):
                    mine += await pipeline(c, CH, [signer.sign(CH)
                                                   for _ in range(per_publisher)])
                    if r == rounds // 2:
                        halfway.set()
            acks[str(leaf.cert)] = mine

        tasks = [asyncio.create_task(publish(p)) for p in pubs]
        await halfway.wait()
        ok_late = await late.request(f.Subscribe(rid=late.rid(), ch=CH, since=0))
        ok_live = await live_only.request(f.Subscribe(rid=live_only.rid(), ch=CH))
        assert isinstance(ok_late, f.Subscribed) and isinstance(ok_live, f.Subscribed)
        assert 0 < ok_live.head < total
        late_task = asyncio.create_task(follow(late, CH, total))
        live_task = asyncio.create_task(follow(live_only, CH, total))
        await asyncio.gather(*tasks)
        async with asyncio.timeout(WAIT):
            seen = [alerts_of(await t) for t in (early_task, late_task, live_task)]
    everything = seen[0]
    assert [a.off for a in everything] == list(range(1, total + 1))
    assert seen[1] == everything
    assert seen[2] == everything[ok_live.head:]
    by_off = {a.off: (a.alert, a.sig) for a in everything}
    all_acks = [a for mine in acks.values() for a in mine]
    assert sorted(a.off for a in all_acks) == list(range(1, total + 1))
    assert not any(a.dup for a in all_acks)
    for mine in acks.values():
        offs = [a.off for a in mine]
        assert offs == sorted(offs)  # stored in the order this connection sent them
    assert len(by_off) == total
    assert await log_len(h) == total


# --- 4. gap-free resume -------------------------------------------------------------------


async def test_resume_with_since_and_epoch_while_others_publish(h: HubHarness) -> None:
    """A subscriber drops its connection three times at random points and resumes from the
    last offset it processed while two publishers keep going: it ends up with every alert
    exactly once, in order."""
    leaves = await cast(h)
    total = 600
    stop = asyncio.Event()

    async def publish(leaf: Any, n: int) -> None:
        signer = Signer(leaf)
        async with Raw.open(h, leaf) as c:
            for _ in range(n // 20):
                await pipeline(c, CH, [signer.sign(CH) for _ in range(20)])

    tasks = [asyncio.create_task(publish(leaves[m], total // 2)) for m in ("fr", "de")]
    got: list[f.AlertFrame] = []
    epoch: str | None = None
    rng = random.Random(7)
    for attempt in range(4):
        async with Raw.open(h, leaves["it"]) as c:
            since = got[-1].off if got else 0
            ok = await c.request(f.Subscribe(rid=c.rid(), ch=CH, since=since, epoch=epoch))
            assert isinstance(ok, f.Subscribed), ok
            epoch = ok.epoch
            take = rng.randint(50, 150) if attempt < 3 else None
            while take is None or take > 0:
                frame = await c.recv()
                assert isinstance(frame, f.AlertFrame | f.Synced), frame
                if isinstance(frame, f.AlertFrame):
                    got.append(frame)
                    if take is not None:
                        take -= 1
                    if frame.off == total:
                        break
            if attempt < 3:
                c.ws.transport.abort()  # no closing handshake: a dropped line
    await asyncio.gather(*tasks)
    stop.set()
    assert [a.off for a in got] == list(range(1, total + 1))
    async with Raw.open(h, leaves["it"]) as c:
        page = await c.request(f.HistoryRequest(rid=c.rid(), ch=CH, before=101, limit=100))
    assert isinstance(page, f.HistoryPage)
    assert [(i.off, i.alert, i.sig) for i in page.items] == [
        (a.off, a.alert, a.sig) for a in got[:100]]


async def test_since_beyond_head_is_401_and_since_head_is_live(h: HubHarness) -> None:
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    async with Raw.open(h, leaves["fr"]) as pub, Raw.open(h, leaves["it"]) as c:
        await pipeline(pub, CH, [signer.sign(CH) for _ in range(3)])
        answer = await c.request(f.Subscribe(rid=c.rid(), ch=CH, since=4))
        assert isinstance(answer, f.ErrorFrame) and answer.code == 401
        ok = await c.request(f.Subscribe(rid=c.rid(), ch=CH, since=3))
        assert isinstance(ok, f.Subscribed) and (ok.first, ok.head) == (1, 3)
        assert await c.recv() == f.Synced(ch=CH, off=3)
        alert, sig = signer.sign(CH)
        await pipeline(pub, CH, [(alert, sig)])
        assert await c.recv() == f.AlertFrame(ch=CH, off=4, alert=alert, sig=sig)


async def test_history_gone_when_trimmed_past_since(h: HubHarness) -> None:
    leaves = await cast(h)
    await admin.create_channel(h.store, "short", retention_ms=60_000)
    await admin.grant(h.store, "short", "fr", "contributor")
    await admin.grant(h.store, "short", "it", "reader")
    signer = Signer(leaves["fr"])
    async with Raw.open(h, leaves["fr"]) as pub, Raw.open(h, leaves["it"]) as c:
        old = [signer.sign("short") for _ in range(5)]
        await pipeline(pub, "short", old)
        # Everything so far is older than the retention period, seen from 2 minutes ahead.
        assert await h.store.trim("short", now_ms=int(time.time() * 1000) + 120_000) == 5
        new = [signer.sign("short") for _ in range(2)]
        await pipeline(pub, "short", new)
        for since in (0, 4):
            answer = await c.request(f.Subscribe(rid=c.rid(), ch="short", since=since))
            assert isinstance(answer, f.ErrorFrame) and answer.code == 410
            assert answer.detail.split()[-1] == "6"  # names the first retained offset
        ok = await c.request(f.Subscribe(rid=c.rid(), ch="short", since=5))
        assert isinstance(ok, f.Subscribed) and (ok.first, ok.head) == (6, 7)
        frames = await follow(c, "short", 7)
        assert [(a.off, a.alert) for a in alerts_of(frames)] == [(6, new[0][0]), (7, new[1][0])]
        assert await c.recv() == f.Synced(ch="short", off=7)
        page = await c.request(f.HistoryRequest(rid=c.rid(), ch="short"))
        assert isinstance(page, f.HistoryPage)
        assert ([i.off for i in page.items], page.more) == ([6, 7], False)


async def test_epoch_mismatch_after_delete_and_recreate(h: HubHarness) -> None:
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    async with Raw.open(h, leaves["fr"]) as pub:
        acks = await pipeline(pub, CH, [signer.sign(CH) for _ in range(3)])
    old_epoch = acks[0].epoch
    await h.store.delete_channel(CH)
    meta = await h.channel(CH, {"fr": "contributor", "it": "reader"})
    assert meta.epoch != old_epoch
    async with Raw.open(h, leaves["it"]) as c:
        for since in (3, 0):
            answer = await c.request(f.Subscribe(rid=c.rid(), ch=CH, since=since,
                                                 epoch=old_epoch))
            assert isinstance(answer, f.ErrorFrame) and answer.code == 412
            assert answer.detail == meta.epoch
        ok = await c.request(f.Subscribe(rid=c.rid(), ch=CH, since=0, epoch=meta.epoch))
        assert isinstance(ok, f.Subscribed) and (ok.epoch, ok.head) == (meta.epoch, 0)
        assert await c.recv() == f.Synced(ch=CH, off=0)


# --- 5. slow consumers ----------------------------------------------------------------------


async def test_slow_consumer_is_closed_4008_and_resumes_without_gap(make_hub: MakeHub) -> None:
    """A subscriber that stops reading is closed with 4008 once its send queue is full;
    what it did receive is a gap-free prefix, and it resumes from there."""
    h = await make_hub(send_queue_frames=8)
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    assert h.hub is not None
    # max_queue=1: the client's websockets stops reading the socket after one message.
    async with Raw.open(h, leaves["it"], max_queue=1) as slow, \
            Raw.open(h, leaves["fr"]) as pub:
        ok = await slow.request(f.Subscribe(rid=slow.rid(), ch=CH, since=0))
        assert isinstance(ok, f.Subscribed)
        assert await slow.recv() == f.Synced(ch=CH, off=0)
        session = next(iter(h.hub.sessions["it/gdf"]))
        published = 0
        while not session.closing:
            assert published < 2000, "the hub never gave up on the slow consumer"
            await pipeline(pub, CH, [signer.sign(CH, body=FAT) for _ in range(10)])
            published += 10
            assert session.outbox.qsize() <= 8  # bounded, whatever happens
        # Now read: what was sent, then the close.
        frames, closed = await slow.until_closed()
        got = alerts_of(frames)
        assert got == frames  # nothing but alerts before the close
        assert close_code(closed) == CloseCode.SLOW_CONSUMER
        assert [a.off for a in got] == list(range(1, len(got) + 1))
        assert len(got) < published
    await h.wait_for(lambda: "it/gdf" not in h.hub.sessions if h.hub else False, WAIT)
    async with Raw.open(h, leaves["it"]) as again:
        ok = await again.request(f.Subscribe(rid=again.rid(), ch=CH, since=len(got),
                                             epoch=ok.epoch))
        assert isinstance(ok, f.Subscribed)
        rest = alerts_of(await follow(again, CH, published))
    assert [a.off for a in got + rest] == list(range(1, published + 1))


async def test_catch_up_leaves_room_for_answers(make_hub: MakeHub) -> None:
    """A client that reads as fast as it can is never a slow consumer just because a
    long history catch-up and its other requests share one send queue."""
    h = await make_hub(send_queue_frames=16)
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    async with Raw.open(h, leaves["fr"]) as pub:
        for _ in range(10):
            await pipeline(pub, CH, [signer.sign(CH) for _ in range(50)])
    async with Raw.open(h, leaves["it"]) as c:
        await c.send(f.Subscribe(rid=1, ch=CH, since=0))
        for rid in range(2, 42):  # requests answered while history streams
            await c.send(f.ChannelsRequest(rid=rid))
        frames: list[f.ServerFrame] = []
        while len([fr for fr in frames if isinstance(fr, f.AlertFrame)]) < 500 or \
                len([fr for fr in frames if isinstance(fr, f.ChannelsResult)]) < 40:
            frames.append(await c.recv())
    assert [a.off for a in alerts_of(frames)] == list(range(1, 501))
    assert sorted(fr.rid for fr in frames if isinstance(fr, f.ChannelsResult)) == list(
        range(2, 42))


async def fill_until_stalled(pub: Raw, signer: Signer, session: Session) -> None:
    """Publish fat alerts until the hub's writes to ``session`` block (a send waits for
    the peer and frames wait behind it). Loopback socket buffers autotune to ~10 MiB;
    a frame waiting for the writer's next turn is not a stall (the tests failed now and
    then when they took it for one), so a send must be seen waiting."""
    loop = asyncio.get_running_loop()
    for _ in range(120):  # 10 alerts of ~27 KiB each: up to ~32 MiB, far past the buffers
        await pipeline(pub, CH, [signer.sign(CH, body=FAT) for _ in range(10)])
        await asyncio.sleep(0.05)  # the fan-out and the writer's attempt
        if session.closing or (session.outbox.qsize() > 0
                               and session.stalled_for(loop.time()) > 0):
            return
    pytest.fail("the hub's writes never blocked")


async def test_a_stalled_client_is_closed_after_the_idle_timeout(make_hub: MakeHub) -> None:
    """A client that stops reading without overflowing its queue (the hub's writes are
    simply stuck) is still closed as a slow consumer (4008), so it cannot hold a
    connection for ever. Pings are off here: only the stalled writes can tell."""
    h = await make_hub(idle_timeout_s=1.0, ping_interval_s=3600.0)
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    assert h.hub is not None
    async with Raw.open(h, leaves["it"], max_queue=1, ping_interval=None) as stalled, \
            Raw.open(h, leaves["fr"]) as pub:
        assert isinstance(await stalled.request(f.Subscribe(rid=1, ch=CH)), f.Subscribed)
        session = next(iter(h.hub.sessions["it/gdf"]))
        # Until the socket buffers are full and frames wait in the queue (far from 4,096).
        await fill_until_stalled(pub, signer, session)
        assert session.outbox.qsize() < 4096 and not session.outbox.overflowed
        await h.wait_for(lambda: "it/gdf" not in h.hub.sessions if h.hub else False, WAIT)
        assert session.ws.protocol.close_sent is not None
        assert session.ws.protocol.close_sent.code == CloseCode.SLOW_CONSUMER


async def test_stop_does_not_hang_on_a_client_that_does_not_read(make_hub: MakeHub) -> None:
    """Shutting down closes every connection, even one whose close frame is stuck behind
    data the peer never reads (pings off, so nothing else would ever end it)."""
    h = await make_hub(ping_interval_s=3600.0, idle_timeout_s=1.0)
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    assert h.hub is not None
    async with Raw.open(h, leaves["it"], max_queue=1, ping_interval=None) as stalled, \
            Raw.open(h, leaves["fr"]) as pub:
        assert isinstance(await stalled.request(f.Subscribe(rid=1, ch=CH)), f.Subscribed)
        session = next(iter(h.hub.sessions["it/gdf"]))
        await fill_until_stalled(pub, signer, session)
        assert session.outbox.qsize() > 0 and not session.closing
        async with asyncio.timeout(60):
            await h.stop()
