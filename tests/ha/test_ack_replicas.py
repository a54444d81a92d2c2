"""``ack_replicas``: an alert is acknowledged only once the primary and N replicas fsynced
it (WAITAOF 1 N, re-issued until it confirms or the fsync timeout passes).

With ``ack_replicas = 1`` on a primary with two replicas: one replica frozen (SIGSTOP),
publishes are still acknowledged (the other confirms); both frozen, a publish gets 503
within the fsync timeout (half the store timeout), and no subscriber is shown the alert;
both thawed, acknowledged and delivered again (tests/ha/replicas.py, which the TLS
version of this test runs too).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hub.hastore import LocalSentinelStore
from hub.protocol.errors import Unavailable
from hub.storage import AppendRequest, Store
from tests.ha.replicas import acks_wait_for_a_replica
from tests.harness import HubHarness

pytestmark = pytest.mark.timeout(120)

#: The hub's store timeout in these tests; the fsync wait is half of it.
STORE_TIMEOUT_S = 4.0


async def test_ack_waits_for_one_replica_and_refuses_when_none_confirms(
        tmp_path: Path, deployment: LocalSentinelStore) -> None:
    async with HubHarness(tmp_path / "hub", None, sentinels=tuple(deployment.sentinel_addresses),
                          ack_replicas=1, store_timeout_s=STORE_TIMEOUT_S) as h:
        await acks_wait_for_a_replica(h, deployment, store_timeout_s=STORE_TIMEOUT_S)


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
