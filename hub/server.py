"""The hub process: TLS listener, authentication, sessions, feeds, store, events.

``Hub(settings)`` → ``await hub.start()`` → serves on ``hub.port`` →
``await hub.stop()``. Without ``settings.redis_url`` it runs the embedded
Valkey in ``data_dir/store``, restarts it whenever it dies (bounded back-off,
:meth:`hub.embedded.EmbeddedValkey.supervise`) and stops it on the way out.

While the store is down the hub stays up but is not ready (:attr:`Hub.ready`,
:attr:`Hub.not_ready_reason`): publishes and new connections are refused with
503 / 1011 as soon as the store does not answer. Once it is back, every
connection with a subscription is closed with 4012 (store recovered) so its
client resubscribes from its last offset with its epoch, and the channel feeds
start again from what the store holds. ``cordon serve --workers N`` supervises
the store in the parent process, which tells the workers through
:meth:`Hub.store_lost` and :meth:`Hub.store_back`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from hub.access import Access
from hub.aio import cancel_and_wait
from hub.committer import GroupCommitter
from hub.config import Settings, store_options
from hub.embedded import EmbeddedValkey
from hub.feeds import Feeds
from hub.metrics import Metrics, close_label, tls_reason
from hub.ops import Operations
from hub.protocol.errors import CloseCode, CordonError, NoSuchChannel
from hub.protocol.limits import (
    HISTORY_PAGE_MAX,
    MAX_ALERT_BYTES,
    MAX_ATTACHMENT_BYTES,
    MAX_PUB_ITEMS,
)
from hub.ratelimit import RateLimiter
from hub.refusals import RefusalAudit
from hub.registry import AuthFailure, CASync, authenticate
from hub.session import SLOW_CONSUMER_REASON, Session, format_peer, peer_of
from hub.storage import Store
from hub.storage.watermarks import (
    WATERMARKS_FILE,
    WATERMARKS_SAVE_S,
    load_watermarks,
    save_watermarks,
)
from hub.tls import ReloadableTLS
from hub.tlstransport import serve_natively
from hub.translog import TransLog, start_translog
from hub.verifier import Verifier
from hub.wsconn import CoalescingConnection, on_tls_refusal, use_small_tls_read_buffers

__all__ = ["SUBPROTOCOL", "Hub"]

#: RefusalAudit key shared by every peer the TLS handshake refuses (one budget for all).
_TLS = "tls"

log = logging.getLogger("cordon.hub")

SUBPROTOCOL = "cordon.v1"


def _select_subprotocol(offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """Accept the opening handshake whatever the client offers; the handler then closes
    with 1002 unless ``cordon.v1`` was offered (PROTOCOL.md §1). websockets' default
    would refuse the handshake with HTTP 400 instead, which no client can tell apart."""
    return Subprotocol(SUBPROTOCOL) if SUBPROTOCOL in offered else None


class _HubConnection(CoalescingConnection):
    """The hub's connection, choosing the subprotocol with :func:`_select_subprotocol`:
    given to the protocol here rather than as ``serve(select_subprotocol=...)``, for which
    websockets makes a closure and a bound method per connection (~0.25 KiB, W4)."""

    __slots__ = ()

    def __init__(self, protocol: ServerProtocol, *args: Any, **kwargs: Any) -> None:
        protocol.select_subprotocol = _select_subprotocol  # type: ignore[method-assign, assignment]
        super().__init__(protocol, *args, **kwargs)


class Hub:
    def __init__(self, settings: Settings, *, worker: int | None = None) -> None:
        self.settings = settings
        self.embedded: EmbeddedValkey | None = None
        self.store: Store
        self.committer: GroupCommitter
        #: This process's metrics (hub.metrics) and operations side: /healthz, /readyz,
        #: /metrics on ``http_listen`` (port + ``worker`` under --workers), node heartbeats.
        self.metrics = Metrics()
        self.ops = Operations(self, worker=worker)
        self.metrics.bind(self)
        self._kinds: dict[str, str] = {}  # principal -> kind (officer/system), for metrics
        self.verifier = Verifier(metrics=self.metrics)
        self.feeds: Feeds
        self.tls: ReloadableTLS
        self.ca: x509.Certificate
        self.access: Access
        self.casync: CASync
        self.translog: TransLog
        self.rate = RateLimiter(settings.publish_rate, settings.publish_burst)
        self.sessions: dict[str, set[Session]] = defaultdict(set)
        self.server: Server | None = None
        self.port = 0
        self.refusals: RefusalAudit
        self._tasks: list[asyncio.Task[None]] = []
        self._audit_tasks: set[asyncio.Task[None]] = set()
        self._lifecycle: str | None = "not started"  # or "shutting down"; None: serving
        self._store_down: str | None = None  # why, while the store is down
        #: Times the store came back after a loss (restarts seen by this process).
        self.store_restarts = 0

    @property
    def ready(self) -> bool:
        """True while the hub is listening and its store is up (for a readiness probe)."""
        return self.not_ready_reason is None

    @property
    def not_ready_reason(self) -> str | None:
        """Why the hub is not ready ("not started", "shutting down", "store down: …"),
        None when it is."""
        if self._lifecycle is not None:
            return self._lifecycle
        if self._store_down is None and self.store.paused is not None:
            return f"store down: {self.store.paused}"  # a failover (Sentinel) or restart
        return None if self._store_down is None else f"store down: {self._store_down}"

    # --- lifecycle -------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        url = s.redis_url
        await self.ops.start()  # probes answer (503: not started) while the hub starts
        if s.embedded_store:
            self.embedded = EmbeddedValkey(s.data_dir / "store")
            try:
                await self.embedded.start()
            except BaseException:
                await self.ops.stop()
                raise
            url = self.embedded.url
        try:
            self.store = await Store.connect(
                url, durable=s.durable, audit_max_entries=s.audit_max_entries,
                timeout_s=s.store_timeout_s, remembered=load_watermarks(self._marks_path),
                **store_options(s))
            log.info("store durability: %s", self.store.durability_detail)
            self.store.on_continuity(self._continuity_changed)
            self.ca = x509.load_pem_x509_certificate(s.ca_cert.read_bytes())
            self.access = Access(self.store, self.ca)
            self.tls = ReloadableTLS(ca_cert=s.ca_cert, crl=s.crl, server_cert=s.server_cert,
                                     server_key=s.server_key)
            self.casync = CASync(self.store, s.ca_dir, self.tls, poll_s=s.registry_poll_s,
                                 crl_cache=s.data_dir / "crl.pem")
            await self.casync.sync_once()
            self.translog = await start_translog(self.store, s, self.ca, self.casync)
            self.committer = GroupCommitter(self.store, metrics=self.metrics)
            await self.committer.start()
            self.verifier.start()
            self.feeds = Feeds(self.store, metrics=self.metrics)
            self.committer.listener = self.feeds  # live delivery of local publishes
            self.refusals = RefusalAudit(self.store, per_s=s.audit_refusals_per_s)
            self._tasks = [
                asyncio.create_task(self.casync.run(), name="ca-sync"),
                asyncio.create_task(self._events(), name="events"),
                asyncio.create_task(self._retention(), name="retention"),
                asyncio.create_task(self._recheck(), name="session-recheck"),
                asyncio.create_task(self.watch_writes(), name="write-watch"),
                asyncio.create_task(self._keep_watermarks(), name="watermarks"),
                asyncio.create_task(self.ops.run(), name="ops"),
            ]
            if self.translog.signing:
                self._tasks.append(asyncio.create_task(self.translog.run(), name="checkpoints"))
            if self.embedded is not None:
                self._tasks.append(asyncio.create_task(self.embedded.supervise(
                    on_down=self._embedded_down, on_up=self._embedded_up),
                    name="store-supervision"))
            use_small_tls_read_buffers()
            serve_natively(self.tls.listening)  # hub.tlstransport: no memory BIOs
            on_tls_refusal(self.tls.listening, self._tls_refused)
            self.server = await serve(
                self._handler, s.host, s.port, ssl=self.tls.listening,
                compression=None, max_size=s.max_frame_bytes,
                ping_interval=s.ping_interval_s, ping_timeout=s.idle_timeout_s,
                open_timeout=s.handshake_timeout_s, close_timeout=2,
                max_queue=64, server_header="cordon", reuse_port=s.reuse_port or None,
                create_connection=_HubConnection,
            )
        except BaseException:
            await self._shutdown_backends()
            raise
        self.port = self.server.sockets[0].getsockname()[1] if self.server.sockets else 0
        self._lifecycle = None
        self.metrics.info = {"node": self.ops.node, "durability": self.store.durability}
        # What start-up made (modules, settings, registry caches) lives as long as the
        # process: out of the collector's way, so its full collections scan only what the
        # sessions make.
        gc.freeze()
        log.info("hub listening on wss://%s:%d", s.host, self.port,
                 extra={"event": "hub.listening", "node": self.ops.node})

    async def stop(self) -> None:
        self._lifecycle = "shutting down"
        if self.server is not None:
            self.server.server.close()  # no new connections
            # Sessions first, each close bounded: websockets' own close of a connection
            # whose peer does not read would wait for ever (the close frame is stuck
            # behind unsent data).
            await asyncio.gather(*(
                s.close(CloseCode.GOING_AWAY, "hub shutting down")
                for s in self._sessions_where(lambda s: True)))
            self.server.close(close_connections=True)
            await self.server.wait_closed()
            self.server = None
        await self._shutdown_backends()

    # --- store supervision ---------------------------------------------------------
    async def _embedded_down(self, reason: str) -> None:
        self.store_lost(reason)

    async def _embedded_up(self, attempt: int) -> None:
        await self.store_back()

    def store_lost(self, reason: str) -> None:
        """The store died (its supervisor says so): not ready until :meth:`store_back`.
        Store calls meanwhile fail with Unavailable (503 to publishers, 1011 to new
        connections) as soon as the store does not answer."""
        self._store_down = reason
        log.error("store down (%s): not ready; publishes are refused until it is back",
                  reason, extra={"event": "store.down", "reason": reason})

    async def store_back(self) -> None:
        """The store is up again after a loss: let the store-continuity hook look at it,
        restart every channel feed from what the store holds, close every connection
        with a subscription with 4012 so its client resumes from its last offset and
        epoch, then report ready. The Store's connection pools reconnect by themselves
        (a dead pooled connection fails once and is reopened by the retry)."""
        self.store_restarts += 1
        await self._after_store_restart()
        subscribers = self._sessions_where(lambda s: bool(s.subs))
        for session in subscribers:
            session.close_soon(CloseCode.STORE_RECOVERED,
                               "store recovered: resume with your epoch")
        if hasattr(self, "feeds"):
            for name in list(self.feeds.feeds):  # the next subscriber starts a fresh feed
                await self.feeds.reset(name)
        self._store_down = None
        log.warning("store back: %d subscribed connection(s) closed with %d to resume; ready",
                    len(subscribers), CloseCode.STORE_RECOVERED,
                    extra={"event": "store.back", "code": int(CloseCode.STORE_RECOVERED)})

    async def _after_store_restart(self) -> None:
        """Run each time the store is back after a loss, before anyone resumes: the
        store-continuity check (:meth:`on_store_restarted`: a channel whose store came
        back with less than was committed starts a new epoch). If the store fails again
        meanwhile, the Store repeats the check by itself when it next sees the new
        server (run_id)."""
        try:
            changed = await self.on_store_restarted()
        except CordonError as exc:
            log.warning("store continuity check after the restart failed: %s", exc)
            return
        if changed:
            log.error("store came back with less than was committed: new epoch for %s",
                      ", ".join(sorted(changed)))

    def _tls_refused(self, peer: Any, exc: ssl.SSLError) -> None:
        """Audit a peer the TLS handshake refused (action ``tls``): the certificate is
        unknown to the CA, expired, not yet valid, revoked by the CRL, of the wrong
        purpose, or missing. Under the same budget as other refusals, all such peers
        together: at most ``audit_refusals_per_s`` records per second, the rest counted
        in one ``refusals.suppressed`` record."""
        verify = getattr(exc, "verify_message", None)
        reason = verify or (exc.reason or type(exc).__name__).lower().replace("_", " ")
        record = {"action": "tls", "principal": "?", "peer": format_peer(peer),
                  "result": "refused",
                  "reason": f"TLS handshake: {reason}"}
        label = tls_reason(reason)
        self.metrics.tls_refusals.labels(label).inc()
        self.ops.refused(record)
        # debug: anyone can cause these (counted in the metrics, audited under a budget)
        log.debug("TLS handshake refused: %s", reason, extra={
            "event": "tls.refused", "peer": record["peer"], "reason": label})
        task = asyncio.get_running_loop().create_task(self.refusals.record(_TLS, record))
        self._audit_tasks.add(task)
        task.add_done_callback(self._audit_tasks.discard)

    # --- store continuity (hub.storage.Store.check_continuity) ----------------------
    @property
    def _marks_path(self) -> Path:
        return self.settings.data_dir / WATERMARKS_FILE

    async def on_store_restarted(self) -> dict[str, str]:
        """Check the store's continuity now (call after restarting the store): channels
        that lost durable alerts get a new epoch, and their live subscribers are closed
        with 4012 so they resume (and get 412 with the new epoch). Returns channel -> new
        epoch. The store also runs this by itself when a connection sees a new run_id."""
        changed = await self.store.check_continuity(load_watermarks(self._marks_path))
        await self._close_changed(changed)
        return changed

    def _continuity_changed(self, changed: dict[str, str]) -> None:
        if changed:
            task = asyncio.get_running_loop().create_task(self._close_changed(changed))
            self._audit_tasks.add(task)
            task.add_done_callback(self._audit_tasks.discard)

    async def _close_changed(self, changed: dict[str, str]) -> None:
        for ch, epoch in changed.items():
            log.error("channel %s: history changed in the store (new epoch %s); closing its "
                      "live subscribers with 4012", ch, epoch)
            if hasattr(self, "access"):  # its cached meta names the old epoch
                self.access.apply({"type": "channel", "ch": ch})
            if hasattr(self, "feeds"):
                await self.feeds.reset(ch)
            for s in self._sessions_where(lambda s, ch=ch: ch in s.subs):
                s.close_soon(CloseCode.STORE_RECOVERED, "store recovered: resume with your epoch")
        if changed:
            save_watermarks(self._marks_path, self.store.seen)

    async def _keep_watermarks(self) -> None:
        """Persist the durable watermarks seen, so a restarted hub still notices a store
        that lost alerts while it was down (checked at start)."""
        saved: dict[str, tuple[str, int]] = {}
        while True:
            await asyncio.sleep(WATERMARKS_SAVE_S)
            seen = self.store.seen
            if seen != saved:
                await asyncio.to_thread(save_watermarks, self._marks_path, seen)
                saved = seen

    async def _shutdown_backends(self) -> None:
        if hasattr(self, "tls"):
            on_tls_refusal(self.tls.listening, None)
        if self._audit_tasks:
            await asyncio.gather(*self._audit_tasks, return_exceptions=True)
        if hasattr(self, "refusals"):
            await self.refusals.flush(_TLS)
        # cancel_and_wait: a task cancelled during a store command may not notice (hub.aio)
        await asyncio.gather(*(cancel_and_wait(task) for task in self._tasks))
        self._tasks = []
        if hasattr(self, "feeds"):
            await self.feeds.close()
        await self.verifier.stop()
        if hasattr(self, "committer"):
            await self.committer.stop()
        if hasattr(self, "store"):
            save_watermarks(self._marks_path, self.store.seen)
            await self.store.close()
        if self.embedded is not None:
            await self.embedded.stop()
            self.embedded = None
        await self.ops.stop()

    async def __aenter__(self) -> Hub:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- connections -----------------------------------------------------------
    async def _handler(self, ws: ServerConnection) -> None:
        if ws.subprotocol != SUBPROTOCOL:
            await ws.close(1002, "subprotocol cordon.v1 required")
            return
        # Not needed after the opening handshake (W4: ~2.5 KiB per idle connection). The
        # request object must stay (websockets takes the first event after a None for
        # it), its headers need not.
        ws.response = None
        if ws.request is not None:
            ws.request.headers.clear()
        ssl_object = ws.transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        peer = peer_of(ws)
        started = time.perf_counter()
        try:
            # One deadline for the whole check (several store reads): 1011 within it.
            async with asyncio.timeout(self.store.timeout_s):
                auth = await authenticate(self.store, der)
                kind = await self._kind(auth.identity.principal, auth.identity.admin)
        except AuthFailure as exc:
            await self._refuse(ws, exc.close_code, exc.reason, peer, exc.principal or "?")
            return
        except (CordonError, TimeoutError):
            self.metrics.store_failed("authenticate")
            log.warning("%s: store unavailable during the handshake; closing with 1011", peer)
            await self._refuse(ws, 1011, "store unavailable", peer, "?", audit=False)
            return
        self.metrics.store_seconds["authenticate"].observe(time.perf_counter() - started)
        principal = auth.identity.principal
        if len(self.sessions[principal]) >= self.settings.max_connections_per_principal:
            await self._refuse(ws, CloseCode.TOO_MANY_CONNECTIONS, "too many connections",
                               peer, principal)
            return
        session = Session(self, ws, auth)
        session.kind = kind
        self.metrics.connections_opened.labels(kind).inc()
        log.info("connection open", extra={
            "event": "connection.open", "peer": peer, "principal": principal,
            "member": session.member, "kind": kind})
        # This frame lives as long as the connection: keep no parsed certificate in it.
        del auth, der, ssl_object
        self.sessions[principal].add(session)
        try:
            await session.run()
        finally:
            await self.refusals.flush(session)
            self.sessions[principal].discard(session)
            if not self.sessions[principal]:
                del self.sessions[principal]
            code = ws.close_code
            self.metrics.connections_closed.labels(close_label(code)).inc()
            log.info("connection closed", extra={
                "event": "connection.closed", "peer": peer, "principal": principal,
                "member": session.member, "code": code, "reason": ws.close_reason or ""})

    async def _kind(self, principal: str, admin: bool) -> str:
        """The principal's kind for the metrics: admin, officer, system or unknown (kept:
        a principal's kind does not change; bounded by the registry)."""
        if admin:
            return "admin"
        kind = self._kinds.get(principal)
        if kind is None:
            record = await self.store.principal(principal)
            kind = record.kind if record is not None and record.kind else "unknown"
            self._kinds[principal] = kind
        return kind

    async def _refuse(self, ws: ServerConnection, code: int, reason: str, peer: str,
                      principal: str, *, audit: bool = True) -> None:
        """Refuse an authenticated TLS connection: audit, count, log, close with ``code``."""
        record = {"action": "connect", "principal": principal, "peer": peer,
                  "result": "refused", "code": str(code), "reason": reason}
        self.metrics.connections_refused.labels(close_label(code)).inc()
        self.ops.refused(record)
        log.info("connection refused: %s", reason, extra={
            "event": "connection.refused", "peer": peer, "principal": principal,
            "code": code, "reason": reason})
        if audit:
            del record["code"]  # the audit record as before
            await self.store.audit(record)
        await ws.close(code, reason)

    def public_limits(self) -> dict[str, int]:
        s = self.settings
        return {
            "max_frame_bytes": s.max_frame_bytes,
            "max_alert_bytes": MAX_ALERT_BYTES,
            "max_attachment_bytes": MAX_ATTACHMENT_BYTES,
            "publish_rate": int(s.publish_rate),
            "publish_burst": s.publish_burst,
            "history_page_max": HISTORY_PAGE_MAX,
            "clock_skew_ms": s.clock_skew_ms,
            "max_pings_per_s": s.max_pings_per_s,
            "max_pub_items": MAX_PUB_ITEMS,
        }

    async def audit_refusal(self, session: Session, action: str, exc: CordonError,
                            *, channel: str | None = None) -> None:
        record = {"action": action, "principal": session.principal, "peer": session.peer,
                  "result": "refused", "code": str(exc.code), "reason": exc.phrase}
        if channel:
            record["channel"] = channel
        self.ops.refused(record)
        log.debug("%s refused: %d %s", action, exc.code, exc.phrase, extra={
            "event": f"{action}.refused", "peer": session.peer, "principal": session.principal,
            "member": session.member, "channel": channel, "code": int(exc.code),
            "reason": exc.phrase})
        await self.refusals.record(session, record)

    async def trim_expired(self) -> int:
        """Drop alerts older than their channel's retention period; return how many."""
        dropped = 0
        now = time.time_ns() // 1_000_000
        for meta in await self.store.channels():
            if meta.retention_ms > 0:
                dropped += await self.store.trim(meta.name, now_ms=now)
        return dropped

    async def _retention(self) -> None:
        while True:
            await asyncio.sleep(self.settings.retention_check_s)
            try:
                dropped = await self.trim_expired()
            except CordonError as exc:
                log.warning("retention trim failed: %s", exc)
                continue
            if dropped:
                log.info("retention: dropped %d expired alerts", dropped)

    async def watch_writes(self) -> None:
        """Close as slow consumers (4008) the connections whose writes have made no
        progress for the idle timeout: their peers stopped reading. One task for all
        connections; nothing is timed per frame."""
        stall_s = self.settings.idle_timeout_s
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(stall_s / 4)
            now = loop.time()
            stalled = [s for group in self.sessions.values() for s in group
                       if s.stalled_for(now) >= stall_s]
            for s in stalled:
                log.warning("%s: nothing could be sent for %g s, closing as slow consumer",
                            s.principal, stall_s, extra={
                                "event": "slow_consumer", "peer": s.peer,
                                "principal": s.principal, "code": int(CloseCode.SLOW_CONSUMER)})
                s.close_soon(CloseCode.SLOW_CONSUMER, SLOW_CONSUMER_REASON)

    # --- events from every hub process --------------------------------------------
    async def _events(self) -> None:
        lost = False
        delay = 0.05  # the first resubscription at once (e.g. after a store failover)
        while True:
            try:
                async with self.store.events() as events:  # subscribed from here on
                    if lost:
                        # Events published while the stream was down are gone: re-read
                        # now what they would have changed, rather than at the next sweep
                        # (the CRL too: after a store failover every node reloads it).
                        await self.recheck_sessions()
                        await self.casync.apply_crl()
                    delay = 0.05
                    async for event in events:
                        await self.on_event(event)
            except CordonError as exc:
                log.warning("event stream lost (%s); resubscribing", exc)
                lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _sessions_where(self, pred: Any) -> list[Session]:
        return [s for group in self.sessions.values() for s in group if pred(s)]

    async def on_event(self, event: dict[str, Any]) -> None:
        # Cached decisions first (hub.access), so nothing decided after this point uses
        # what the event changed; then what it does to live sessions and subscriptions.
        self.access.apply(event)
        kind = event.get("type")
        if kind == "revoke":
            self.metrics.revocations.inc()
            kid, principal = event.get("kid"), event.get("principal")
            for s in self._sessions_where(lambda s: s.kid == kid or (s.principal == principal
                                          and kid is None)):
                s.close_soon(CloseCode.REVOKED, "certificate revoked")
        elif kind == "member":
            member, status = event.get("member"), event.get("status")
            if status != "active":
                for s in self._sessions_where(lambda s: s.member == member):
                    s.close_soon(CloseCode.REVOKED, "member suspended")
        elif kind == "role":
            ch, member = str(event.get("ch")), str(event.get("member"))
            if event.get("role") is None:
                await self._end_member(ch, member)
        elif kind == "crl":
            await self.casync.apply_crl()
        elif kind == "resync":  # the event stream reconnected by itself: events were lost
            log.warning("event stream reconnected; re-reading sessions and the CRL")
            await self.recheck_sessions()
            await self.casync.apply_crl()
        elif kind == "node":
            self.ops.saw_node(event)
        elif kind == "channel":
            ch = str(event.get("ch"))
            if event.get("state") in ("archived", "deleted"):
                for s in self._sessions_where(lambda s: ch in s.subs):
                    await s.end_subscription(ch, NoSuchChannel.code,
                                             "channel no longer available")

    # --- the safety net for lost events ----------------------------------------------
    async def _recheck(self) -> None:
        while True:
            await asyncio.sleep(self.settings.session_recheck_s)
            try:
                await self.recheck_sessions()
            except CordonError as exc:
                log.warning("session re-check failed: %s", exc)

    async def recheck_sessions(self) -> None:
        """Apply what the store says now, as the events would have: every cached access
        decision the store disagrees with is dropped (signer keys, roles, channel state:
        :meth:`hub.access.Access.recheck`); sessions whose certificate is revoked (or
        gone) or whose member is suspended (or gone) are closed; subscriptions whose
        channel is archived/deleted or whose member lost its role are ended. Events are
        pub/sub, so one published while the event stream was reconnecting is lost; this
        sweep bounds how long it goes unapplied."""
        sessions = self._sessions_where(lambda s: not s.closing)
        # Only subscriptions that exist now are judged by what is read below: one made
        # after the reads passed its own (fresh) access check.
        subs = {s: list(s.subs.items()) for s in sessions}
        standing = await self.access.recheck(
            kids=[s.kid for s in sessions],
            members=[s.member for s in sessions if s.member is not None],
            pairs=[(ch, s.member) for s in sessions if s.member is not None
                   and not s.identity.admin for ch, _ in subs[s]])
        for s in sessions:
            refusal = standing.session_refusal(s.kid, s.member)
            if refusal is not None:
                s.close_soon(CloseCode.REVOKED, refusal)
                continue
            for ch, sub in subs[s]:
                if s.subs.get(ch) is not sub:
                    continue  # unsubscribed or resubscribed meanwhile
                ended = standing.subscription_refusal(ch, s.member, admin=s.identity.admin)
                if ended is not None:
                    await s.end_subscription(ch, NoSuchChannel.code, ended)

    async def _end_member(self, ch: str, member: str) -> None:
        # Live subscriptions and those still catching up on history alike.
        for s in self._sessions_where(lambda s: s.member == member and ch in s.subs):
            await s.end_subscription(ch, NoSuchChannel.code,
                                     "no longer a member of this channel")
