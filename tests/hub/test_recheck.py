"""The periodic re-check applies what a lost event would have: changes made in the store
WITHOUT their pub/sub event still reach live sessions, within a bounded wait."""

from __future__ import annotations

import pytest

from hub.protocol import frames as f
from hub.protocol.errors import CloseCode
from tests.harness import HubHarness
from tests.hub.conftest import MakeHub
from tests.hub.wire import CH, Raw, Signer, cast, close_code

RECHECK_S = 0.2
BOUND_S = 5.0


@pytest.fixture
async def h(make_hub: MakeHub) -> HubHarness:
    return await make_hub(session_recheck_s=RECHECK_S)


async def subscribed(c: Raw) -> None:
    assert isinstance(await c.request(f.Subscribe(rid=c.rid(), ch=CH, since=0)), f.Subscribed)
    assert await c.recv() == f.Synced(ch=CH, off=0)


async def test_revoked_certificate_without_event_closes_the_session(h: HubHarness) -> None:
    leaves = await cast(h)
    async with Raw.open(h, leaves["fr"]) as fr, Raw.open(h, leaves["de"]) as de:
        assert h.hub is not None
        (session,) = h.hub.sessions["fr/ops"]
        await h.store.set_cert_status(session.kid, "revoked")
        assert close_code(await fr.closed(BOUND_S)) == CloseCode.REVOKED
        assert isinstance(await de.request(f.ChannelsRequest(rid=de.rid())), f.ChannelsResult)


async def test_suspended_member_without_event_closes_the_session(h: HubHarness) -> None:
    leaves = await cast(h)
    async with Raw.open(h, leaves["fr"]) as fr, Raw.open(h, leaves["de"]) as de:
        await h.store.set_member_status("fr", "suspended")
        assert close_code(await fr.closed(BOUND_S)) == CloseCode.REVOKED
        assert isinstance(await de.request(f.ChannelsRequest(rid=de.rid())), f.ChannelsResult)


async def test_role_removed_without_event_ends_the_subscription(h: HubHarness) -> None:
    leaves = await cast(h)
    async with Raw.open(h, leaves["it"]) as it, Raw.open(h, leaves["de"]) as de:
        await subscribed(it)
        await subscribed(de)
        await h.store.set_role(CH, "it", None)
        ended = await it.recv(BOUND_S)
        assert isinstance(ended, f.Ended) and (ended.ch, ended.code) == (CH, 404)
        assert h.hub is not None
        assert "stop-iii" in next(iter(h.hub.sessions["de/zoll"])).subs


async def test_archived_channel_without_event_ends_the_subscription(h: HubHarness) -> None:
    leaves = await cast(h)
    async with Raw.open(h, leaves["it"]) as it:
        await subscribed(it)
        await h.store.set_channel_state(CH, "archived")
        ended = await it.recv(BOUND_S)
        assert isinstance(ended, f.Ended) and (ended.ch, ended.code) == (CH, 404)


async def test_recheck_leaves_sessions_in_good_standing_alone(h: HubHarness) -> None:
    leaves = await cast(h)
    async with Raw.open(h, leaves["it"]) as it:
        await subscribed(it)
        assert h.hub is not None
        for _ in range(3):
            await h.hub.recheck_sessions()
        (session,) = h.hub.sessions["it/gdf"]
        assert not session.closing and CH in session.subs


async def test_recheck_drops_revoked_signing_keys_of_live_sessions(make_hub: MakeHub) -> None:
    """The sweep covers what sessions sign with, not only the certificates they connected
    with: a second certificate of fr/ops, cached after signing once, is revoked in the
    store without an event; after one sweep the connection (still in good standing) is
    refused the next alert it signs with it."""
    h = await make_hub(session_recheck_s=3600.0)  # sweeps run by hand below
    fr = (await cast(h))["fr"]
    second = Signer(await h.member("fr", "ops"))
    async with Raw.open(h, fr) as c:
        assert isinstance(await c.publish(CH, *second.sign(CH)), f.Ack)
        await h.store.revoke_certs([second.kid])  # no event
        assert h.hub is not None
        await h.hub.recheck_sessions()
        answer = await c.publish(CH, *second.sign(CH))
        assert isinstance(answer, f.ErrorFrame) and answer.code == 422, answer
        assert isinstance(await c.publish(CH, *Signer(fr).sign(CH)), f.Ack)
        (session,) = h.hub.sessions["fr/ops"]
        assert not session.closing
