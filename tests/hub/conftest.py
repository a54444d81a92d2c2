"""Fixtures for the hub's integration tests: hubs with chosen settings on the shared Valkey."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.harness import HubHarness

MakeHub = Callable[..., Awaitable[HubHarness]]


@pytest.fixture
async def make_hub(tmp_path: Path, valkey_url: str, raw: Any) -> AsyncIterator[MakeHub]:
    """``h = await make_hub(send_queue_frames=8)``: a started hub (real TLS, port 0) with
    settings overridden, on the session's Valkey (wiped first). Stopped after the test."""
    await raw.flushdb()
    started: list[HubHarness] = []

    async def make(**overrides: Any) -> HubHarness:
        harness = HubHarness(tmp_path / f"hub{len(started)}", valkey_url, **overrides)
        started.append(harness)
        await harness.start()
        return harness

    try:
        yield make
    finally:
        for harness in reversed(started):
            await harness.stop()


@pytest.fixture
async def h(make_hub: MakeHub) -> HubHarness:
    """A hub with default settings."""
    return await make_hub()
