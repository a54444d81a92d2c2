"""client.sdk and the CLI against a real hub (tests.harness): real mTLS, real Valkey."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from client.cli import publish_main, tail_main
from client.sdk import SessionRefused
from hub import admin
from hub.protocol.errors import (
    AccessDenied,
    AlertIdConflict,
    BadSignature,
    EnvelopeMismatch,
    EpochMismatch,
    HistoryGone,
    NoSuchChannel,
)
from hub.protocol.schema import example
from hub.storage import AppendRequest
from tests.bodies import feedback, note, seizure
from tests.client.common import CH, FAST, take
from tests.harness import HubHarness
from tests.pki import Leaf


@pytest.fixture
async def members(h: HubHarness) -> dict[str, Leaf]:
    """fr/ops and de/zoll contribute to the channel, it/gdf only reads it."""
    leaves = {m: await h.member(m, n) for m, n in (("fr", "ops"), ("de", "zoll"), ("it", "gdf"))}
    await h.channel(CH, {"fr": "contributor", "de": "contributor", "it": "reader"})
    return leaves


@pytest.fixture
def fr(members: dict[str, Leaf]) -> Leaf:
    return members["fr"]


@pytest.fixture
def de(members: dict[str, Leaf]) -> Leaf:
    return members["de"]


@pytest.fixture
def it(members: dict[str, Leaf]) -> Leaf:
    return members["it"]


# --- publish --------------------------------------------------------------------------


async def test_publish_ack_dup_and_refusals(h: HubHarness, fr: Leaf, it: Leaf) -> None:
    ts = int(time.time() * 1000)
    async with h.client(fr, **FAST) as c:
        first = await c.publish(
            CH, "seizure", seizure(), alert_id="FR-2026-0001", ts_ms=ts
        )
        assert (first.offset, first.dup) == (1, False)
        again = await c.publish(
            CH, "seizure", seizure(), alert_id="FR-2026-0001", ts_ms=ts
        )
        assert (again.offset, again.dup, again.epoch) == (1, True, first.epoch)
        with pytest.raises(AlertIdConflict):
            await c.publish(CH, "seizure", seizure("other"), alert_id="FR-2026-0001", ts_ms=ts)
        second = await c.publish(CH, "notice", note("briefing at 10:00"))
        assert (second.offset, second.dup) == (2, False)
        with pytest.raises(NoSuchChannel):
            await c.publish("pangea", "notice", note())
    async with h.client(it, **FAST) as reader:
        with pytest.raises(AccessDenied):
            await reader.publish(CH, "notice", note())


async def test_hub_refuses_forged_publications(h: HubHarness, fr: Leaf, de: Leaf) -> None:
    async with h.client(fr, **FAST) as c, h.client(de, **FAST) as dc:
        signed = c.sign(CH, "seizure", seizure("n=1"))
        flipped = bytes([signed.sig[0] ^ 1]) + signed.sig[1:]
        with pytest.raises(BadSignature):
            await c.publish_signed(CH, signed.alert, flipped)
        with pytest.raises(EnvelopeMismatch):  # fr's alert sent over de's session
            await dc.publish_signed(CH, signed.alert, signed.sig)
        ack = await c.publish_signed(CH, signed.alert, signed.sig)
        assert ack.alert_id == signed.envelope.id
        assert (await c.publish_signed(CH, signed.alert, signed.sig)).dup


async def test_publish_survives_a_hub_restart(h: HubHarness, fr: Leaf) -> None:
    async with h.client(fr, **FAST) as c:
        await c.publish(CH, "notice", note("n=0"))
        await h.restart()
        ack = await c.publish(CH, "notice", note("n=1"))
        assert (ack.offset, ack.dup) == (2, False)


# --- subscribe ------------------------------------------------------------------------


async def test_history_then_live(h: HubHarness, fr: Leaf, de: Leaf) -> None:
    synced: list[int | None] = []
    async with h.client(fr, **FAST) as c, h.client(de, **FAST) as dc:
        for i in range(3):
            await c.publish(CH, "seizure", seizure(f"n={i}"))
        async with dc.subscribe(
            CH, since=0, on_synced=lambda s: synced.append(s.synced_offset)
        ) as sub:
            history = await take(sub, 3)
            assert [r.offset for r in history] == [1, 2, 3]
            assert all(r.verified for r in history)
            envelope = history[0].envelope
            assert envelope is not None
            assert envelope.sender == "fr/ops"
            pending = asyncio.create_task(take(sub, 2))
            await h.wait_for(lambda: bool(synced))
            await c.publish(CH, "warning", example("warning"))
            await dc.publish(CH, "feedback", feedback(envelope.id))
            live = await pending
            assert [r.offset for r in live] == [4, 5]
            assert [r.envelope.sender for r in live if r.envelope] == ["fr/ops", "de/zoll"]
            assert synced == [3]
            assert sub.epoch == (await c.channels())[0].epoch


async def test_resume_after_dropped_connection_no_gap_no_dup(
    h: HubHarness, fr: Leaf, it: Leaf
) -> None:
    """Connections dropped (abort, then hub restart) while another member keeps publishing."""
    async with h.client(fr, **FAST) as pub, h.client(it, **FAST) as ic:
        for i in range(5):
            await pub.publish(CH, "seizure", seizure(f"n={i}"))
        sub = ic.subscribe(CH, since=0)
        got = await take(sub, 3)

        async def publish_more(start: int, count: int) -> None:
            for i in range(start, start + count):
                await pub.publish(CH, "seizure", seizure(f"n={i}"))

        # 1. the subscriber's connection is cut (no close frame: 1006)
        assert h.hub is not None
        for session in [
            s for group in h.hub.sessions.values() for s in group if s.principal == "it/gdf"
        ]:
            session.ws.transport.abort()
        await publish_more(5, 5)
        got += await take(sub, 7)
        # 2. the hub restarts (1001 going away) while alerts keep coming
        await h.restart()
        await publish_more(10, 5)
        got += await take(sub, 5)
        await sub.aclose()
    offsets = [r.offset for r in got]
    assert offsets == list(range(1, 16))
    bodies = [int(r.envelope.body["remarks"][2:]) for r in got if r.envelope]
    assert bodies == list(range(15))
    assert all(r.verified for r in got)


async def test_slow_consumer_resumes_without_loss(h: HubHarness, fr: Leaf, de: Leaf) -> None:
    async with h.client(fr, **FAST) as pub, h.client(de, max_queue=8, **FAST) as slow:
        for i in range(60):
            await pub.publish(CH, "notice", note(f"n={i}"))
        got = []
        async with asyncio.timeout(30), slow.subscribe(CH, since=0) as sub:
            async for received in sub:
                got.append(received.offset)
                await asyncio.sleep(0.002)
                if len(got) == 60:
                    break
    assert got == list(range(1, 61))


async def test_forged_alert_in_the_store_is_yielded_unverified(
    h: HubHarness, fr: Leaf, de: Leaf
) -> None:
    """A compromised store (or hub) cannot make a recipient accept an altered alert."""
    async with h.client(fr, **FAST) as c, h.client(de, **FAST) as dc:
        good = c.sign(CH, "notice", note("qty 10"))
        forged_alert = good.alert.replace(b"qty 10", b"qty 11")  # signature kept
        assert forged_alert != good.alert
        results = await h.store.append_batch(
            [
                AppendRequest(
                    channel=CH,
                    alert_id="FORGED-1",
                    alert=forged_alert,
                    sig=good.sig,
                    kid=c.kid,
                    received=int(time.time() * 1000),
                ),
            ]
        )
        assert results[0].off == 1
        await c.publish(CH, "notice", note("qty 12"))
        got = await take(dc.subscribe(CH, since=0), 2)
        assert [r.verified for r in got] == [False, True]
        assert isinstance(got[0].error, BadSignature)
        assert got[0].envelope is not None
        assert got[0].envelope.body["text"] == "qty 11"
        page = await dc.history(CH)
        assert [r.verified for r in page.items] == [False, True]


async def test_epoch_mismatch_and_history_gone(h: HubHarness, fr: Leaf) -> None:
    await admin.create_channel(h.store, "short", retention_ms=1)
    await admin.grant(h.store, "short", "fr", "contributor")
    async with h.client(fr, **FAST) as c:
        with pytest.raises(EpochMismatch):
            await take(c.subscribe(CH, since=0, epoch="0" * 32), 1)
        for i in range(3):
            await c.publish("short", "notice", note(f"n={i}"))
        assert await h.store.trim("short", now_ms=int(time.time() * 1000) + 60_000) == 3
        with pytest.raises(HistoryGone):
            await take(c.subscribe("short", since=0), 1)
        # Resuming from the head is still possible.
        sub = c.subscribe("short", since=3)
        pending = asyncio.create_task(take(sub, 1))
        await asyncio.sleep(0.2)
        await c.publish("short", "notice", note("n=3"))
        assert [r.offset for r in await pending] == [4]


async def test_removed_member_subscription_ends(h: HubHarness, fr: Leaf, it: Leaf) -> None:
    async with h.client(it, **FAST) as ic:
        sub = ic.subscribe(CH)
        pending = asyncio.create_task(take(sub, 1))
        await asyncio.sleep(0.3)
        await admin.revoke_role(h.store, CH, "it")
        with pytest.raises(NoSuchChannel):
            await pending


async def test_revoked_certificate_is_final(h: HubHarness, fr: Leaf) -> None:
    async with h.client(fr, **FAST) as c:
        sub = c.subscribe(CH)
        pending = asyncio.create_task(take(sub, 1))
        await asyncio.sleep(0.3)
        await h.revoke(fr)
        with pytest.raises(SessionRefused):
            await pending
    with pytest.raises(SessionRefused):
        await h.client(fr, **FAST).connect()


# --- CLI -------------------------------------------------------------------------------


def _argv(h: HubHarness, leaf: Leaf) -> list[str]:
    return [
        "--hub",
        h.url,
        "--cert",
        str(leaf.cert),
        "--key",
        str(leaf.key),
        "--ca",
        str(h.pki.ca),
        "--channel",
        CH,
    ]


async def test_cli_publish_and_tail_with_state_resume(
    h: HubHarness, fr: Leaf, de: Leaf, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ts = int(time.time() * 1000)
    source = tmp_path / "alerts.jsonl"
    source.write_text(
        "".join(
            json.dumps(
                {"kind": "seizure", "body": seizure(f"n={i}"), "id": f"FR-{i}", "ts": ts + i}
            )
            + "\n"
            for i in range(4)
        )
    )
    assert await asyncio.to_thread(publish_main, [*_argv(h, fr), "--file", str(source)]) == 0
    acks = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(a["id"], a["offset"], a["dup"]) for a in acks] == [
        (f"FR-{i}", i + 1, False) for i in range(4)
    ]
    # Re-running the same file stores nothing twice.
    assert await asyncio.to_thread(publish_main, [*_argv(h, fr), "--file", str(source)]) == 0
    assert all(json.loads(line)["dup"] for line in capsys.readouterr().out.splitlines())

    state = tmp_path / "tail.json"
    de = de
    tail = [*_argv(h, de), "--state", str(state), "--since", "0"]
    assert await asyncio.to_thread(tail_main, [*tail, "--limit", "3"]) == 0
    first = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(a["offset"], a["id"], a["from"], a["verified"]) for a in first] == [
        (i + 1, f"FR-{i}", "fr/ops", True) for i in range(3)
    ]
    saved = json.loads(state.read_text())
    assert saved["offset"] == 3
    assert saved["epoch"] == acks[0]["epoch"]

    async with h.client(fr, **FAST) as c:
        await c.publish(CH, "notice", note("n=4"), alert_id="FR-4")
    assert await asyncio.to_thread(tail_main, [*tail, "--limit", "2"]) == 0
    second = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(a["offset"], a["id"]) for a in second] == [(4, "FR-3"), (5, "FR-4")]
    assert json.loads(state.read_text())["offset"] == 5
