"""``ack_replicas``: an alert is acknowledged only once the primary and N replicas fsynced
it (WAITAOF 1 N, re-issued until it confirms or the fsync timeout passes).

With ``ack_replicas = 1`` on a primary with two replicas: one replica frozen (SIGSTOP),
publishes are still acknowledged (the other confirms); both frozen, a publish gets 503
within the fsync timeout (half the store timeout), and no subscriber is shown the alert.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hub.hastore import LocalSentinelStore
from hub.protocol.errors import Unavailable
from hub.storage import AppendRequest, Store
from hub.storage.probe import probe_write
from tests.bodies import note
from tests.harness import HubHarness
from tests.hub.wire import CH, cast

pytestmark = pytest.mark.timeout(120)

#: The hub's store timeout in these tests; the fsync wait is half of it.
STORE_TIMEOUT_S = 4.0


async def test_ack_waits_for_one_replica_and_refuses_when_none_confirms(
        tmp_path: Path, deployment: LocalSentinelStore) -> None:
    primary = await deployment.primary()
    replicas = [n for n in deployment.data if n is not primary]
    async with HubHarness(tmp_path / "hub", None, sentinels=tuple(deployment.sentinel_addresses),
                          ack_replicas=1, store_timeout_s=STORE_TIMEOUT_S) as h:
        assert h.store.ack_replicas == 1
        assert "WAITAOF 1 1" in h.store.durability_detail
        leaves = await cast(h)
        seen: list[int] = []
        async with h.client(leaves["fr"], max_attempts=1) as pub, \
                h.client(leaves["it"]) as reader:
            async def follow() -> None:
                async with reader.subscribe(CH, since=0, verify=False) as sub:
                    async for item in sub:
                        seen.append(item.offset)

            follower = asyncio.create_task(follow())
            try:
                first = await pub.publish(CH, "notice", note("both replicas up"))
                await probe_write(h.store, timeout_s=1.0)  # readiness: fine
                deployment.freeze(replicas[0])
                await probe_write(h.store, timeout_s=1.0)  # one replica is enough
                second = await pub.publish(CH, "notice", note("one replica frozen"))
                assert second.offset == first.offset + 1
                await h.wait_for(lambda: seen == [first.offset, second.offset])

                deployment.freeze(replicas[1])
                # readiness says so too (the /readyz store check is this probe)
                with pytest.raises(Unavailable, match="not confirmed by 1 replica"):
                    await probe_write(h.store, timeout_s=1.0)
                started = time.monotonic()
                with pytest.raises(Unavailable):
                    await pub.publish(CH, "notice", note("no replica can confirm"))
                waited = time.monotonic() - started
                # The stated bound: the fsync timeout (half the store timeout), plus a
                # round trip; never an ack.
                print(f"503 after {waited:.2f} s with both replicas frozen")
                assert waited < STORE_TIMEOUT_S, waited
                await asyncio.sleep(1.0)
                assert seen == [first.offset, second.offset], "an unconfirmed alert was shown"
                meta = await h.store.channel(CH)
                assert meta is not None and meta.head == second.offset  # the durable watermark
            finally:
                for node in replicas:
                    deployment.thaw(node)
                follower.cancel()
                await asyncio.gather(follower, return_exceptions=True)


async def test_a_replica_without_appendfsync_always_is_refused(
        deployment: LocalSentinelStore, caplog: pytest.LogCaptureFixture) -> None:
    """Under everysec a replica confirms WAITAOF without fsyncing: with ack_replicas the
    store refuses such a deployment (and says which replica); without, it is accepted."""
    from hub.hastore import resp

    primary = await deployment.primary()
    replica = next(n for n in deployment.data if n is not primary)
    await resp(replica.port, "CONFIG", "SET", "appendfsync", "everysec")
    with pytest.raises(Unavailable, match=f"127.0.0.1:{replica.port} has appendonly yes, "
                                          "appendfsync everysec"):
        await Store.connect(None, sentinels=deployment.sentinel_addresses, ack_replicas=1)
    store = await Store.connect(None, sentinels=deployment.sentinel_addresses)
    try:
        await store.create_channel("c")
        [ok] = await store.append_batch([AppendRequest("c", "a", b"x", b"s" * 64, "k", 1)])
        assert not isinstance(ok, Exception) and ok.off == 1
    finally:
        await store.close()
    # A replica that cannot be asked (frozen) is logged, not refused; the check does not
    # hold the connection up beyond the fsync wait (half the store timeout).
    deployment.freeze(replica)
    try:
        started = time.monotonic()
        store = await Store.connect(None, sentinels=deployment.sentinel_addresses,
                                    ack_replicas=1, timeout_s=4.0)
        took = time.monotonic() - started
        await store.close()
    finally:
        deployment.thaw(replica)
    assert f"cannot check replica 127.0.0.1:{replica.port}" in caplog.text
    assert took < 4.0, took
