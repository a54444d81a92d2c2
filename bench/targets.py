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

__all__ = ["HubTarget", "MosquittoTarget", "NatsTarget", "Skipped", "Target"]


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
    the primary's and one replica's fsync."""

    gen = "bench.gen_hub"

    def __init__(self, root: Path, pki: Pki, *, workers: int = 1, ha: bool = False) -> None:
        super().__init__(root, pki)
        self.workers = workers
        self.ha = ha
        self.name = "cordon" if workers == 1 else f"cordon-{workers}w"
        self.label = "Cordon" if workers == 1 else f"Cordon, {workers} workers"
        self.workloads = ("W1", "W2", "W3", "W4", "W5") if workers == 1 else ("W1", "W5")
        if ha:
            self.name += "-ha"
            self.label += ", ack_replicas = 1 (Sentinel, 3 nodes)"
            self.workloads = ("W1", "W5")
        self.data: Path | None = None
        self.deployment: Any = None

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

    def start(self, run: int) -> None:
        self.data = self.root / f"{self.name}-r{run}"
        if self.data.exists():
            shutil.rmtree(self.data)
        env = {**os.environ,
               # One publisher sends far more than a principal's default rate, and W4
               # opens many connections per principal: lift these two per-principal
               # protections for the bench; every other setting is the default.
               "CORDON_PUBLISH_RATE": "1000000000", "CORDON_PUBLISH_BURST": "1000000000",
               "CORDON_MAX_CONNECTIONS_PER_PRINCIPAL": "100000"}
        # BENCH_HUB_UVLOOP=1 runs the hub on uvloop (for comparing event loops).
        boot = "import uvloop; uvloop.install(); " if os.environ.get("BENCH_HUB_UVLOOP") else ""
        argv = [sys.executable, "-c",
                boot + "import sys; from hub.cli import main; sys.exit(main())",
                "serve", "--host", self.host, "--port", "0", "--data-dir", str(self.data),
                "--ca-dir", str(self.pki.dir), "--server-cert", self.pki.server_cert,
                "--server-key", self.pki.server_key]
        if self.workers > 1:
            argv += ["--workers", str(self.workers)]
        self.data.mkdir(parents=True)
        if self.ha:
            from hub.hastore import LocalSentinelStore

            self.deployment = LocalSentinelStore(self.data / "store")
            asyncio.run(self.deployment.start())
            for address in self.deployment.sentinel_addresses:
                argv += ["--sentinel", address]
            argv += ["--ack-replicas", "1"]
        self.proc = self._spawn(argv, self.data / "hub.log", env, stdout_pipe=True)
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
            for _ in range(400):
                if all([await store.cert(c.kid) is not None for c in self.pki.members]):
                    break
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("hub did not import the bench certificates")
        finally:
            await store.close()

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
    workloads = ("W1", "W2", "W3", "W4", "W5")
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


class MosquittoTarget(Target):
    """Eclipse Mosquitto, MQTT 3.1.1, QoS 1, persistence on, mutual TLS."""

    name, label, gen = "mosquitto", "Mosquitto", "bench.gen_mqtt"
    workloads = ("W1", "W2", "W4", "W5")

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
