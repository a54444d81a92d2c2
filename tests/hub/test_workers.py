"""``cordon serve --workers 2``: real processes on one port, one store, one order per channel.

Publishers are connected to *different* workers (told apart by which worker
process owns the server side of each TCP connection, read from /proc), and a
subscriber on each worker must see every alert once, gap-free, in the same
order, matching the offsets in the publishers' acks.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from client.sdk import Client
from hub import admin
from hub.storage import Store
from tests.bodies import note
from tests.faults.procs import client_port, worker_of_client_ports
from tests.pki import Leaf, make_pki
from tests.serve import Serve

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="SO_REUSEPORT spreading and /proc are Linux")

PER_PUBLISHER = 150


@pytest.fixture
async def workers(tmp_path: Path) -> AsyncIterator[Serve]:
    """``cordon serve --workers 2`` (not yet started), registry poll 0.2 s, clients that do
    not reconnect."""
    w = Serve(make_pki(tmp_path), tmp_path / "hub", workers=2,
              env={"CORDON_REGISTRY_POLL_S": "0.2"}, client_options={"reconnect": False})
    try:
        yield w
    finally:
        await w.stop()


async def _wait_registered(store: Store, leaves: list[Leaf]) -> None:
    for _ in range(200):
        if all([await store.cert(leaf.kid) is not None for leaf in leaves]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("workers did not import the CA folder")


async def _spread(w: Serve, leaves: list[Leaf]) -> tuple[dict[int, list[Client]], list[Client]]:
    """Open connections until each worker has at least one; returns them by worker pid."""
    opened: list[Client] = []
    by_pid: dict[int, list[Client]] = {pid: [] for pid in w.pids}
    for i in range(40):
        c = w.client(leaves[i % len(leaves)])
        await c.connect()
        opened.append(c)
        owners = worker_of_client_ports(w.pids, w.port)
        by_pid[owners[client_port(c)]].append(c)
        if all(len(v) >= 2 for v in by_pid.values()):
            break
    assert all(by_pid.values()), "the kernel put 40 connections on one worker"
    return by_pid, opened


async def test_two_workers_deliver_each_others_publications_in_one_order(
        workers: Serve) -> None:
    w, pki = workers, workers.pki
    fr, de, nl = pki.member("fr", "ops"), pki.member("de", "ops"), pki.member("nl", "ops")
    await w.start()
    assert len(w.pids) == 2
    store = await Store.connect(w.store_url)
    opened: list[Client] = []
    try:
        await _wait_registered(store, [fr, de, nl])
        await admin.create_channel(store, "op-w", title="workers")
        for member, role in (("fr", "contributor"), ("de", "contributor"), ("nl", "reader")):
            await admin.grant(store, "op-w", member, role)

        pub_by_pid, pub_opened = await _spread(w, [fr, de])
        sub_by_pid, sub_opened = await _spread(w, [nl])
        opened = pub_opened + sub_opened
        pid_a, pid_b = w.pids
        pub_a, pub_b = pub_by_pid[pid_a][0], pub_by_pid[pid_b][0]
        sub_a, sub_b = sub_by_pid[pid_a][0], sub_by_pid[pid_b][0]
        total = 2 * PER_PUBLISHER

        async def follow(client: Client) -> list[tuple[int, str]]:
            got: list[tuple[int, str]] = []
            async with client.subscribe("op-w", since=0, verify=False) as sub:
                async for item in sub:
                    assert item.envelope is not None
                    got.append((item.offset, item.envelope.id))
                    if len(got) == total:
                        break
            return got

        followers = [asyncio.create_task(follow(c)) for c in (sub_a, sub_b)]
        await asyncio.sleep(0.2)

        async def publish(client: Client, tag: str) -> dict[int, str]:
            acks: dict[int, str] = {}
            for start in range(0, PER_PUBLISHER, 25):
                batch = await asyncio.gather(*(
                    client.publish("op-w", "notice", note(f"{tag} {i}"),
                                   alert_id=f"{tag}-{i}")
                    for i in range(start, min(start + 25, PER_PUBLISHER))))
                acks.update({a.offset: a.alert_id for a in batch})
            return acks

        acks_a, acks_b = await asyncio.wait_for(
            asyncio.gather(publish(pub_a, "a"), publish(pub_b, "b")), 60)
        seen_a, seen_b = await asyncio.wait_for(asyncio.gather(*followers), 60)

        acked = {**acks_a, **acks_b}
        assert sorted(acked) == list(range(1, total + 1))  # one gap-free offset sequence
        expected = [(off, acked[off]) for off in range(1, total + 1)]
        assert seen_a == expected  # subscriber on worker A: every alert, in order
        assert seen_b == expected  # subscriber on worker B: the very same order
    finally:
        for c in opened:
            with contextlib.suppress(Exception):
                await c.close()
        await store.close()
    assert await w.stop() == 0


async def test_workers_refuses_a_bad_count(tmp_path: Path) -> None:
    from hub.cli import main

    pki = make_pki(tmp_path)
    code = await asyncio.to_thread(main, [
        "serve", "--workers", "0", "--data-dir", str(tmp_path / "hub"),
        "--ca-dir", str(pki.dir), "--server-cert", str(pki.server.cert),
        "--server-key", str(pki.server.key)])
    assert code == 2
