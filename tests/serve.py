"""``cordon serve`` as a child process, for the tests that need a real one (crash and
restart, workers, fault suite, peer memory, Sentinel nodes).

::

    hub = Serve(pki, tmp_path / "hub")                        # embedded store in hub/store
    hub = Serve(pki, tmp_path / "hub", redis_url=valkey_url)  # or an external store
    hub = Serve(pki, tmp_path / "hub", workers=2, env={"CORDON_REGISTRY_POLL_S": "0.2"})
    await hub.start(idle_timeout_s=2)    # settings as CORDON_* variables, this start only
    async with hub.client(leaf) as c: …  # client.sdk.Client (server name "localhost")
    await hub.kill9(); await hub.start() # a crash, then the same port and data folder
    await hub.stop()                     # SIGTERM; the exit status

The first ``listening on wss://127.0.0.1:PORT`` line gives the port (and, with workers,
their pids); stdout lines are kept in :attr:`Serve.lines`, stderr goes to a file beside
the data folder (:meth:`Serve.stderr_text`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from client.sdk import Client
from tests.pki import Leaf, Pki

__all__ = ["ROOT", "Serve"]

ROOT = Path(__file__).parents[1]
_LISTENING = re.compile(r"listening on wss://127\.0\.0\.1:(\d+)")
_PIDS = re.compile(r"\((\d+) workers, pids ([\d ]+);")


class Serve:
    """One ``cordon serve`` process (``workers`` > 1: the parent of N workers), on port 0
    at its first start and the same port after; its own embedded store in
    ``data_dir/store`` unless ``redis_url`` or ``sentinels`` name one. ``args`` are more
    command-line options, ``env`` more environment variables (every start),
    ``client_options`` the defaults of :meth:`client`."""

    def __init__(self, pki: Pki, data_dir: Path, *, workers: int = 1,
                 redis_url: str | None = None, sentinels: Sequence[str] = (),
                 args: Sequence[str] = (), env: Mapping[str, str] | None = None,
                 client_options: Mapping[str, Any] | None = None) -> None:
        self.pki = pki
        self.data_dir = data_dir
        self.workers = workers
        self.redis_url = redis_url
        self.sentinels = list(sentinels)
        self.args = list(args)
        self.env = dict(env or {})
        self.client_options = dict(client_options or {})
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.pids: list[int] = []  # worker pids from the ready line (--workers only)
        self.lines: list[str] = []
        self.stderr = data_dir.parent / f"{data_dir.name}.stderr"
        self._drain: asyncio.Task[None] | None = None

    def argv(self) -> list[str]:
        argv = ["serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--data-dir", str(self.data_dir), "--ca-dir", str(self.pki.dir),
                "--server-cert", str(self.pki.server.cert),
                "--server-key", str(self.pki.server.key)]
        if self.workers != 1:
            argv += ["--workers", str(self.workers)]
        if self.redis_url is not None:
            argv += ["--redis", self.redis_url]
        for address in self.sentinels:
            argv += ["--sentinel", address]
        return argv + self.args

    async def start(self, **settings: Any) -> None:
        """Start it (``settings`` as ``CORDON_<NAME>`` variables) and wait until it
        listens; fails the test, with its stderr, if it exits first."""
        env = {**os.environ, "PYTHONPATH": str(ROOT), **self.env,
               **{f"CORDON_{k.upper()}": str(v) for k, v in settings.items()}}
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self.stderr.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main())",
                *self.argv(), stdout=asyncio.subprocess.PIPE, stderr=err, env=env)
        assert self.proc.stdout is not None
        async with asyncio.timeout(60):
            while True:
                line = (await self.proc.stdout.readline()).decode()
                assert line, f"cordon serve exited:\n{self.stderr_text()[-4000:]}"
                self.lines.append(line)
                found = _LISTENING.search(line)
                if found:
                    self.port = int(found.group(1))
                    pids = _PIDS.search(line)
                    self.pids = [int(p) for p in pids.group(2).split()] if pids else []
                    break
        self._drain = asyncio.create_task(self._read_rest())

    async def _read_rest(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.lines.append(line.decode())

    def stderr_text(self) -> str:
        with contextlib.suppress(OSError):
            return self.stderr.read_text(errors="replace")
        return ""

    async def wait_line(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first stdout line matching ``pattern`` (waits for it)."""
        regex = re.compile(pattern)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for line in self.lines:
                        if found := regex.search(line):
                            return found
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"no line {pattern!r} from cordon serve; stderr:\n"
                                 + self.stderr_text()[-4000:]) from None

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/"

    @property
    def store_url(self) -> str:
        """The embedded store's socket (``redis_url`` when it is external)."""
        return self.redis_url or f"unix://{self.data_dir / 'store' / 'valkey.sock'}"

    def client(self, leaf: Leaf, **options: Any) -> Client:
        return Client(self.url, cert=leaf.cert, key=leaf.key, ca=self.pki.ca,
                      server_hostname="localhost", **{**self.client_options, **options})

    def rss(self) -> int:
        """The ``cordon serve`` process's resident memory (bytes)."""
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kib = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        assert kib is not None
        return int(kib.group(1)) * 1024

    def children(self) -> list[int]:
        assert self.proc is not None
        pid = self.proc.pid
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def store_pid(self) -> int:
        """The pid of the embedded store (a valkey-server child of cordon serve)."""
        for pid in self.children():
            with contextlib.suppress(OSError):
                if b"valkey-server" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return pid
        raise AssertionError("cordon serve runs no valkey-server")

    async def kill9(self) -> None:
        """SIGKILL the store first, then the hub: a crash, no graceful anything; returns
        once the store's folder lock is free (a new hub can start on the folder)."""
        assert self.proc is not None
        for child in self.children():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        self.proc.kill()
        async with asyncio.timeout(30):
            await self.proc.wait()
            if self._drain is not None:
                await self._drain
            lock = self.data_dir / "store" / "cordon-store.lock"
            while self.redis_url is None and not self.sentinels:
                with lock.open("a") as fh:
                    try:
                        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        pass
                    else:
                        fcntl.flock(fh, fcntl.LOCK_UN)
                        return
                await asyncio.sleep(0.05)

    async def stop(self) -> int | None:
        """SIGTERM and wait (SIGKILL after 30 s); the exit status."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._drain is not None:
            await self._drain
        return self.proc.returncode
