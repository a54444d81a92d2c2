"""The readiness probe's store check: one write, and its fsync where acks wait for one."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from hub.protocol.errors import CordonError, Unavailable
from hub.storage._common import _guard
from hub.storage._keys import PROBE_KEY
from hub.storage._store import Store
from hub.storage.alerts import _WAITAOF_MODES

__all__ = ["probe_write", "store_role"]

_ROLES = {b"master": "primary", b"slave": "replica", b"sentinel": "sentinel"}


async def probe_write(store: Store, *, timeout_s: float) -> None:
    """Write the probe key and, where acks wait for WAITAOF, wait for its fsync (one round
    trip), all within ``timeout_s``. :class:`Unavailable` (with a fixed reason) if the
    store does not answer in time, refuses the write (a read-only replica, a full disk),
    does not confirm the fsync (on ``ack_replicas`` replicas too), or restarted and its
    continuity is not checked yet."""
    if not store._writes_open:
        raise Unavailable("store restarted: checking continuity")
    wait = store.durability in _WAITAOF_MODES

    def fill(pipe: Any) -> None:
        pipe.set(PROBE_KEY, secrets.token_hex(8))

    try:
        async with asyncio.timeout(timeout_s):
            with _guard():
                # As an ack: WAITAOF 1 N with N = ack_replicas (re-issued), so a hub whose
                # store has fewer replicas than ack_replicas reports itself not ready.
                replies, confirmed = await store._durable_pipeline(
                    fill, wait=wait, fsync_ms=int(timeout_s * 1000) - 100)
                if isinstance(replies[0], Exception):
                    raise replies[0]
    except TimeoutError:
        raise Unavailable("store did not answer in time") from None
    if not confirmed:
        raise Unavailable("fsync not confirmed" if not store.ack_replicas
                          else f"fsync not confirmed by {store.ack_replicas} replica(s)")


async def store_role(store: Store) -> str:
    """The server's replication role (``ROLE``): ``primary``, ``replica``, or
    ``unknown`` when it cannot be read (ROLE refused by an ACL, the store down)."""
    client: Any = store._r
    try:
        with _guard():
            reply = await client.execute_command("ROLE")
    except CordonError:
        return "unknown"
    first = reply[0] if isinstance(reply, list | tuple) and reply else b""
    if isinstance(first, str):
        first = first.encode()
    return _ROLES.get(first, "unknown")
