"""``ack_replicas`` over TLS: a Sentinel deployment that speaks only TLS (a primary, two
replicas, three sentinels, ``tls-replication yes``, client certificates required, both
passwords) on a server build with TLS *and* ``WAITAOF`` (Debian 12's bookworm-backports
Valkey 8.0; tests/storetls.py), so the acknowledgement rests on ``WAITAOF 1 1`` asked and
answered over TLS, and the replicas' own durability settings are read over TLS too.
Skipped, saying why, without such a build.

- the scenario of tests/ha/test_ack_replicas.py (tests/ha/replicas.py): one replica
  frozen, still acknowledged; both frozen, 503 within the fsync timeout, nothing shown,
  the watermark unchanged; both thawed, acknowledged and delivered again;
- a replica running ``appendfsync everysec`` (it would confirm WAITAOF without fsyncing):
  with ``ack_replicas`` the store refuses the deployment over TLS, naming the replica.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.hastore import LocalSentinelStore
from hub.protocol.errors import Unavailable
from hub.storage import Store
from tests.ha.replicas import acks_wait_for_a_replica
from tests.harness import HubHarness
from tests.storetls import (
    StorePki,
    hub_tls_settings,
    make_store_pki,
    tls_binary_or_skip,
    tls_sentinel_deployment,
)

pytestmark = pytest.mark.timeout(150)

DATA_PASSWORD, SENTINEL_PASSWORD = "data-secret-waitaof", "sentinel-secret-waitaof"
#: The hub's store timeout in these tests; the fsync wait is half of it.
STORE_TIMEOUT_S = 4.0


@pytest.fixture
def store_pki(tmp_path: Path) -> StorePki:
    return make_store_pki(tmp_path)


@pytest.fixture
async def deployment(tmp_path: Path, store_pki: StorePki) -> AsyncIterator[LocalSentinelStore]:
    async with tls_sentinel_deployment(tmp_path / "ha", tls_binary_or_skip(waitaof=True),
                                       store_pki,
                                       password=DATA_PASSWORD,
                                       sentinel_password=SENTINEL_PASSWORD) as deployment:
        yield deployment


async def test_ack_waits_for_a_replica_over_tls_and_refuses_when_none_confirms(
        tmp_path: Path, store_pki: StorePki, deployment: LocalSentinelStore) -> None:
    async with HubHarness(tmp_path / "hub", None, sentinels=tuple(deployment.sentinel_addresses),
                          ack_replicas=1, store_timeout_s=STORE_TIMEOUT_S,
                          **hub_tls_settings(store_pki, password=DATA_PASSWORD,
                                             sentinel_password=SENTINEL_PASSWORD)) as h:
        # Read over TLS: the primary has WAITAOF, and each replica runs appendfsync always.
        assert h.store.durability == "waitaof"
        await acks_wait_for_a_replica(h, deployment, store_timeout_s=STORE_TIMEOUT_S,
                                      label=" (TLS)")


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
