"""What several tests/client files share (fixtures of the same things are in conftest.py).

- :data:`CH`, the channel the tests use; :data:`FAST`, client options for a real hub that
  retry quickly;
- :func:`make_client`, an SDK client of a leaf to the fake hub (quick retries);
- :func:`take`, the first ``n`` items of an open subscription, bounded in time;
- :func:`checkpoint_now`, the hub's checkpoint of :data:`CH` signed now.
"""

from __future__ import annotations

import asyncio
from typing import Any

from client.sdk import Client, Received, Subscription
from tests.client.fakehub import FakeHub
from tests.harness import HubHarness
from tests.pki import Leaf

__all__ = ["CH", "FAST", "checkpoint_now", "make_client", "take"]

CH = "stop-iii"
#: Client options against a real hub: retry quickly.
FAST: dict[str, Any] = {"backoff": 0.02, "max_backoff": 0.2, "request_timeout": 10}


def make_client(hub: FakeHub, leaf: Leaf, **kwargs: Any) -> Client:
    """A client of ``leaf`` to the fake hub, retrying quickly (``kwargs`` override)."""
    options: dict[str, Any] = {"backoff": 0.01, "max_backoff": 0.05, "request_timeout": 5}
    options.update(kwargs)
    return Client(hub.url, cert=leaf.cert, key=leaf.key, ca=hub.pki.ca, **options)


async def take(sub: Subscription, n: int, timeout: float = 15.0) -> list[Received]:
    """The next ``n`` items of the open subscription ``sub`` (fails after ``timeout`` s)."""
    out: list[Received] = []
    async with asyncio.timeout(timeout):
        async for received in sub:
            out.append(received)
            if len(out) == n:
                break
    return out


async def checkpoint_now(h: HubHarness) -> int:
    """Sign :data:`CH`'s checkpoint now, as if the interval had elapsed (its lease gone)."""
    assert h.hub is not None
    await h.store._r.delete(f"cordon:{{ch:{CH}}}:ckptlease")
    return await h.hub.translog.sign_due()
