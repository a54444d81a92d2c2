"""kill -9 of the primary while SDK publishers run and an SDK subscriber follows.

The hub (``ack_replicas = 1``) writes through the primary the sentinels name; the
primary is SIGKILLed; the sentinels (down-after 1500 ms) promote a replica; the hub
notices the new server (its run_id, and the sentinels' answer), checks its durability
and continuity, and goes on. At the end: every acknowledged alert is in the new
primary's history at its acknowledged offset, no offset was acknowledged for two
alerts, the epoch did not change, and the subscriber holds exactly the history. The
publish pause (the longest time without an ack, around the kill) is printed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from client.sdk import Published
from hub.hastore import LocalSentinelStore
from hub.protocol.errors import CloseCode, EpochMismatch
from hub.storage import Store
from tests.bodies import note
from tests.faults.ledger import Ledger, follow, publish_all, wait_until
from tests.harness import HubHarness, first_alert
from tests.hub.wire import CH, cast

pytestmark = pytest.mark.timeout(150)

RESUME = {"backoff": 0.05, "max_backoff": 0.5, "max_attempts": 400, "request_timeout": 20}
PER_PUBLISHER = 400
#: The pause this test accepts (the issue's target is 5 s with a 1 s down-after; here the
#: down-after is 1.5 s, and the machine is shared).
MAX_PAUSE_S = 10.0


class TimedLedger(Ledger):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def record(self, ack: Published) -> None:
        super().record(ack)
        self.times.append(time.monotonic())

    def pause_around(self, moment: float) -> float:
        """The longest gap between two acks that spans ``moment``."""
        before = max((t for t in self.times if t <= moment), default=moment)
        after = min((t for t in self.times if t > moment), default=moment)
        return after - before


async def test_kill_9_of_the_primary_loses_nothing_acked(
        tmp_path: Path, deployment: LocalSentinelStore) -> None:
    old = await deployment.primary()
    async with HubHarness(tmp_path / "hub", None, sentinels=tuple(deployment.sentinel_addresses),
                          ack_replicas=1, store_timeout_s=4.0) as h:
        leaves = await cast(h)
        epoch = (await h.store.channel(CH)).epoch
        ledger, got = TimedLedger(), list[tuple[int, str]]()
        ids = {tag: [f"ha-{tag}-{i}" for i in range(PER_PUBLISHER)] for tag in ("fr", "de")}
        async with h.client(leaves["fr"], **RESUME) as pub_fr, \
                h.client(leaves["de"], **RESUME) as pub_de, \
                h.client(leaves["it"], **RESUME) as reader:
            follower = asyncio.create_task(follow(reader, CH, got))
            publishers = asyncio.gather(
                publish_all(pub_fr, CH, ids["fr"], ledger, concurrency=4),
                publish_all(pub_de, CH, ids["de"], ledger, concurrency=4))
            reasons: set[str] = set()

            async def readiness() -> None:
                while True:
                    assert h.hub is not None
                    if h.hub.not_ready_reason is not None:
                        reasons.add(h.hub.not_ready_reason)
                    await asyncio.sleep(0.02)

            watcher = asyncio.create_task(readiness())
            try:
                await wait_until(lambda: ledger.count >= 150, 60, "150 acks before the kill")
                killed = time.monotonic()
                acked_before = ledger.count
                deployment.kill(old)
                new = await deployment.wait_failover(old)
                promoted = time.monotonic() - killed
                async with asyncio.timeout(90):
                    await publishers
                await wait_until(lambda: len(got) >= ledger.count, 30,
                                 "the subscriber caught up")
            finally:
                publishers.cancel()
                follower.cancel()
                watcher.cancel()
                await asyncio.gather(publishers, follower, watcher, return_exceptions=True)
        pause = ledger.pause_around(killed)
        # Not ready while the sentinels named no primary, then while the new one was checked.
        print(f"not ready meanwhile: {sorted(reasons)}")
        assert any("failover is under way" in r for r in reasons), reasons
        print(f"\nfailover: promoted after {promoted:.2f} s, publish pause {pause:.2f} s "
              f"({acked_before} acked before the kill, {ledger.count} in all, "
              f"{ledger.unavailable} 503s and {ledger.lost} losses retried)")
        assert h.store.primary == ("127.0.0.1", new.port)
        assert h.store.failovers >= 1
        assert h.hub is not None and h.hub.ready
        history = await ledger.check(h.store, CH, [got], set(ids["fr"]) | set(ids["de"]))
        assert len(history) == 2 * PER_PUBLISHER
        assert (await h.store.channel(CH)).epoch == epoch, "epoch changed: acked alerts lost"
        assert pause < MAX_PAUSE_S


async def test_failover_to_a_replica_that_lacks_delivered_alerts_starts_a_new_epoch(
        tmp_path: Path, deployment: LocalSentinelStore) -> None:
    """With ``ack_replicas = 0`` an ack means the primary's fsync only. Both replicas are
    killed while alerts are acknowledged and delivered, then the primary is killed and
    the replicas started again on their data (a frozen replica would not do: the kernel
    keeps receiving the replication stream for it): the promoted one lacks them. The
    hub's continuity check sees a head below what was delivered: new epoch, the live
    subscriber is closed with 4012, and resuming with the old epoch gets 412
    (EpochMismatch)."""
    old = await deployment.primary()
    replicas = [n for n in deployment.data if n is not old]
    async with HubHarness(tmp_path / "hub", None, sentinels=tuple(deployment.sentinel_addresses),
                          store_timeout_s=4.0) as h:
        leaves = await cast(h)
        epoch = (await h.store.channel(CH)).epoch
        async with h.client(leaves["fr"], **RESUME) as pub, \
                h.client(leaves["it"], reconnect=False) as reader:
            first = await pub.publish(CH, "notice", note("replicated"))
            await asyncio.sleep(0.5)  # the replicas have it
            for node in replicas:
                deployment.kill(node)
            lost = [await pub.publish(CH, "notice", note(f"only on the primary {i}"))
                    for i in range(3)]
            closed: list[int | None] = []

            async def follow_one() -> None:
                try:
                    async with reader.subscribe(CH, since=0, epoch=epoch, verify=False) as sub:
                        async for _item in sub:
                            pass
                except Exception as exc:  # the SDK reports the close as an exception
                    closed.append(getattr(exc, "code", None))

            follower = asyncio.create_task(follow_one())
            await asyncio.sleep(0.3)
            deployment.kill(old)
            for node in replicas:
                await deployment.restart(node)
            await deployment.wait_failover(old)
            await wait_until(lambda: follower.done(), 30, "the subscriber closed")
            new_epoch = (await h.store.channel(CH)).epoch
            assert new_epoch != epoch
            print("subscriber closed with", closed)
            assert closed == [CloseCode.STORE_RECOVERED], closed
        async with h.client(leaves["it"], reconnect=False) as again:
            with pytest.raises(EpochMismatch):
                await first_alert(again.subscribe(CH, since=lost[-1].offset, epoch=epoch))
        assert first.offset == 1 and [a.offset for a in lost] == [2, 3, 4]


async def test_after_a_failover_away_from_a_frozen_primary_commands_go_to_the_new_one(
        deployment: LocalSentinelStore) -> None:
    """A primary frozen (SIGSTOP) past down-after keeps its TCP connections open and
    silent, and still accepts new ones (the kernel does). The store's pooled connections
    sit on it when the sentinels promote a replica: the first command after that must
    reach the new primary (the sentinel poll drops the old connections, and a retried
    command reconnects through the sentinels, not to the old address), well within the
    store timeout rather than after it."""
    store = await Store.connect(None, sentinels=deployment.sentinel_addresses, timeout_s=4.0)
    frozen = await deployment.primary()
    try:
        await store.create_channel("c")
        deployment.freeze(frozen)
        new = await deployment.wait_failover(frozen)
        started = time.monotonic()
        assert [m.name for m in await store.channels()] == ["c"]
        took = time.monotonic() - started
        print(f"\nfirst command after the promotion answered in {took * 1000:.0f} ms")
        assert store.primary == ("127.0.0.1", new.port)
        assert took < store.timeout_s / 2
    finally:
        deployment.thaw(frozen)
        await store.close()


async def test_a_promoted_replica_without_appendfsync_always_gets_no_writes(
        deployment: LocalSentinelStore, caplog: pytest.LogCaptureFixture) -> None:
    """The new primary's durability settings are checked again after a failover: with
    both replicas switched to appendfsync everysec, the promoted one is refused (appends
    get Unavailable, the reason is logged) until it is fixed; then writes resume."""
    from hub.hastore import resp
    from hub.protocol.errors import Unavailable
    from hub.storage import AppendRequest

    store = await Store.connect(None, sentinels=deployment.sentinel_addresses, timeout_s=4.0)
    old = await deployment.primary()
    try:
        await store.create_channel("c")
        for node in deployment.data:
            if node is not old:
                await resp(node.port, "CONFIG", "SET", "appendfsync", "everysec")
        deployment.kill(old)
        new = await deployment.wait_failover(old)

        async def append(alert_id: str) -> object:
            [result] = await store.append_batch(
                [AppendRequest("c", alert_id, b"x", b"s" * 64, "k", 1)])
            return result

        await wait_until(lambda: "appendfsync everysec" in caplog.text, 20,
                         "the refusal of the new primary logged")
        with pytest.raises(Unavailable):
            await append("refused")
        await resp(new.port, "CONFIG", "SET", "appendfsync", "always")
        deadline = time.monotonic() + 20
        while True:
            try:
                result = await append("accepted")
                break
            except Unavailable:
                assert time.monotonic() < deadline, "writes did not resume"
                await asyncio.sleep(0.2)
        assert not isinstance(result, Exception)
        assert store.durability == "waitaof"
    finally:
        await store.close()
