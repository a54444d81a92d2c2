"""Ed25519 signature checks on a thread of their own, so they overlap the event loop.

Verifying a 1 KiB alert takes ~39 µs of libsodium (hub.protocol.envelope.verify_alert),
which releases the GIL while it works: on a thread of its own it runs on another core
while the event loop decodes, stores and delivers. Handing each alert over separately
would cost more than it frees (bench/README.md: OpenSSL in the default thread pool
was slower), so the thread takes every alert queued since its last pass in one go,
and hands all their results back to the loop with one wake-up.

Measured (bench, hub-only, medians of 3, two alternating pairs): W5 10,258 and 9,753
acked alerts/s against 8,970 and 8,890 verifying inline; W1 the same within noise. The
thread does not get a core to itself: it needs the GIL back after every check, and a busy
event loop keeps it up to the switch interval, so most of its time is that wait
(py-spy) — verifying many alerts in one call that holds no GIL would be the next step.

Results come back in submission order (one thread, first in first out); callers that
need an order (hub.session: a connection's publishes are stored in the order
received) still await them one after the other.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading

from hub.protocol.envelope import verify_alert
from hub.protocol.errors import CordonError, Unavailable

log = logging.getLogger(__name__)

_Item = tuple[bytes, bytes, bytes, "asyncio.Future[None]"]


class Verifier:
    """``await verifier.verify(key, alert, sig)``: raises what verify_alert raises."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="cordon-verify", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """End the thread once it has checked what was queued (nothing can be queued
        after this starts: :meth:`verify` refuses)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(None)
        await asyncio.to_thread(thread.join)

    def verify(self, key: bytes, alert: bytes, sig: bytes) -> asyncio.Future[None]:
        """Queue one check; the future ends with None or the check's error."""
        if self._loop is None or self._thread is None:
            raise Unavailable("hub is shutting down")
        fut: asyncio.Future[None] = self._loop.create_future()
        self._queue.put((key, alert, sig, fut))
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
            results: list[BaseException | None] = []
            for key, alert, sig, _fut in batch:
                try:
                    verify_alert(key, alert, sig)
                    results.append(None)
                except CordonError as exc:
                    results.append(exc)
                except Exception as exc:  # a bug, not a bad alert: reported to the caller
                    log.exception("signature check failed unexpectedly")
                    results.append(exc)
            if batch:
                self._loop.call_soon_threadsafe(_deliver, batch, results)


def _deliver(batch: list[_Item], results: list[BaseException | None]) -> None:
    for (_key, _alert, _sig, fut), result in zip(batch, results, strict=True):
        if fut.done():  # cancelled: its connection went away meanwhile
            continue
        if result is None:
            fut.set_result(None)
        else:
            fut.set_exception(result)
