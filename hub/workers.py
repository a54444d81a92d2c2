"""``cordon serve --workers N``: N hub processes on one port, sharing one store.

The parent process starts the embedded Valkey once (unless ``redis_url`` names
an external store), picks the port (when 0 was asked for), and starts N worker
processes. Each worker is an ordinary :class:`~hub.server.Hub` on that store,
listening on the same address with ``SO_REUSEPORT``, so the kernel spreads new
connections over the workers. Workers deliver each other's publications
because every channel feed reads the channel's stream from the store (XREAD),
whichever process appended to it: one order per channel everywhere.

Per-process limits stay per process (publish rate and connections per
principal, PROTOCOL.md §9). The parent does no hub work: it supervises. A
worker that dies is started again in its place while the others keep serving
(their connections stay up), after WORKER_RESTART_BACKOFF_S, doubling for each
death in a row within WORKER_STABLE_S of its start, up to
WORKER_RESTART_BACKOFF_MAX_S; one log line per death (status, attempt, delay).
After WORKER_MAX_FAST_FAILURES such deaths in a row the parent gives up: it
stops every worker, prints why and exits with status 1. The parent also
restarts the embedded store when it dies (:meth:`EmbeddedValkey.supervise`)
and tells every worker over its pipe ("store down" / "store up"), so each
reports itself not ready and then closes its subscribers with 4012 to resume.
SIGINT/SIGTERM are forwarded to the workers. Workers ask Linux to SIGTERM them
if the parent dies, so no worker outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing as mp
import os
import signal
import socket
import sys
from multiprocessing.connection import Connection
from typing import Any

from hub.config import Settings

__all__ = [
    "MAX_WORKERS",
    "WORKER_MAX_FAST_FAILURES",
    "WORKER_RESTART_BACKOFF_MAX_S",
    "WORKER_RESTART_BACKOFF_S",
    "WORKER_STABLE_S",
    "WORKER_START_TIMEOUT_S",
    "reserve_port",
    "serve_workers",
]

log = logging.getLogger("cordon.workers")

#: Most worker processes one ``cordon serve`` runs (a sanity bound, not a tuning knob).
MAX_WORKERS = 64
#: Seconds a worker may take to start listening before the whole start fails.
WORKER_START_TIMEOUT_S = 60.0
#: Seconds before restarting a dead worker (doubles per death in a row within WORKER_STABLE_S).
WORKER_RESTART_BACKOFF_S = 0.2
#: Longest wait before restarting a dead worker.
WORKER_RESTART_BACKOFF_MAX_S = 10.0
#: A worker that dies sooner than this after its start counts as a fast failure.
WORKER_STABLE_S = 10.0
#: Fast failures in a row of one worker after which ``cordon serve`` gives up (exit 1).
WORKER_MAX_FAST_FAILURES = 4
_STOP_TIMEOUT_S = 15.0
_PR_SET_PDEATHSIG = 1


def reserve_port(host: str, port: int) -> tuple[socket.socket, int]:
    """Bind (not listen) a SO_REUSEPORT socket on ``host:port`` so the port stays ours
    while workers come and go (a bound socket that does not listen receives no
    connections); returns the socket and the port (chosen when 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock, int(sock.getsockname()[1])


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


_background: set[asyncio.Task[None]] = set()


def _from_parent(hub: Any, conn: Connection, loop: asyncio.AbstractEventLoop) -> None:
    """A message from the parent: ("store", "down", reason) or ("store", "up")."""
    try:
        message = conn.recv()
    except (EOFError, OSError):  # the parent is gone (PDEATHSIG stops this worker)
        loop.remove_reader(conn.fileno())
        return
    if message[:2] == ("store", "down"):
        hub.store_lost(str(message[2]))
    elif message == ("store", "up"):
        task = loop.create_task(hub.store_back(), name="store-back")
        _background.add(task)
        task.add_done_callback(_background.discard)


def _worker_main(settings: Settings, index: int, conn: Connection, verbose: bool) -> None:
    """Entry point of one worker process (spawned)."""
    _die_with_parent()
    from hub.logs import setup_logging

    setup_logging(settings.log_format, "debug" if verbose else settings.log_level, worker=index)
    from hub.server import Hub

    async def run() -> None:
        hub = Hub(settings, worker=index)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await hub.start()
        except BaseException as exc:
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
            raise
        conn.send(("ready", os.getpid()))
        loop.add_reader(conn.fileno(), _from_parent, hub, conn, loop)
        try:
            await stop.wait()
        finally:
            loop.remove_reader(conn.fileno())
            await hub.stop()

    try:
        asyncio.run(run())
    except Exception:
        log.exception("worker %d failed", index)
        sys.exit(1)


class _Slot:
    """One worker position: its current process, pipe and restart history."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.proc: Any = None
        self.conn: Connection | None = None
        self.pid: int | None = None
        self.fast_failures = 0  # consecutive deaths soon after start


class _Pool:
    """The workers of one ``cordon serve --workers N``: starts them, restarts the dead,
    tells them about the store, stops them."""

    def __init__(self, settings: Settings, workers: int, verbose: bool) -> None:
        self.settings = settings
        self.verbose = verbose
        self.slots = [_Slot(i) for i in range(workers)]
        self.ctx = mp.get_context("spawn")
        self.gave_up: str | None = None
        self.store_down: str | None = None  # reason, while the embedded store is down
        self.store_up = asyncio.Event()  # not set while the embedded store is down
        self.store_up.set()

    def spawn(self, slot: _Slot) -> None:
        parent_end, child_end = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(target=_worker_main,
                                args=(self.settings, slot.index, child_end, self.verbose),
                                name=f"cordon-worker-{slot.index}", daemon=False)
        proc.start()
        child_end.close()
        slot.proc, slot.conn, slot.pid = proc, parent_end, None

    async def wait_ready(self, slots: list[_Slot]) -> None:
        """Until every slot's worker is listening; RuntimeError if one fails or is late."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WORKER_START_TIMEOUT_S
        while any(slot.pid is None for slot in slots):
            for slot in slots:
                if slot.pid is not None:
                    continue
                assert slot.conn is not None
                if slot.conn.poll():
                    try:
                        kind, value = slot.conn.recv()
                    except EOFError:
                        kind, value = "failed", "exited"
                    if kind != "ready":
                        raise RuntimeError(f"worker {slot.index} could not start: {value}")
                    slot.pid = int(value)
                elif not slot.proc.is_alive():
                    raise RuntimeError(f"worker {slot.index} exited during start "
                                       f"(status {slot.proc.exitcode})")
            if loop.time() > deadline:
                raise RuntimeError("workers did not start in time")
            await asyncio.sleep(0.02)
        if self.store_down is not None:  # the store went down while they started
            for slot in slots:
                self.tell(slot, ("store", "down", self.store_down))

    def tell(self, slot: _Slot, message: tuple[str, ...]) -> None:
        """Send a message to a running worker (lost if it is dying: it is restarted)."""
        if slot.conn is not None and slot.pid is not None:
            with contextlib.suppress(OSError, ValueError):
                slot.conn.send(message)

    async def store_lost(self, reason: str) -> None:
        self.store_down = reason
        self.store_up.clear()
        for slot in self.slots:
            self.tell(slot, ("store", "down", reason))

    async def store_back(self, attempt: int) -> None:
        self.store_down = None
        self.store_up.set()
        for slot in self.slots:
            self.tell(slot, ("store", "up"))

    async def keep(self, slot: _Slot, stop: asyncio.Event) -> None:
        """Restart ``slot``'s worker whenever it dies, with back-off; give up (and set
        ``stop``) after WORKER_MAX_FAST_FAILURES deaths in a row, each within
        WORKER_STABLE_S of its start."""
        loop = asyncio.get_running_loop()
        failed_start: str | None = None
        while True:
            started = loop.time()
            await _exited(slot.proc)
            status = failed_start or _status(slot.proc.exitcode)
            failed_start = None
            if stop.is_set():
                return
            if slot.conn is not None:
                slot.conn.close()
            lived = loop.time() - started
            slot.fast_failures = slot.fast_failures + 1 if lived < WORKER_STABLE_S else 1
            if slot.fast_failures > WORKER_MAX_FAST_FAILURES:
                self.gave_up = (
                    f"worker {slot.index} failed {slot.fast_failures} times in a row, each "
                    f"within {WORKER_STABLE_S:g} s of its start (last: {status}); giving up")
                log.error("%s", self.gave_up)
                stop.set()
                return
            delay = min(WORKER_RESTART_BACKOFF_S * 2 ** (slot.fast_failures - 1),
                        WORKER_RESTART_BACKOFF_MAX_S)
            log.error("worker %d (pid %s) %s, %.1f s after its start; restart attempt %d "
                      "in %.2g s", slot.index, slot.proc.pid, status, lived, slot.fast_failures,
                      delay)
            await asyncio.sleep(delay)
            # A worker cannot start without the store: wait for the store's supervisor
            # rather than count failures that are not the worker's.
            await self.store_up.wait()
            self.spawn(slot)
            try:
                await self.wait_ready([slot])
            except RuntimeError as exc:
                failed_start = str(exc).replace(f"worker {slot.index} ", "", 1)
                # it exits by itself after a failed start; not one that hangs
                await asyncio.to_thread(slot.proc.join, _STOP_TIMEOUT_S)
                if slot.proc.is_alive():
                    slot.proc.kill()
                continue  # counted as a fast failure at the top of the loop
            log.warning("worker %d restarted (pid %d)", slot.index, slot.pid)
            print(f"cordon hub worker {slot.index} restarted (pid {slot.pid})", flush=True)

    async def stop_all(self) -> None:
        loop = asyncio.get_running_loop()
        procs = [slot.proc for slot in self.slots if slot.proc is not None]
        for proc in procs:
            if proc.is_alive() and proc.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)
        deadline = loop.time() + _STOP_TIMEOUT_S
        for proc in procs:
            await asyncio.to_thread(proc.join, max(0.0, deadline - loop.time()))
            if proc.is_alive():
                proc.kill()
                await asyncio.to_thread(proc.join, 5)
        for slot in self.slots:
            if slot.conn is not None:
                slot.conn.close()


def _status(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


async def _exited(proc: Any) -> None:
    """Wait until the process ``proc`` (multiprocessing) has ended."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    fd = proc.sentinel

    def ended() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_reader(fd, ended)
    try:
        if proc.is_alive():
            await done
    finally:
        loop.remove_reader(fd)
    # The sentinel is readable as the process exits, possibly a moment before it can be
    # reaped: wait for that (in a thread; it is imminent).
    await asyncio.to_thread(proc.join)


async def _supervise(settings: Settings, workers: int, verbose: bool) -> int:
    from hub.embedded import EmbeddedValkey

    embedded: EmbeddedValkey | None = None
    url = settings.redis_url
    if settings.embedded_store:
        embedded = EmbeddedValkey(settings.data_dir / "store")
        await embedded.start()
        url = embedded.url
    # Held (bound, never listening) until the end, so a restarted worker finds the port ours.
    reserved, port = reserve_port(settings.host, settings.port)
    pool = _Pool(settings.replace(redis_url=url, port=port, reuse_port=True), workers, verbose)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    status = 0
    tasks: list[asyncio.Task[None]] = []
    try:
        for slot in pool.slots:
            pool.spawn(slot)
        await pool.wait_ready(pool.slots)
        durability = "store shared" if embedded is None else f"embedded store {url}"
        pids = " ".join(str(slot.pid) for slot in pool.slots)
        print(f"cordon hub listening on wss://{settings.host}:{port} ({workers} workers, "
              f"pids {pids}; {durability})", flush=True)
        tasks = [asyncio.create_task(pool.keep(slot, stop), name=f"worker-{slot.index}")
                 for slot in pool.slots]
        if embedded is not None:
            tasks.append(asyncio.create_task(embedded.supervise(
                on_down=pool.store_lost, on_up=pool.store_back), name="store-supervision"))
        await stop.wait()
        if pool.gave_up is not None:
            print(f"cordon serve: error: {pool.gave_up}", file=sys.stderr)
            status = 1
    except RuntimeError as exc:
        print(f"cordon serve: error: {exc}", file=sys.stderr)
        status = 3
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        reserved.close()
        await pool.stop_all()
        if embedded is not None:
            await embedded.stop()
    return status


def serve_workers(settings: Settings, workers: int, *, verbose: bool = False) -> int:
    """Run ``workers`` hub processes on one port until SIGINT/SIGTERM; the exit status."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be 1..{MAX_WORKERS}")
    return asyncio.run(_supervise(settings, workers, verbose))
