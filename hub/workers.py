"""``cordon serve --workers N``: N hub processes on one port, sharing one store.

The parent process starts the embedded Valkey once (unless ``redis_url`` names
an external store), picks the port (when 0 was asked for), and starts N worker
processes. Each worker is an ordinary :class:`~hub.server.Hub` on that store,
listening on the same address with ``SO_REUSEPORT``, so the kernel spreads new
connections over the workers. Workers deliver each other's publications
because every channel feed reads the channel's stream from the store (XREAD),
whichever process appended to it: one order per channel everywhere.

Per-process limits stay per process (publish rate and connections per
principal, PROTOCOL.md §9). The parent does no hub work: it waits for a
signal (SIGINT/SIGTERM, forwarded to the workers) or for a worker to exit, in
which case it stops the others and exits non-zero. Workers ask Linux to
SIGTERM them if the parent dies, so no worker outlives it.
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

__all__ = ["MAX_WORKERS", "WORKER_START_TIMEOUT_S", "reserve_port", "serve_workers"]

log = logging.getLogger("cordon.workers")

#: Most worker processes one ``cordon serve`` runs (a sanity bound, not a tuning knob).
MAX_WORKERS = 64
#: Seconds a worker may take to start listening before the whole start fails.
WORKER_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0
_PR_SET_PDEATHSIG = 1


def reserve_port(host: str, port: int) -> tuple[socket.socket, int]:
    """Bind (not listen) a SO_REUSEPORT socket on ``host:port`` so the port stays ours
    until the workers listen on it; returns the socket and the port (chosen when 0)."""
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


def _worker_main(settings: Settings, index: int, conn: Connection, verbose: bool) -> None:
    """Entry point of one worker process (spawned)."""
    _die_with_parent()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format=f"%(asctime)s %(levelname)s %(name)s[w{index}]: %(message)s",
    )
    from hub.server import Hub

    async def run() -> None:
        hub = Hub(settings)
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
        try:
            await stop.wait()
        finally:
            await hub.stop()

    try:
        asyncio.run(run())
    except Exception:
        log.exception("worker %d failed", index)
        sys.exit(1)


async def _wait_ready(conns: list[Connection], procs: list[Any]) -> list[int]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WORKER_START_TIMEOUT_S
    pids: list[int | None] = [None] * len(conns)
    while any(p is None for p in pids):
        for i, conn in enumerate(conns):
            if pids[i] is None and conn.poll():
                kind, value = conn.recv()
                if kind != "ready":
                    raise RuntimeError(f"worker {i} could not start: {value}")
                pids[i] = int(value)
            elif pids[i] is None and not procs[i].is_alive():
                raise RuntimeError(f"worker {i} exited during start (status {procs[i].exitcode})")
        if loop.time() > deadline:
            raise RuntimeError("workers did not start in time")
        await asyncio.sleep(0.02)
    return [p for p in pids if p is not None]


async def _supervise(settings: Settings, workers: int, verbose: bool) -> int:
    from hub.embedded import EmbeddedValkey

    embedded: EmbeddedValkey | None = None
    url = settings.redis_url
    if url is None:
        embedded = EmbeddedValkey(settings.data_dir / "store")
        await embedded.start()
        url = embedded.url
    reserved, port = reserve_port(settings.host, settings.port)
    shared = settings.replace(redis_url=url, port=port, reuse_port=True)
    ctx = mp.get_context("spawn")
    procs: list[Any] = []
    conns: list[Connection] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    status = 0
    try:
        for i in range(workers):
            parent_end, child_end = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker_main, args=(shared, i, child_end, verbose),
                               name=f"cordon-worker-{i}", daemon=False)
            proc.start()
            child_end.close()
            procs.append(proc)
            conns.append(parent_end)
        pids = await _wait_ready(conns, procs)
        reserved.close()
        durability = "store shared" if embedded is None else f"embedded store {url}"
        print(f"cordon hub listening on wss://{settings.host}:{port} ({workers} workers, "
              f"pids {' '.join(map(str, pids))}; {durability})", flush=True)
        while not stop.is_set():
            dead = [i for i, p in enumerate(procs) if not p.is_alive()]
            if dead:
                log.error("worker %d exited (status %s); stopping", dead[0],
                          procs[dead[0]].exitcode)
                status = 1
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.2):
                    await stop.wait()
    except RuntimeError as exc:
        print(f"cordon serve: error: {exc}", file=sys.stderr)
        status = 3
    finally:
        reserved.close()
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
        if embedded is not None:
            await embedded.stop()
    return status


def serve_workers(settings: Settings, workers: int, *, verbose: bool = False) -> int:
    """Run ``workers`` hub processes on one port until SIGINT/SIGTERM; the exit status."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be 1..{MAX_WORKERS}")
    return asyncio.run(_supervise(settings, workers, verbose))
