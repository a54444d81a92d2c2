"""Shared fixtures: one real Valkey for the whole session, a clean :class:`Store` per test.

``valkey_url`` (session, synchronous)
    Starts one :class:`~hub.embedded.EmbeddedValkey` in a session tmp dir and
    yields its ``unix://`` URL. The server's child process belongs to an event
    loop that runs in a daemon thread for the whole session (see
    :class:`LoopThread`), so it is independent of pytest-asyncio's per-test
    loops: each test's clients simply connect to the socket from their own
    loop. Set ``CORDON_TEST_REDIS_URL`` (e.g. ``redis://localhost:6379/15``) to
    run against an external Redis/Valkey instead — its database is wiped
    before every test that uses ``store`` or ``raw``.

``raw`` (function)
    A plain ``redis.asyncio`` client on that server, for tests that inspect the
    key layout. Only tests import redis besides :mod:`hub.storage`.

``store`` (function)
    ``FLUSHDB`` (the whole keyspace of the embedded server), then a connected
    :class:`~hub.storage.Store`, closed after the test. Tests share one server,
    so they must not run in parallel.

``private_valkey`` (function)
    A separate :class:`EmbeddedValkey` in the test's own tmp dir, started in
    the test's loop, for tests that kill, stop or restart the server.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis.asyncio as aioredis

from hub.embedded import EmbeddedValkey
from hub.storage import Store

T = TypeVar("T")

EXTERNAL_URL_ENV = "CORDON_TEST_REDIS_URL"


class LoopThread:
    """An event loop running forever in a daemon thread; owns long-lived child processes."""

    def __init__(self, name: str = "test-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture(scope="session")
def valkey_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get(EXTERNAL_URL_ENV)
    if external:
        yield external
        return
    loop = LoopThread("valkey-session")
    server = EmbeddedValkey(tmp_path_factory.mktemp("valkey"))
    try:
        loop.run(server.start())
        yield server.url
    finally:
        loop.run(server.stop())
        loop.close()


@pytest.fixture
def external_store() -> bool:
    """True when the suite runs against CORDON_TEST_REDIS_URL."""
    return bool(os.environ.get(EXTERNAL_URL_ENV))


@pytest.fixture
async def raw(valkey_url: str) -> AsyncIterator[Any]:
    client: Any = aioredis.Redis.from_url(valkey_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def store(valkey_url: str, raw: Any) -> AsyncIterator[Store]:
    await raw.flushdb()
    s = await Store.connect(valkey_url)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def private_valkey(tmp_path: Path) -> AsyncIterator[EmbeddedValkey]:
    server = EmbeddedValkey(tmp_path / "store", start_timeout_s=20, stop_timeout_s=5)
    await server.start()
    try:
        yield server
    finally:
        if server.running:
            await server.stop()


@pytest.fixture
async def hub(tmp_path: Path, valkey_url: str, raw: Any) -> AsyncIterator[Any]:
    """A running hub (real TLS on 127.0.0.1 port 0) on a wiped store: a HubHarness."""
    from tests.harness import HubHarness

    await raw.flushdb()
    harness = HubHarness(tmp_path, valkey_url)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
