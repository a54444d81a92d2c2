"""Operating a hub process: readiness checks, the ops listener's routes, the figures
``cordon admin status`` shows, and this process's heartbeat to the others.

Readiness (``/readyz``, :meth:`Operations.readiness`) is five checks, each answered by
name with ``ok`` and a fixed ``detail``; the first failing one is named in ``failed``:

- ``serving``: the hub is started, not shutting down, and its store supervisor (or,
  with ``--workers``, the parent's) does not report the store down;
- ``store``: a write and, where acks wait for one, its fsync (WAITAOF) complete within
  :data:`READY_STORE_TIMEOUT_S` (at most the store deadline) — so a frozen, full,
  read-only or restarting store fails it; one probe at a time, its answer reused for
  :data:`READY_CACHE_S` (probes cannot load the store);
- ``durability``: with ``durable = true`` acks wait for an fsync (the store passed the
  durability check: never ``none``);
- ``crl``: the CRL the TLS listener checks against is loaded and before its nextUpdate;
- ``registry``: the CA folder and the store's CRL were synced within
  :data:`registry_stale_s` (three poll periods, at least 30 s).

``/healthz`` says only that the process serves its event loop (200 while it answers).

Every :data:`HEARTBEAT_S` seconds each hub process publishes a ``node`` event (its id,
pid, worker index, start time, readiness, connection count) that every process sharing
the store keeps for :data:`NODE_TTL_S`: ``cordon admin status`` lists them all. The same
loop refreshes the channel heads exported as ``cordon_channel_head``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub.http import Answer, OpsServer, parse_listen
from hub.metrics import KINDS
from hub.protocol.errors import CordonError
from hub.storage.probe import probe_write, store_role

if TYPE_CHECKING:
    from hub.server import Hub

__all__ = [
    "HEARTBEAT_S",
    "NODE_TTL_S",
    "READY_CACHE_S",
    "READY_STORE_TIMEOUT_S",
    "RECENT_REFUSALS",
    "Operations",
    "registry_stale_s",
]

log = logging.getLogger("cordon.ops")

#: Seconds the readiness store probe may take (at most the store deadline).
READY_STORE_TIMEOUT_S = 2.0
#: Seconds a store probe's answer is reused (readiness probes cannot flood the store).
READY_CACHE_S = 1.0
#: Seconds between node heartbeats (and channel-head refreshes for the metrics).
HEARTBEAT_S = 5.0
#: Seconds a node is listed after its last heartbeat.
NODE_TTL_S = 3 * HEARTBEAT_S
#: Nodes kept in the table (a bound against a flood of forged node events).
MAX_NODES = 256
#: Refusals kept for ``cordon admin status`` (this process's most recent).
RECENT_REFUSALS = 20
_NODE_FIELDS = {"node": str, "host": str, "pid": int, "worker": int, "started": int,
                "ready": bool, "reason": str, "connections": int, "durability": str}


_HUBS_IN_PROCESS = itertools.count()


def registry_stale_s(poll_s: float) -> float:
    """Seconds without a successful CA sync after which the hub is not ready."""
    return max(3 * poll_s, 30.0)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Operations:
    """The operations side of one :class:`~hub.server.Hub`."""

    def __init__(self, hub: Hub, *, worker: int | None = None) -> None:
        self.hub = hub
        self.worker = worker
        host = socket.gethostname()
        self.node = f"{host}:{os.getpid()}" + ("" if worker is None else f"/w{worker}")
        nth = next(_HUBS_IN_PROCESS)
        if nth:  # a second hub in one process (tests, embedding): still its own node id
            self.node += f"#{nth}"
        self.host = host
        self.started_ms = _now_ms()
        self.server: OpsServer | None = None
        self.nodes: dict[str, dict[str, Any]] = {}
        self.refusals: deque[dict[str, str]] = deque(maxlen=RECENT_REFUSALS)
        self._probe: tuple[float, str | None] | None = None  # (when, failure or None)
        self._probe_lock = asyncio.Lock()
        self._crl: tuple[Path, float, float | None] | None = None  # path, mtime, nextUpdate

    @property
    def port(self) -> int:
        return self.server.port if self.server is not None else 0

    # --- the listener ---------------------------------------------------------------
    async def start(self) -> None:
        spec = self.hub.settings.http_listen
        listen = None if spec is None else parse_listen(spec)
        if listen is None:
            return
        host, port = listen
        if port and self.worker:
            port += self.worker  # one port per worker: base + index
        server = OpsServer({"/healthz": self._healthz, "/readyz": self._readyz,
                            "/metrics": self._metrics})
        try:
            await server.start(host, port)
        except OSError as exc:
            # Not fatal: the hub serves alerts without it; probes against it fail, which
            # is what tells the operator (and this line, with the reason).
            log.error("ops listener cannot listen on %s:%d (%s): no /healthz, /readyz or "
                      "/metrics on this process", host, port, exc.strerror or exc,
                      extra={"event": "ops.listen_failed", "reason": exc.strerror or ""})
            return
        self.server = server
        log.info("ops listener on http://%s:%d/ (healthz, readyz, metrics)", host, server.port,
                 extra={"event": "ops.listening"})

    async def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            await server.stop()

    async def _healthz(self) -> Answer:
        return Answer.json(200, {"status": "ok", "node": self.node})

    async def _readyz(self) -> Answer:
        ready, checks = await self.readiness()
        doc: dict[str, Any] = {"status": "ready" if ready else "not ready", "node": self.node,
                               "checks": checks}
        if not ready:
            doc["failed"] = next(name for name, c in checks.items() if not c["ok"])
        return Answer.json(200 if ready else 503, doc)

    async def _metrics(self) -> Answer:
        body = generate_latest(self.hub.metrics.registry)
        return Answer(200, body, CONTENT_TYPE_LATEST)

    # --- readiness ----------------------------------------------------------------------
    async def readiness(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        hub = self.hub
        checks: dict[str, dict[str, Any]] = {}

        def check(name: str, failure: str | None, detail: str) -> None:
            checks[name] = {"ok": failure is None, "detail": failure or detail}

        reason = hub.not_ready_reason
        check("serving", reason, "serving")
        started = reason != "not started" and hasattr(hub, "store")
        if not started:
            for name in ("store", "durability", "crl", "registry"):
                check(name, "not started", "")
            return False, checks
        check("store", await self._store_probe(), "write and fsync confirmed"
              if hub.store.durability in ("waitaof", "waitaof-unverified") else "write confirmed")
        durability = hub.store.durability
        check("durability",
              "acks do not wait for an fsync" if hub.settings.durable and durability == "none"
              else None, durability)
        check("crl", self._crl_failure(), "loaded, before its nextUpdate")
        synced = hub.casync.synced_at
        stale = registry_stale_s(hub.settings.registry_poll_s)
        check("registry",
              "never synced" if synced is None else
              f"not synced for over {stale:g} s" if time.monotonic() - synced > stale else None,
              "synced")
        return all(c["ok"] for c in checks.values()), checks

    async def _store_probe(self) -> str | None:
        async with self._probe_lock:  # one probe at a time; others take its answer
            now = time.monotonic()
            if self._probe is not None and now - self._probe[0] < READY_CACHE_S:
                return self._probe[1]
            store = self.hub.store
            timeout = min(READY_STORE_TIMEOUT_S, store.timeout_s)
            failure: str | None = None
            started = time.perf_counter()
            try:
                await probe_write(store, timeout_s=timeout)
            except CordonError as exc:
                failure = exc.detail or exc.phrase
                self.hub.metrics.store_failed("probe")
            else:
                self.hub.metrics.store_seconds["probe"].observe(time.perf_counter() - started)
            self._probe = (time.monotonic(), failure)
            return failure

    def _crl_failure(self) -> str | None:
        path = self.hub.tls.crl_path
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return "no CRL loaded"
        if self._crl is None or self._crl[:2] != (path, mtime):
            try:
                crl = x509.load_pem_x509_crl(path.read_bytes())
            except (OSError, ValueError):
                return "CRL unreadable"
            nu = crl.next_update_utc
            self._crl = (path, mtime, None if nu is None else nu.timestamp())
        next_update = self._crl[2]
        if next_update is not None and time.time() >= next_update:
            return "CRL past its nextUpdate"
        return None

    # --- nodes, channel heads --------------------------------------------------------------
    def heartbeat(self) -> dict[str, Any]:
        hub = self.hub
        return {"type": "node", "node": self.node, "host": self.host, "pid": os.getpid(),
                "worker": -1 if self.worker is None else self.worker,
                "started": self.started_ms, "ready": hub.ready,
                "reason": hub.not_ready_reason or "",
                "connections": sum(len(g) for g in hub.sessions.values()),
                "durability": hub.store.durability, "seen": _now_ms()}

    def saw_node(self, event: dict[str, Any]) -> None:
        """A ``node`` event from any hub process: keep its known fields (typed, bounded)."""
        node = event.get("node")
        if not isinstance(node, str) or len(node) > 300:
            return
        if node not in self.nodes and len(self.nodes) >= MAX_NODES:
            return
        record: dict[str, Any] = {}
        for key, kind in _NODE_FIELDS.items():
            value = event.get(key)
            if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
                record[key] = value[:300] if isinstance(value, str) else value
        record["seen"] = _now_ms()  # by this process's clock
        self.nodes[node] = record

    def live_nodes(self) -> list[dict[str, Any]]:
        cutoff = _now_ms() - int(NODE_TTL_S * 1000)
        for node in [n for n, r in self.nodes.items() if r["seen"] < cutoff]:
            del self.nodes[node]
        mine = self.heartbeat()
        del mine["type"]
        others = [r for n, r in sorted(self.nodes.items()) if n != self.node]
        return [mine, *others]

    async def run(self) -> None:
        """Every HEARTBEAT_S: :meth:`run_once`."""
        while True:
            await self.run_once()
            await asyncio.sleep(HEARTBEAT_S)

    async def run_once(self) -> None:
        """Publish this node's heartbeat; refresh the channel heads the metrics export."""
        hub = self.hub
        with contextlib.suppress(CordonError):
            await hub.store.publish_event(self.heartbeat())
        with contextlib.suppress(CordonError):
            metas = await hub.store.channels()
            hub.metrics.channel_heads = {m.name: m.head for m in metas
                                         if m.state != "archived"}

    def refused(self, record: dict[str, str]) -> None:
        """Remember a refusal (the audit record's fields) for ``cordon admin status``."""
        keep = ("action", "principal", "peer", "code", "reason", "channel")
        self.refusals.append({"time": str(_now_ms()),
                              **{k: str(record[k]) for k in keep if k in record}})

    # --- cordon admin status ------------------------------------------------------------------
    async def status(self) -> dict[str, Any]:
        """The figures ``cordon admin status`` shows: this node and the others sharing its
        store, the store, connections, channels, recent refusals. From the metrics' own
        sources (hub.metrics)."""
        hub, m = self.hub, self.hub.metrics
        ready, checks = await self.readiness()
        metas = await hub.store.channels()
        subs = m.subscribers_by_channel()
        frames, biggest, size = m.send_queues()
        by_kind = m.connections_by_kind()
        return {
            "node": self.node,
            "nodes": self.live_nodes(),
            "ready": ready,
            "checks": checks,
            "store": {"durability": hub.store.durability,
                      "detail": hub.store.durability_detail,
                      "role": await store_role(hub.store),
                      "kind": "embedded" if hub.embedded is not None else "external",
                      "restarts": hub.store_restarts},
            "connections": {"total": sum(by_kind.values()),
                            **{k: by_kind.get(k, 0) for k in KINDS},
                            "send_queue_frames": frames, "send_queue_frames_max": biggest,
                            "send_queue_bytes": size},
            "channels": [{"name": meta.name, "state": meta.state, "epoch": meta.epoch,
                          "head": meta.head, "first": meta.first,
                          "subscribers": subs.get(meta.name, 0)}
                         for meta in sorted(metas, key=lambda meta: meta.name)],
            "counters": m.counters(),
            "refused": {"publishes": m.labelled(m.refused),
                        "connections": m.labelled(m.connections_refused),
                        "tls": m.labelled(m.tls_refusals)},
            "recent_refusals": list(self.refusals),
        }
