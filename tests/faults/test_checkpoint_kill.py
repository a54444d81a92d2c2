"""kill -9 of ``cordon serve`` (store first) while it signs checkpoints every 100 ms and a
member publishes: no signed checkpoint is ever contradicted.

A reader keeps asking for the channel's checkpoint through the crashes with the SDK,
which checks each new one against the last it verified (consistency proofs; its state
file carries it across its own reconnections). At the end the last checkpoint covers every
acknowledged alert and its root is the Merkle root of the history the reader reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from client.sdk import CheckpointError, Client, Received, SignedCheckpoint
from hub.protocol.merkle import leaf_hash, root
from tests.faults.ledger import Ledger, publish_all, wait_until
from tests.faults.procs import Serve
from tests.pki import make_pki

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")

CH = "op-ckpt"
RESUME = {"backoff": 0.05, "max_backoff": 0.5, "max_attempts": 400, "request_timeout": 20}
ALERTS = 200
ROUNDS = 2


@pytest.fixture
async def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Serve]:
    monkeypatch.setenv("CORDON_CHECKPOINT_INTERVAL_MS", "100")
    s = Serve(make_pki(tmp_path), tmp_path / "hub")
    try:
        yield s
    finally:
        await s.stop()


async def _watch(client: Client, seen: list[SignedCheckpoint],
                 errors: list[CheckpointError]) -> None:
    while True:
        try:
            seen.append(await client.checkpoint(CH))
        except CheckpointError as exc:  # LogInconsistent included: the test fails on it
            errors.append(exc)
        except Exception:
            pass
        await asyncio.sleep(0.05)


async def test_kill_9_between_signings_keeps_checkpoints_consistent(serve: Serve,
                                                                     tmp_path: Path) -> None:
    pki = serve.pki
    alice, fr, it = pki.admin("alice"), pki.member("fr", "ops"), pki.member("it", "gdf")
    await serve.start()
    async with serve.client(alice) as adm:
        await adm.admin("channel.create", {"name": CH, "title": "checkpoints under crashes"})
        await adm.admin("role.grant", {"channel": CH, "member": "fr", "role": "contributor"})
        await adm.admin("role.grant", {"channel": CH, "member": "it", "role": "reader"})
    ledger = Ledger()
    ids = [f"ckpt-{i}" for i in range(ALERTS)]
    seen: list[SignedCheckpoint] = []
    errors: list[CheckpointError] = []
    state = tmp_path / "reader-checkpoints.json"
    async with serve.client(fr, **RESUME) as pub, \
            serve.client(it, checkpoint_state=state, **RESUME) as reader:
        watcher = asyncio.create_task(_watch(reader, seen, errors))
        publisher = asyncio.create_task(publish_all(pub, CH, ids, ledger, concurrency=4))
        try:
            for r in range(1, ROUNDS + 1):
                await wait_until(lambda r=r: ledger.count >= 60 * r  # type: ignore[misc]
                                 and len(seen) >= 2 * r, 60,
                                 f"publishing and signing before crash {r}")
                await serve.kill9()
                await serve.start()  # same folder, same port
            await asyncio.wait_for(publisher, 120)
            await wait_until(lambda: bool(seen) and seen[-1].checkpoint.size >= ledger.top,
                             30, "a checkpoint covering every acked alert")
        finally:
            publisher.cancel()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        assert not errors, errors
        last = seen[-1].checkpoint
        assert len({s.checkpoint.epoch for s in seen}) == 1  # nothing acked was lost
        items: list[Received] = []
        before = None
        while True:
            page = await reader.history(CH, before=before, limit=1000)
            items = [*page.items, *items]
            if not page.more:
                break
            before = page.items[0].offset
        assert [i.offset for i in items] == list(range(1, len(items) + 1))
        assert root([leaf_hash(i.alert) for i in items[:last.size]]) == last.root
        # every size seen, at most one root: a crash never made the hub sign two
        roots: dict[int, bytes] = {}
        for s in seen:
            assert roots.setdefault(s.checkpoint.size, s.checkpoint.root) == s.checkpoint.root
