"""``ack_replicas`` over TLS: a Sentinel deployment that speaks only TLS (a primary, two
replicas, three sentinels, ``tls-replication yes``, client certificates required, both
passwords) on a server build with TLS *and* ``WAITAOF`` (Debian 12's bookworm-backports
Valkey 8.0; tests/storetls.py), so the acknowledgement rests on ``WAITAOF 1 1`` asked and
answered over TLS, and the replicas' own durability settings are read over TLS too.
Skipped, saying why, without such a build.

- one replica frozen (SIGSTOP): publishes are still acknowledged (the other confirms);
  both frozen: a publish gets 503 within the fsync timeout and no subscriber is shown it
  (the durable watermark stays); both thawed: the next publish is acknowledged and
  delivered, and the history holds exactly the acknowledged alerts;
- a replica running ``appendfsync everysec`` (it would confirm WAITAOF without fsyncing):
  with ``ack_replicas`` the store refuses the deployment over TLS, naming the replica.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.hastore import LocalSentinelStore
from hub.protocol.errors import Unavailable
from hub.storage import Store
from hub.storage.probe import probe_write
from tests.bodies import note
from tests.harness import HubHarness
from tests.hub.wire import CH, cast
from tests.storetls import StorePki, make_store_pki, waitaof_tls_binary_or_skip

pytestmark = pytest.mark.timeout(150)

DATA_PASSWORD, SENTINEL_PASSWORD = "data-secret-waitaof", "sentinel-secret-waitaof"
#: The hub's store timeout in these tests; the fsync wait is half of it.
STORE_TIMEOUT_S = 4.0


@pytest.fixture
def store_pki(tmp_path: Path) -> StorePki:
    return make_store_pki(tmp_path)


@pytest.fixture
async def deployment(tmp_path: Path, store_pki: StorePki) -> AsyncIterator[LocalSentinelStore]:
    store = LocalSentinelStore(
        tmp_path / "ha", binary=waitaof_tls_binary_or_skip(), tls=store_pki.files,
        tls_auth_clients="yes", password=DATA_PASSWORD, sentinel_password=SENTINEL_PASSWORD)
    try:
        await store.start()
    except RuntimeError:
        logs = [(n.dir / "valkey.log") for n in store.data]
        if any("TLS support" in p.read_text(errors="replace") for p in logs if p.exists()):
            pytest.skip(f"{store.binary} is built without TLS")
        raise
    try:
        yield store
    finally:
        await store.stop()


def _tls(pki: StorePki) -> dict[str, object]:
    return {"store_tls": True, "store_tls_ca": pki.ca, "store_tls_cert": pki.client,
            "store_tls_key": pki.client_key, "store_password": DATA_PASSWORD,
            "sentinel_password": SENTINEL_PASSWORD}


async def test_ack_waits_for_a_replica_over_tls_and_refuses_when_none_confirms(
        tmp_path: Path, store_pki: StorePki, deployment: LocalSentinelStore) -> None:
    primary = await deployment.primary()
    replicas = [n for n in deployment.data if n is not primary]
    async with HubHarness(tmp_path / "hub", None, sentinels=tuple(deployment.sentinel_addresses),
                          ack_replicas=1, store_timeout_s=STORE_TIMEOUT_S,
                          **_tls(store_pki)) as h:
        # Read over TLS: the primary has WAITAOF, and each replica runs appendfsync always.
        assert h.store.durability == "waitaof"
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
                first = await pub.publish(CH, "notice", note("both replicas up, over TLS"))
                deployment.freeze(replicas[0])
                await probe_write(h.store, timeout_s=1.0)  # one replica is enough
                second = await pub.publish(CH, "notice", note("one replica frozen"))
                assert second.offset == first.offset + 1
                await h.wait_for(lambda: seen == [first.offset, second.offset])

                deployment.freeze(replicas[1])
                with pytest.raises(Unavailable, match="not confirmed by 1 replica"):
                    await probe_write(h.store, timeout_s=1.0)
                started = time.monotonic()
                with pytest.raises(Unavailable):
                    await pub.publish(CH, "notice", note("no replica can confirm"))
                waited = time.monotonic() - started
                print(f"503 after {waited:.2f} s with both replicas frozen (TLS)")
                assert waited < STORE_TIMEOUT_S, waited
                await asyncio.sleep(1.0)
                assert seen == [first.offset, second.offset], "an unconfirmed alert was shown"
                meta = await h.store.channel(CH)
                assert meta is not None and meta.head == second.offset  # the durable watermark

                for node in replicas:
                    deployment.thaw(node)
                # Both confirm again: the next publish is acknowledged and delivered. The
                # refused alert's bytes may have reached the store (its fsync was not
                # confirmed then); it is above the watermark until a confirmed fsync covers
                # it, so the next ack may come after it: only acknowledged alerts count.
                third = await pub.publish(CH, "notice", note("replicas back"))
                assert third.offset > second.offset
                await h.wait_for(lambda: seen and seen[-1] == third.offset)
                assert seen[:2] == [first.offset, second.offset]
            finally:
                for node in replicas:
                    deployment.thaw(node)
                follower.cancel()
                await asyncio.gather(follower, return_exceptions=True)


async def test_a_replica_without_appendfsync_always_is_refused_over_tls(
        store_pki: StorePki, deployment: LocalSentinelStore) -> None:
    """Under everysec a replica confirms WAITAOF without fsyncing: with ack_replicas the
    store reads each replica's settings over TLS and refuses such a deployment, naming the
    replica; the same deployment without ack_replicas is accepted."""
    primary = await deployment.primary()
    replica = next(n for n in deployment.data if n is not primary)
    await deployment._resp(replica.port, "CONFIG", "SET", "appendfsync", "everysec",
                           password=DATA_PASSWORD)
    tls = {"tls": True, "tls_ca": str(store_pki.ca), "tls_cert": str(store_pki.client),
           "tls_key": str(store_pki.client_key), "password": DATA_PASSWORD,
           "sentinel_password": SENTINEL_PASSWORD, "timeout_s": STORE_TIMEOUT_S}
    with pytest.raises(Unavailable, match=f"127.0.0.1:{replica.port} has appendonly yes, "
                                          "appendfsync everysec"):
        await Store.connect(None, sentinels=deployment.sentinel_addresses, ack_replicas=1,
                            **tls)  # type: ignore[arg-type]
    store = await Store.connect(None, sentinels=deployment.sentinel_addresses,
                                **tls)  # type: ignore[arg-type]
    try:
        assert store.durability == "waitaof" and store.ack_replicas == 0
    finally:
        await store.close()
