"""``cordon serve`` as a child process (one hub, or ``--workers N``) for the fault tests:
port 0, its own embedded store in ``data_dir/store``, stdout lines collected, stderr in a
file; kill -9 of the hub (store first, as a crash), of one worker, a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

from client.sdk import Client
from tests.pki import Leaf, Pki

__all__ = ["Serve", "client_port", "worker_of_client_ports"]

ROOT = Path(__file__).parents[2]
_LISTENING = re.compile(r"listening on wss://127\.0\.0\.1:(\d+)")
_PIDS = re.compile(r"\((\d+) workers, pids ([\d ]+);")


class Serve:
    def __init__(self, pki: Pki, data_dir: Path, *, workers: int = 1) -> None:
        self.pki = pki
        self.data_dir = data_dir
        self.workers = workers
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.pids: list[int] = []  # worker pids from the ready line (--workers only)
        self.lines: list[str] = []
        self.stderr = data_dir.parent / f"{data_dir.name}.stderr"
        self._drain: asyncio.Task[None] | None = None

    async def start(self) -> None:
        argv = ["serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--data-dir", str(self.data_dir), "--ca-dir", str(self.pki.dir),
                "--server-cert", str(self.pki.server.cert),
                "--server-key", str(self.pki.server.key)]
        if self.workers != 1:
            argv += ["--workers", str(self.workers)]
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self.stderr.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main())",
                *argv, stdout=asyncio.subprocess.PIPE, stderr=err,
                env={**os.environ, "PYTHONPATH": str(ROOT), "CORDON_REGISTRY_POLL_S": "0.2"})
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
        return f"unix://{self.data_dir / 'store' / 'valkey.sock'}"

    def client(self, leaf: Leaf, **options: Any) -> Client:
        return Client(self.url, cert=leaf.cert, key=leaf.key, ca=self.pki.ca,
                      server_hostname="localhost", **options)

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
            while True:
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


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        for fd in os.listdir(fd_dir):
            with contextlib.suppress(OSError):
                target = os.readlink(fd_dir / fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


def worker_of_client_ports(pids: list[int], server_port: int) -> dict[int, int]:
    """Client port -> pid of the worker holding the server end of that connection."""
    owner = {inode: pid for pid in pids for inode in _socket_inodes(pid)}
    out: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            next(fh)
            for line in fh:
                cols = line.split()
                local_port = int(cols[1].rsplit(":", 1)[1], 16)
                remote_port = int(cols[2].rsplit(":", 1)[1], 16)
                inode = int(cols[9])
                if local_port == server_port and inode in owner:
                    out[remote_port] = owner[inode]
    return out


def client_port(client: Client) -> int:
    """The local port of an open SDK client's connection."""
    conn: Any = client._conn
    return int(conn.ws.local_address[1])
