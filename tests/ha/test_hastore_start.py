"""The local Sentinel deployment starts even when one of its planned ports is taken by
another process between planning and starting (as on a busy machine: a full-suite run
once timed out waiting for the sentinels): a node that exits makes the start retry at
once with fresh ports."""

from __future__ import annotations

import socket
from pathlib import Path

from hub.hastore import LocalSentinelStore


async def test_a_taken_port_is_retried_with_fresh_ports(tmp_path: Path) -> None:
    store = LocalSentinelStore(tmp_path / "ha")
    taken = store.sentinels[1].port
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", taken))
    squatter.listen()
    try:
        await store.start()
        try:
            assert taken not in [n.port for n in store.sentinels]
            assert await store.primary_port() == store.data[0].port
        finally:
            await store.stop()
    finally:
        squatter.close()
