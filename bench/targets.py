"""The systems under test. A target starts its broker (and store) as child processes on
127.0.0.1, prepares a channel/subject per workload and run, names the generator module
that speaks its protocol, and says which processes are the broker and which the store."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import Pki

__all__ = ["HubTarget", "MosquittoTarget", "NatsClusterTarget", "NatsTarget", "Skipped", "Target"]


class Skipped(Exception):
    """The target cannot run here (not installed); reported as skipped, not failed."""


class Target:
    name = ""
    label = ""
    gen = ""
    workloads: tuple[str, ...] = ()
    host = "127.0.0.1"

    def __init__(self, root: Path, pki: Pki) -> None:
        self.root = root
        self.pki = pki
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self, run: int) -> None:
        raise NotImplementedError

    def channel(self, workload: str, run: int) -> str:
        return f"{workload}-r{run}"

    def broker_pids(self) -> list[int]:
        return [self.proc.pid] if self.proc is not None else []

    def store_pids(self) -> list[int]:
        return []

    def gen_spec(self) -> dict[str, Any]:
        """Extra fields for every generator's spec (besides host and port)."""
        return {}

    def run_info(self, publishers: list[dict[str, Any]]) -> dict[str, Any]:
        """Extra figures for a run's result, from the publishers' results."""
        return {}

    def versions(self) -> dict[str, str]:
        return {}

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _spawn(self, argv: list[str], log: Path, env: dict[str, str] | None = None,
               stdout_pipe: bool = False) -> subprocess.Popen[bytes]:
        self._log = log.open("ab")
        return subprocess.Popen(argv, stdout=subprocess.PIPE if stdout_pipe else self._log,
                                stderr=self._log, env=env, start_new_session=True)


def _wait_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"broker exited with status {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {host}:{port} after {timeout:g} s")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_READY = re.compile(rb"listening on wss://[\d.]+:(\d+)")


class HubTarget(Target):
    """``cordon serve`` (``--workers N``) on the embedded store, durable acks; with ``ha``,
    on a three-node Valkey store with Sentinel (:mod:`hub.hastore`: a primary, two
    replicas, three sentinels on loopback) with ``--ack-replicas 1``: every ack waits for
    the primary's and one replica's fsync. With ``plain`` (target ``cordon-plain``, issue
    16's "cost measured"; W0, W1, W3, W5): ``--checkpoint-interval-ms 0`` (no signed
    checkpoints) and publishers signing unchained alerts (the SDK's ``chained=False``: no
    ``seq``/``prev``); the append script still stores each alert's leaf hash (the hub has
    no switch for that).
    """

    gen = "bench.gen_hub"

    def __init__(self, root: Path, pki: Pki, *, workers: int = 1, ha: bool = False,
                 plain: bool = False) -> None:
        super().__init__(root, pki)
        self.workers = workers
        self.ha = ha
        self.plain = plain
        self.name = "cordon" if workers == 1 else f"cordon-{workers}w"
        self.label = "Cordon" if workers == 1 else f"Cordon, {workers} workers"
        self.workloads = (("W0", "W1", "W2", "W3", "W4", "W5", "W6") if workers == 1
                          else ("W1", "W5"))
        if ha:
            self.name += "-ha"
            self.label += ", ack_replicas = 1 (Sentinel, 3 nodes)"
            # Issue 17: "the same figures with ack_replicas = 1" (W4 and W6 measure the
            # connection and the idle process, which the store behind them does not change).
            self.workloads = ("W0", "W1", "W2", "W3", "W5")
        if plain:
            self.name += "-plain"
            self.label += ", no sender chains or checkpoints"
            self.workloads = ("W0", "W1", "W3", "W5")
        self.data: Path | None = None
        self.deployment: Any = None
        self.dump: Path | None = None
        self.ops_port = 0
        #: A command the hub runs under (``python -m bench profile --callgrind``: valgrind),
        #: and how long its certificate import may take then.
        self.wrap: list[str] = []
        self.prepare_s = 20.0

    def _store_options(self) -> dict[str, Any]:
        if self.deployment is None:
            return {"url": self.store_url}
        return {"url": None, "sentinels": self.deployment.sentinel_addresses}

    def versions(self) -> dict[str, str]:
        from importlib.metadata import version

        return {"cordon": version("cordon"), "websockets": version("websockets")}

    @property
    def store_url(self) -> str:
        assert self.data is not None
        return f"unix://{self.data / 'store' / 'valkey.sock'}"

    def start(self, run: int, *, tracemalloc: bool = False) -> None:
        self.data = self.root / f"{self.name}-r{run}"
        if self.data.exists():
            shutil.rmtree(self.data)
        env = {**os.environ,
               # One publisher sends far more than a principal's default rate, and W4
               # opens many connections per principal: lift these two per-principal
               # protections for the bench; every other setting is the default.
               "CORDON_PUBLISH_RATE": "1000000000", "CORDON_PUBLISH_BURST": "1000000000",
               "CORDON_MAX_CONNECTIONS_PER_PRINCIPAL": "100000"}
        # bench.hubboot: BENCH_HUB_UVLOOP=1 runs the hub on uvloop (for comparing event
        # loops); BENCH_HUB_DUMP makes SIGUSR1 describe the process (W6).
        self.dump = self.data / "hub-dump.json"
        env["BENCH_HUB_DUMP"] = str(self.dump)
        if tracemalloc:
            env["PYTHONTRACEMALLOC"] = "1"
        self.ops_port = free_port()
        argv = [sys.executable, "-m", "bench.hubboot",
                "serve", "--host", self.host, "--port", "0", "--data-dir", str(self.data),
                "--ca-dir", str(self.pki.dir), "--server-cert", self.pki.server_cert,
                "--server-key", self.pki.server_key,
                # its own ops listener (/metrics: group commits and their fsync waits)
                "--http-listen", f"{self.host}:{self.ops_port}"]
        if self.workers > 1:
            argv += ["--workers", str(self.workers)]
        if self.plain:
            argv += ["--checkpoint-interval-ms", "0"]
        self.data.mkdir(parents=True)
        if self.ha:
            from hub.hastore import LocalSentinelStore

            self.deployment = LocalSentinelStore(self.data / "store")
            asyncio.run(self.deployment.start())
            for address in self.deployment.sentinel_addresses:
                argv += ["--sentinel", address]
            argv += ["--ack-replicas", "1"]
        self.proc = self._spawn([*self.wrap, *argv], self.data / "hub.log", env,
                                stdout_pipe=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = _READY.search(line)
        if not match:
            self.stop()
            raise RuntimeError(f"hub did not start: {line!r} (see {self.data / 'hub.log'})")
        self.port = int(match.group(1))
        asyncio.run(self._prepare())

    async def _prepare(self) -> None:
        from hub.storage import Store

        store = await Store.connect(**self._store_options())
        try:
            deadline = time.monotonic() + self.prepare_s
            while not all([await store.cert(c.kid) is not None for c in self.pki.members]):
                if time.monotonic() > deadline:
                    raise RuntimeError("hub did not import the bench certificates")
                await asyncio.sleep(0.05)
        finally:
            await store.close()

    def gen_spec(self) -> dict[str, Any]:
        return {"chained": not self.plain}

    def metrics(self) -> dict[str, float]:
        """Sums from the hub's /metrics: acked publishes, group commits (count, alerts,
        seconds of writes + fsync wait, one round trip each)."""
        import urllib.request

        from prometheus_client.parser import text_string_to_metric_families

        with urllib.request.urlopen(
                f"http://{self.host}:{self.ops_port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        want = {"cordon_commit_fsync_wait_seconds_sum": "commit_s",
                "cordon_commit_fsync_wait_seconds_count": "commits",
                "cordon_commit_batch_size_sum": "committed_alerts",
                "cordon_publishes_acked_total": "acked"}
        out: dict[str, float] = {}
        for fam in text_string_to_metric_families(text):
            for sample in fam.samples:
                if sample.name in want:
                    out[want[sample.name]] = out.get(want[sample.name], 0.0) + sample.value
        return out

    def store_memory(self, channel: str) -> dict[str, int]:
        """The embedded store's INFO memory and MEMORY USAGE (exact: SAMPLES 0) of the
        channel's keys: its stream (log), dedup index (ids), sender chains, durable
        watermark and meta hash."""
        import redis

        from hub.storage import _keys

        assert self.data is not None
        keys = {"log": _keys._log_key(channel), "ids": _keys._ids_key(channel),
                "chain": _keys._chain_key(channel), "dur": _keys._dur_key(channel),
                "meta": _keys._meta_key(channel)}
        if self.deployment is None:
            r = redis.Redis(unix_socket_path=str(self.data / "store" / "valkey.sock"))
        else:  # cordon-ha: the primary's (no failover happens during a run)
            port = asyncio.run(self.deployment.primary()).port
            r = redis.Redis(host="127.0.0.1", port=port)
        try:
            info = r.info("memory")
            out = {"used_memory": int(info["used_memory"]),
                   "used_memory_dataset": int(info["used_memory_dataset"]),
                   "used_memory_rss": int(info["used_memory_rss"]),
                   "stream_entries": int(r.xlen(keys["log"]))}
            for name, key in keys.items():
                out[f"key_{name}"] = int(r.memory_usage(key, samples=0) or 0)
            return out
        finally:
            r.close()

    def describe(self, timeout_s: float = 20.0) -> dict[str, Any]:
        """Ask the hub (SIGUSR1, bench.hubboot) what it is made of."""
        import json

        assert self.proc is not None
        assert self.dump is not None
        self.dump.unlink(missing_ok=True)
        os.kill(self.proc.pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout_s
        while not self.dump.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the hub did not describe itself (bench.hubboot)")
            time.sleep(0.05)
        doc: dict[str, Any] = json.loads(self.dump.read_text())
        return doc

    def channel(self, workload: str, run: int) -> str:
        name = f"{workload.lower()}-r{run}"
        asyncio.run(self._channel(name))
        return name

    async def _channel(self, name: str) -> None:
        from hub import admin
        from hub.storage import Store

        store = await Store.connect(**self._store_options())
        try:
            await admin.create_channel(store, name, title=name)
            for c in self.pki.members:
                await admin.grant(store, name, c.member, "contributor")
        finally:
            await store.close()

    def _tree(self) -> list[int]:
        from bench.common import children

        return [] if self.proc is None else [self.proc.pid, *children(self.proc.pid)]

    def broker_pids(self) -> list[int]:
        from bench.common import proc_name

        return [p for p in self._tree() if "valkey" not in proc_name(p)]

    def store_pids(self) -> list[int]:
        from bench.common import proc_name

        if self.deployment is not None:  # the data nodes (not the sentinels)
            return [n.proc.pid for n in self.deployment.data if n.running]
        return [p for p in self._tree() if "valkey" in proc_name(p)]

    def stop(self) -> None:
        super().stop()
        deployment, self.deployment = self.deployment, None
        if deployment is not None:
            asyncio.run(deployment.stop())


class NatsTarget(Target):
    """nats-server with JetStream (file-backed stream), mutual TLS."""

    name, label, gen = "nats", "NATS JetStream", "bench.gen_nats"
    workloads: tuple[str, ...] = ("W0", "W1", "W2", "W3", "W4", "W5")
    #: W2 twice: ordered consumers (no acks), then explicit acks from every subscriber.
    w2_variants: tuple[dict[str, Any], ...] = ({}, {"suffix": "_acks", "spec": {"acks": True}})

    def check(self) -> None:
        if shutil.which("nats-server") is None:
            raise Skipped("nats-server not installed (apt-get install nats-server)")
        try:
            import nats  # noqa: F401
        except ImportError as exc:
            raise Skipped("nats-py not installed (pip install -e '.[bench]')") from exc

    def versions(self) -> dict[str, str]:
        out = subprocess.run(["nats-server", "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
        return {"nats-server": out.split()[-1] if out else "?"}

    def start(self, run: int) -> None:
        self.check()
        data = self.root / f"nats-r{run}"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        self.port = free_port()
        conf = data / "nats.conf"
        conf.write_text(
            f"listen: {self.host}:{self.port}\n"
            "max_payload: 1MB\n"
            "tls {\n"
            f"  cert_file: \"{self.pki.server_cert}\"\n"
            f"  key_file: \"{self.pki.server_key}\"\n"
            f"  ca_file: \"{self.pki.ca}\"\n"
            "  verify: true\n"
            "  timeout: 10\n"
            "}\n"
            f"jetstream {{ store_dir: \"{data / 'js'}\" }}\n")
        self.proc = self._spawn(["nats-server", "-c", str(conf)], data / "nats.log")
        _wait_port(self.host, self.port, 20, self.proc)

    def channel(self, workload: str, run: int) -> str:
        subject = f"bench.{workload.lower()}.r{run}"
        asyncio.run(self._stream(subject))
        return subject

    async def _stream(self, subject: str) -> None:
        import nats
        from nats.js.api import StorageType, StreamConfig

        from bench.wsclient import client_tls

        c = self.pki.members[0]
        nc = await nats.connect(f"tls://{self.host}:{self.port}",
                                tls=client_tls(c.ca, c.cert, c.key), tls_hostname=self.host)
        try:
            js = nc.jetstream()
            name = subject.replace(".", "_").upper()
            await js.add_stream(StreamConfig(name=name, subjects=[subject],
                                             storage=StorageType.FILE))
        finally:
            await nc.close()


#: Seconds a three-node NATS cluster may take to elect its JetStream meta leader, and an
#: R3 stream its leader.
NATS_CLUSTER_START_S = 30.0


class NatsClusterTarget(NatsTarget):
    """Three nats-server processes on loopback (a cluster with routes between them,
    JetStream on each with its own store folder), each stream with ``num_replicas=3``:
    JetStream answers a publish once the stream's Raft group committed it, i.e. a quorum
    (two of the three servers) stored it. Clients use mutual TLS as on the single server;
    the routes are plain TCP on loopback, like the Valkey replication of ``cordon-ha``.
    Generators get all three client URLs (nats-py picks one at random per connection)."""

    name, label = "nats-r3", "NATS JetStream, R3 (3-node cluster)"
    workloads = ("W1", "W5")
    nodes = 3

    def __init__(self, root: Path, pki: Pki) -> None:
        super().__init__(root, pki)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []
        self.monitor: list[int] = []
        self._logs: list[Any] = []
        self.leaders: list[str] = []

    @property
    def urls(self) -> list[str]:
        return [f"tls://{self.host}:{p}" for p in self.ports]

    def gen_spec(self) -> dict[str, Any]:
        return {"servers": self.urls}

    def broker_pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def run_info(self, publishers: list[dict[str, Any]]) -> dict[str, Any]:
        """The stream's leader, and how many publishing connections were on its server
        (the others' publishes cross a route to it first)."""
        ports = [p for r in publishers for p in r.get("connected_ports") or []]
        leader = self.leaders[-1] if self.leaders else None
        lport = self.ports[int(leader[1:])] if leader else None
        return {"stream_leader": leader, "publishers_on_leader": sum(p == lport for p in ports),
                "publisher_connections": len(ports)}

    def start(self, run: int) -> None:
        self.check()
        data = self.root / f"nats-r3-r{run}"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        n = self.nodes
        self.ports = [free_port() for _ in range(n)]
        routes = [free_port() for _ in range(n)]
        self.monitor = [free_port() for _ in range(n)]
        self.port = self.ports[0]
        try:
            for i in range(n):
                conf = data / f"n{i}.conf"
                conf.write_text(
                    f"server_name: n{i}\n"
                    f"listen: {self.host}:{self.ports[i]}\n"
                    f"http: {self.host}:{self.monitor[i]}\n"
                    "max_payload: 1MB\n"
                    "tls {\n"
                    f"  cert_file: \"{self.pki.server_cert}\"\n"
                    f"  key_file: \"{self.pki.server_key}\"\n"
                    f"  ca_file: \"{self.pki.ca}\"\n"
                    "  verify: true\n"
                    "  timeout: 10\n"
                    "}\n"
                    f"jetstream {{ store_dir: \"{data / f'js{i}'}\" }}\n"
                    "cluster {\n"
                    "  name: bench\n"
                    f"  listen: {self.host}:{routes[i]}\n"
                    "  routes: [" + ", ".join(f"nats-route://{self.host}:{routes[j]}"
                                             for j in range(n) if j != i) + "]\n"
                    "}\n")
                log = (data / f"n{i}.log").open("ab")
                self._logs.append(log)
                self.procs.append(subprocess.Popen(["nats-server", "-c", str(conf)],
                                                   stdout=log, stderr=log,
                                                   start_new_session=True))
            self.proc = self.procs[0]
            deadline = time.monotonic() + NATS_CLUSTER_START_S
            for proc, port in zip(self.procs, self.ports, strict=True):
                _wait_port(self.host, port, max(0.1, deadline - time.monotonic()), proc)
            self._wait_meta_leader(deadline)
        except BaseException:
            self.stop()
            raise

    def _wait_meta_leader(self, deadline: float) -> None:
        """Until every server's /jsz names the same JetStream meta leader and sees all
        peers (bounded by NATS_CLUSTER_START_S)."""
        import json
        import urllib.request

        seen: Any = None
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"nats-server exited with status {proc.returncode}")
            leaders = set()
            with contextlib.suppress(OSError, ValueError):
                for port in self.monitor:
                    with urllib.request.urlopen(f"http://{self.host}:{port}/jsz",
                                                timeout=2) as r:
                        meta = json.load(r).get("meta_cluster") or {}
                    seen = meta
                    if meta.get("leader") and meta.get("cluster_size") == self.nodes:
                        leaders.add(meta["leader"])
                    else:
                        leaders.add("")
                if len(leaders) == 1 and "" not in leaders:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"no JetStream meta leader after {NATS_CLUSTER_START_S:g} s "
                           f"(last /jsz meta_cluster: {seen})")

    async def _stream(self, subject: str) -> None:
        import nats
        from nats.js.api import StorageType, StreamConfig

        from bench.wsclient import client_tls

        c = self.pki.members[0]
        nc = await nats.connect(self.urls, tls=client_tls(c.ca, c.cert, c.key),
                                tls_hostname=self.host, connect_timeout=10)
        try:
            js = nc.jetstream()
            name = subject.replace(".", "_").upper()
            await js.add_stream(StreamConfig(name=name, subjects=[subject],
                                             storage=StorageType.FILE, num_replicas=3))
            # Until the stream's Raft group has a leader and both followers are current.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + NATS_CLUSTER_START_S
            while True:
                info = await js.stream_info(name)
                cl = info.cluster
                if (cl is not None and cl.leader and cl.replicas is not None
                        and len(cl.replicas) == self.nodes - 1
                        and all(r.current for r in cl.replicas)):
                    self.leaders.append(cl.leader)
                    return
                if loop.time() > deadline:
                    raise RuntimeError(f"stream {name}: no leader with 2 current replicas "
                                       f"after {NATS_CLUSTER_START_S:g} s ({cl})")
                await asyncio.sleep(0.1)
        finally:
            await nc.close()

    def stop(self) -> None:
        procs, self.procs = self.procs, []
        self.proc = None
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        logs, self._logs = self._logs, []
        for log in logs:
            log.close()


class MosquittoTarget(Target):
    """Eclipse Mosquitto, MQTT 3.1.1, QoS 1, persistence on, mutual TLS."""

    name, label, gen = "mosquitto", "Mosquitto", "bench.gen_mqtt"
    workloads = ("W0", "W1", "W2", "W4", "W5")

    def check(self) -> None:
        if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
            raise Skipped("mosquitto not installed (apt-get install mosquitto)")
        try:
            import paho.mqtt.client  # noqa: F401
        except ImportError as exc:
            raise Skipped("paho-mqtt not installed (pip install -e '.[bench]')") from exc

    @staticmethod
    def _binary() -> str:
        return shutil.which("mosquitto") or "/usr/sbin/mosquitto"

    def versions(self) -> dict[str, str]:
        out = subprocess.run([self._binary(), "-h"], capture_output=True, text=True,
                             check=False).stdout
        match = re.search(r"version ([\d.]+)", out)
        return {"mosquitto": match.group(1) if match else "?"}

    def start(self, run: int) -> None:
        self.check()
        data = self.root / f"mosquitto-r{run}"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        self.port = free_port()
        conf = data / "mosquitto.conf"
        conf.write_text(
            # Run as ourselves (mosquitto started as root would switch to 'mosquitto',
            # which cannot read the throwaway keys).
            f"user {getpass.getuser()}\n"
            f"listener {self.port} {self.host}\n"
            f"cafile {self.pki.ca}\n"
            f"certfile {self.pki.server_cert}\n"
            f"keyfile {self.pki.server_key}\n"
            "require_certificate true\n"
            "tls_version tlsv1.3\n"
            "allow_anonymous true\n"  # identity is the client certificate, checked by TLS
            "persistence true\n"
            f"persistence_location {data}/\n"
            # Unbounded per-client queue: the bench checks every subscriber gets every alert.
            "max_queued_messages 0\n")
        self.proc = self._spawn([self._binary(), "-c", str(conf)], data / "mosquitto.log")
        _wait_port(self.host, self.port, 20, self.proc)

    def channel(self, workload: str, run: int) -> str:
        return f"bench/{workload.lower()}/r{run}"
