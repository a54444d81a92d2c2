"""The replicated-ack wait (WAITAOF 1 N, re-issued until it confirms) runs on the
connection that wrote the batch, or the batch is not acknowledged.

WAITAOF waits for the writes of *its own connection*; redis-py silently reconnects a
dropped connection on the next command, and a fresh connection has written nothing, so
WAITAOF there would confirm at once: an ack for a batch nobody confirmed. A failover's
pool reset drops connections in use exactly so (seen in the HA demo as a 500). Real
embedded Valkey; ``ack_replicas = 1`` with no replica keeps the wait re-issuing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.protocol.errors import Unavailable
from hub.storage import Store
from hub.storage.records import AppendRequest

CH = "stop-iii"


async def _connections(raw: Any) -> int:
    info = await raw.info("stats")
    return int(info["total_connections_received"])


async def test_a_connection_dropped_during_the_wait_is_not_reconnected(
        valkey_url: str, raw: Any) -> None:
    await raw.flushdb()
    store = await Store.connect(valkey_url, ack_replicas=1, fsync_timeout_ms=4000)
    try:
        await store.create_channel(CH)
        req = AppendRequest(channel=CH, alert_id="01J0000000000000000000000A",
                            alert=b"\x81\xa1a\x01", sig=b"s" * 64, kid="k" * 64,
                            received=1)
        task = asyncio.create_task(store.append_batch([req]))
        pool: Any = store._r.connection_pool
        for _ in range(200):  # until the batch's connection is in use, waiting
            if pool._in_use_connections:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # its pipeline done, WAITAOF re-issued every few ms
        before = await _connections(raw)
        (conn,) = list(pool._in_use_connections)
        read = conn.read_response

        async def read_then_drop(*args: Any, **kwargs: Any) -> Any:
            # The reset lands just as a WAITAOF reply arrived, before the next is sent.
            reply = await read(*args, **kwargs)
            await conn.disconnect()
            return reply

        conn.read_response = read_then_drop
        with pytest.raises(Unavailable):
            await asyncio.wait_for(task, 10)
        # Nothing reconnected to re-issue the wait on a connection that wrote nothing.
        assert await _connections(raw) == before
    finally:
        await store.close()
