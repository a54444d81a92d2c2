"""Faults of the embedded store under a running hub (in this process, its own store).

- kill -9 of the store: the hub's supervisor restarts it (the test holds the store's
  folder lock for a while, so the outage is long enough to watch deterministically);
  meanwhile the hub is not ready and publishes get 503 at once; once it is back,
  subscribed connections are closed with 4012, SDK subscribers resume, publishers
  resend the same signed bytes and get acks. Nothing acked is lost or duplicated.
- SIGSTOP of the store for a few seconds, then SIGCONT: no restart (the process did
  not die); publishers get acks (or 503) and never lose an acked alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import sys
from pathlib import Path

import pytest

import hub.embedded
from client.sdk import ConnectionLost
from hub.protocol.errors import CloseCode, Unavailable
from hub.server import Hub
from tests.bodies import note
from tests.faults.ledger import Ledger, follow, publish_all, wait_until
from tests.harness import HubHarness
from tests.pki import Leaf

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals, flock")

CH = "op-faults"
RESUME = {"backoff": 0.05, "max_backoff": 0.5, "max_attempts": 400, "request_timeout": 20}
N = 240


async def _setup(h: HubHarness) -> tuple[Leaf, Leaf]:
    fr = await h.member("fr", "ops")
    it = await h.member("it", "gdf")
    await h.channel(CH, {"fr": "contributor", "it": "reader"})
    return fr, it


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


async def test_kill_9_of_the_store_is_restarted_and_subscribers_resume(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub.embedded, "RESTART_BACKOFF_S", 0.5)
    monkeypatch.setattr(hub.embedded, "RESTART_BACKOFF_MAX_S", 1.0)
    ids = [f"store-kill-{i}" for i in range(N)]
    ledger, got = Ledger(), list[tuple[int, str]]()
    async with HubHarness(tmp_path, None) as h:  # None: an embedded store of its own
        the_hub = h.hub
        assert the_hub is not None and the_hub.embedded is not None and the_hub.ready
        fr, it = await _setup(h)
        async with h.client(fr, max_attempts=1) as pub, h.client(it, **RESUME) as reader, \
                h.client(it, reconnect=False) as plain:
            follower = asyncio.create_task(follow(reader, CH, got))
            await publish_all(pub, CH, ids[:80], ledger)
            await wait_until(lambda: len(got) >= 80, 20, "subscriber caught up")

            async def plain_close_code() -> int | None:
                try:
                    async with plain.subscribe(CH, verify=False) as sub:
                        async for _ in sub:
                            pass
                except ConnectionLost as exc:
                    return exc.code
                return None

            plain_task = asyncio.create_task(plain_close_code())
            publisher = asyncio.create_task(publish_all(pub, CH, ids[80:200], ledger))
            await wait_until(lambda: ledger.count >= 110, 20, "publishing before the kill")

            pid = the_hub.embedded.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            lock = the_hub.embedded.data_dir / "cordon-store.lock"
            held = None
            try:
                async with asyncio.timeout(5):  # the first restart attempt is 0.5 s away
                    while True:
                        held = _try_lock(lock)
                        if held is not None:
                            break
                        await asyncio.sleep(0.005)
                # The dead store cannot come back while we hold its folder.
                await wait_until(lambda: not the_hub.ready, 5, "hub reports not ready")
                assert the_hub.not_ready_reason is not None
                assert "SIGKILL" in the_hub.not_ready_reason
                # unchained: its fate (refused now, acked later) leaves pub's chain alone
                probe = h.client(fr, chained=False).sign(CH, "notice", note("probe"),
                                                         alert_id="store-kill-probe")
                with pytest.raises(Unavailable):  # fast: the request timeout bounds it
                    await pub.publish_signed(CH, probe.alert, probe.sig)
                await asyncio.sleep(1.2)  # at least one restart attempt fails meanwhile
                assert not the_hub.ready
            finally:
                if held is not None:
                    os.close(held)
            await wait_until(lambda: the_hub.ready, 20, "store restarted, hub ready")
            assert the_hub.store_restarts == 1
            assert the_hub.embedded.pid != pid
            assert await asyncio.wait_for(plain_task, 20) == CloseCode.STORE_RECOVERED

            await asyncio.wait_for(publisher, 60)
            await asyncio.wait_for(publish_all(pub, CH, ids[200:], ledger), 60)
            ledger.record(await asyncio.wait_for(
                pub.publish_signed(CH, probe.alert, probe.sig), 20))
            assert ledger.unavailable > 0  # the outage was seen as 503s, then acked
            await wait_until(lambda: bool(got) and got[-1][0] >= ledger.top, 30,
                             "the resuming subscriber got everything")
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        # the hub's own Store reconnected to the restarted server: read history through it
        await ledger.check(h.store, CH, [got], {*ids, "store-kill-probe"})


async def test_frozen_store_loses_nothing_acked(tmp_path: Path) -> None:
    ids = [f"store-freeze-{i}" for i in range(N)]
    ledger, got = Ledger(), list[tuple[int, str]]()
    async with HubHarness(tmp_path, None) as h:
        the_hub = h.hub
        assert the_hub is not None and the_hub.embedded is not None
        fr, it = await _setup(h)
        async with h.client(fr, max_attempts=1) as pub, h.client(it, **RESUME) as reader:
            follower = asyncio.create_task(follow(reader, CH, got))
            publisher = asyncio.create_task(publish_all(pub, CH, ids, ledger))
            await wait_until(lambda: ledger.count >= 60, 20, "publishing before the freeze")
            pid = the_hub.embedded.pid
            assert pid is not None
            os.kill(pid, signal.SIGSTOP)
            try:
                await asyncio.sleep(3)
            finally:
                os.kill(pid, signal.SIGCONT)
            await asyncio.wait_for(publisher, 60)
            await wait_until(lambda: bool(got) and got[-1][0] >= ledger.top, 30,
                             "the subscriber got everything")
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        assert the_hub.embedded.pid == pid  # frozen is not dead: nothing was restarted
        assert the_hub.store_restarts == 0
        await ledger.check(h.store, CH, [got], set(ids))


async def test_readiness_follows_the_lifecycle(tmp_path: Path, valkey_url: str) -> None:
    the_hub = Hub(HubHarness(tmp_path, valkey_url).settings)
    assert not the_hub.ready and the_hub.not_ready_reason == "not started"
    await the_hub.start()
    try:
        assert the_hub.ready and the_hub.not_ready_reason is None
        the_hub.store_lost("valkey-server (pid 1) killed by SIGKILL")  # as the parent tells
        assert not the_hub.ready
        assert the_hub.not_ready_reason == "store down: valkey-server (pid 1) killed by SIGKILL"
        await the_hub.store_back()
        assert the_hub.ready and the_hub.store_restarts == 1
    finally:
        await the_hub.stop()
    assert not the_hub.ready and the_hub.not_ready_reason == "shutting down"
