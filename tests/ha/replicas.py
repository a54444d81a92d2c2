"""The ``ack_replicas = 1`` scenario, run against a plain deployment
(tests/ha/test_ack_replicas.py) and a TLS-only one (tests/ha/test_ack_replicas_tls.py).

On a primary with two replicas: one replica frozen (SIGSTOP), publishes are still
acknowledged (the other confirms); both frozen, a publish gets 503 within the fsync
timeout (half the store timeout), no subscriber is shown the alert and the durable
watermark stays; both thawed, the next publish is acknowledged and delivered.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from hub.hastore import LocalSentinelStore
from hub.protocol.errors import Unavailable
from hub.storage.probe import probe_write
from tests.bodies import note
from tests.harness import HubHarness
from tests.hub.wire import CH, cast


async def acks_wait_for_a_replica(h: HubHarness, deployment: LocalSentinelStore, *,
                                  store_timeout_s: float, label: str = "") -> None:
    """The scenario above through ``h`` (a hub with ``ack_replicas = 1`` on
    ``deployment``)."""
    assert h.store.ack_replicas == 1
    assert "WAITAOF 1 1" in h.store.durability_detail
    primary = await deployment.primary()
    replicas = [n for n in deployment.data if n is not primary]
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
            first = await pub.publish(CH, "notice", note(f"both replicas up{label}"))
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
            # The stated bound: the fsync timeout (half the store timeout), plus a round
            # trip; never an ack.
            print(f"503 after {waited:.2f} s with both replicas frozen{label}")
            assert waited < store_timeout_s, waited
            await asyncio.sleep(1.0)
            assert seen == [first.offset, second.offset], "an unconfirmed alert was shown"
            meta = await h.store.channel(CH)
            assert meta is not None and meta.head == second.offset  # the durable watermark

            for node in replicas:
                deployment.thaw(node)
            # Both confirm again: the next publish is acknowledged and delivered. The
            # refused alert's bytes may have reached the store (its fsync was not
            # confirmed then); it stays above the watermark until a confirmed fsync covers
            # it, so the next ack may come after it: only acknowledged alerts count.
            third = await pub.publish(CH, "notice", note("replicas back"))
            assert third.offset > second.offset
            await h.wait_for(lambda: bool(seen) and seen[-1] == third.offset)
            assert seen[:2] == [first.offset, second.offset]
        finally:
            for node in replicas:
                deployment.thaw(node)
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
