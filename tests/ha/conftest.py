"""A real Valkey Sentinel deployment per test: a primary, two replicas and three
sentinels from the embedded wheel's ``valkey-server`` on loopback ports
(:class:`hub.hastore.LocalSentinelStore`; appendfsync always on every data node,
down-after 1500 ms). About a second to start (each sentinel is told the others and the
replicas up front), so each test that needs one gets its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.hastore import LocalSentinelStore


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[LocalSentinelStore]:
    store = LocalSentinelStore(tmp_path / "ha")
    await store.start()
    try:
        yield store
    finally:
        await store.stop()
