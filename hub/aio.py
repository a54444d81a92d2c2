"""Cancelling tasks that talk to the store, reliably.

On Python 3.11, ``asyncio.wait_for`` returns the inner result instead of raising
when a cancellation arrives just as the inner operation completes
(CPython gh-86296, fixed in 3.12), and redis-py wraps every socket write of a
command in ``wait_for`` when a socket timeout is set. A task cancelled while it
runs a store command can therefore swallow the cancellation and carry on: a
plain ``task.cancel(); await task`` may wait for ever. :func:`cancel_and_wait`
cancels again until the task has really finished.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

__all__ = ["cancel_and_wait"]

#: Seconds between repeated cancellations of a task that has not finished.
_RECANCEL_S = 0.05


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait until it is done (its result or error is discarded)."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=_RECANCEL_S)
    if not task.cancelled():
        with contextlib.suppress(BaseException):
            task.exception()  # retrieved: no "exception was never retrieved" warning
