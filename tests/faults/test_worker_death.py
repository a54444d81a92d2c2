"""``cordon serve --workers 2``: kill -9 of one worker while the other serves, and of the
store the parent runs for them.

The survivor's connections stay up (publishing and receiving on the very same
connections, which are opened with ``reconnect=False`` so any loss would fail the
test), the parent starts a new worker in the dead one's place, and new connections
land on it (SO_REUSEPORT spreads them; the owner of each is read from /proc). When
restarts keep failing, ``cordon serve`` gives up with a clear message and exit status 1.
When the store dies, the parent restarts it and tells the workers, which close their
subscribers with 4012; SDK subscribers on both workers resume with exactly the history.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from client.sdk import Client, ConnectionLost
from hub import admin
from hub.protocol.errors import CloseCode
from hub.storage import Store
from hub.workers import WORKER_MAX_FAST_FAILURES
from tests.faults.ledger import Ledger, follow, publish_all, wait_until
from tests.faults.procs import Serve, client_port, worker_of_client_ports
from tests.pki import Leaf, make_pki

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="SO_REUSEPORT spreading and /proc are Linux")

CH = "op-workers"


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    s = Serve(make_pki(tmp_path), tmp_path / "hub", workers=2,
              env={"CORDON_REGISTRY_POLL_S": "0.2"})
    try:
        yield s
    finally:
        await s.stop()


async def _registered(store: Store, leaves: list[Leaf]) -> None:
    async def all_known() -> bool:
        return all([await store.cert(leaf.kid) is not None for leaf in leaves])

    async with asyncio.timeout(20):
        while True:
            if await all_known():
                return
            await asyncio.sleep(0.05)


async def _connect_to(serve: Serve, leaf: Leaf, pid: int, pids: list[int],
                      opened: list[Client], **options: Any) -> Client:
    """Open connections until one lands on worker ``pid`` (the others stay open);
    ``reconnect=False`` unless ``options`` say otherwise."""
    for _ in range(60):
        c = serve.client(leaf, **{"reconnect": False, **options})
        await c.connect()
        opened.append(c)
        if worker_of_client_ports(pids, serve.port).get(client_port(c)) == pid:
            return c
    raise AssertionError(f"60 connections and none on worker {pid}")


async def test_a_dead_worker_is_replaced_and_the_other_keeps_serving(serve: Serve) -> None:
    pki = serve.pki
    fr, it = pki.member("fr", "ops"), pki.member("it", "gdf")
    await serve.start()
    assert len(serve.pids) == 2
    survivor, victim = serve.pids
    store = await Store.connect(serve.store_url)
    opened: list[Client] = []
    ledger, got = Ledger(), list[tuple[int, str]]()
    ids = [f"workers-{i}" for i in range(300)]
    try:
        await _registered(store, [fr, it])
        await admin.create_channel(store, CH, title="worker death")
        await admin.grant(store, CH, "fr", "contributor")
        await admin.grant(store, CH, "it", "reader")

        pub = await _connect_to(serve, fr, survivor, serve.pids, opened)
        reader = await _connect_to(serve, it, survivor, serve.pids, opened)
        await _connect_to(serve, it, victim, serve.pids, opened)  # one that will drop
        pub_conn, reader_conn = pub._conn, reader._conn
        follower = asyncio.create_task(follow(reader, CH, got))
        await publish_all(pub, CH, ids[:100], ledger)

        os.kill(victim, signal.SIGKILL)
        during = asyncio.create_task(publish_all(pub, CH, ids[100:200], ledger))
        found = await serve.wait_line(r"worker 1 restarted \(pid (\d+)\)", 60)
        newcomer = int(found.group(1))
        assert newcomer not in (survivor, victim)
        await asyncio.wait_for(during, 60)

        fresh = await _connect_to(serve, fr, newcomer, [survivor, newcomer], opened)
        await asyncio.wait_for(publish_all(fresh, CH, ids[200:], ledger), 60)
        await wait_until(lambda: bool(got) and got[-1][0] >= ledger.top, 30,
                         "the subscriber on the surviving worker got everything")
        # the survivor's connections never dropped: same connection objects, still open
        assert pub._conn is pub_conn and reader._conn is reader_conn
        assert pub.connected and reader.connected
        assert ledger.lost == ledger.unavailable == 0
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await ledger.check(store, CH, [got], set(ids))
        assert "killed by SIGKILL" in serve.stderr_text()  # the log line of the restart
    finally:
        for c in opened:
            with contextlib.suppress(Exception):
                await c.close()
        await store.close()
    assert await serve.stop() == 0


async def test_gives_up_after_repeated_fast_failures(serve: Serve) -> None:
    await serve.start()
    # From now on a worker cannot start: its TLS key is gone.
    key = serve.pki.server.key
    key.rename(key.with_suffix(".gone"))
    os.kill(serve.pids[1], signal.SIGKILL)
    assert serve.proc is not None
    status = await asyncio.wait_for(serve.proc.wait(), 90)
    assert status == 1
    err = serve.stderr_text()
    assert "giving up" in err
    assert f"failed {WORKER_MAX_FAST_FAILURES + 1} times in a row" in err
    assert err.count("restart attempt") == WORKER_MAX_FAST_FAILURES
    with contextlib.suppress(ProcessLookupError):  # the survivor was stopped too
        os.kill(serve.pids[0], 0)
        raise AssertionError("the other worker outlived cordon serve")


async def test_the_parent_restarts_a_dead_store_and_workers_resume_subscribers(
        serve: Serve) -> None:
    pki = serve.pki
    fr, it = pki.member("fr", "ops"), pki.member("it", "gdf")
    await serve.start()
    first, second = serve.pids
    store = await Store.connect(serve.store_url)
    opened: list[Client] = []
    ledger = Ledger()
    got: dict[int, list[tuple[int, str]]] = {first: [], second: []}
    ids = [f"workers-store-{i}" for i in range(200)]
    followers: list[asyncio.Task[None]] = []
    try:
        await _registered(store, [fr, it])
        await admin.create_channel(store, CH, title="store death under workers")
        await admin.grant(store, CH, "fr", "contributor")
        await admin.grant(store, CH, "it", "reader")
        pub = await _connect_to(serve, fr, first, serve.pids, opened)
        plain = await _connect_to(serve, it, second, serve.pids, opened)  # no resume
        for pid in (first, second):  # one resuming SDK subscriber on each worker
            c = await _connect_to(serve, it, pid, serve.pids, opened, reconnect=True,
                                  backoff=0.05, max_backoff=0.5, max_attempts=400)
            followers.append(asyncio.create_task(follow(c, CH, got[pid])))

        async def plain_close_code() -> int | None:
            try:
                async with plain.subscribe(CH, verify=False) as sub:
                    async for _ in sub:
                        pass
            except ConnectionLost as exc:
                return exc.code
            return None

        plain_task = asyncio.create_task(plain_close_code())
        await publish_all(pub, CH, ids[:80], ledger)
        publisher = asyncio.create_task(publish_all(pub, CH, ids[80:], ledger))
        await wait_until(lambda: ledger.count >= 110, 30, "publishing before the kill")
        old = serve.store_pid()
        os.kill(old, signal.SIGKILL)
        assert await asyncio.wait_for(plain_task, 30) == CloseCode.STORE_RECOVERED
        assert serve.store_pid() != old
        await asyncio.wait_for(publisher, 60)
        await store.ping()  # this Store's pool reconnected too
        await wait_until(lambda: all(g and g[-1][0] >= ledger.top for g in got.values()), 30,
                         "both subscribers got everything")
        for task in followers:
            task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
        await ledger.check(store, CH, list(got.values()), set(ids))
        assert pub.connected  # the publisher (no subscription) kept its connection
        err = serve.stderr_text()
        assert "embedded store down" in err and "killed by SIGKILL" in err
        assert "restart attempt 1" in err
        for w in ("w0", "w1"):  # each worker was told: not ready, then back (4012 sent)
            assert f"cordon.hub[{w}]: store down (" in err
            assert f"cordon.hub[{w}]: store back:" in err
    finally:
        for task in followers:
            task.cancel()
        for c in opened:
            with contextlib.suppress(Exception):
                await c.close()
        await store.close()
    assert await serve.stop() == 0
