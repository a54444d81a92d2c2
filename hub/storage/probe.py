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
    does not confirm the fsync, or restarted and its continuity is not checked yet."""
    if not store._writes_open:
        raise Unavailable("store restarted: checking continuity")
    wait = store.durability in _WAITAOF_MODES
    try:
        async with asyncio.timeout(timeout_s):
            with _guard():
                pipe = store._r.pipeline(transaction=False)
                pipe.set(PROBE_KEY, secrets.token_hex(8))
                if wait:
                    pipe.execute_command("WAITAOF", 1, 0, max(1, int(timeout_s * 1000)))
                replies = await pipe.execute()
    except TimeoutError:
        raise Unavailable("store did not answer in time") from None
    if wait and int(replies[-1][0]) < 1:
        raise Unavailable("fsync not confirmed")


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
