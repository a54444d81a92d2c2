"""Sender chains (PROTOCOL.md §4) against a real hub and a real Valkey.

The hub checks each chain on publish (426). A hub or store that withholds, reorders or
repeats a sender's alerts — simulated by rewriting the channel's stream with raw Valkey
commands, offsets kept contiguous so that nothing but the chain can tell — is caught by
every reader: the SDK's subscription and its history pages, as a distinct state.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from client.checkpoint import main as checkpoint_main
from client.cli import tail_main
from client.report import collect
from client.sdk import ChainViolation, Client, Received, Subscription, check_chains
from hub.protocol.chain import ZERO_HASH, parse_expected
from hub.protocol.envelope import Envelope, alert_hash, encode_envelope, sign_alert
from hub.protocol.errors import ChainBroken
from hub.protocol.identity import AlertId, ChannelName
from tests.bodies import note
from tests.client.common import CH, FAST
from tests.harness import HubHarness
from tests.pki import Leaf

LOG = "cordon:{ch:stop-iii}:log"
META = "cordon:{ch:stop-iii}:meta"


@pytest.fixture
async def members(h: HubHarness) -> dict[str, Leaf]:
    leaves = {m: await h.member(m, n) for m, n in (("fr", "ops"), ("de", "zoll"))}
    await h.channel(CH, {"fr": "contributor", "de": "contributor"})
    return leaves


async def take(sub: Subscription, n: int) -> list[Received]:
    out: list[Received] = []
    async with asyncio.timeout(15), sub:
        async for received in sub:
            out.append(received)
            if len(out) == n:
                break
    return out


async def publish_story(h: HubHarness, members: dict[str, Leaf]) -> None:
    """fr/ops publishes alerts 1-4 (offsets 1, 2, 4, 5), de/zoll one (offset 3)."""
    async with h.client(members["fr"], **FAST) as fr, h.client(members["de"], **FAST) as de:
        for n in (1, 2):
            await fr.publish(CH, "notice", note(f"fr {n}"), alert_id=f"FR-{n}")
        await de.publish(CH, "notice", note("de 1"), alert_id="DE-1")
        for n in (3, 4):
            await fr.publish(CH, "notice", note(f"fr {n}"), alert_id=f"FR-{n}")


async def rewrite(raw: Any, order: list[int]) -> None:
    """What a dishonest hub (or whoever holds its store) shows: the stream's entries in
    ``order`` (1-based offsets of the honest stream), renumbered 1, 2, 3, ..."""
    entries = await raw.xrange(LOG)
    kept = [entries[i - 1][1] for i in order]
    await raw.delete(LOG)
    for n, fields in enumerate(kept, 1):
        await raw.xadd(LOG, fields, id=f"0-{n}")
    await raw.hset(META, mapping={"head": len(kept), "durable": len(kept)})


def states(items: list[Received]) -> list[str]:
    return [r.chain for r in items]


async def test_honest_history_is_ok_in_every_reader(h: HubHarness, members: dict[str, Leaf]
                                                    ) -> None:
    await publish_story(h, members)
    async with h.client(members["de"], **FAST) as de:
        got = await take(de.subscribe(CH, since=0), 5)
        assert states(got) == ["ok"] * 5 and all(r.verified for r in got)
        assert [r.envelope.seq for r in got if r.envelope] == [1, 2, 1, 3, 4]
        page = await de.history(CH)
        assert states(page.items) == ["ok"] * 5


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        # withheld: fr's alert 2 (offset 2) left out; its alert 3 shows the gap
        ([1, 3, 4, 5], ["ok", "ok", "gap", "ok"]),
        # reordered: fr's alerts 2 and 3 swapped
        ([1, 4, 3, 2, 5], ["ok", "gap", "ok", "reorder", "ok"]),
        # duplicated: fr's alert 2 shown again later
        ([1, 2, 3, 4, 2, 5], ["ok", "ok", "ok", "ok", "duplicate", "ok"]),
        # the first alert withheld from a reader of the whole history
        ([2, 3, 4, 5], ["gap", "ok", "ok", "ok"]),
    ],
    ids=["withheld", "reordered", "duplicated", "first-withheld"],
)
async def test_tampered_history_is_detected(
    h: HubHarness, members: dict[str, Leaf], raw: Any, order: list[int], expected: list[str]
) -> None:
    await publish_story(h, members)
    await rewrite(raw, order)
    async with h.client(members["de"], **FAST) as de:
        got = await take(de.subscribe(CH, since=0), len(order))
        assert all(r.verified for r in got)  # every signature is still good
        assert states(got) == expected
        assert [r.chain_broken for r in got] == [s != "ok" for s in expected]
        assert all(r.chain_detail for r in got if r.chain_broken)
        page = await de.history(CH)
        assert states(page.items) == expected
        # Read in two pages, checked together: the same.
        newer = await de.history(CH, limit=2)
        older = await de.history(CH, before=newer.items[0].offset)
        assert states(check_chains([*older.items, *newer.items])) == expected


async def test_raise_on_chain_break(h: HubHarness, members: dict[str, Leaf], raw: Any) -> None:
    await publish_story(h, members)
    await rewrite(raw, [1, 3, 4, 5])
    async with h.client(members["de"], **FAST) as de:
        sub = de.subscribe(CH, since=0, raise_on_chain_break=True)
        async with asyncio.timeout(15), sub:
            assert (await anext(sub)).chain == "ok"
            assert (await anext(sub)).chain == "ok"
            with pytest.raises(ChainViolation) as caught:
                await anext(sub)
            assert caught.value.received.offset == 3
            assert caught.value.received.chain == "gap"
            assert (await anext(sub)).offset == 4  # iteration goes on


def signed(client: Client, alert_id: str, seq: int, prev: bytes) -> tuple[bytes, bytes]:
    env = Envelope(id=AlertId(alert_id), channel=ChannelName(CH),
                   sender=client.identity.principal, kid=client.kid,
                   ts=int(time.time() * 1000), kind="notice", body=note(alert_id),
                   seq=seq, prev=prev)
    alert = encode_envelope(env)
    return alert, sign_alert(client._key, alert)


async def test_hub_refuses_a_chain_that_does_not_continue(
    h: HubHarness, members: dict[str, Leaf], raw: Any
) -> None:
    async with h.client(members["fr"], **FAST) as fr:
        a1, s1 = signed(fr, "A1", 1, ZERO_HASH)
        assert (await fr.publish_signed(CH, a1, s1)).offset == 1
        # skipping a seq, a wrong prev, a second seq 1: each refused 426, nothing stored
        for alert_id, seq, prev in (("A3", 3, alert_hash(a1)), ("A2", 2, bytes(range(32))),
                                    ("B1", 1, ZERO_HASH)):
            alert, sig = signed(fr, alert_id, seq, prev)
            with pytest.raises(ChainBroken) as caught:
                await fr.publish_signed(CH, alert, sig)
            assert caught.value.code == 426
            assert parse_expected(caught.value.detail) == (2, alert_hash(a1))
        assert await raw.xlen(LOG) == 1
        # resending the stored bytes is a duplicate, not a chain break
        again = await fr.publish_signed(CH, a1, s1)
        assert (again.offset, again.dup) == (1, True)
        # an unchained alert is accepted and leaves the chain as it was
        unchained = Envelope(id=AlertId("U1"), channel=ChannelName(CH),
                             sender=fr.identity.principal, kid=fr.kid,
                             ts=int(time.time() * 1000), kind="notice", body=note("u"))
        u = encode_envelope(unchained)
        assert (await fr.publish_signed(CH, u, sign_alert(fr._key, u))).offset == 2
        a2, s2 = signed(fr, "A2", 2, alert_hash(a1))
        assert (await fr.publish_signed(CH, a2, s2)).offset == 3


async def test_two_processes_of_one_principal_keep_one_chain(
    h: HubHarness, members: dict[str, Leaf]
) -> None:
    """A second process (no chain state) learns the chain from the hub's 426 and re-signs;
    a reader sees one unbroken chain."""
    async with h.client(members["fr"], **FAST) as one, h.client(members["fr"], **FAST) as two:
        await one.publish(CH, "notice", note("one 1"))
        await two.publish(CH, "notice", note("two 1"))
        await one.publish(CH, "notice", note("one 2"))
        await asyncio.gather(*(c.publish(CH, "notice", note(f"x {n}"))
                               for n in range(3) for c in (one, two)))
        page = await one.history(CH)
        assert [r.envelope.seq for r in page.items if r.envelope] == list(range(1, 10))
        assert states(page.items) == ["ok"] * 9
    # a fresh process pipelining 40 publishes: one chain, in order, no give-up
    async with h.client(members["fr"], **FAST) as three:
        acks = await asyncio.gather(*(three.publish(CH, "notice", note(f"burst {n}"))
                                      for n in range(40)))
        assert len({a.offset for a in acks}) == 40
        page = await three.history(CH, limit=1000)
        assert [r.envelope.seq for r in page.items if r.envelope] == list(range(1, 50))
        assert states(page.items) == ["ok"] * 49


async def test_a_hub_that_forgets_an_acknowledged_alert_is_refused_by_the_sender(
    h: HubHarness, members: dict[str, Leaf], raw: Any
) -> None:
    async with h.client(members["fr"], **FAST) as fr:
        await fr.publish(CH, "notice", note("1"))
        await fr.publish(CH, "notice", note("2"))
        heads = fr.chain_heads
        assert heads[CH][0] == 2
        # the store forgets alert 2 and the chain head goes back to alert 1
        first = (await raw.xrange(LOG))[0][1]
        await raw.hset("cordon:{ch:stop-iii}:chain", "fr/ops",
                       "1:" + alert_hash(first[b"a"]).hex())
        fr._chains.pop(CH)  # as after a restart
        with pytest.raises(ChainBroken, match="acknowledged our alert 2"):
            await fr.publish(CH, "notice", note("3"))
    # and a restarted client given its saved heads refuses the same way
    async with h.client(members["fr"], chain_heads=heads, **FAST) as again:
        again._chains.pop(CH)
        with pytest.raises(ChainBroken, match="acknowledged our alert 2"):
            await again.publish(CH, "notice", note("3"))


async def test_cordon_tail_and_export_show_the_break(
    h: HubHarness, members: dict[str, Leaf], raw: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    await publish_story(h, members)
    await rewrite(raw, [1, 3, 4, 5])  # fr's alert 2 withheld
    de = members["de"]
    argv = ["--hub", h.url, "--cert", str(de.cert), "--key", str(de.key), "--ca",
            str(h.pki.ca), "--channel", CH]
    assert await asyncio.to_thread(tail_main, [*argv, "--since", "0", "--limit", "4"]) == 0
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.splitlines()]
    assert [(a["seq"], a["chain"]) for a in lines] == [(1, "ok"), (1, "ok"), (3, "gap"),
                                                       (4, "ok")]
    assert lines[2]["verified"] is True
    assert lines[2]["chain_error"] == "fr/ops's alert 2 is missing"
    assert "offset 3: sender chain broken (gap)" in out.err
    # the export reads the whole history in pages and checks chains across them
    async with h.client(de, **FAST) as client:
        items = await collect(client, CH, page=1)
    assert states(items) == ["ok", "ok", "gap", "ok"]


async def test_cordon_checkpoint_fingerprints_compare_two_members_views(
    h: HubHarness, members: dict[str, Leaf], raw: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two members read each other their fingerprints: equal for the same history; a hub
    that shows one of them another history (here: rewritten between the two reads, every
    signature and sender chain still valid) gives different ones."""
    await publish_story(h, members)

    def argv(leaf: Leaf) -> list[str]:
        return [CH, "--hub", h.url, "--cert", str(leaf.cert), "--key", str(leaf.key),
                "--ca", str(h.pki.ca)]

    assert await asyncio.to_thread(checkpoint_main, argv(members["fr"])) == 0
    fr_view = json.loads(capsys.readouterr().out)
    assert fr_view["size"] == 5 and fr_view["unverified"] == fr_view["chain_broken"] == 0
    assert await asyncio.to_thread(
        checkpoint_main, [*argv(members["de"]), "--verify", fr_view["fingerprint"].lower()]
    ) == 0
    assert json.loads(capsys.readouterr().out)["root"] == fr_view["root"]
    # de/zoll's own alert moved after fr's: each chain intact, the log is another one
    await rewrite(raw, [1, 2, 4, 3, 5])
    assert await asyncio.to_thread(
        checkpoint_main, [*argv(members["de"]), "--verify", fr_view["fingerprint"]]) == 1
    out = capsys.readouterr()
    assert json.loads(out.out)["chain_broken"] == 0
    assert "DIFFERENT" in out.err
    # the common prefix still matches
    assert await asyncio.to_thread(checkpoint_main, [*argv(members["fr"]), "--size", "2"]) == 0
    prefix = json.loads(capsys.readouterr().out)["fingerprint"]
    await rewrite(raw, [1, 2, 4, 3, 5])  # back to the original order
    assert await asyncio.to_thread(
        checkpoint_main, [*argv(members["de"]), "--size", "2", "--verify", prefix]) == 0
