"""Stopping never hangs, even when a loop's store command swallows its cancellation.

On Python 3.11 redis-py may return normally from a command that was cancelled
(hub.aio); these tests stand in such a command with one that swallows the first
cancellation and then keeps waiting, and require stop() to finish, bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from hub.committer import GroupCommitter
from hub.protocol.errors import Unavailable
from hub.storage import AppendRequest, Store
from tests.hub.conftest import MakeHub
from tests.hub.wire import Raw

BOUND_S = 10.0


class Stubborn:
    """An awaitable store command that ignores its first cancellation, then hangs."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.started.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)  # cancelled: swallowed, as redis-py can on 3.11
        await asyncio.sleep(3600)


def req(alert_id: str) -> AppendRequest:
    return AppendRequest(channel="op", alert_id=alert_id, alert=b"x", sig=b"s", kid="k",
                         received=1)


async def test_committer_stop_ends_a_batch_that_swallows_its_cancellation(store: Store) -> None:
    gc = GroupCommitter(store)
    stubborn = Stubborn()
    store.append_batch = stubborn  # type: ignore[method-assign]
    await gc.start()
    submit = asyncio.create_task(gc.submit(req("a1")))
    await asyncio.wait_for(stubborn.started.wait(), BOUND_S)
    async with asyncio.timeout(BOUND_S):
        await gc.stop(timeout_s=0.1)
    with pytest.raises(Unavailable):
        await submit


async def test_hub_stop_while_every_loop_is_mid_command(make_hub: MakeHub) -> None:
    h = await make_hub(retention_check_s=0.01, session_recheck_s=0.01, registry_poll_s=0.01)
    hub = h.hub
    assert hub is not None
    fr = await h.member("fr", "ops")
    async with Raw.open(h, fr):
        stubs = [Stubborn() for _ in range(3)]
        # The re-check reads cert_statuses first and channels later in one sweep: it is
        # stopped in its own stub before channels (the retention loop's) is replaced, or
        # a sweep already past cert_statuses would hang in the retention loop's stub and
        # never start its own (the test failed now and then that way).
        hub.store.cert_statuses = stubs[1]  # type: ignore[method-assign]  # session re-check
        hub.casync.sync_once = stubs[2]  # type: ignore[method-assign]  # CA folder sync
        for stub in stubs[1:]:
            await asyncio.wait_for(stub.started.wait(), BOUND_S)
        hub.store.channels = stubs[0]  # type: ignore[method-assign]  # retention loop
        await asyncio.wait_for(stubs[0].started.wait(), BOUND_S)
        # (the event stream's loop is waiting on its pub/sub connection meanwhile)
        async with asyncio.timeout(BOUND_S):
            await h.stop()
    assert h.hub is None
