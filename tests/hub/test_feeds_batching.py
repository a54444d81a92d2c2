"""Alerts delivered in ``alerts`` batches: cut, encoded once, trimmed per cursor, bounded."""

from __future__ import annotations

import asyncio
from typing import Any

from hub import feeds
from hub.feeds import ChannelFeed, Outbox, Subscription, batches, item_batches
from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.limits import MAX_FRAME_BYTES
from hub.storage import StoredAlert
from tests.harness import HubHarness
from tests.hub.wire import CH, Raw, Signer, cast, pipeline


def stored(off: int, size: int = 100) -> StoredAlert:
    return StoredAlert(off=off, alert=bytes([off % 256]) * size, sig=b"s" * 64)


def offsets(runs: list[Any]) -> list[list[int]]:
    return [[i.off for i in run] for run in runs]


def test_batches_cut_by_count_bytes_and_gaps() -> None:
    assert batches([]) == []
    items = [stored(o) for o in range(1, feeds._BATCH_ITEMS + 3)]
    assert offsets(batches(items)) == [list(range(1, feeds._BATCH_ITEMS + 1)),
                                       [feeds._BATCH_ITEMS + 1, feeds._BATCH_ITEMS + 2]]
    big = [stored(o, 60_000) for o in range(1, 6)]  # ~2 per 128 KiB
    runs = batches(big)
    assert offsets(runs) == [[1, 2], [3, 4], [5]]
    assert all(len(codec.encode_alerts(CH, run)) < MAX_FRAME_BYTES for run in runs)
    gap = [stored(o) for o in (1, 2, 4, 5)]
    assert offsets(batches(gap)) == [[1, 2], [4, 5]]
    for case in ([], items, big, gap):  # the catch-up's (off, alert, sig) items: the same cuts
        tuples = [(i.off, i.alert, i.sig) for i in case]
        assert [[t[0] for t in run] for run in item_batches(tuples)] == offsets(batches(case))


class _Store:
    pass


def _sub(cursor: int, size: int = 64) -> Subscription:
    return Subscription(channel=CH, member="m", principal="m/p",
                        outbox=Outbox(size, lambda: None), cursor=cursor)


def _drain(sub: Subscription) -> list[bytes]:
    out = []
    while not sub.outbox.empty():
        out.append(sub.outbox.get_nowait())
    return out


def test_fan_out_encodes_once_and_trims_for_cursors_inside() -> None:
    feed = ChannelFeed(_Store(), CH, head=10)  # type: ignore[arg-type]
    level, behind, inside, last_but_one, ahead = _sub(10), _sub(3), _sub(12), _sub(14), _sub(15)
    feed.subs |= {level, behind, inside, last_but_one, ahead}
    batch = [stored(o) for o in range(11, 16)]
    feed.fan_out(batch)
    assert feed.last == 15
    assert all(s.cursor == 15 for s in feed.subs)
    (full,) = _drain(level)
    (same,) = _drain(behind)
    assert same is full  # one encoding for everyone at (or behind) the start
    assert codec.decode_server(full) == f.AlertBatch(CH, tuple(f.PageItem(i.off, i.alert, i.sig)
                                                                for i in batch))
    (rest,) = _drain(inside)
    assert [i.off for i in codec.decode_server(rest).items] == [13, 14, 15]  # type: ignore[union-attr]
    (one,) = _drain(last_but_one)
    assert codec.decode_server(one) == f.AlertFrame(CH, 15, batch[-1].alert, batch[-1].sig)
    assert _drain(ahead) == []
    # a second subscriber at the same inner cursor shares the trimmed encoding
    again, twin = _sub(12), _sub(12)
    feed.subs = {again, twin}
    feed.fan_out([stored(o) for o in range(11, 16)])
    assert _drain(again)[0] is _drain(twin)[0]


def test_deliver_follows_on_from_the_feed_and_stops_at_a_gap() -> None:
    """The committer's way in (Feeds.durable): what the feed has is skipped, what follows
    on leaves, nothing past a gap (the feed reads that from the store)."""
    feed = ChannelFeed(_Store(), CH, head=10)  # type: ignore[arg-type]
    sub = _sub(10)
    feed.subs.add(sub)
    feed.deliver([stored(o) for o in (9, 10, 11, 12, 14, 15)])
    assert feed.last == 12 and sub.cursor == 12
    (frame,) = _drain(sub)
    assert [i.off for i in codec.decode_server(frame).items] == [11, 12]  # type: ignore[union-attr]
    feed.deliver([stored(14)])
    assert feed.last == 12 and _drain(sub) == []
    feed.deliver([stored(13)])
    assert feed.last == 13 and codec.decode_server(_drain(sub)[0]).off == 13  # type: ignore[union-attr]


async def test_local_publishes_reach_subscribers_without_a_feed_read(h: HubHarness) -> None:
    """Alerts published through this hub go to its live subscribers from the committer,
    once durable, in order: the feed wakes up for the raised watermark after them and
    reads nothing from the store."""
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    assert h.hub is not None
    reads = h.hub.metrics.store_seconds["feed_read"]
    async with Raw.open(h, leaves["fr"]) as pub, Raw.open(h, leaves["it"]) as live:
        ok = await live.request(f.Subscribe(rid=live.rid(), ch=CH))
        assert isinstance(ok, f.Subscribed)
        assert isinstance(await live.recv(), f.Synced)
        before = reads.count
        got: list[int] = []
        for _ in range(20):
            answer = await pub.publish(CH, *signer.sign(CH))
            assert isinstance(answer, f.Ack)
            frame = await live.recv()
            assert isinstance(frame, f.AlertFrame)
            got.append(frame.off)
        await pipeline(pub, CH, [signer.sign(CH) for _ in range(100)])
        while len(got) < 120:
            frame = await live.recv()
            assert isinstance(frame, f.AlertFrame)
            got.append(frame.off)
        assert got == list(range(1, 121))
        assert reads.count == before


async def test_history_put_waits_on_bytes_as_well_as_frames() -> None:
    box = Outbox(1000, lambda: None)
    chunk = b"x" * (feeds._HISTORY_BYTES // 2)
    await box.put(chunk)
    await box.put(chunk)
    assert box.queued_bytes == feeds._HISTORY_BYTES
    third = asyncio.ensure_future(box.put(chunk))
    await asyncio.sleep(0.01)
    assert not third.done()  # 2 frames, far from 500, but the byte bound holds it
    assert box.offer(b"live")  # answers and live alerts are never held back
    assert box.get_nowait() is chunk
    await asyncio.wait_for(third, 1)
    assert box.queued_bytes == len(chunk) * 2 + 4


async def test_catch_up_and_bursts_arrive_in_batches_without_gap(h: HubHarness) -> None:
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    async with Raw.open(h, leaves["fr"]) as pub:
        await pipeline(pub, CH, [signer.sign(CH) for _ in range(300)])
        async with Raw.open(h, leaves["it"]) as late, Raw.open(h, leaves["de"]) as live:
            ok = await live.request(f.Subscribe(rid=live.rid(), ch=CH))
            assert isinstance(ok, f.Subscribed)
            assert await live.recv() == f.Synced(ch=CH, off=300)
            assert isinstance(await late.request(f.Subscribe(rid=late.rid(), ch=CH, since=0)),
                              f.Subscribed)
            burst = [signer.sign(CH) for _ in range(200)]
            await pipeline(pub, CH, burst)
            got: dict[Raw, list[int]] = {late: [], live: []}
            for c, n in ((late, 500), (live, 200)):
                while len(got[c]) < n:
                    frame = await c.recv()
                    if isinstance(frame, f.AlertFrame):
                        got[c].append(frame.off)
            assert got[late] == list(range(1, 501))
            assert got[live] == list(range(301, 501))
            assert late.batches >= 2  # catch-up: 300 alerts, at most 256 per frame


def test_offer_overflows_on_bytes_as_well_as_frames() -> None:
    calls: list[int] = []
    box = Outbox(1000, lambda: calls.append(1), max_bytes=100)
    assert box.offer(b"x" * 150)  # one frame over the bound is let through when empty
    assert not box.offer(b"y")  # anything more is a slow consumer
    assert box.overflowed and calls == [1]
    assert not box.offer(b"z")  # and stays one (the callback fires once)
    assert calls == [1]
    roomy = Outbox(1000, lambda: calls.append(2), max_bytes=100)
    assert roomy.offer(b"a" * 60)
    assert not roomy.offer(b"b" * 60)
    assert calls == [1, 2]


async def test_outbox_frame_bound_and_concurrent_catch_ups() -> None:
    calls: list[int] = []
    box = Outbox(4, lambda: calls.append(1))
    # two subscriptions catching up at once: each waits for room in the lower half
    first = asyncio.ensure_future(box.put(b"a1"))
    second = asyncio.ensure_future(box.put(b"b1"))
    await asyncio.sleep(0)
    assert first.done() and second.done() and box.qsize() == 2
    third = asyncio.ensure_future(box.put(b"a2"))
    fourth = asyncio.ensure_future(box.put(b"b2"))
    await asyncio.sleep(0.01)
    assert not third.done() and not fourth.done()  # half full (2 of 4)
    assert box.offer(b"live")  # 3 of 4: answers still fit
    assert box.offer(b"live2")  # 4 of 4
    assert not box.offer(b"over") and calls == [1]  # the frame bound: a slow consumer
    taken = [box.get_nowait() for _ in range(4)]
    assert taken == [b"a1", b"b1", b"live", b"live2"]
    await asyncio.wait_for(asyncio.gather(third, fourth), 1)  # both woke, none lost
    assert sorted([box.get_nowait(), box.get_nowait()]) == [b"a2", b"b2"]
    assert box.empty() and box.queued_bytes == 0
    box.overflowed = False
    assert box.offer(b"next")
    assert box.get_nowait() == b"next"
