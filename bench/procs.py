"""Load-generator processes: each runs one *role* (an async function) in its own
interpreter, so the generators use the machine's cores next to the broker.

The parent and a child talk over a pipe in phases: the child says ``ready`` once
connected (and, for publishers, once its alerts are signed), waits for ``go``,
and ends with ``done`` and its result. A role may add phases of its own
(``opened`` / ``close`` for idle connections). Every child measures its own CPU
time between ``go`` and the end, so the generator's share is reported beside
the broker's figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import multiprocessing as mp
import time
import traceback
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["Child", "Ctl", "GeneratorError", "start_children"]


class GeneratorError(RuntimeError):
    """A load-generator process failed or did not answer in time."""


class Ctl:
    """The child's end of the pipe."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.cpu0 = 0.0
        self.t0 = 0.0

    def send(self, kind: str, payload: Any = None) -> None:
        self._conn.send((kind, payload))

    async def wait(self, kind: str) -> Any:
        while True:
            got, payload = await asyncio.to_thread(self._conn.recv)
            if got == kind:
                return payload
            if got == "abort":
                raise GeneratorError("aborted by the parent")

    async def go(self) -> None:
        """Wait for ``go`` and start the clocks (CPU and wall)."""
        await self.wait("go")
        self.cpu0 = time.process_time()
        self.t0 = time.monotonic()

    def usage(self) -> dict[str, float]:
        """CPU seconds and wall seconds since ``go``."""
        return {"cpu_s": time.process_time() - self.cpu0, "wall_s": time.monotonic() - self.t0}


def _child_main(module: str, role: str, spec: dict[str, Any], conn: Connection) -> None:
    if spec.get("uvloop"):
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
    ctl = Ctl(conn)
    try:
        fn = getattr(importlib.import_module(module), role)
        result = asyncio.run(fn(spec, ctl))
        conn.send(("done", result))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        conn.close()


class Child:
    """The parent's handle on one generator process."""

    def __init__(self, module: str, role: str, spec: dict[str, Any], name: str) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child_end = ctx.Pipe()
        self.name = name
        self.proc = ctx.Process(target=_child_main, args=(module, role, spec, child_end),
                                name=name, daemon=True)
        self.proc.start()
        child_end.close()
        self.result: Any = None

    @property
    def pid(self) -> int:
        assert self.proc.pid is not None
        return self.proc.pid

    def expect(self, kind: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._conn.poll(min(left, 0.5)):
                if left <= 0:
                    raise GeneratorError(f"{self.name}: no {kind!r} within {timeout:g} s")
                if not self.proc.is_alive() and not self._conn.poll():
                    raise GeneratorError(f"{self.name}: exited ({self.proc.exitcode})")
                continue
            try:
                got, payload = self._conn.recv()
            except EOFError as exc:
                raise GeneratorError(f"{self.name}: exited ({self.proc.exitcode})") from exc
            if got == "error":
                raise GeneratorError(f"{self.name}: {payload}")
            if got == kind:
                if kind == "done":
                    self.result = payload
                return payload

    def tell(self, kind: str, payload: Any = None) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self._conn.send((kind, payload))

    def stop(self) -> None:
        if self.proc.is_alive():
            self.tell("abort")
            self.proc.join(3)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(3)


def start_children(specs: list[tuple[str, str, dict[str, Any], str]]) -> list[Child]:
    return [Child(module, role, spec, name) for module, role, spec, name in specs]


async def open_and_hold(ctl: Ctl, spec: dict[str, Any],
                        open_conn: Callable[[int], Awaitable[Callable[[], None]]], *,
                        concurrency: int) -> dict[str, Any]:
    """W4's generator loop, for every system: open ``spec["count"]`` connections with
    ``open_conn(i)`` (``concurrency`` at a time; it returns the connection's abort),
    giving up after too many failures; report ``opened``; hold them until ``close``."""
    count = spec["count"]
    aborts: list[Callable[[], None]] = []
    failures: dict[str, int] = {}
    sem = asyncio.Semaphore(concurrency)
    stop = False

    async def open_one(i: int) -> None:
        nonlocal stop
        if stop:
            return
        async with sem:
            if stop:
                return
            try:
                aborts.append(await open_conn(i))
            except Exception as exc:
                key = type(exc).__name__ + (f" {exc.errno}" if isinstance(exc, OSError) else "")
                failures[key] = failures.get(key, 0) + 1
                if sum(failures.values()) > max(20, count // 100):
                    stop = True

    async with asyncio.timeout(spec.get("deadline_s", 300)):
        await asyncio.gather(*(open_one(i) for i in range(count)))
    opened = {**ctl.usage(), "opened": len(aborts), "failures": failures}
    ctl.send("opened", opened)
    await ctl.wait("close")
    for abort in aborts:
        abort()
    await asyncio.sleep(0.2)
    return opened

