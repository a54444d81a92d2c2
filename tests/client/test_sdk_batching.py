"""The SDK batches queued publishes into ``pubs`` frames (PROTOCOL §6.3), against a real hub."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from client.sdk import Client
from hub.protocol.errors import BadSignature, SchemaError
from hub.protocol.limits import MAX_PUB_ITEMS
from tests.bodies import note
from tests.client.common import CH, FAST
from tests.harness import HubHarness
from tests.pki import Leaf


@pytest.fixture
async def fr(h: HubHarness) -> Leaf:
    leaf = await h.member("fr", "ops")
    await h.channel(CH, {"fr": "contributor"})
    return leaf


def conn_of(c: Client) -> Any:
    assert c._conn is not None
    return c._conn


async def test_publishes_queued_together_leave_as_pubs_in_order(h: HubHarness,
                                                               fr: Leaf) -> None:
    """300 chained publishes started at once: sent as ``pubs`` frames of at most
    max_pub_items, stored in the order they were signed (one unbroken chain)."""
    async with h.client(fr, **FAST) as c:
        assert conn_of(c).max_pub_items == MAX_PUB_ITEMS
        acks = await asyncio.gather(*(c.publish(CH, "notice", note(f"n={i}"))
                                      for i in range(300)))
        assert [a.offset for a in acks] == list(range(1, 301))
        assert not any(a.dup for a in acks)
        conn = conn_of(c)
        assert conn.pubs_sent >= 2 and conn.pubs_alerts >= 290
        assert c.chain_heads[CH][0] == 300
    stored = await h.store.read_after(CH, 0, 400)
    assert len(stored) == 300


async def test_one_at_a_time_is_plain_pub(h: HubHarness, fr: Leaf) -> None:
    async with h.client(fr, **FAST) as c:
        for i in range(3):
            assert (await c.publish(CH, "notice", note(f"n={i}"))).offset == i + 1
        assert conn_of(c).pubs_sent == 0


async def test_each_publish_of_a_batch_gets_its_own_answer(h: HubHarness, fr: Leaf) -> None:
    """A forged signature and an invalid body among good alerts, sent in one step: those
    two raise their own errors, the others are acked."""
    async with h.client(fr, chained=False, **FAST) as c:
        good = [c.sign(CH, "notice", note(f"n={i}")) for i in range(6)]
        forged = c.sign(CH, "notice", note("forged"))
        bad = bytes([forged.sig[0] ^ 1]) + forged.sig[1:]
        from hub.protocol.envelope import Envelope, encode_envelope, sign_alert
        from hub.protocol.identity import AlertId

        env = good[0].envelope
        invalid = encode_envelope(Envelope(id=AlertId("FR-invalid"), channel=env.channel,
                                           sender=env.sender, kid=env.kid, ts=env.ts,
                                           kind="notice", body={"title": 7}))
        calls = [c.publish_signed(CH, s.alert, s.sig) for s in good[:3]]
        calls.append(c.publish_signed(CH, forged.alert, bad))
        calls.append(c.publish_signed(CH, invalid, sign_alert(c._key, invalid)))
        calls += [c.publish_signed(CH, s.alert, s.sig) for s in good[3:]]
        out = await asyncio.gather(*calls, return_exceptions=True)
        assert isinstance(out[3], BadSignature)
        assert isinstance(out[4], SchemaError)
        offsets = [o.offset for i, o in enumerate(out) if i not in (3, 4)]  # type: ignore[union-attr]
        assert offsets == [1, 2, 3, 4, 5, 6]
        assert conn_of(c).pubs_sent == 1


async def test_a_hub_without_pubs_gets_pub_frames(h: HubHarness, fr: Leaf,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``max_pub_items`` in ``welcome.limits`` (an older hub): every alert is a ``pub``."""
    assert h.hub is not None
    limits = h.hub.public_limits

    def without() -> dict[str, int]:
        out = limits()
        del out["max_pub_items"]
        return out

    monkeypatch.setattr(h.hub, "public_limits", without)
    async with h.client(fr, **FAST) as c:
        assert conn_of(c).max_pub_items == 0
        acks = await asyncio.gather(*(c.publish(CH, "notice", note(f"n={i}"))
                                      for i in range(20)))
        assert [a.offset for a in acks] == list(range(1, 21))
        assert conn_of(c).pubs_sent == 0


async def test_a_batch_refused_whole_fails_each_publish(h: HubHarness, fr: Leaf) -> None:
    """A reader publishing several alerts at once: the hub refuses the ``pubs`` as a whole
    (403) and each publish raises AccessDenied."""
    from hub import admin
    from hub.protocol.errors import AccessDenied

    it = await h.member("it", "gdf")
    await admin.grant(h.store, CH, "it", "reader")
    async with h.client(it, **FAST) as c:
        out = await asyncio.gather(*(c.publish(CH, "notice", note(f"n={i}"))
                                     for i in range(5)), return_exceptions=True)
        assert conn_of(c).pubs_sent == 1
        assert all(isinstance(o, AccessDenied) for o in out), out


async def test_batches_stay_within_the_hubs_frame_size(h: HubHarness, fr: Leaf) -> None:
    """256 publishes of ~1.3 KiB queued at once would make a ~330 KiB ``pubs``, past the
    hub's 256 KiB frame limit (the hub closes such a connection, 1009): the SDK cuts its
    batches by size as well as by count, and every publish is acked."""
    async with h.client(fr, **FAST) as c:
        conn = conn_of(c)
        assert conn.max_frame_bytes == h.settings.max_frame_bytes
        text = "x" * 1200
        acks = await asyncio.gather(*(c.publish(CH, "notice", note(f"{i} {text}"))
                                      for i in range(MAX_PUB_ITEMS)))
        assert sorted(a.offset for a in acks) == list(range(1, MAX_PUB_ITEMS + 1))
        assert conn.pubs_sent >= 2 and conn.is_open


@pytest.mark.parametrize("chunk", [16, 64])
async def test_publishes_leave_in_chunks_while_the_next_are_signed(
        h: HubHarness, fr: Leaf, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``pub_chunk``: of 150 publishes started at once, the first ``pubs`` is written once
    ``chunk`` are signed (not after all 150), each frame holds at most ``chunk``, and the
    alerts are still stored in the order signed, each publish answered for its own."""
    from client._conn import Connection

    async with h.client(fr, pub_chunk=chunk, **FAST) as c:
        conn = conn_of(c)
        assert conn.pub_chunk == chunk
        signed_at_send: list[tuple[int, int]] = []  # (alerts signed so far, frame's size)
        send = Connection.send

        async def spy(self: Connection, frame: Any) -> None:
            if frame.TYPE == "pubs":
                signed_at_send.append((c._chains[CH][0], len(frame.items)))
            await send(self, frame)

        monkeypatch.setattr(Connection, "send", spy)
        acks = await asyncio.gather(*(c.publish(CH, "notice", note(f"n={i}"))
                                      for i in range(150)))
        assert [a.offset for a in acks] == list(range(1, 151))
        assert signed_at_send[0] == (chunk, chunk)
        assert all(size <= chunk for _signed, size in signed_at_send)
        assert sum(size for _signed, size in signed_at_send) == 150
        assert conn.pubs_sent == -(-150 // chunk)
    stored = await h.store.read_after(CH, 0, 200)
    assert len(stored) == 150


async def test_pub_chunk_must_be_positive(h: HubHarness, fr: Leaf) -> None:
    with pytest.raises(ValueError, match="pub_chunk"):
        h.client(fr, pub_chunk=0)
