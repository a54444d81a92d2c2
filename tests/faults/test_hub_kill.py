"""kill -9 of a ``cordon serve`` process (its embedded store first, as a crash) in the
middle of publishing, three rounds, each followed by a restart on the same folder and port.

Two SDK publishers sign each alert once and resend the same bytes (same alert id) until
it is acknowledged, across the crashes; an SDK subscriber follows from offset 0 and
resumes by itself after each one. At the end: every acked alert is in the history at its
acked offset, no alert twice, no offset acked for two alerts within the epoch, and the
subscriber has exactly the history.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.storage import Store
from tests.faults.ledger import Ledger, follow, publish_all, wait_until
from tests.faults.procs import Serve
from tests.pki import make_pki

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")

CH = "op-crash"
RESUME = {"backoff": 0.05, "max_backoff": 0.5, "max_attempts": 400, "request_timeout": 20}
PER_PUBLISHER = 150
ROUNDS = 3


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    s = Serve(make_pki(tmp_path), tmp_path / "hub", env={"CORDON_REGISTRY_POLL_S": "0.2"})
    try:
        yield s
    finally:
        await s.stop()


async def test_kill_9_of_the_hub_mid_publish_three_rounds(serve: Serve) -> None:
    pki = serve.pki
    alice, fr, de = pki.admin("alice"), pki.member("fr", "ops"), pki.member("de", "ops")
    it = pki.member("it", "gdf")
    await serve.start()
    async with serve.client(alice) as adm:
        await adm.admin("channel.create", {"name": CH, "title": "crash rounds"})
        for member, role in (("fr", "contributor"), ("de", "contributor"), ("it", "reader")):
            await adm.admin("role.grant", {"channel": CH, "member": member, "role": role})

    ledger, got = Ledger(), list[tuple[int, str]]()
    ids = {tag: [f"crash-{tag}-{i}" for i in range(PER_PUBLISHER)] for tag in ("fr", "de")}
    async with serve.client(fr, **RESUME) as pub_fr, serve.client(de, **RESUME) as pub_de, \
            serve.client(it, **RESUME) as reader:
        follower = asyncio.create_task(follow(reader, CH, got))
        publishers = asyncio.gather(publish_all(pub_fr, CH, ids["fr"], ledger, concurrency=5),
                                    publish_all(pub_de, CH, ids["de"], ledger, concurrency=5))
        at_kill: list[int] = []
        try:
            for r in range(1, ROUNDS + 1):
                await wait_until(lambda r=r: ledger.count >= 70 * r, 60,  # type: ignore[misc]
                                 f"publishing before crash {r}")
                await serve.kill9()
                at_kill.append(ledger.count)
                await serve.start()  # same folder, same port
            await asyncio.wait_for(publishers, 120)
            await wait_until(lambda: bool(got) and got[-1][0] >= ledger.top, 60,
                             "the subscriber got everything")
        finally:
            publishers.cancel()
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
    assert all(n < 2 * PER_PUBLISHER for n in at_kill), at_kill  # each crash mid-publish
    store = await Store.connect(serve.store_url)
    try:
        await ledger.check(store, CH, [got], {*ids["fr"], *ids["de"]})
    finally:
        await store.close()
