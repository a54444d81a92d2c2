"""A real ``cordon serve`` process, killed with SIGKILL (and its embedded store with it) while
members publish and follow a channel, then started again on the same data folder.

Nothing acknowledged is lost, and an SDK subscriber that rode through the crash has every
alert exactly once, in order, with the bytes that were acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from client.sdk import Received
from hub.storage import Store
from tests.hub.wire import CH, eventually, notice
from tests.pki import Pki, make_pki
from tests.serve import Serve

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")

RECONNECT = {"backoff": 0.05, "max_backoff": 0.5, "max_attempts": 400, "request_timeout": 20}


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Serve, Pki]]:
    pki = make_pki(tmp_path)
    hub = Serve(pki, tmp_path / "hub")
    try:
        yield hub, pki
    finally:
        await hub.stop()


async def test_kill_9_and_restart_loses_nothing_acked_and_the_subscriber_resumes(
    served: tuple[Serve, Pki],
) -> None:
    hub, pki = served
    alice, fr, it = pki.admin("alice"), pki.member("fr", "ops"), pki.member("it", "gdf")
    await hub.start()
    async with hub.client(alice) as adm:
        await adm.admin("channel.create", {"name": CH, "title": "STOP III"})
        await adm.admin("role.grant", {"channel": CH, "member": "fr", "role": "contributor"})
        await adm.admin("role.grant", {"channel": CH, "member": "it", "role": "reader"})

    acked: dict[int, str] = {}
    received: list[Received] = []
    restarted = asyncio.Event()

    async def publish() -> None:
        async with hub.client(fr, **RECONNECT) as c:
            i = 0
            while not (restarted.is_set() and len(acked) >= 400):
                results = await asyncio.gather(*(
                    c.publish(CH, "notice", notice(f"seizure report {i + k}"))
                    for k in range(10)))
                i += 10
                for ack in results:
                    if ack.offset in acked:
                        assert acked[ack.offset] == ack.alert_id
                    acked[ack.offset] = ack.alert_id

    async def follow() -> None:
        async with hub.client(it, **RECONNECT) as c, c.subscribe(CH, since=0) as sub:
            async for alert in sub:
                received.append(alert)

    follower = asyncio.create_task(follow())
    publisher = asyncio.create_task(publish())
    await eventually(lambda: len(acked) >= 200, timeout=60)
    await hub.kill9()
    acked_before_crash = dict(acked)
    await hub.start()  # same port, same data folder
    restarted.set()
    try:
        async with asyncio.timeout(90):
            await publisher
            while not received or received[-1].offset < max(acked):
                assert not follower.done(), follower
                await asyncio.sleep(0.02)
    except TimeoutError:
        last = received[-1].offset if received else None
        raise AssertionError(f"acked up to {max(acked)}, subscriber at {last}; hub log:\n"
                             + hub.stderr_text()[-4000:]) from None
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower

    # Every acknowledged alert is stored, at its acknowledged offset.
    store = await Store.connect(hub.store_url)
    try:
        meta = await store.channel(CH)
        assert meta is not None
        stored = await store.read_after(CH, 0, 100_000)
    finally:
        await store.close()
    from hub.protocol.envelope import decode_envelope

    by_off = {s.off: decode_envelope(s.alert).id for s in stored}
    assert [s.off for s in stored] == list(range(1, meta.head + 1))
    for off, alert_id in acked.items():
        assert by_off[off] == alert_id
    assert all(by_off[off] == aid for off, aid in acked_before_crash.items())
    # The subscriber saw every alert once, in order, verified, with the stored bytes.
    assert [r.offset for r in received] == list(range(1, len(received) + 1))
    assert len(received) >= max(acked)
    assert all(r.verified for r in received)
    assert all(by_off[r.offset] == r.envelope.id for r in received if r.envelope)
