"""Retention: the hub drops expired alerts, and says so explicitly to a resume that needs them."""

from __future__ import annotations

import asyncio

import pytest

from hub import admin
from hub.protocol.errors import HistoryGone
from tests.bodies import note
from tests.harness import first_alert


async def test_retention_pass_drops_expired_alerts_and_resume_says_history_gone(hub):
    fr = await hub.member("fr", "ops")
    await admin.create_channel(hub.store, "op-short", title="short", retention_ms=50)
    await admin.grant(hub.store, "op-short", "fr", "contributor")
    async with hub.client(fr) as c:
        for i in range(5):
            await c.publish("op-short", "notice", note(f"n{i}"))
        await asyncio.sleep(0.1)  # older than the 50 ms retention
        dropped = await hub.hub.trim_expired()
        assert dropped == 5
        meta = await hub.store.channel("op-short")
        assert (meta.first, meta.head) == (6, 5)
        with pytest.raises(HistoryGone):
            await first_alert(c.subscribe("op-short", since=2))
        after = await c.publish("op-short", "notice", note("fresh"))
        assert after.offset == 6
        page = await c.history("op-short")
        assert [i.offset for i in page.items] == [6]


async def test_channels_without_retention_are_never_trimmed(hub):
    fr = await hub.member("fr", "ops")
    await hub.channel("op-keep", {"fr": "contributor"})
    async with hub.client(fr) as c:
        await c.publish("op-keep", "notice", note("keep"))
    assert await hub.hub.trim_expired() == 0
    assert (await hub.store.channel("op-keep")).first == 1
