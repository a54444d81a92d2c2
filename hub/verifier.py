"""Ed25519 signature checks on threads of their own, so they overlap the event loop.

Verifying a 1 KiB alert takes ~39 µs of libsodium (hub.protocol.envelope.verify_alert),
which releases the GIL while it works: on threads of their own the checks run on
another core while the event loop decodes, stores and delivers. Handing each alert over
separately would cost more than it frees (bench/README.md: OpenSSL in the default thread
pool was slower), so a thread takes every alert queued since its last pass in one go,
and hands all their results back to the loop with one wake-up.

Why two threads: a thread needs the GIL back after every check, and a busy event loop
keeps it for up to the switch interval, so one thread spends most of its time waiting
for it (py-spy); with two, one checks while the other waits. Measured (bench, hub-only,
medians of 3, alternating pairs on this 2-core machine): one thread W5 10,258 / 9,753
acked alerts/s against 8,970 / 8,890 inline; two threads 10,442 / 10,134 against one
thread's 8,918 / 8,967 in another pair; three were worse than two (8,796 / 8,877 against
9,437 / 10,116). Verifying many alerts in one call that holds no GIL would be the next
step.

A lone check (a ``pub``, or a ``pubs`` of one) that arrives while the threads have
nothing queued is made on the event loop at once, at most once per ``INLINE_GAP_S``: at
a few hundred alerts a second (W2) the hop to a thread and back cost 0.5 ms at the
median and 3.5 ms at p99 (the result waits for the GIL while the loop fans out), the
check itself ~45 µs; under load the checks still go to the threads.

Results of different passes may come back in any order; callers that need an order
(hub.session: a connection's publishes are stored in the order received) await their
futures one after the other.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from hub.metrics import Metrics
from hub.protocol.envelope import verify_alert
from hub.protocol.errors import CordonError, Unavailable

log = logging.getLogger(__name__)

#: Threads checking signatures (see the module docstring for why two).
THREADS = 2
#: A lone check is made on the loop itself (threads idle) at most once per this many s.
INLINE_GAP_S = 0.001

_Check = tuple[bytes, bytes, bytes]
#: Checks queued together and the future of their outcomes; ``one``: the future ends with
#: the single check's outcome itself (None or its error) rather than a list of outcomes.
_Item = tuple[list[_Check], "asyncio.Future[Any]", bool]


class Verifier:
    """``await verifier.verify(key, alert, sig)``: raises what verify_alert raises."""

    def __init__(self, threads: int = THREADS, *, metrics: Metrics | None = None,
                 inline_gap_s: float = INLINE_GAP_S) -> None:
        if threads < 1:
            raise ValueError("threads must be positive")
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._count = threads
        self._threads: list[threading.Thread] = []
        #: Checks queued or being checked on the threads (counted on the loop's side).
        self._busy = 0
        self._inline_at = float("-inf")
        self._inline_gap_s = inline_gap_s
        self.metrics = metrics if metrics is not None else Metrics()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._threads = [threading.Thread(target=self._run, name=f"cordon-verify-{n}",
                                          daemon=True) for n in range(self._count)]
        for thread in self._threads:
            thread.start()

    async def stop(self) -> None:
        """End the threads once they have checked what was queued (nothing can be
        queued after this starts: :meth:`verify` refuses)."""
        threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)  # one stop marker each
        for thread in threads:
            await asyncio.to_thread(thread.join)

    def verify(self, key: bytes, alert: bytes, sig: bytes) -> asyncio.Future[None]:
        """Queue one check; the future ends with None or the check's error."""
        if self._loop is None or not self._threads:
            raise Unavailable("hub is shutting down")
        fut: asyncio.Future[None] = self._loop.create_future()
        self._busy += 1
        self._queue.put(([(key, alert, sig)], fut, True))
        return fut

    def verify_many(self, checks: Sequence[_Check]
                    ) -> asyncio.Future[list[BaseException | None]]:
        """Queue ``(key, alert, sig)`` checks together (one thread checks them all, one
        future, one wake-up of the loop); the future ends with each check's outcome, in
        order: None, or the error :func:`verify_alert` raised."""
        if self._loop is None or not self._threads:
            raise Unavailable("hub is shutting down")
        fut: asyncio.Future[list[BaseException | None]] = self._loop.create_future()
        if len(checks) == 1 and not self._busy:
            now = self._loop.time()
            if now - self._inline_at >= self._inline_gap_s:
                # A lone check while the threads have nothing to do: here, now (~45 µs),
                # so its result waits neither for a thread's wake-up nor for the GIL back
                # from a busy loop (W2, one alert every 2 ms: 0.5 ms median, 3.5 ms p99
                # that way). At most one a millisecond, so under load the checks still
                # go to the threads, in parallel with the loop.
                self._inline_at = now
                fut.set_result([_outcome(checks[0], self.metrics.signature_seconds.observe)])
                return fut
        self._busy += len(checks)
        self._queue.put((list(checks), fut, False))
        return fut

    def _run(self) -> None:
        assert self._loop is not None
        stopping = False
        while not stopping:
            batch: list[_Item] = []
            item = self._queue.get()
            while item is not None:
                batch.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            else:
                stopping = True
            took: list[float] = []
            timed = took.append
            results = [[_outcome(check, timed) for check in checks]
                       for checks, _fut, _one in batch]
            if took:
                self.metrics.signature_seconds.observe_many(took)
            if batch:
                self._loop.call_soon_threadsafe(self._deliver, batch, results)

    def _deliver(self, batch: list[_Item], results: list[list[BaseException | None]]) -> None:
        """On the loop: a pass's outcomes to their futures."""
        for (checks, fut, one), outcomes in zip(batch, results, strict=True):
            self._busy -= len(checks)
            if fut.done():  # cancelled: its connection went away meanwhile
                continue
            if not one:
                fut.set_result(outcomes)
            elif outcomes[0] is None:
                fut.set_result(None)
            else:
                fut.set_exception(outcomes[0])


def _outcome(check: _Check, timed: Callable[[float], None]) -> BaseException | None:
    """One check, on a thread or the loop: None, or the error :func:`verify_alert` raised
    (any other exception is a bug, logged and handed to the caller too); the seconds a
    passing check took go to ``timed``."""
    started = time.perf_counter()
    try:
        verify_alert(*check)
    except CordonError as exc:
        return exc
    except Exception as exc:  # a bug, not a bad alert: reported to the caller
        log.exception("signature check failed unexpectedly")
        return exc
    timed(time.perf_counter() - started)
    return None
