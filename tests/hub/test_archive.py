"""Archived channels: final and read-only; history stays readable, live subscriptions end."""

from __future__ import annotations

import pytest

from hub import admin
from hub.protocol.errors import ChannelClosed
from tests.bodies import note
from tests.harness import first_alert


async def test_archived_channel_refuses_publish_and_subscribe_but_serves_history(hub):
    fr = await hub.member("fr", "ops")
    await hub.channel("op-done", {"fr": "contributor"})
    async with hub.client(fr) as c:
        first = await c.publish("op-done", "notice", note("before archive"))
        await admin.set_channel_state(hub.store, "op-done", "archived")
        with pytest.raises(ChannelClosed):
            await c.publish("op-done", "notice", note("after archive"))
        with pytest.raises(ChannelClosed, match="archived"):
            await first_alert(c.subscribe("op-done", since=0))
        page = await c.history("op-done")
        assert [i.offset for i in page.items] == [first.offset]
        assert all(i.verified for i in page.items)
    assert (await hub.store.channel("op-done")).head == first.offset
