"""PROTOCOL.md §11 ("Questions implementers ask"), pinned against a real hub spoken to by
hand: the keys of ``welcome.limits``, ``synced`` after a ``sub`` without ``since``, rids
echoed (not checked for uniqueness), a contributor's ``notice``, text limits in code
points, and a member enrolled by ``cordon ca issue --member``."""

from __future__ import annotations

import asyncio

import pytest

from client.sdk import Client
from hub.protocol import frames as f
from hub.protocol.errors import Conflict
from tests.harness import HubHarness
from tests.hub.wire import Raw, Signer

CH = "stop-iii"


async def test_welcome_limits_keys(hub: HubHarness) -> None:
    fr = await hub.member("fr", "ops")
    async with Raw.open(hub, fr) as c:
        limits = c.welcome.limits
    assert set(limits) == {"max_frame_bytes", "max_alert_bytes", "max_attachment_bytes",
                           "publish_rate", "publish_burst", "history_page_max",
                           "clock_skew_ms", "max_pings_per_s", "max_pub_items"}
    assert all(type(v) is int for v in limits.values())


async def test_sub_without_since_gets_synced_and_rids_are_echoed(hub: HubHarness) -> None:
    fr = await hub.member("fr", "ops")
    await hub.channel(CH, {"fr": "contributor"})
    signer = Signer(fr)
    async with Raw.open(hub, fr) as c:
        for _ in range(2):
            assert isinstance(await c.publish(CH, *signer.sign(CH)), f.Ack)
        await c.send(f.Subscribe(rid=7, ch=CH))
        subok = await c.recv()
        assert isinstance(subok, f.Subscribed) and subok.rid == 7 and subok.head == 2
        synced = await c.recv()
        assert isinstance(synced, f.Synced) and synced.off == 2
        # the same rid twice, one after the other: each answered, with that rid
        for _ in range(2):
            await c.send(f.ChannelsRequest(rid=9))
            answer = await c.recv()
            assert isinstance(answer, f.ChannelsResult) and answer.rid == 9


async def test_contributor_may_send_notice_and_text_counts_code_points(
    hub: HubHarness
) -> None:
    fr = await hub.member("fr", "ops")
    await hub.channel(CH, {"fr": "contributor"})
    emoji = "\U0001f600"  # one code point, four UTF-8 bytes, two UTF-16 units
    async with hub.client(fr, reconnect=False) as c:
        ack = await c.publish(CH, "notice", {"schema": 1, "handling": "H0",
                                             "text": emoji * 10_000})
        assert ack.offset == 1


async def test_ca_issue_member_enrols_it_then_member_add_is_407(
    hub: HubHarness
) -> None:
    hub.pki.member("xx", "ops")  # cordon ca issue --member xx --name ops
    await hub.sync()
    record = await hub.store.member("xx")
    assert record is not None and (record.name, record.country) == ("xx", "")
    alice = await hub.admin_leaf("alice")
    async with Client(hub.url, cert=alice.cert, key=alice.key, ca=hub.pki.ca) as admin:
        with pytest.raises(Conflict, match="member already exists"):
            await admin.admin("member.add", {"id": "xx", "name": "X", "country": "FR"})
        r = await admin.admin("member.update", {"id": "xx", "name": "X", "country": "FR"})
        assert (r["member"]["name"], r["member"]["country"]) == ("X", "FR")
    await asyncio.sleep(0)
