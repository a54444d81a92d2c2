"""Bad input over a raw WebSocket: documented error codes, the connection survives (or only
it is closed), other clients are served, and nothing stored changes."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
import pytest
from websockets.exceptions import ConnectionClosed

from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.errors import CloseCode
from hub.protocol.limits import MAX_ALERT_BYTES, MAX_BAD_FRAMES, MAX_FRAME_BYTES
from tests.harness import HubHarness
from tests.hub.wire import CH, WAIT, Raw, Signer, cast, close_code, log_len, pipeline


def pack(obj: Any) -> bytes:
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


async def snapshot(h: HubHarness) -> tuple[int, int, int, str]:
    meta = await h.store.channel(CH)
    assert meta is not None
    return await log_len(h), meta.head, meta.first, meta.epoch


@pytest.fixture
async def seeded(h: HubHarness) -> dict[str, Any]:
    """The cast, with three alerts already in the channel."""
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    async with Raw.open(h, leaves["fr"]) as c:
        await pipeline(c, CH, [signer.sign(CH) for _ in range(3)])
    return leaves


def _valid_pub(signer: Signer) -> bytes:
    alert, sig = signer.sign(CH)
    return codec.encode(f.Publish(rid=9, ch=CH, alert=alert, sig=sig))


BAD: list[tuple[str, Any, int]] = [
    ("garbage", b"\xc1\xc1\xc1", 400),
    ("empty", b"", 400),
    ("truncated", "truncated", 400),
    ("trailing bytes", "trailing", 400),
    ("not a map", pack([1, 2, 3]), 401),
    ("no frame type", pack({"rid": 1, "ch": CH}), 401),
    ("frame type not a string", pack({"t": 7, "rid": 1}), 401),
    ("rid not an integer", pack({"t": "hist", "rid": "one", "ch": CH}), 401),
    ("negative rid", pack({"t": "hist", "rid": -1, "ch": CH}), 401),
    ("ch not a string", pack({"t": "hist", "rid": 1, "ch": b"stop-iii"}), 401),
    ("invalid channel name", pack({"t": "hist", "rid": 1, "ch": "Stop III"}), 401),
    ("alert not bytes", pack({"t": "pub", "rid": 1, "ch": CH, "alert": "x", "sig": b"s"}),
     401),
    ("missing field", pack({"t": "pub", "rid": 1, "ch": CH}), 401),
    ("unknown field", pack({"t": "chans", "rid": 1, "admin": True}), 401),
    ("limit of the wrong type", pack({"t": "hist", "rid": 1, "ch": CH, "limit": 1.5}), 401),
    ("non-string map key", pack({1: "x", "t": "chans", "rid": 1}), 401),
    ("too many key ids", pack({"t": "dir", "rid": 1, "kids": ["a" * 64] * 257}), 401),
    ("text message", "text", 401),
    ("unknown frame type", pack({"t": "nuke", "rid": 1}), 402),
    ("server frame type", pack({"t": "ack", "rid": 1, "ch": CH, "off": 1, "epoch": "e",
                                "dup": False}), 402),
    ("alert over 64 KiB", pack({"t": "pub", "rid": 1, "ch": CH, "alert": b"a" *
                                (MAX_ALERT_BYTES + 1), "sig": b"s" * 64}), 413),
]


@pytest.mark.parametrize(("what", "payload", "code"), BAD, ids=[b[0] for b in BAD])
async def test_bad_frame_gets_its_error_and_the_connection_survives(
    h: HubHarness, seeded: dict[str, Any], what: str, payload: Any, code: int
) -> None:
    fr = seeded["fr"]
    signer = Signer(fr)
    if payload == "truncated":
        payload = _valid_pub(signer)[:-10]
    elif payload == "trailing":
        payload = codec.encode(f.ChannelsRequest(rid=1)) + b"\x00"
    elif payload == "text":
        payload = '{"t": "chans", "rid": 1}'
    before = await snapshot(h)
    async with Raw.open(h, fr) as c:
        await c.send_bytes(payload)
        answer = await c.recv()
        assert isinstance(answer, f.ErrorFrame), answer
        assert answer.code == code, (what, answer)
        # The same connection still works: reads, and a valid publish.
        chans = await c.request(f.ChannelsRequest(rid=c.rid()))
        assert isinstance(chans, f.ChannelsResult) and [i.ch for i in chans.chans] == [CH]
        before_pub = await snapshot(h)
        assert before_pub == before  # the bad frame changed nothing
        ack = await c.publish(CH, *signer.sign(CH))
        assert isinstance(ack, f.Ack) and ack.off == before[1] + 1


async def test_oversized_message_closes_only_that_connection_1009(
    h: HubHarness, seeded: dict[str, Any]
) -> None:
    before = await snapshot(h)
    async with Raw.open(h, seeded["de"]) as other, Raw.open(h, seeded["fr"]) as c:
        big = pack({"t": "pub", "rid": 1, "ch": CH, "alert": b"a" * MAX_FRAME_BYTES,
                    "sig": b"s" * 64})
        assert len(big) > MAX_FRAME_BYTES
        await c.send_bytes(big)
        frames, closed = await c.until_closed()
        assert frames == []
        assert close_code(closed) == CloseCode.TOO_BIG
        answer = await other.request(f.HistoryRequest(rid=other.rid(), ch=CH))
        assert isinstance(answer, f.HistoryPage) and len(answer.items) == 3
    assert await snapshot(h) == before


async def test_more_than_the_allowed_bad_frames_closes_4002(
    h: HubHarness, seeded: dict[str, Any]
) -> None:
    before = await snapshot(h)
    async with Raw.open(h, seeded["de"]) as other, Raw.open(h, seeded["fr"]) as c:
        for _ in range(MAX_BAD_FRAMES + 5):  # a burst, all sent before any answer is read
            await c.send_bytes(b"\xc1")
        errors, closed = await c.until_closed()
        assert all(isinstance(e, f.ErrorFrame) and e.code == 400 for e in errors), errors
        assert close_code(closed) == CloseCode.PROTOCOL_ABUSE
        assert len(errors) <= MAX_BAD_FRAMES + 1
        answer = await other.request(f.ChannelsRequest(rid=other.rid()))
        assert isinstance(answer, f.ChannelsResult)
    assert await snapshot(h) == before
    # Exactly the tolerated count is fine.
    async with Raw.open(h, seeded["fr"]) as c:
        for _ in range(MAX_BAD_FRAMES):
            await c.send_bytes(b"\xc1")
        for _ in range(MAX_BAD_FRAMES):
            answer = await c.recv()
            assert isinstance(answer, f.ErrorFrame) and answer.code == 400
        chans = await c.request(f.ChannelsRequest(rid=c.rid()))
        assert isinstance(chans, f.ChannelsResult)


async def test_bad_frames_are_audited_without_their_content(
    h: HubHarness, seeded: dict[str, Any]
) -> None:
    async with Raw.open(h, seeded["fr"]) as c:
        await c.send_bytes(b"\xc1secret-looking-bytes")
        assert isinstance(await c.recv(), f.ErrorFrame)
    records = await h.store.audit_log(action="frame")
    assert [(r["principal"], r["result"], r["code"]) for r in records] == [
        ("fr/ops", "refused", "400")]
    assert not any("secret" in v for r in records for v in r.values())


async def test_a_storm_of_garbage_from_many_clients_leaves_the_hub_serving(
    h: HubHarness, seeded: dict[str, Any]
) -> None:
    """Several connections misbehave at once while another publishes and subscribes."""
    before = await snapshot(h)
    signer = Signer(seeded["de"])

    async def misbehave(leaf: Any) -> int | None:
        async with Raw.open(h, leaf) as c:
            for i in range(MAX_BAD_FRAMES + 1):
                await c.send_bytes(bytes([0xC1, i]))
            try:
                while True:
                    await c.recv()
            except ConnectionClosed as exc:
                return close_code(exc)

    async with Raw.open(h, seeded["de"]) as good, Raw.open(h, seeded["it"]) as sub:
        ok = await sub.request(f.Subscribe(rid=1, ch=CH, since=before[1]))
        assert isinstance(ok, f.Subscribed)
        assert await sub.recv() == f.Synced(ch=CH, off=before[1])
        async with asyncio.timeout(WAIT):
            codes, acks = await asyncio.gather(
                asyncio.gather(*(misbehave(seeded[m]) for m in ("fr", "nl", "fr"))),
                pipeline(good, CH, [signer.sign(CH) for _ in range(30)]),
            )
        assert codes == [CloseCode.PROTOCOL_ABUSE] * 3
        assert [a.off for a in acks] == list(range(before[1] + 1, before[1] + 31))
        for ack in acks:
            frame = await sub.recv()
            assert isinstance(frame, f.AlertFrame) and frame.off == ack.off
