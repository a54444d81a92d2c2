"""Signed alerts the hub must refuse, and what each role may do, over real connections.

Every refusal is checked on the wire (code, and that the connection still
works) and in the store (the channel's stream did not grow).
"""

from __future__ import annotations

import asyncio
import gc
import time

import pytest

from hub import admin
from hub.protocol import frames as f
from hub.protocol.envelope import encode_envelope, sign_alert
from tests.harness import HubHarness
from tests.hub.conftest import MakeHub
from tests.hub.wire import CH, FAT, Raw, Signer, cast, log_len, pipeline

OTHER = "op-orion"
MINUTE_MS = 60_000


def code_of(frame: f.ServerFrame) -> int:
    assert isinstance(frame, f.ErrorFrame), frame
    return frame.code


async def refused_with(c: Raw, ch: str, alert: bytes, sig: bytes) -> int:
    return code_of(await c.publish(ch, alert, sig))


# --- signatures ---------------------------------------------------------------------------


async def test_flipped_byte_in_signature_or_alert_is_422(h: HubHarness) -> None:
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        alert, sig = signer.sign(CH)
        assert await refused_with(c, CH, alert, bytes([sig[0] ^ 0x01]) + sig[1:]) == 422
        assert await refused_with(c, CH, alert, sig[:-1]) == 422  # 63 bytes
        i = alert.index(b"alert 1")  # inside the body text: still a valid envelope
        tampered = alert[:i] + b"b" + alert[i + 1:]
        assert await refused_with(c, CH, tampered, sig) == 422
        assert await log_len(h) == 0
        ack = await c.publish(CH, alert, sig)  # the genuine one still goes through
        assert isinstance(ack, f.Ack) and (ack.off, ack.dup) == (1, False)


async def test_valid_alert_replayed_into_another_channel_is_423(h: HubHarness) -> None:
    fr = (await cast(h))["fr"]
    await h.channel(OTHER, {"fr": "contributor"})
    async with Raw.open(h, fr) as c:
        alert, sig = Signer(fr).sign(CH)
        assert isinstance(await c.publish(CH, alert, sig), f.Ack)
        assert await refused_with(c, OTHER, alert, sig) == 423
        assert await log_len(h, OTHER) == 0
        assert await log_len(h, CH) == 1


async def test_alert_of_another_sender_is_423(h: HubHarness) -> None:
    leaves = await cast(h)
    fr, de = leaves["fr"], leaves["de"]
    fr_signer, de_signer = Signer(fr), Signer(de)
    async with Raw.open(h, de) as c:
        # fr's genuine alert, sent over de's session
        alert, sig = fr_signer.sign(CH)
        assert await refused_with(c, CH, alert, sig) == 423
        # de's own key and kid, but claiming to be fr
        alert = encode_envelope(de_signer.envelope(CH, sender="fr/ops"))
        assert await refused_with(c, CH, alert, sign_alert(de_signer.key, alert)) == 423
        # de as sender, signed with de's key, but naming fr's certificate
        alert = encode_envelope(de_signer.envelope(CH, kid=fr_signer.kid))
        assert await refused_with(c, CH, alert, sign_alert(de_signer.key, alert)) == 423
        assert await log_len(h) == 0
        alert, sig = de_signer.sign(CH)
        assert isinstance(await c.publish(CH, alert, sig), f.Ack)


@pytest.mark.parametrize("skew_ms", [-6 * MINUTE_MS, 6 * MINUTE_MS, -365 * 24 * 60 * MINUTE_MS])
async def test_timestamp_outside_the_window_is_425(h: HubHarness, skew_ms: int) -> None:
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        alert, sig = signer.sign(CH, ts=time.time_ns() // 1_000_000 + skew_ms)
        assert await refused_with(c, CH, alert, sig) == 425
        assert await log_len(h) == 0
        alert, sig = signer.sign(CH, ts=time.time_ns() // 1_000_000 - 4 * MINUTE_MS)
        assert isinstance(await c.publish(CH, alert, sig), f.Ack)  # inside the window


async def test_unknown_or_revoked_signing_key_is_422(h: HubHarness) -> None:
    fr = (await cast(h))["fr"]
    old = await h.member("fr", "ops")  # a second certificate of fr/ops ...
    await h.revoke(old)  # ... revoked; fr's first certificate stays valid
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        for kid in ("ab" * 32, Signer(old).kid):
            alert = encode_envelope(signer.envelope(CH, kid=kid))
            assert await refused_with(c, CH, alert, sign_alert(signer.key, alert)) == 422
        assert await log_len(h) == 0


async def test_second_active_certificate_of_the_same_principal_may_sign(h: HubHarness) -> None:
    fr = (await cast(h))["fr"]
    second = await h.member("fr", "ops")
    async with Raw.open(h, fr) as c:
        alert, sig = Signer(second).sign(CH)
        ack = await c.publish(CH, alert, sig)
        assert isinstance(ack, f.Ack) and ack.off == 1


async def test_malformed_envelope_is_424(h: HubHarness) -> None:
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        for alert in (b"\xc1", b"\x80", b"\x91\x01"):
            assert await refused_with(c, CH, alert, sign_alert(signer.key, alert)) == 424
        assert await log_len(h) == 0


# --- roles --------------------------------------------------------------------------------


async def test_reader_publishing_is_403(h: HubHarness) -> None:
    it = (await cast(h))["it"]
    async with Raw.open(h, it) as c:
        alert, sig = Signer(it).sign(CH)
        assert await refused_with(c, CH, alert, sig) == 403
        assert await log_len(h) == 0
        # ... but it reads.
        answer = await c.request(f.HistoryRequest(rid=c.rid(), ch=CH))
        assert isinstance(answer, f.HistoryPage) and answer.items == ()


async def test_non_member_gets_the_same_404_as_for_a_channel_that_does_not_exist(
    h: HubHarness,
) -> None:
    leaves = await cast(h)
    nl = leaves["nl"]
    async with Raw.open(h, leaves["fr"]) as fr:
        alert, sig = Signer(leaves["fr"]).sign(CH)
        assert isinstance(await fr.publish(CH, alert, sig), f.Ack)
    signer = Signer(nl)
    async with Raw.open(h, nl) as c:
        answers: dict[str, list[tuple[object, ...]]] = {}
        for ch in (CH, "no-such-channel"):
            frames: list[f.ClientFrame] = [
                f.Subscribe(rid=1, ch=ch, since=0),
                f.Subscribe(rid=2, ch=ch),
                f.Subscribe(rid=3, ch=ch, since=0, epoch="0" * 32),
                f.HistoryRequest(rid=4, ch=ch),
                f.Unsubscribe(rid=5, ch=ch),
            ]
            got = [await c.request(frame) for frame in frames]
            alert, sig = signer.sign(ch)
            got.append(await c.request(f.Publish(rid=6, ch=ch, alert=alert, sig=sig)))
            assert all(isinstance(g, f.ErrorFrame) for g in got), got
            answers[ch] = [(g.rid, g.code, g.msg, g.detail) for g in got]  # type: ignore[union-attr]
        assert answers[CH] == answers["no-such-channel"]
        assert [a[1] for a in answers[CH]] == [404, 404, 404, 404, 407, 404]
        chans = await c.request(f.ChannelsRequest(rid=7))
        assert isinstance(chans, f.ChannelsResult) and chans.chans == ()
    assert await log_len(h) == 1


async def test_closed_and_archived_channels_refuse_publishing_but_can_be_read(
    h: HubHarness,
) -> None:
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        alert, sig = signer.sign(CH)
        assert isinstance(await c.publish(CH, alert, sig), f.Ack)
        for state in ("closed", "archived"):
            await admin.set_channel_state(h.store, CH, state)
            alert, sig = signer.sign(CH)
            assert await refused_with(c, CH, alert, sig) == 405
            page = await c.request(f.HistoryRequest(rid=c.rid(), ch=CH))
            assert isinstance(page, f.HistoryPage) and [i.off for i in page.items] == [1]
    assert await log_len(h) == 1


async def test_non_admin_admin_request_is_403(h: HubHarness) -> None:
    fr = (await cast(h))["fr"]
    async with Raw.open(h, fr) as c:
        answer = await c.request(f.AdminRequest(rid=c.rid(), op="channel.create",
                                                args={"name": "mine", "title": "x"}))
        assert code_of(answer) == 403
    assert await h.store.channel("mine") is None


async def test_removing_a_role_ends_the_live_subscription(h: HubHarness) -> None:
    leaves = await cast(h)
    fr, it, de = leaves["fr"], leaves["it"], leaves["de"]
    signer = Signer(fr)
    async with Raw.open(h, it) as reader, Raw.open(h, de) as other, Raw.open(h, fr) as pub:
        for c in (reader, other):
            assert isinstance(await c.request(f.Subscribe(rid=c.rid(), ch=CH, since=0)),
                              f.Subscribed)
            assert await c.recv() == f.Synced(ch=CH, off=0)
        alert, sig = signer.sign(CH)
        assert isinstance(await pub.publish(CH, alert, sig), f.Ack)
        for c in (reader, other):
            assert await c.recv() == f.AlertFrame(ch=CH, off=1, alert=alert, sig=sig)
        await admin.revoke_role(h.store, CH, "it")
        ended = await reader.recv()
        assert isinstance(ended, f.Ended) and (ended.ch, ended.code) == (CH, 404)
        alert2, sig2 = signer.sign(CH)
        assert isinstance(await pub.publish(CH, alert2, sig2), f.Ack)
        assert await other.recv() == f.AlertFrame(ch=CH, off=2, alert=alert2, sig=sig2)
        # it/gdf gets nothing more on CH, and is now a stranger to it.
        answer = await reader.request(f.HistoryRequest(rid=reader.rid(), ch=CH))
        assert code_of(answer) == 404
        answer = await reader.request(f.Subscribe(rid=reader.rid(), ch=CH, since=0))
        assert code_of(answer) == 404


async def test_role_removed_during_catch_up_ends_the_subscription(make_hub: MakeHub) -> None:
    """A subscriber still receiving history when its role goes must not join the live feed."""
    h = await make_hub(send_queue_frames=8)
    leaves = await cast(h)
    fr, it = leaves["fr"], leaves["it"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as pub:
        for _ in range(6):  # ~8 MB of history: more than the socket buffers hold
            await pipeline(pub, CH, [signer.sign(CH, body=FAT) for _ in range(50)])
        # max_queue=1: websockets stops reading the socket after one message, so the hub's
        # writer blocks and the catch-up of ~8 MB cannot finish until the reader reads.
        async with Raw.open(h, it, max_queue=1) as reader:
            ok = await reader.request(f.Subscribe(rid=1, ch=CH, since=0))
            assert isinstance(ok, f.Subscribed) and ok.head == 300
            assert h.hub is not None
            session = next(iter(h.hub.sessions["it/gdf"]))
            await admin.revoke_role(h.store, CH, "it")
            await h.wait_for(lambda: CH not in session.subs, timeout=20)  # event handled
            frames: list[f.ServerFrame] = []
            async with asyncio.timeout(20):
                while not frames or not isinstance(frames[-1], f.Ended | f.ErrorFrame | f.Synced):
                    frames.append(await reader.recv())
            # Live alerts published after the removal never reach it/gdf.
            alert, sig = signer.sign(CH)
            assert isinstance(await pub.publish(CH, alert, sig), f.Ack)
            answer = await reader.request(f.ChannelsRequest(rid=2))
            assert isinstance(answer, f.ChannelsResult) and answer.chans == ()
        offsets = [fr_.off for fr_ in frames if isinstance(fr_, f.AlertFrame)]
        assert offsets == list(range(1, len(offsets) + 1))  # a gap-free prefix of history
        assert not any(isinstance(fr_, f.Synced) for fr_ in frames)
        assert isinstance(frames[-1], f.Ended) and frames[-1].code == 404
        assert h.hub.feeds.feeds == {}  # nobody left on the channel's feed


async def test_pipelined_publishes_keep_their_order_around_refusals(h: HubHarness) -> None:
    """Signatures are checked on the verifier's thread while the reader goes on: sent
    back to back, a forged publish and one with an invalid body among good ones are
    refused by their own rid, and the others are stored in the order sent."""
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    signed = [signer.sign(CH) for _ in range(40)]
    forged_at, invalid_at = 7, 23
    alert, sig = signed[forged_at]
    signed[forged_at] = (alert, bytes([sig[0] ^ 0x01]) + sig[1:])
    bad_body = encode_envelope(signer.envelope(CH, body={"title": 7}))
    signed[invalid_at] = (bad_body, sign_alert(signer.key, bad_body))
    async with Raw.open(h, fr) as c:
        rids = []
        for alert, sig in signed:
            rids.append(c.rid())
            await c.send(f.Publish(rid=rids[-1], ch=CH, alert=alert, sig=sig))
        answers: dict[int, f.ServerFrame] = {}
        while len(answers) < len(rids):
            frame = await c.recv()
            rid = getattr(frame, "rid", None)
            assert isinstance(rid, int), frame
            answers[rid] = frame
    assert code_of(answers[rids[forged_at]]) == 422
    assert code_of(answers[rids[invalid_at]]) == 424
    good = [i for i in range(len(signed)) if i not in (forged_at, invalid_at)]
    acks = [answers[rids[i]] for i in good]
    assert all(isinstance(a, f.Ack) for a in acks)
    assert [a.off for a in acks] == list(range(1, len(good) + 1))  # type: ignore[union-attr]
    stored = await h.store.read_after(CH, 0, 100)
    assert [s.alert for s in stored] == [signed[i][0] for i in good]


async def test_closing_with_checks_in_flight_leaves_nothing_behind(
    h: HubHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """A connection that sends forged publishes and goes away at once: the hub drops its
    pending signature checks quietly (no 'exception was never retrieved'), stores none
    of them, and keeps serving."""
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        for _ in range(300):
            alert, sig = signer.sign(CH)
            await c.send(f.Publish(rid=c.rid(), ch=CH, alert=alert,
                                   sig=bytes([sig[0] ^ 0x01]) + sig[1:]))
        c.ws.transport.abort()
    assert h.hub is not None
    hub = h.hub
    await h.wait_for(lambda: "fr/ops" not in hub.sessions, 10)
    await asyncio.sleep(0.2)  # the verifier threads finish what was queued
    gc.collect()
    await asyncio.sleep(0)
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
    assert await log_len(h) == 0
    async with Raw.open(h, fr) as c:
        alert, sig = signer.sign(CH)
        assert isinstance(await c.publish(CH, alert, sig), f.Ack)
