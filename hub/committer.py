"""Group commit: many concurrent publishes share one store round trip and one fsync wait.

:meth:`GroupCommitter.submit` queues an :class:`~hub.storage.AppendRequest` and
waits for its result. A single background task takes everything pending (up
to ``max_batch``), calls :meth:`~hub.storage.Store.append_batch` once — one
pipelined round trip and one ``WAITAOF`` — and resolves each caller's future.
While a batch is in flight the next one accumulates, so the batch size grows
with the load and the fsync cost per alert falls.

:meth:`GroupCommitter.stop` *drains*: it refuses new submissions, commits
everything already queued, and only fails what is still pending after its
timeout (with :class:`~hub.protocol.errors.Unavailable`, so nothing is
acknowledged that is not durable).

When a batch fails with Unavailable (the store did not answer within its timeout, or
did not confirm the fsync), every alert queued while it was in flight fails with it:
each publisher gets its 503 within one store timeout.

A :class:`Listener` (the hub's :class:`hub.feeds.Feeds`) is told of each batch before it
is sent and again as soon as the store confirmed it durable, with the alerts it stored:
this process's subscribers get them from memory, without waiting for the watermark's
own round trip and fsync and the feed's read of what it just wrote (issue 17, W2).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Collection, Sequence
from typing import Any, Protocol

from hub.aio import cancel_and_wait
from hub.metrics import Metrics
from hub.protocol.errors import CordonError, InternalError, Unavailable
from hub.storage import AppendRequest, AppendResult, Store, StoredAlert

__all__ = ["MAX_BATCH", "MAX_PENDING", "STOP_TIMEOUT_S", "GroupCommitter", "Listener"]

log = logging.getLogger("cordon.committer")

#: Most alerts committed in one store round trip (bounds one pipeline's size and latency).
MAX_BATCH = 512
#: Alerts queued for commit before submitters wait for room (bounds memory under overload).
MAX_PENDING = 16 * MAX_BATCH
#: Seconds stop() spends committing what is queued before failing the rest.
STOP_TIMEOUT_S = 10.0

#: Requests queued together, the future of their outcome, and whether it is one request's
#: (``enqueue``: its AppendResult or error) or a list of each one's (``enqueue_many``).
_Item = tuple[list[AppendRequest], "asyncio.Future[Any]", bool]


class _Queue(asyncio.Queue[_Item]):
    """The committer's queue: its size, which ``maxsize`` bounds, counts alerts, not
    entries (an entry of ``enqueue_many`` holds several)."""

    _alerts = 0

    def _put(self, item: _Item) -> None:
        super()._put(item)
        self._alerts += len(item[0])

    def _get(self) -> _Item:
        item: _Item = super()._get()
        self._alerts -= len(item[0])
        return item

    def qsize(self) -> int:
        return self._alerts


class Listener(Protocol):
    """Told of the alerts each batch stored, once durable (:attr:`GroupCommitter.listener`)."""

    def before_commit(self, channels: Collection[str]) -> Any:
        """Called just before a batch with these channels is sent; what it returns is
        handed back to :meth:`durable` (e.g. which feeds existed then). None: nothing of
        this batch is wanted (no feed of its channels), and :meth:`durable` is not called
        for it (nor its alerts gathered)."""

    def durable(self, token: Any, stored: dict[str, list[StoredAlert]]) -> None:
        """The alerts the batch newly stored, by channel, ascending offsets (retries
        answered ``dup`` left out); called once the store confirmed the batch durable."""


class GroupCommitter:
    """Batches concurrent appends; ``start()`` before use, ``stop()`` when done.

    Counters for tests and metrics: ``batches`` (append_batch calls), ``committed``
    (requests sent to the store), ``largest_batch``.
    """

    def __init__(
        self, store: Store, *, max_batch: int = MAX_BATCH, max_pending: int = MAX_PENDING,
        metrics: Metrics | None = None,
    ) -> None:
        if max_batch < 1 or max_pending < 1:
            raise ValueError("max_batch and max_pending must be positive")
        self.store = store
        self.max_batch = max_batch
        self._queue: _Queue = _Queue(max_pending)
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        self.committed = 0
        self.largest_batch = 0
        self.metrics = metrics if metrics is not None else Metrics()
        #: Told of each batch's newly stored alerts once durable (the hub's feeds).
        self.listener: Listener | None = None

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("committer already started")
        self._closing = False
        self._task = asyncio.create_task(self._run(), name="group-committer")

    async def submit(self, req: AppendRequest) -> AppendResult:
        """Commit one alert; raises its per-item error (AlertIdConflict, NoSuchChannel,
        ChannelClosed) or Unavailable. Cancelling before the batch is sent withdraws it."""
        return await (await self.enqueue(req))

    async def enqueue(self, req: AppendRequest) -> asyncio.Future[AppendResult]:
        """Queue one alert (waiting while the queue is full) and return the future of its
        result, without waiting for it: callers with many alerts in flight attach a
        callback instead of keeping a task per alert. Requests are committed in the
        order they were queued. Cancelling the future before its batch is sent
        withdraws the alert."""
        fut: asyncio.Future[AppendResult] = await self._enqueue([req], True)
        return fut

    async def enqueue_many(self, reqs: Sequence[AppendRequest]
                           ) -> asyncio.Future[list[AppendResult | Exception]]:
        """Queue several alerts together, in order, with one future for all: it ends with
        each one's result (AppendResult, or its per-item error as a value), or raises
        what failed the whole batch (Unavailable, InternalError). They go to the store in
        the same batch. Cancelling the future before that batch is sent withdraws them."""
        fut: asyncio.Future[list[AppendResult | Exception]] = await self._enqueue(
            list(reqs), False)
        return fut

    async def _enqueue(self, reqs: list[AppendRequest], one: bool) -> asyncio.Future[Any]:
        if self._closing or self._task is None:
            raise Unavailable("hub is shutting down")
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._queue.full():
            await self._queue.put((reqs, fut, one))
            if self._task is None:  # stopped while we waited for room: nobody commits it
                self._fail_pending(Unavailable("hub is shutting down"))
        else:
            self._queue.put_nowait((reqs, fut, one))  # the usual case, without a coroutine
        return fut

    async def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Refuse new submissions, commit what is queued, then end the worker. Whatever is
        still pending after ``timeout_s`` fails with Unavailable."""
        self._closing = True
        task, self._task = self._task, None
        if task is None:
            return
        try:
            async with asyncio.timeout(timeout_s):
                await self._queue.join()
        except TimeoutError:
            log.warning("committer: %d alerts not committed at shutdown", self.pending)
        finally:
            # cancel_and_wait: a cancellation during append_batch may be swallowed (hub.aio)
            await cancel_and_wait(task)
            self._fail_pending(Unavailable("hub is shutting down"))

    # --- worker --------------------------------------------------------------------
    def _take(self, first: _Item) -> list[_Item]:
        """Entries for one batch: up to ``max_batch`` alerts (an entry is never split, so
        the last one taken may go past it by its size less one)."""
        batch = [first]
        size = len(first[0])
        while size < self.max_batch:
            try:
                entry = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            batch.append(entry)
            size += len(entry[0])
        return batch

    async def _run(self) -> None:
        while True:
            batch = self._take(await self._queue.get())
            try:
                live = [entry for entry in batch if not entry[1].done()]
                if live:
                    await self._commit(live)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: Sequence[_Item]) -> None:
        reqs = [req for entry in batch for req in entry[0]]
        self.batches += 1
        self.committed += len(reqs)
        self.largest_batch = max(self.largest_batch, len(reqs))
        self.metrics.commit_batch.observe(len(reqs))
        started = time.perf_counter()
        listener = self.listener
        try:
            on_durable = None
            if listener is not None:
                token = listener.before_commit({req.channel for req in reqs})
                if token is not None:  # None: no feed wants this batch
                    on_durable = functools.partial(_tell, listener, token, reqs)
            results = await self.store.append_batch(reqs, on_durable=on_durable)
        except CordonError as exc:
            self.metrics.store_failed("append_batch")
            for _, fut, _one in batch:
                _settle(fut, _fresh(exc))
            if isinstance(exc, Unavailable):
                log.warning("committer: %d alerts refused with 503 (%s); %d queued behind "
                            "them too", len(batch), exc, self.pending)
                # What queued up meanwhile has waited for this failed attempt already:
                # answer it now rather than after one more store timeout (publishers get
                # their 503 within the store timeout, not a multiple of it).
                self._fail_pending(exc)
            return
        except asyncio.CancelledError:
            for _, fut, _one in batch:
                _settle(fut, Unavailable("hub is shutting down"))
            raise
        except Exception as exc:  # a bug: fail the callers, keep the worker alive
            log.exception("committer: append_batch failed")
            for _, fut, _one in batch:
                _settle(fut, _fresh(InternalError(), cause=exc))
            return
        elapsed = time.perf_counter() - started
        self.metrics.commit_seconds.observe(elapsed)
        self.metrics.store_seconds["append_batch"].observe(elapsed)
        at = 0
        for entry_reqs, fut, one in batch:
            n = len(entry_reqs)
            if one:
                _settle(fut, results[at])
            elif not fut.done():
                fut.set_result(results[at:at + n])
            at += n

    def _fail_pending(self, exc: CordonError) -> None:
        while True:
            try:
                _, fut, _one = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            _settle(fut, _fresh(exc))
            self._queue.task_done()


def _tell(listener: Listener, token: Any, reqs: Sequence[AppendRequest],
          so_far: Sequence[AppendResult | Exception | None]) -> None:
    """``on_durable`` of a batch whose alerts ``listener`` wants."""
    listener.durable(token, _stored(reqs, so_far))


def _stored(reqs: Sequence[AppendRequest], results: Sequence[AppendResult | Exception | None]
            ) -> dict[str, list[StoredAlert]]:
    """The alerts a batch newly stored (not the ``dup`` answers), by channel, ascending."""
    out: dict[str, list[StoredAlert]] = {}
    for req, result in zip(reqs, results, strict=True):
        if isinstance(result, AppendResult) and not result.dup:
            out.setdefault(req.channel, []).append(
                StoredAlert(off=result.off, alert=req.alert, sig=req.sig, received=req.received))
    for items in out.values():
        items.sort(key=_off)
    return out


def _off(item: StoredAlert) -> int:
    return item.off


def _fresh(exc: CordonError, *, cause: BaseException | None = None) -> CordonError:
    """A copy per waiter, so tracebacks of different callers do not pile up on one object."""
    copy = type(exc)(exc.detail)
    copy.__cause__ = cause if cause is not None else exc.__cause__
    return copy


def _settle(fut: asyncio.Future[Any], outcome: AppendResult | BaseException) -> None:
    if fut.done():  # the submitter was cancelled
        return
    if isinstance(outcome, BaseException):
        fut.set_exception(outcome)
    else:
        fut.set_result(outcome)
