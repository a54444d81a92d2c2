"""``pubs``: several signed alerts in one frame, each settled on its own (PROTOCOL §6.3).

Every test speaks the wire by hand (tests.hub.wire) against a real hub: what the
``acks`` frame says for each item, in order, and what the store holds afterwards.
"""

from __future__ import annotations

import time

import msgpack

from hub import admin
from hub.protocol import frames as f
from hub.protocol.envelope import encode_envelope, sign_alert
from hub.protocol.limits import MAX_ALERT_BYTES, MAX_PUB_ITEMS
from tests.harness import HubHarness
from tests.hub.conftest import MakeHub
from tests.hub.wire import CH, Raw, Signer, cast, log_len

OTHER = "op-orion"


def pubs(c: Raw, ch: str, signed: list[tuple[bytes, bytes]]) -> f.PublishBatch:
    return f.PublishBatch(rid=c.rid(), ch=ch,
                          items=tuple(f.SignedItem(a, s) for a, s in signed))


def results(frame: f.ServerFrame, n: int) -> tuple[f.ItemAck | f.ItemError, ...]:
    assert isinstance(frame, f.Acks), frame
    assert len(frame.items) == n
    return frame.items


def outcome(item: f.ItemAck | f.ItemError) -> int | tuple[int, bool]:
    """An ack as (offset, dup); a refusal as its code."""
    if isinstance(item, f.ItemAck):
        return item.off, item.dup
    return item.code


async def test_each_alert_of_a_batch_is_settled_on_its_own(h: HubHarness) -> None:
    """One forged signature, a bad body, another channel's alert, a stale one, an alert
    over 64 KiB, a 63-byte signature, an id repeated with the same bytes and with other
    bytes, and an alert stored earlier: each gets its own answer, in the frame's order;
    their neighbours are stored, in order; the connection goes on."""
    fr = (await cast(h))["fr"]
    await h.channel(OTHER, {"fr": "contributor"})
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        earlier = signer.sign(CH)
        assert isinstance(await c.publish(CH, *earlier), f.Ack)
        good = [signer.sign(CH) for _ in range(6)]
        alert, sig = signer.sign(CH)
        forged = (alert, bytes([sig[0] ^ 1]) + sig[1:])
        bad_body = encode_envelope(signer.envelope(CH, body={"title": 7}))
        other = signer.sign(OTHER)
        stale = signer.sign(CH, ts=time.time_ns() // 1_000_000 - 10 * 60_000)
        huge = signer.sign(CH, body={"schema": 1, "handling": "H1",
                                     "text": "x" * 9000, "title": "y" * 100})
        big = encode_envelope(signer.envelope(CH, body={
            "schema": 1, "handling": "H1", "text": "z" * 10_000,
            "links": ["a" * 60 + f"{i:04d}" for i in range(32)]}))
        assert len(big) <= MAX_ALERT_BYTES  # (the over-size one is built below)
        over = b"\x00" * (MAX_ALERT_BYTES + 1)
        short_sig = (good[5][0], good[5][1][:63])
        same_id = signer.envelope(CH)
        first = encode_envelope(same_id)
        again_other = encode_envelope(signer.envelope(CH, id=same_id.id, body={
            "schema": 1, "handling": "H1", "text": "other bytes"}))
        batch = [good[0], forged, good[1], (bad_body, sign_alert(signer.key, bad_body)),
                 other, stale, (over, good[2][1]), good[2], short_sig,
                 (first, sign_alert(signer.key, first)), (first, sign_alert(signer.key, first)),
                 (again_other, sign_alert(signer.key, again_other)), earlier, good[3], huge]
        frame = pubs(c, CH, batch)
        got = results(await c.request(frame), len(batch))
        assert [outcome(i) for i in got] == [
            (2, False), 422, (3, False), 424, 423, 425, 413, (4, False), 422,
            (5, False), (5, True), 409, (1, True), (6, False), (7, False)]
        for item in got:
            if isinstance(item, f.ItemAck):
                assert len(item.epoch) == 32
            else:
                assert item.msg and isinstance(item.detail, str)
        assert "offset 5" in got[11].detail  # type: ignore[union-attr]
        stored = await h.store.read_after(CH, 0, 100)
        assert [s.alert for s in stored] == [earlier[0], good[0][0], good[1][0], good[2][0],
                                             first, good[3][0], huge[0]]
        # the connection goes on: a plain publish after the batch
        ack = await c.publish(CH, *good[4])
        assert isinstance(ack, f.Ack) and ack.off == 8


async def test_a_batch_is_refused_whole_only_for_what_concerns_the_frame(
        h: HubHarness) -> None:
    """Too many items: 413; no items, an item that is not [bin, bin]: 401; a channel the
    member may not publish in: 403 (reader) / 404 (no role). Each is one ``err`` with the
    frame's rid, nothing is stored, and the connection goes on."""
    leaves = await cast(h)
    fr, it, nl = leaves["fr"], leaves["it"], leaves["nl"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        one = signer.sign(CH)
        answer = await c.request(pubs(c, CH, [one] * (MAX_PUB_ITEMS + 1)))
        assert isinstance(answer, f.ErrorFrame) and answer.code == 413
        for items in ([], [[one[0]]], [[one[0], one[1], b""]], [[one[0], "sig"]], [one[0]]):
            rid = c.rid()
            await c.send_bytes(msgpack.packb({"t": "pubs", "rid": rid, "ch": CH,
                                              "items": items}, use_bin_type=True))
            answer = await c.recv()
            assert isinstance(answer, f.ErrorFrame) and (answer.rid, answer.code) == (rid, 401)
        assert await log_len(h) == 0
        got = results(await c.request(pubs(c, CH, [one] * MAX_PUB_ITEMS)), MAX_PUB_ITEMS)
        assert [outcome(i) for i in got] == [(1, False)] + [(1, True)] * (MAX_PUB_ITEMS - 1)
    for leaf, code in ((it, 403), (nl, 404)):
        other = Signer(leaf)
        async with Raw.open(h, leaf) as c:
            answer = await c.request(pubs(c, CH, [other.sign(CH), other.sign(CH)]))
            assert isinstance(answer, f.ErrorFrame) and answer.code == code
    assert await log_len(h) == 1


async def test_pub_and_pubs_on_one_connection_are_stored_in_the_order_received(
        h: HubHarness) -> None:
    """Frames sent back to back, plain and batched mixed: stored in the order sent, every
    answer by its own rid."""
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    signed = [signer.sign(CH) for _ in range(30)]
    async with Raw.open(h, fr) as c:
        rids: dict[int, int] = {}  # rid -> alerts in the frame
        at = 0
        for size in (1, 5, 1, 1, 10, 3, 1, 8):
            rid = c.rid()
            rids[rid] = size
            if size == 1:
                await c.send(f.Publish(rid=rid, ch=CH, alert=signed[at][0], sig=signed[at][1]))
            else:
                await c.send(f.PublishBatch(rid=rid, ch=CH, items=tuple(
                    f.SignedItem(a, s) for a, s in signed[at:at + size])))
            at += size
        answers: dict[int, f.ServerFrame] = {}
        while len(answers) < len(rids):
            frame = await c.recv()
            answered = getattr(frame, "rid", None)
            assert isinstance(answered, int), frame
            answers[answered] = frame
    offsets: list[int] = []
    for rid, size in rids.items():
        frame = answers[rid]
        if size == 1:
            assert isinstance(frame, f.Ack)
            offsets.append(frame.off)
        else:
            offsets += [i.off for i in results(frame, size)]  # type: ignore[union-attr]
    assert offsets == list(range(1, 31))
    stored = await h.store.read_after(CH, 0, 100)
    assert [s.alert for s in stored] == [a for a, _ in signed]


async def test_rate_limit_refuses_item_by_item(make_hub: MakeHub) -> None:
    """The rate limit counts each alert: past the burst the rest of the batch is 429,
    each in its place."""
    h = await make_hub(publish_rate=0.001, publish_burst=3)
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        assert c.welcome.limits["max_pub_items"] == MAX_PUB_ITEMS
        got = results(await c.request(pubs(c, CH, [signer.sign(CH) for _ in range(5)])), 5)
        assert [outcome(i) for i in got] == [(1, False), (2, False), (3, False), 429, 429]


async def test_closed_channel_refuses_every_alert_of_a_batch(h: HubHarness) -> None:
    fr = (await cast(h))["fr"]
    await admin.set_channel_state(h.store, CH, "closed")
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        got = results(await c.request(pubs(c, CH, [signer.sign(CH) for _ in range(3)])), 3)
        assert [outcome(i) for i in got] == [405, 405, 405]
    assert await log_len(h) == 0


async def test_a_batch_larger_than_the_in_flight_bound_is_answered(make_hub: MakeHub) -> None:
    """With 4 publishes in flight allowed (send queue of 8 frames), a ``pubs`` of 10 takes
    the whole bound, is answered, and frees it for the next frames."""
    h = await make_hub(send_queue_frames=8)
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        for start in (1, 11):
            got = results(await c.request(pubs(c, CH, [signer.sign(CH) for _ in range(10)])),
                          10)
            assert [outcome(i) for i in got] == [(start + n, False) for n in range(10)]
        assert isinstance(await c.publish(CH, *signer.sign(CH)), f.Ack)
