"""The bridge against a real hub: channels, history then live, cache, resume, paging, publish."""

from __future__ import annotations

import asyncio
import sqlite3

from client.desktop.bridge import ONLINE, HubBridge
from tests.desktop import samples
from tests.desktop.conftest import CH, FAST, DeskFactory, Recorder
from tests.harness import HubHarness
from tests.pki import Leaf


async def publish_n(hub: HubHarness, leaf: Leaf, n: int, start: int = 0) -> None:
    async with hub.client(leaf, **FAST) as c:
        for i in range(start, start + n):
            await c.publish(CH, "seizure", samples.seizure(i))


async def test_follows_channel_history_then_live(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory
) -> None:
    await publish_n(hub, members["de"], 3)
    bridge = desk(members["fr"])
    rec = Recorder(bridge)
    bridge.start()
    await hub.wait_for(lambda: rec.offsets() == [1, 2, 3] and bridge.state == ONLINE)
    chans = rec.get("channelsChanged")[-1][0]
    assert [(c.channel, c.role, c.title) for c in chans] == [
        (CH, "contributor", "Operation STOP III")
    ]
    assert chans[0].unread == 3
    await publish_n(hub, members["de"], 1, start=3)
    await hub.wait_for(lambda: rec.offsets() == [1, 2, 3, 4])
    _ch, rows, live = rec.get("alertsAdded")[-1]
    assert live and rows[0].verified and rows[0].sender == "de/zoll"
    assert rows[0].summary.commodity == "medicines"
    assert rows[0].summary.quantity == "1,200 tablets"
    bridge.mark_read(CH, 4)
    assert rec.get("channelsChanged")[-1][0][0].unread == 0


async def test_publish_reports_the_hub_ack(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory
) -> None:
    bridge = desk(members["fr"])
    rec = Recorder(bridge)
    bridge.start()
    await hub.wait_for(lambda: bridge.state == ONLINE)
    token = bridge.publish(CH, "notice", samples.notice())
    await hub.wait_for(lambda: rec.get("published"))
    assert rec.get("published") == [(token, 1, False)]
    await hub.wait_for(lambda: rec.offsets() == [1])
    reader = desk(members["it"], cache_name="it")
    rec_it = Recorder(reader)
    reader.start()
    await hub.wait_for(lambda: reader.state == ONLINE)
    failed = reader.publish(CH, "notice", samples.notice())
    await hub.wait_for(lambda: rec_it.get("publishFailed"))
    assert rec_it.get("publishFailed")[0][0] == failed
    assert "denied" in rec_it.get("publishFailed")[0][1]


async def test_cache_opens_offline_and_resumes_from_its_cursor(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory
) -> None:
    await publish_n(hub, members["de"], 5)
    first = desk(members["fr"], cache_name="fr")
    rec = Recorder(first)
    first.start()
    await hub.wait_for(lambda: rec.offsets() == [1, 2, 3, 4, 5])
    await first.stop()
    first.cache.close()
    await publish_n(hub, members["de"], 2, start=5)
    await hub.stop()  # the hub is down: the cache alone shows history, verified offline
    second = desk(members["fr"], cache_name="fr", max_attempts=2)
    rec2 = Recorder(second)
    second.load_cached()
    assert rec2.offsets() == [1, 2, 3, 4, 5]
    assert all(row.verified for _, rows, _ in rec2.get("alertsAdded") for row in rows)
    assert rec2.get("channelsChanged")[-1][0][0].channel == CH
    second.start()
    await asyncio.sleep(0.3)
    assert second.state != ONLINE
    await hub.start()
    await hub.wait_for(lambda: rec2.offsets() == [1, 2, 3, 4, 5, 6, 7], timeout=20)
    assert second.cache.channel(CH).cursor == 7  # type: ignore[union-attr]


async def test_resumes_without_gap_after_hub_restart(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory
) -> None:
    bridge = desk(members["fr"])
    rec = Recorder(bridge)
    bridge.start()
    await hub.wait_for(lambda: bridge.state == ONLINE)
    await publish_n(hub, members["de"], 3)
    await hub.wait_for(lambda: rec.offsets() == [1, 2, 3])
    await hub.stop()
    await hub.wait_for(lambda: bridge.state != ONLINE)
    await hub.start()
    await publish_n(hub, members["de"], 3, start=3)
    await hub.wait_for(lambda: rec.offsets() == [1, 2, 3, 4, 5, 6], timeout=20)
    await hub.wait_for(lambda: bridge.state == ONLINE, timeout=10)
    states = [s for s, _ in rec.get("statusChanged")]
    assert "reconnecting" in states


async def test_fetches_older_history_in_the_background_page_by_page(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory
) -> None:
    await publish_n(hub, members["de"], 10)
    bridge: HubBridge = desk(members["fr"], page=4)
    rec = Recorder(bridge)
    bridge.start()
    await hub.wait_for(lambda: len(rec.get("olderLoaded")) == 2)
    assert rec.offsets()[:4] == [7, 8, 9, 10]  # the newest page first
    pages = [([r.offset for r in rows], more) for _ch, rows, more in rec.get("olderLoaded")]
    assert pages == [([3, 4, 5, 6], True), ([1, 2], False)]
    assert all(r.verified for _ch, rows, _m in rec.get("olderLoaded") for r in rows)
    assert not bridge.has_more(CH)
    assert bridge.cache.count(CH) == 10 and bridge.coverage(CH) == (10, 10, True)
    bridge.load_older(CH)  # nothing older: says so
    await hub.wait_for(lambda: len(rec.get("olderLoaded")) == 3)
    assert rec.get("olderLoaded")[2][1:] == ([], False)


async def test_a_cache_row_altered_on_disk_shows_as_failed(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory
) -> None:
    """The cache keeps bytes, not verdicts: tampering with it is caught offline."""
    await publish_n(hub, members["de"], 2)
    first = desk(members["fr"], cache_name="fr")
    rec = Recorder(first)
    first.start()
    await hub.wait_for(lambda: rec.offsets() == [1, 2])
    await first.stop()
    first.cache.close()
    with sqlite3.connect(first.cache.path) as db:
        (alert,) = db.execute("SELECT alert FROM alerts WHERE off = 2").fetchone()
        db.execute("UPDATE alerts SET alert = ? WHERE off = 2",
                   (alert.replace(b"Hamburg port", b"Bremen  port"),))
    await hub.stop()
    second = desk(members["fr"], cache_name="fr")
    rec2 = Recorder(second)
    second.load_cached()
    rows = [row for _, batch, _ in rec2.get("alertsAdded") for row in batch]
    assert [(r.offset, r.verified) for r in rows] == [(1, True), (2, False)]
    assert rows[1].summary.place == "Bremen  port" and "signature" in (rows[1].error or "")
