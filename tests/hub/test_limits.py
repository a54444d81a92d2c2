"""Limits over real connections: connections per principal, subprotocol, publish rate,
subscriptions per connection, history page size, and what ``welcome`` announces."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.errors import CloseCode
from hub.protocol.limits import HISTORY_PAGE_MAX, MAX_FRAME_BYTES, MAX_SUBSCRIPTIONS
from tests.harness import HubHarness
from tests.hub.conftest import MakeHub
from tests.hub.wire import (
    CH,
    FAT,
    Raw,
    Signer,
    cast,
    close_code,
    connect_raw,
    log_len,
    pipeline,
)


async def test_connections_per_principal_4029(make_hub: MakeHub) -> None:
    h = await make_hub(max_connections_per_principal=2)
    leaves = await cast(h)
    fr = leaves["fr"]
    async with Raw.open(h, fr) as one, Raw.open(h, fr) as two, Raw.open(h, leaves["de"]):
        async with connect_raw(h, fr) as third:
            with pytest.raises(ConnectionClosed) as info:
                await third.recv()
            assert close_code(info.value) == CloseCode.TOO_MANY_CONNECTIONS
        for c in (one, two):  # the first two are unaffected
            assert isinstance(await c.request(f.ChannelsRequest(rid=c.rid())), f.ChannelsResult)
        assert h.hub is not None and len(h.hub.sessions["fr/ops"]) == 2
        refused = [a for a in await h.store.audit_log(action="connect")
                   if a["result"] == "refused"]
        assert [(a["principal"], a["reason"]) for a in refused] == [
            ("fr/ops", "too many connections")]
    # A slot frees up when a connection closes.
    async with Raw.open(h, fr), Raw.open(h, fr) as again:
        assert again.welcome.principal == "fr/ops"


async def test_missing_or_wrong_subprotocol_is_closed_1002(h: HubHarness) -> None:
    fr = (await cast(h))["fr"]
    for offered in ([], ["cordon.v2"], ["chat", "superchat"]):
        try:
            async with connect_raw(h, fr, subprotocols=offered) as ws:
                with pytest.raises(ConnectionClosed) as info:
                    await ws.recv()
            code = close_code(info.value)
        except InvalidStatus as exc:  # the opening handshake refused outright
            code = exc.response.status_code
        assert code == 1002, (offered, code)
    assert h.hub is not None and not h.hub.sessions


async def test_publish_rate_limit_429(make_hub: MakeHub) -> None:
    h = await make_hub(publish_rate=0.001, publish_burst=5)
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    async with Raw.open(h, leaves["fr"]) as c, Raw.open(h, leaves["de"]) as other:
        await pipeline(c, CH, [signer.sign(CH) for _ in range(5)])
        answer = await c.publish(CH, *signer.sign(CH))
        assert isinstance(answer, f.ErrorFrame) and answer.code == 429
        # The connection survives and another principal has its own budget.
        assert isinstance(await c.request(f.ChannelsRequest(rid=c.rid())), f.ChannelsResult)
        ack = await other.publish(CH, *Signer(leaves["de"]).sign(CH))
        assert isinstance(ack, f.Ack) and ack.off == 6
        # A second connection of the same principal shares the budget.
        async with Raw.open(h, leaves["fr"]) as c2:
            answer = await c2.publish(CH, *signer.sign(CH))
            assert isinstance(answer, f.ErrorFrame) and answer.code == 429
    assert await log_len(h) == 6
    assert c.welcome.limits["publish_burst"] == 5


async def test_subscriptions_per_connection_and_duplicates_407(h: HubHarness) -> None:
    leaves = await cast(h)
    names = [f"op-{i:02d}" for i in range(MAX_SUBSCRIPTIONS)]
    for name in names:
        await h.channel(name, {"it": "reader"})
    async with Raw.open(h, leaves["it"]) as c:
        ok = await c.request(f.Subscribe(rid=c.rid(), ch=CH))
        assert isinstance(ok, f.Subscribed)
        assert isinstance(await c.recv(), f.Synced)
        dup = await c.request(f.Subscribe(rid=c.rid(), ch=CH))
        assert isinstance(dup, f.ErrorFrame) and dup.code == 407
        for name in names[: MAX_SUBSCRIPTIONS - 1]:
            assert isinstance(await c.request(f.Subscribe(rid=c.rid(), ch=name)), f.Subscribed)
            assert isinstance(await c.recv(), f.Synced)
        over = await c.request(f.Subscribe(rid=c.rid(), ch=names[-1]))
        assert isinstance(over, f.ErrorFrame) and over.code == 407
        unsub = await c.request(f.Unsubscribe(rid=c.rid(), ch=CH))
        assert isinstance(unsub, f.Unsubscribed)
        assert isinstance(await c.request(f.Subscribe(rid=c.rid(), ch=names[-1])), f.Subscribed)


async def test_history_pages_fit_in_a_frame_and_page_backwards(h: HubHarness) -> None:
    """A page holds at most 1,000 alerts and never more bytes than a client accepts in one
    message (256 KiB): the newest that fit, ``more`` set; paging backwards with ``before``
    yields every alert exactly once."""
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    total = HISTORY_PAGE_MAX + 50
    async with Raw.open(h, leaves["fr"]) as pub:
        for _ in range(total // 150):
            await pipeline(pub, CH, [signer.sign(CH) for _ in range(150)])
        await pipeline(pub, CH, [signer.sign(CH) for _ in range(total % 150)])
        await pipeline(pub, CH, [signer.sign(CH, body=FAT) for _ in range(20)])  # ~540 KB
    total += 20
    async with Raw.open(h, leaves["it"]) as c:
        got: list[int] = []
        before: int | None = None
        sizes = []
        while True:
            raw = codec.encode(f.HistoryRequest(rid=c.rid(), ch=CH, before=before,
                                                limit=HISTORY_PAGE_MAX * 5))
            await c.send_bytes(raw)
            data = await c.ws.recv()  # bytes as sent: the client-side size limit applies
            assert isinstance(data, bytes)
            sizes.append(len(data))
            page = codec.decode_server(data)
            assert isinstance(page, f.HistoryPage)
            offs = [i.off for i in page.items]
            assert 1 <= len(offs) <= HISTORY_PAGE_MAX
            assert offs == list(range(offs[0], offs[0] + len(offs)))
            assert before is None or offs[-1] == before - 1
            got = offs + got
            if not page.more:
                break
            before = offs[0]
        assert got == list(range(1, total + 1))
        assert max(sizes) <= MAX_FRAME_BYTES
        assert len(sizes) >= 3  # the fat alerts could not share a page
        one = await c.request(f.HistoryRequest(rid=c.rid(), ch=CH, limit=0))
        assert isinstance(one, f.HistoryPage) and [i.off for i in one.items] == [total]


async def test_welcome_states_the_limits_in_force(make_hub: MakeHub) -> None:
    h = await make_hub(max_frame_bytes=128 * 1024, publish_rate=10.0, publish_burst=20,
                       max_pings_per_s=7)
    fr = (await cast(h))["fr"]
    async with Raw.open(h, fr) as c:
        limits = c.welcome.limits
    assert (limits["max_frame_bytes"], limits["publish_rate"], limits["publish_burst"],
            limits["max_pings_per_s"]) == (128 * 1024, 10, 20, 7)
