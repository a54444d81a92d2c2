"""client.sdk against the scriptable fake hub: real mTLS, real frames, chosen failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from client.sdk import (
    Client,
    ClientError,
    ConnectionLost,
    ProtocolViolation,
    Received,
    SessionRefused,
)
from hub.protocol import frames as f
from hub.protocol.errors import (
    AccessDenied,
    AlertIdConflict,
    BadSignature,
    EnvelopeMismatch,
    EpochMismatch,
    HistoryGone,
    InvalidAlert,
    NoSuchChannel,
)
from hub.protocol.schema import example
from tests.bodies import note, seizure
from tests.client.common import CH, make_client, take
from tests.client.fakehub import FakeHub, FakeSession
from tests.pki import Pki, make_pki


@pytest.fixture
def hub(fake_hub: FakeHub) -> FakeHub:
    """The fake hub (conftest.py), under the name these tests use."""
    return fake_hub



@pytest.fixture
async def ops(hub: FakeHub, pki: Pki) -> AsyncIterator[Client]:
    client = make_client(hub, pki.member("fr", "ops"))
    async with client:
        yield client


@pytest.fixture
def sender(hub: FakeHub, pki: Pki) -> Client:
    """Another member's client, used offline to sign alerts that the fake hub stores."""
    leaf = pki.member("de", "zoll")
    hub.register(leaf)
    return make_client(hub, leaf)


def put(hub: FakeHub, sender: Client, n: int, *, channel: str = CH) -> list[int]:
    """Store ``n`` alerts signed by ``sender`` directly in the fake hub."""
    offs = []
    for i in range(n):
        signed = sender.sign(channel, "seizure", seizure(f"n={i}"))
        offs.append(hub.append(channel, signed.alert, signed.sig))
    return offs


# --- connecting -------------------------------------------------------------------


async def test_connect_welcome_and_channels(hub: FakeHub, ops: Client) -> None:
    assert ops.connected
    assert ops.welcome is not None
    assert ops.welcome.principal == "fr/ops"
    chans = await ops.channels()
    assert [c.ch for c in chans] == [CH]


async def test_connect_is_lazy_and_reopened(hub: FakeHub, pki: Pki) -> None:
    client = make_client(hub, pki.member("fr", "ops"))
    try:
        assert not client.connected
        await client.channels()
        assert client.connected
        await hub.drop_all()
        await asyncio.sleep(0.05)
        await client.channels()
        assert hub.connections == 2
    finally:
        await client.close()
    with pytest.raises(ClientError):
        await client.channels()


async def test_refused_identity_is_final(hub: FakeHub, pki: Pki) -> None:
    hub.refuse_with = 4011
    client = make_client(hub, pki.member("fr", "ops"))
    with pytest.raises(SessionRefused) as info:
        await client.connect()
    assert info.value.code == 4011
    assert hub.connections == 1  # never retried


async def test_handshake_cut_by_a_restarting_hub_is_retried(hub: FakeHub, pki: Pki) -> None:
    """A hub killed or restarting mid-handshake drops the connection before its HTTP
    response: retried, not taken for a refusal (a kill -9 fault test met it)."""
    hub.cut_handshakes = 2
    client = make_client(hub, pki.member("fr", "ops"))
    try:
        await client.connect()
        assert hub.handshakes_cut == 2 and client.connected
    finally:
        await client.close()


async def test_handshake_cut_on_every_try_is_a_refusal(hub: FakeHub, pki: Pki) -> None:
    """Every try cut the same way: what a TLS 1.3 hub refusing our certificate looks like
    (asyncio passes on no TLS alert), so the SDK gives up with SessionRefused, saying so."""
    hub.cut_handshakes = 100
    leaf = pki.member("fr", "ops")
    client = Client(hub.url, cert=leaf.cert, key=leaf.key, ca=pki.ca, backoff=0.01,
                    max_attempts=3)
    with pytest.raises(SessionRefused, match=r"refused your certificate \(revoked, expired"):
        await client.connect()
    assert hub.handshakes_cut == 3


async def test_connect_attempts_bound_the_first_connection_only(hub: FakeHub, pki: Pki
                                                                ) -> None:
    """``connect_attempts`` (what the CLIs' ``--retries`` sets): tries for the first
    connection; once connected, losses are retried up to ``max_attempts``, or not at all
    with ``reconnect=False`` (the admin CLI), whose first connection still gets its tries."""
    leaf = pki.member("fr", "ops")
    hub.cut_handshakes = 100
    with pytest.raises(SessionRefused):
        await make_client(hub, leaf, connect_attempts=2, max_attempts=6).connect()
    assert hub.handshakes_cut == 2
    with pytest.raises(SessionRefused):
        await make_client(hub, leaf, connect_attempts=3, reconnect=False).connect()
    assert hub.handshakes_cut == 2 + 3
    with pytest.raises(SessionRefused):  # the default: max_attempts
        await make_client(hub, leaf, max_attempts=4).connect()
    assert hub.handshakes_cut == 2 + 3 + 4

    hub.cut_handshakes = 0
    async with make_client(hub, leaf, connect_attempts=1, max_attempts=6) as patient, \
            make_client(hub, leaf, connect_attempts=3, reconnect=False) as once:
        await hub.wait_sessions(2)
        hub.cut_handshakes, cut = 4, hub.handshakes_cut
        await hub.drop_all()
        assert [c.ch for c in await patient.channels()] == [CH]  # 4 cut, the 5th opens
        assert hub.handshakes_cut == cut + 4
        with pytest.raises(ConnectionLost):
            await once.channels()
        assert hub.handshakes_cut == cut + 4  # not one more try
    with pytest.raises(ValueError, match="connect_attempts"):
        make_client(hub, leaf, connect_attempts=0)


async def test_untrusted_hub_certificate(hub: FakeHub, pki: Pki, tmp_path: Path) -> None:
    other = make_pki(tmp_path / "other")
    leaf = pki.member("fr", "ops")
    client = Client(hub.url, cert=leaf.cert, key=leaf.key, ca=other.ca, backoff=0.01)
    with pytest.raises(SessionRefused, match="the hub's certificate is not from the CA you gave"):
        await client.connect()


async def test_wrong_server_name(hub: FakeHub, pki: Pki) -> None:
    client = make_client(hub, pki.member("fr", "ops"), server_hostname="hub.example")
    with pytest.raises(SessionRefused):
        await client.connect()


async def test_unreachable_hub_gives_up_after_max_attempts(pki: Pki) -> None:
    leaf = pki.member("fr", "ops")
    client = Client(
        "wss://127.0.0.1:9/", cert=leaf.cert, key=leaf.key, ca=pki.ca, max_attempts=3, backoff=0.01
    )
    with pytest.raises(ConnectionLost, match=r"nothing listens at 127\.0\.0\.1:9"):
        await client.connect()


# --- publishing --------------------------------------------------------------------


async def test_publish_ack_and_idempotent_republish(hub: FakeHub, ops: Client) -> None:
    first = await ops.publish(CH, "seizure", seizure("1"), alert_id="FR-1", ts_ms=1_750_000_000_000)
    assert (first.offset, first.dup, first.alert_id) == (1, False, "FR-1")
    assert first.epoch == hub.channels[CH].epoch
    again = await ops.publish(CH, "seizure", seizure("1"), alert_id="FR-1", ts_ms=1_750_000_000_000)
    assert (again.offset, again.dup) == (1, True)
    with pytest.raises(AlertIdConflict):
        await ops.publish(CH, "seizure", seizure("2"), alert_id="FR-1", ts_ms=1_750_000_000_000)
    assert hub.channels[CH].head == 1


async def test_publish_resends_same_bytes_after_a_drop(hub: FakeHub, ops: Client) -> None:
    """Stored, then the connection drops before the ack: the resend is answered dup."""
    publishes: list[f.Publish] = []

    async def store_then_drop(session: FakeSession, frame: f.ClientFrame) -> bool:
        if isinstance(frame, f.Publish):
            publishes.append(frame)
            if len(publishes) == 1:
                hub._answer(session, frame)  # stored...
                session.abort()  # ...but the ack never leaves
                return True
        return False

    hub.hook = store_then_drop
    ack = await ops.publish(CH, "warning", example("warning"))
    assert (ack.offset, ack.dup) == (1, True)
    assert hub.channels[CH].head == 1
    assert len(publishes) == 2
    assert (publishes[0].alert, publishes[0].sig) == (publishes[1].alert, publishes[1].sig)
    assert publishes[0].rid != publishes[1].rid


async def test_publish_retries_transient_refusals(hub: FakeHub, ops: Client) -> None:
    refused = 0

    async def unavailable_twice(session: FakeSession, frame: f.ClientFrame) -> bool:
        nonlocal refused
        if isinstance(frame, f.Publish) and refused < 2:
            refused += 1
            code = 503 if refused == 1 else 429
            session.send(f.ErrorFrame(rid=frame.rid, code=code, msg="x"))
            return True
        return False

    hub.hook = unavailable_twice
    ack = await ops.publish(CH, "notice", note("hi"))
    assert (ack.offset, ack.dup, refused) == (1, False, 2)


async def test_publish_refusal_raises_matching_error(hub: FakeHub, ops: Client) -> None:
    async def deny(session: FakeSession, frame: f.ClientFrame) -> bool:
        if not isinstance(frame, f.Publish):
            return False
        session.send(
            f.ErrorFrame(
                rid=frame.rid,
                code=403,
                msg="access denied",
                detail="role does not allow publishing",
            )
        )
        return True

    hub.hook = deny
    with pytest.raises(AccessDenied, match="role does not allow"):
        await ops.publish(CH, "notice", note())
    hub.hook = None
    with pytest.raises(NoSuchChannel):
        await ops.publish("pangea", "notice", note())


async def test_publish_signed_sends_bytes_as_they_are(
    hub: FakeHub, ops: Client, sender: Client
) -> None:
    with pytest.raises(InvalidAlert):
        await ops.publish_signed(CH, b"\x81\xa1v\x01", b"\0" * 64)
    assert hub.frames[-1] == f.Publish(
        rid=hub.frames[-1].rid, ch=CH, alert=b"\x81\xa1v\x01", sig=b"\0" * 64
    )
    signed = sender.sign(CH, "notice", note())  # another principal's alert: a real hub says 423
    ack = await ops.publish_signed(CH, signed.alert, signed.sig)
    assert ack.alert_id == signed.envelope.id


async def test_publish_without_reconnect_raises(hub: FakeHub, pki: Pki) -> None:
    async def drop(session: FakeSession, frame: f.ClientFrame) -> bool:
        session.abort()
        return True

    async with make_client(hub, pki.member("fr", "ops"), reconnect=False) as client:
        hub.hook = drop
        with pytest.raises(ConnectionLost):
            await client.publish(CH, "notice", note())
        with pytest.raises(ConnectionLost):
            await client.channels()


# --- subscribing -----------------------------------------------------------------------


async def test_history_then_live_with_synced(hub: FakeHub, ops: Client, sender: Client) -> None:
    put(hub, sender, 3)
    synced: list[int | None] = []
    async with ops.subscribe(
        CH, since=0, on_synced=lambda s: synced.append(s.synced_offset)
    ) as sub:
        got = await take(sub, 3)
        assert [r.offset for r in got] == [1, 2, 3]
        assert all(r.verified and r.error is None for r in got)
        assert got[0].envelope is not None
        assert got[0].envelope.sender == "de/zoll"
        assert sub.epoch == hub.channels[CH].epoch
        put(hub, sender, 2)
        live = await take(sub, 2)
        assert [r.offset for r in live] == [4, 5]
        assert sub.synced
        assert synced == [3]
        assert sub.offset == 5


async def test_live_only_by_default(hub: FakeHub, ops: Client, sender: Client) -> None:
    put(hub, sender, 3)
    async with ops.subscribe(CH) as sub:
        task = asyncio.create_task(take(sub, 1))
        await asyncio.sleep(0.1)
        put(hub, sender, 1)
        assert [r.offset for r in await task] == [4]


@pytest.mark.parametrize("close_code", [None, 1001, 1011, 4008, 4009, 4029])
async def test_resume_after_drop_no_gap_no_duplicate(
    hub: FakeHub, ops: Client, sender: Client, close_code: int | None
) -> None:
    put(hub, sender, 5)
    async with ops.subscribe(CH, since=0) as sub:
        first = await take(sub, 3)
        # The hub had sent all 5 before dropping; 4 and 5 are still queued client-side.
        await hub.drop_all(close_code)
        put(hub, sender, 4)  # published while the subscriber is away
        rest = await take(sub, 6)
    offsets = [r.offset for r in first + rest]
    assert offsets == list(range(1, 10))
    assert hub.connections == 2
    resubscribe = [fr for fr in hub.frames if isinstance(fr, f.Subscribe)][-1]
    assert resubscribe.since == 5
    assert resubscribe.epoch == hub.channels[CH].epoch


async def test_resume_from_head_when_live_only(hub: FakeHub, ops: Client, sender: Client) -> None:
    """since=None: after a drop, resume from the head seen at subscribe time, not the new one."""
    put(hub, sender, 2)
    async with ops.subscribe(CH) as sub:
        task = asyncio.create_task(take(sub, 3))
        await hub.wait_sessions(1)
        await asyncio.sleep(0.1)
        await hub.drop_all()
        put(hub, sender, 3)
        got = await task
    assert [r.offset for r in got] == [3, 4, 5]


@pytest.mark.parametrize("close_code", [4010, 4011])
async def test_revoked_while_subscribed_is_final(
    hub: FakeHub, ops: Client, sender: Client, close_code: int
) -> None:
    async with ops.subscribe(CH, since=0) as sub:
        put(hub, sender, 1)
        await take(sub, 1)
        await hub.drop_all(close_code, "certificate revoked")
        with pytest.raises(SessionRefused) as info:
            await take(sub, 1)
        assert info.value.code == close_code
        assert sub.closed
    assert hub.connections == 1
    with pytest.raises(SessionRefused):
        await ops.channels()


async def test_subscribe_without_reconnect(hub: FakeHub, pki: Pki, sender: Client) -> None:
    put(hub, sender, 1)
    async with make_client(hub, pki.member("fr", "ops"), reconnect=False) as client:
        sub = client.subscribe(CH, since=0)
        await take(sub, 1)
        await hub.drop_all()
        with pytest.raises(ConnectionLost):
            await take(sub, 1)


async def test_history_gone_is_raised(hub: FakeHub, ops: Client, sender: Client) -> None:
    put(hub, sender, 5)
    hub.channels[CH].first = 4
    with pytest.raises(HistoryGone, match="first retained offset is 4"):
        await take(ops.subscribe(CH, since=1), 1)
    got = await take(ops.subscribe(CH, since=3), 2)
    assert [r.offset for r in got] == [4, 5]


async def test_epoch_mismatch_is_raised(hub: FakeHub, ops: Client) -> None:
    with pytest.raises(EpochMismatch) as info:
        await take(ops.subscribe(CH, since=0, epoch="0" * 32), 1)
    assert str(info.value) == hub.channels[CH].epoch


async def test_epoch_changes_while_away(hub: FakeHub, ops: Client, sender: Client) -> None:
    """The channel is re-created while the subscriber is disconnected: 412, never a skip."""
    put(hub, sender, 2)
    async with ops.subscribe(CH, since=0) as sub:
        await take(sub, 2)
        hub.add_channel(CH)
        put(hub, sender, 3)
        await hub.drop_all()
        with pytest.raises(EpochMismatch):
            await take(sub, 1)


async def test_error_after_subscribed_is_raised(hub: FakeHub, ops: Client) -> None:
    async def trimmed(session: FakeSession, frame: f.ClientFrame) -> bool:
        if not isinstance(frame, f.Subscribe):
            return False
        session.send(f.Subscribed(rid=frame.rid, ch=CH, epoch="e" * 32, first=1, head=9))
        session.send(f.ErrorFrame(rid=frame.rid, code=410, msg="x", detail="trimmed"))
        return True

    hub.hook = trimmed
    with pytest.raises(HistoryGone, match="trimmed"):
        await take(ops.subscribe(CH, since=0), 1)


async def test_ended_subscription_raises(hub: FakeHub, ops: Client, sender: Client) -> None:
    put(hub, sender, 1)
    sub = ops.subscribe(CH, since=0)
    await take(sub, 1)
    hub.sessions[0].send(f.Ended(ch=CH, code=404, msg="no longer a member of this channel"))
    with pytest.raises(NoSuchChannel, match="no longer a member"):
        await take(sub, 1)
    assert sub.closed
    # A new subscription to the channel is allowed once the old one ended.
    hub.sessions[0].subs.discard(CH)
    assert [r.offset for r in await take(ops.subscribe(CH, since=0), 1)] == [1]


async def test_offset_gap_is_never_skipped(hub: FakeHub, ops: Client, sender: Client) -> None:
    put(hub, sender, 3)

    async def skip_one(session: FakeSession, frame: f.ClientFrame) -> bool:
        if not isinstance(frame, f.Subscribe):
            return False
        channel = hub.channels[CH]
        session.send(f.Subscribed(rid=frame.rid, ch=CH, epoch=channel.epoch, first=1, head=3))
        for off in (1, 3):
            alert, sig = channel.log[off - 1]
            session.send(f.AlertFrame(ch=CH, off=off, alert=alert, sig=sig))
        return True

    hub.hook = skip_one
    sub = ops.subscribe(CH, since=0)
    assert [r.offset for r in await take(sub, 1)] == [1]
    with pytest.raises(ProtocolViolation, match="expected 2, got 3"):
        await take(sub, 1)


async def test_duplicates_from_the_hub_are_dropped(
    hub: FakeHub, ops: Client, sender: Client
) -> None:
    put(hub, sender, 2)

    async def twice(session: FakeSession, frame: f.ClientFrame) -> bool:
        if not isinstance(frame, f.Subscribe):
            return False
        hub._answer(session, frame)
        alert, sig = hub.channels[CH].log[0]
        session.send(f.AlertFrame(ch=CH, off=1, alert=alert, sig=sig))
        return True

    hub.hook = twice
    sub = ops.subscribe(CH, since=0)
    assert [r.offset for r in await take(sub, 2)] == [1, 2]
    put(hub, sender, 1)
    assert [r.offset for r in await take(sub, 1)] == [3]


async def test_local_queue_overflow_resumes_without_loss(
    hub: FakeHub, pki: Pki, sender: Client
) -> None:
    put(hub, sender, 40)
    async with make_client(hub, pki.member("fr", "ops"), max_queue=5) as client:
        sub = client.subscribe(CH, since=0)
        got = []
        async with asyncio.timeout(10):
            async for received in sub:
                got.append(received.offset)
                await asyncio.sleep(0.005)  # a slow consumer
                if len(got) == 40:
                    break
    assert got == list(range(1, 41))
    assert hub.connections >= 2


async def test_one_subscription_per_channel(hub: FakeHub, ops: Client, sender: Client) -> None:
    put(hub, sender, 1)
    sub = ops.subscribe(CH, since=0)
    await take(sub, 1)
    with pytest.raises(ClientError, match="already subscribed"):
        ops.subscribe(CH)
    await sub.aclose()
    assert any(isinstance(fr, f.Unsubscribe) for fr in hub.frames)
    with pytest.raises(StopAsyncIteration):
        await sub.__anext__()
    again = ops.subscribe(CH, since=0)
    assert [r.offset for r in await take(again, 1)] == [1]


async def test_close_ends_waiting_consumers(hub: FakeHub, pki: Pki) -> None:
    client = make_client(hub, pki.member("fr", "ops"))
    await client.connect()
    sub = client.subscribe(CH)

    async def consume() -> list[Received]:
        return [r async for r in sub]

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    await client.close()
    async with asyncio.timeout(5):
        assert await task == []


# --- verification ------------------------------------------------------------------------


async def test_forged_and_broken_alerts_are_yielded_unverified(
    hub: FakeHub, ops: Client, sender: Client, pki: Pki
) -> None:
    good = sender.sign(CH, "seizure", seizure("n=1"))
    flipped = bytes([good.sig[0] ^ 1]) + good.sig[1:]
    hub.append(CH, good.alert, flipped)  # 1: signature does not verify
    stranger = make_client(hub, pki.member("it", "gdf"))  # not in the directory
    unknown = stranger.sign(CH, "seizure", seizure())
    hub.append(CH, unknown.alert, unknown.sig)  # 2: unknown signer
    replayed = sender.sign("pangea", "seizure", seizure())
    hub.append(CH, replayed.alert, replayed.sig)  # 3: signed for another channel
    hub.append(CH, b"\xc1 not msgpack", b"\0" * 64)  # 4: not an envelope
    foreign = pki.foreign_ca_member("de", "zoll")
    hub.register(foreign)
    forged = make_client(hub, foreign).sign(CH, "seizure", seizure())
    hub.append(CH, forged.alert, forged.sig)  # 5: signer's certificate from another CA
    hub.append(CH, good.alert, good.sig)  # 6: fine

    got = await take(ops.subscribe(CH, since=0), 6)
    assert [r.verified for r in got] == [False] * 5 + [True]
    assert isinstance(got[0].error, BadSignature)
    assert isinstance(got[1].error, BadSignature)
    assert "unknown" in str(got[1].reason)
    assert isinstance(got[2].error, EnvelopeMismatch)
    assert isinstance(got[3].error, InvalidAlert)
    assert got[3].envelope is None
    assert isinstance(got[4].error, BadSignature)
    assert "not issued" in str(got[4].reason)
    assert got[5].reason is None


async def test_verify_false(hub: FakeHub, ops: Client, sender: Client) -> None:
    put(hub, sender, 1)
    (received,) = await take(ops.subscribe(CH, since=0, verify=False), 1)
    assert (received.verified, received.error) == (False, None)
    assert received.envelope is not None
    assert not any(isinstance(fr, f.DirectoryRequest) for fr in hub.frames)


async def test_directory_is_cached(hub: FakeHub, ops: Client, sender: Client) -> None:
    put(hub, sender, 4)
    await take(ops.subscribe(CH, since=0), 4)
    assert sum(isinstance(fr, f.DirectoryRequest) for fr in hub.frames) == 1
    certs = await ops.directory([sender.kid, "0" * 64])
    assert list(certs) == [sender.kid]


async def test_history_pages_are_verified(hub: FakeHub, ops: Client, sender: Client) -> None:
    put(hub, sender, 5)
    page = await ops.history(CH, limit=2)
    assert [r.offset for r in page.items] == [4, 5]
    assert page.more
    assert page.before == 4
    assert all(r.verified for r in page.items)
    older = await ops.history(CH, before=page.before, limit=10)
    assert [r.offset for r in older.items] == [1, 2, 3]
    assert not older.more
    assert older.before is None
    assert older.epoch == hub.channels[CH].epoch
    assert sum(isinstance(fr, f.DirectoryRequest) for fr in hub.frames) == 1


async def test_verify_any_bytes(hub: FakeHub, ops: Client, sender: Client) -> None:
    signed = sender.sign(CH, "notice", note("x"))
    assert (await ops.verify(CH, 1, signed.alert, signed.sig)).verified
    assert not (await ops.verify("pangea", 1, signed.alert, signed.sig)).verified


# --- misbehaving hubs ------------------------------------------------------------------------


async def test_error_then_close_while_opening(hub: FakeHub, pki: Pki) -> None:
    from hub.protocol import codec

    hub.greeting = [codec.encode(f.ErrorFrame(rid=None, code=503, msg="store unavailable"))]
    hub.refuse_with = 1011
    client = make_client(hub, pki.member("fr", "ops"), max_attempts=2)
    with pytest.raises(ConnectionLost) as info:
        await client.connect()
    assert not isinstance(info.value, SessionRefused)
    assert info.value.code == 1011
    assert "503" in str(info.value)
    assert hub.connections == 2


@pytest.mark.parametrize(
    ("greeting", "match"),
    [
        ([b"\xc1 not msgpack"], "malformed"),
        ([b"text is not binary".decode()], "text"),
        ([], "expected a welcome"),  # replaced below by an ack
    ],
)
async def test_hub_must_start_with_a_welcome(
    hub: FakeHub, pki: Pki, greeting: list[Any], match: str
) -> None:
    from hub.protocol import codec

    if not greeting:
        match = "expected a welcome"
        greeting = [codec.encode(f.Ack(rid=1, ch=CH, off=1, epoch="e", dup=False))]
    hub.greeting = greeting
    client = make_client(hub, pki.member("fr", "ops"))
    with pytest.raises(ProtocolViolation, match=match):
        await client.connect()


async def test_undecodable_frame_drops_the_connection_and_the_request_is_retried(
    hub: FakeHub, ops: Client
) -> None:
    sent_garbage = False

    async def garbage_once(session: FakeSession, frame: f.ClientFrame) -> bool:
        nonlocal sent_garbage
        if isinstance(frame, f.ChannelsRequest) and not sent_garbage:
            sent_garbage = True
            session.send_raw(b"\x81\xa1t\xa5bogus")
            return True
        return False

    hub.hook = garbage_once
    assert [c.ch for c in await ops.channels()] == [CH]
    assert hub.connections == 2


async def test_connection_error_explains_the_close(hub: FakeHub, ops: Client) -> None:
    async def scold(session: FakeSession, frame: f.ClientFrame) -> bool:
        session.send(f.ErrorFrame(rid=None, code=401, msg="invalid frame"))
        await asyncio.sleep(0.05)
        await session.close(4002)
        return True

    hub.hook = scold
    with pytest.raises(SessionRefused, match="401 invalid frame") as info:
        await ops.channels()
    assert info.value.code == 4002


async def test_clock_skew_is_reported(
    hub: FakeHub, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    hub.clock_offset_ms = 10 * 60 * 1000
    async with make_client(hub, pki.member("fr", "ops")):
        pass
    assert "behind the hub's" in caplog.text


async def test_reconnect_refused_ends_the_subscription(
    hub: FakeHub, ops: Client, sender: Client
) -> None:
    put(hub, sender, 1)
    sub = ops.subscribe(CH, since=0)
    await take(sub, 1)
    hub.refuse_with = 4010  # revoked while we were away
    await hub.drop_all()
    with pytest.raises(SessionRefused):
        await take(sub, 1)
    assert sub.closed


async def test_gives_up_when_every_reconnection_drops(hub: FakeHub, pki: Pki) -> None:
    async def drop_subscribes(session: FakeSession, frame: f.ClientFrame) -> bool:
        if isinstance(frame, f.Subscribe):
            session.abort()
            return True
        return False

    hub.hook = drop_subscribes
    async with make_client(hub, pki.member("fr", "ops"), max_attempts=3) as client:
        sub = client.subscribe(CH, since=0)
        with pytest.raises(ConnectionLost, match="gave up"):
            await take(sub, 1)
    assert 3 <= hub.connections <= 5


# --- alerts in batches (``alerts`` frames) -------------------------------------------


def _batch(hub: FakeHub, offs: range) -> f.AlertBatch:
    log = hub.channels[CH].log
    return f.AlertBatch(ch=CH, items=tuple(f.PageItem(o, *log[o - 1]) for o in offs))


async def test_batches_yield_their_alerts_one_by_one_verified(
    hub: FakeHub, ops: Client, sender: Client
) -> None:
    put(hub, sender, 9)
    hub.batch = 4
    sub = ops.subscribe(CH, since=0)
    got = await take(sub, 9)
    assert [r.offset for r in got] == list(range(1, 10))
    assert all(r.verified for r in got)
    put(hub, sender, 1)  # live, single
    assert [r.offset for r in await take(sub, 1)] == [10]


async def test_batch_duplicates_dropped_and_gaps_refused(
    hub: FakeHub, ops: Client, sender: Client
) -> None:
    put(hub, sender, 6)

    async def overlap(session: FakeSession, frame: f.ClientFrame) -> bool:
        if not isinstance(frame, f.Subscribe):
            return False
        channel = hub.channels[CH]
        session.send(f.Subscribed(rid=frame.rid, ch=CH, epoch=channel.epoch, first=1, head=6))
        session.send(_batch(hub, range(1, 3)))
        session.send(_batch(hub, range(1, 4)))  # 1 and 2 again: dropped
        session.send(_batch(hub, range(5, 7)))  # 4 is missing: a gap
        return True

    hub.hook = overlap
    sub = ops.subscribe(CH, since=0)
    assert [r.offset for r in await take(sub, 3)] == [1, 2, 3]
    with pytest.raises(ProtocolViolation, match="expected 4, got 5"):
        await take(sub, 1)


async def test_batch_signers_fetched_in_one_directory_request(
    hub: FakeHub, ops: Client, sender: Client, pki: Pki
) -> None:
    others = [pki.member("de", f"zoll{i}") for i in range(3)]
    signers = [sender] + [make_client(hub, leaf) for leaf in others]
    for leaf in others:
        hub.register(leaf)
    for i in range(8):
        signed = signers[i % 4].sign(CH, "seizure", seizure(f"n={i}"))
        hub.append(CH, signed.alert, signed.sig)
    hub.batch = 8
    got = await take(ops.subscribe(CH, since=0), 8)
    assert [r.offset for r in got] == list(range(1, 9)) and all(r.verified for r in got)
    asked = [fr for fr in hub.frames if isinstance(fr, f.DirectoryRequest)]
    assert len(asked) == 1 and len(asked[0].kids) == 4


async def test_local_queue_overflow_inside_a_batch_resumes_without_loss(
    hub: FakeHub, pki: Pki, sender: Client
) -> None:
    put(hub, sender, 40)
    hub.batch = 7
    async with make_client(hub, pki.member("fr", "ops"), max_queue=5) as client:
        sub = client.subscribe(CH, since=0)
        got = []
        async with asyncio.timeout(10):
            async for received in sub:
                got.append(received.offset)
                await asyncio.sleep(0.005)  # a slow consumer
                if len(got) == 40:
                    break
    assert got == list(range(1, 41))
    assert hub.connections >= 2
