"""One authenticated connection: reads frames, answers them, feeds the send queue.

Requests are answered in the order they were received except publishes, each
answered when settled: its ack when its batch is durable, or its refusal (answers
carry the request's ``rid``).
Publishes from one connection are stored in the order they were received.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, assert_never

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from hub.access import WRITE_ROLES
from hub.admin import AdminHost, run_session_admin
from hub.aio import cancel_and_wait
from hub.alertcheck import check_body, check_references
from hub.committer import GroupCommitter
from hub.crlserve import crl_result
from hub.feeds import Feeds, Outbox, Subscription
from hub.lazydeque import LazyDeque
from hub.metrics import Metrics
from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.attachments import check_attachment
from hub.protocol.envelope import Envelope, decode_envelope
from hub.protocol.errors import (
    AccessDenied,
    ChannelClosed,
    CloseCode,
    Conflict,
    CordonError,
    EnvelopeMismatch,
    EpochMismatch,
    FrameTooLarge,
    HistoryGone,
    InternalError,
    InvalidFrame,
    NotFound,
    ProtocolError,
    RateLimited,
    StaleTimestamp,
    Unavailable,
)
from hub.protocol.limits import (
    HISTORY_PAGE_MAX,
    MAX_ALERT_BYTES,
    MAX_ATTACHMENTS_PER_CHANNEL,
    MAX_BAD_FRAMES,
    MAX_FRAME_BYTES,
    MAX_SUBSCRIPTIONS,
)
from hub.ratelimit import RateLimiter
from hub.registry import Authenticated
from hub.storage import AppendRequest, AppendResult, ChannelMeta
from hub.translog import TransLog
from hub.verifier import Verifier
from hub.wsconn import CoalescingConnection

__all__ = ["SLOW_CONSUMER_REASON", "Session", "SessionHost", "format_peer", "now_ms",
           "peer_of"]

log = logging.getLogger("cordon.session")

_MAX_IN_FLIGHT = 4096
#: Seconds a close may take (closing handshake included) before the connection is
#: dropped: a peer that does not read never completes it, and would hold the session.
#: (Or the idle timeout, when shorter.)
_CLOSE_TIMEOUT_S = 5.0
#: Room in a history page frame for everything but its items; each item's own overhead.
_PAGE_OVERHEAD, _ITEM_OVERHEAD = 1024, 32
SLOW_CONSUMER_REASON = "slow consumer: resume from last offset"


def peer_of(ws: ServerConnection) -> str:
    return format_peer(ws.remote_address)


def format_peer(address: Any) -> str:
    """``host:port`` of a socket's peer address, as the audit log names peers ("?" if
    unknown)."""
    if isinstance(address, tuple | list) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return "?"


class SessionHost(AdminHost, Protocol):
    """What a session needs of its hub process (:class:`hub.server.Hub` is one): access
    decisions (``access``), the store, fan-out, signature checks, group commit, rate
    limits, refusal audit; and what admin operations need (:class:`hub.admin.AdminHost`).
    Sessions never import the server."""

    feeds: Feeds
    verifier: Verifier
    committer: GroupCommitter
    translog: TransLog
    rate: RateLimiter
    metrics: Metrics

    def public_limits(self) -> dict[str, int]: ...

    async def audit_refusal(self, session: Session, action: str, exc: CordonError,
                            *, channel: str | None = None) -> None: ...


@dataclass(slots=True)  # not frozen: made for every publish frame
class _Pending:
    """A publish frame past its synchronous checks, its signatures being checked: one
    alert (``pub``, answered by ``ack`` or ``err``) or several (``pubs``, answered by one
    ``acks``). ``results`` holds each alert's outcome once known (a refusal may be known
    before the signature check, an AppendResult only after its commit); ``envs`` the
    decoded envelopes (None where refused early); ``checked`` the positions whose
    signatures ``verified`` checks, in order. ``generation`` is
    :attr:`hub.access.Access.generation` when its signers and role were checked."""

    rid: int
    ch: str
    batch: bool
    alerts: list[bytes]
    sigs: list[bytes]
    envs: list[Envelope | None]
    results: list[AppendResult | BaseException | None]
    checked: list[int]
    epoch: str
    verified: asyncio.Future[list[BaseException | None]] | None
    generation: int
    #: In-flight slots it holds (one per alert, at most the connection's bound).
    slots: int = 1


#: Most publish frames one pass of a connection's pipeline takes together.
_COALESCE = 256


class _Pipeline:
    """A connection's publish frames in arrival order, for its one pipeline task."""

    def __init__(self) -> None:
        self.items: deque[_Pending] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: _Pending) -> None:
        self.items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def ready(self) -> list[_Pending]:
        """The next frame (waiting for one), and those behind it whose signature checks
        are done already (at most _COALESCE in all)."""
        while not self.items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        items = self.items
        out = [items.popleft()]
        while items and len(out) < _COALESCE and (
                items[0].verified is None or items[0].verified.done()):
            out.append(items.popleft())
        return out


class _Slots:
    """A connection's in-flight slots, one per publish awaiting its answer: a frame takes
    its alerts' slots at once (waiting, in turn, until that many are free) and gives them
    back at once when answered. asyncio.Semaphore's acquire and release per alert cost
    0.27 us per alert of a ``pubs`` frame (issue 17)."""

    __slots__ = ("_waiters", "free")

    def __init__(self, count: int) -> None:
        self.free = count
        # No deque while nobody waits (~760 bytes per idle connection, W4).
        self._waiters: LazyDeque[tuple[int, asyncio.Future[None]]] = LazyDeque()

    async def take(self, n: int) -> None:
        """Take ``n`` slots (at most ``count``): at once if free and nobody waits, else in
        turn. Cancelled while waiting: nothing taken."""
        if not self._waiters and self.free >= n:
            self.free -= n
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (n, fut)
        self._waiters.append(entry)
        try:
            await fut  # give() took the slots for it
        except BaseException:
            if fut.done() and not fut.cancelled():  # taken for it, then cancelled
                self.give(n)
            else:
                with contextlib.suppress(ValueError):  # (give() may have dropped it)
                    self._waiters.remove(entry)
                self.give(0)  # those behind it may fit now
            raise

    def give(self, n: int) -> None:
        """Give back ``n`` slots; wake the waiters in turn whose slots are free."""
        self.free += n
        waiters = self._waiters
        while waiters and waiters[0][0] <= self.free:
            wanted, fut = waiters.popleft()
            if not fut.done():  # not cancelled
                self.free -= wanted
                fut.set_result(None)


def _forget(fut: asyncio.Future[Any]) -> None:
    """Drop a signature check nobody will await (its connection is closing): cancel it,
    or mark its error as seen (asyncio logs errors that were never retrieved)."""
    if not fut.cancel() and not fut.cancelled():
        fut.exception()


class _SessionOutbox(Outbox):
    """A session's send queue: every frame queued calls ``kick`` (Session._kick), which
    starts the session's writer when none runs."""

    def __init__(self, kick: Callable[[], None], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kick = kick

    def _push(self, data: bytes) -> None:
        super()._push(data)
        self._kick()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Session:
    def __init__(self, hub: SessionHost, ws: ServerConnection, auth: Authenticated) -> None:
        self.hub = hub
        self.access = hub.access
        self.ws = ws
        self.identity = auth.identity
        self.principal = auth.identity.principal
        self.member = auth.identity.member
        self.kid = auth.kid
        self.peer = peer_of(ws)
        self.metrics = hub.metrics
        #: admin, officer, system or unknown (set by the hub from the registry; metrics)
        self.kind = "admin" if auth.identity.admin else "unknown"
        backlog = None
        if isinstance(ws, CoalescingConnection):
            # Pongs and close frames websockets writes by itself count too (hub.wsconn).
            ws.bound(send_bytes=hub.settings.send_queue_bytes,
                     pings_per_s=hub.settings.max_pings_per_s, on_violation=self.close_soon)
            backlog = ws.backlog
        #: Sends what the outbox holds, then ends (W4: an idle connection holds no writer
        #: task, coroutine and waiting future, ~0.8 KiB); a frame queued starts one.
        self._writer: asyncio.Task[None] | None = None
        self._writes = True  # False once the session ends: what is queued then stays
        self.outbox = _SessionOutbox(self._kick, hub.settings.send_queue_frames,
                                     self._overflow, max_bytes=hub.settings.send_queue_bytes,
                                     backlog=backlog)
        self.subs: dict[str, Subscription] = {}
        self.bad_frames = 0
        self.closing = False
        self._attaching: dict[str, asyncio.Task[None]] = {}
        # Publishes awaiting their ack; at most half the send queue, so a burst of acks
        # always fits in it (the reader stops reading the socket when this is exhausted).
        self._in_flight_max = max(1, min(_MAX_IN_FLIGHT, hub.settings.send_queue_frames // 2))
        self._in_flight = _Slots(self._in_flight_max)
        self._task_set: set[asyncio.Task[None]] | None = None  # made when needed (W4)
        self._pipeline: _Pipeline | None = None  # made at the first publish
        self._committing_set: set[asyncio.Future[Any]] | None = None  # made when needed
        self._closer: asyncio.Task[None] | None = None
        self._send_started: float | None = None

    @property
    def _tasks(self) -> set[asyncio.Task[None]]:
        """Catch-ups and other tasks of this session (a set made at the first: an idle
        connection holds none, ~0.2 KiB each, W4)."""
        tasks = self._task_set
        if tasks is None:
            tasks = self._task_set = set()
        return tasks

    @property
    def _committing(self) -> set[asyncio.Future[Any]]:
        """Publishes queued for commit (made at the first, as :attr:`_tasks`)."""
        committing = self._committing_set
        if committing is None:
            committing = self._committing_set = set()
        return committing

    # --- lifecycle -----------------------------------------------------------
    async def run(self) -> None:
        try:
            self.send(f.Welcome(
                principal=self.principal, member=self.member, admin=self.identity.admin,
                server="cordon/0.1", time=now_ms(), limits=self.hub.public_limits(),
            ))
            # recv() rather than `async for`: no async generator (and its frame) held
            # per idle connection (W4); the end of the connection raises either way.
            while not self.closing:
                message = await self.ws.recv()
                if self.closing:
                    break
                await self._handle(message)
                del message  # not kept while waiting for the next one (up to a frame's size)
        except ConnectionClosed:
            pass
        finally:
            self.closing = True
            # Stop catch-ups and pending acks for good before detaching: a catch-up that
            # missed its cancellation would join a feed for a session that is gone.
            await asyncio.gather(*(cancel_and_wait(task) for task in list(self._tasks)))
            for committed in list(self._committing):  # withdrawn unless already sent
                committed.cancel()
            while self._pipeline is not None and self._pipeline.items:
                verified = self._pipeline.items.popleft().verified
                if verified is not None:
                    _forget(verified)
            for sub in list(self.subs.values()):
                await self.hub.feeds.detach(sub)
            self.subs.clear()
            if self._closer is not None:
                # The close frame must be out before the handler returns (websockets then
                # closes with 1000): close_soon() only started it.
                await asyncio.shield(self._closer)
            self._writes = False
            writer = self._writer
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer

    def _kick(self) -> None:
        """A frame was queued: start the writer unless it runs (or the session ended)."""
        if self._writer is None and self._writes:
            self._writer = asyncio.get_running_loop().create_task(
                self._write_loop(), name=f"writer:{self.principal}")

    async def _write_loop(self) -> None:
        """Send the queued frames in order, until the outbox is empty; frames queued
        meanwhile are sent by this same writer (one at a time, never two)."""
        loop = asyncio.get_running_loop()
        outbox = self.outbox
        try:
            while not outbox.empty():
                data = outbox.get_nowait()
                self._send_started = loop.time()
                try:
                    await self.ws.send(data)  # waits only while the transport's buffer is full
                finally:
                    self._send_started = None
                del data  # not kept while waiting for the next one (a batch: up to a frame)
        except ConnectionClosed:
            self._writes = False  # nothing more can go out
        finally:
            self._writer = None

    def stalled_for(self, now: float) -> float:
        """Seconds the current send has waited for the peer to read, or the hub has held
        reading because the peer does not read what it is sent (pongs included: see
        hub.wsconn); 0 when neither.

        The hub closes a connection stalled for the idle timeout as a slow consumer
        (:meth:`hub.server.Hub.watch_writes`): its peer stopped reading, so its queue
        may never overflow, and websockets' pings are stuck behind the same data.
        """
        since = self._send_started
        stalled = 0.0 if since is None else now - since
        if isinstance(self.ws, CoalescingConnection):
            stalled = max(stalled, self.ws.held_for(now))
        return stalled

    def _overflow(self) -> None:
        log.warning("%s: send queue full, closing as slow consumer", self.principal, extra={
            "event": "slow_consumer", "peer": self.peer, "principal": self.principal,
            "code": int(CloseCode.SLOW_CONSUMER)})
        self.close_soon(CloseCode.SLOW_CONSUMER, SLOW_CONSUMER_REASON)

    def close_soon(self, code: int, reason: str) -> None:
        """Close the connection with ``code`` (the first call wins), without waiting.

        Bounded: if the closing handshake cannot complete within _CLOSE_TIMEOUT_S (the
        peer does not read, so even the close frame is stuck behind unsent data), the
        connection is dropped.
        """
        if self.closing:
            return
        self.closing = True
        if code == CloseCode.SLOW_CONSUMER:
            self.metrics.slow_consumer_closes.inc()
        self._closer = asyncio.create_task(self._close(code, reason),
                                           name=f"close:{self.principal}")

    async def close(self, code: int, reason: str) -> None:
        """Close the connection with ``code`` and wait until it is closed (bounded)."""
        self.close_soon(code, reason)
        if self._closer is not None:
            await asyncio.shield(self._closer)

    async def _close(self, code: int, reason: str) -> None:
        bound = min(_CLOSE_TIMEOUT_S, self.hub.settings.idle_timeout_s)
        try:
            async with asyncio.timeout(bound):
                await self.ws.close(code, reason)
        except TimeoutError:
            log.info("%s: closing handshake not done in %g s; dropping the connection",
                     self.principal, bound)
            self.ws.transport.abort()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def send(self, frame: f.Frame) -> None:
        self.outbox.offer(codec.encode(frame))

    def send_error(self, rid: int | None, exc: CordonError) -> None:
        self.send(f.ErrorFrame(rid=rid, code=exc.code, msg=exc.phrase, detail=exc.detail))

    # --- dispatch --------------------------------------------------------------
    async def _handle(self, message: str | bytes) -> None:
        try:
            if isinstance(message, str):
                raise InvalidFrame("frames are binary messages")
            frame = codec.decode_client(message)
        except ProtocolError as exc:
            self.bad_frames += 1
            await self.hub.audit_refusal(self, "frame", exc)
            self.send_error(exc.rid, exc)
            if self.bad_frames > MAX_BAD_FRAMES:
                self.close_soon(CloseCode.PROTOCOL_ABUSE, "too many invalid frames")
            return
        try:
            await self._dispatch(frame)
        except CordonError as exc:
            # admin operations audit themselves, naming the operation (hub.admin)
            if isinstance(exc, Unavailable):  # answer first: the audit waits on the store
                if isinstance(frame, f.Publish | f.PublishBatch):
                    self.metrics.publish_refused(exc.code)
                self.send_error(frame.rid, exc)
                with contextlib.suppress(CordonError):
                    await self.hub.audit_refusal(self, frame.TYPE, exc, channel=_channel(frame))
                return
            if isinstance(frame, f.Publish | f.PublishBatch):
                self.metrics.publish_refused(exc.code)
            if not isinstance(exc, HistoryGone | EpochMismatch) and not isinstance(
                frame, f.AdminRequest
            ):
                await self.hub.audit_refusal(self, frame.TYPE, exc, channel=_channel(frame))
            self.send_error(frame.rid, exc)
        except Exception:
            log.exception("%s: internal error handling %s", self.principal, frame.TYPE)
            self.send_error(frame.rid, InternalError())

    async def _dispatch(self, frame: f.ClientFrame) -> None:
        match frame:
            case f.Publish():
                await self._publish(frame)
            case f.PublishBatch():
                await self._publish_batch(frame)
            case f.Subscribe():
                await self._subscribe(frame)
            case f.Unsubscribe():
                if not await self._drop(frame.ch):
                    raise Conflict("not subscribed")
                self.send(f.Unsubscribed(rid=frame.rid, ch=frame.ch))
            case f.HistoryRequest():
                await self._history(frame)
            case f.DirectoryRequest():
                certs = await self.hub.store.cert_ders(frame.kids)
                self.send(f.Directory(rid=frame.rid, certs=certs))
            case f.ChannelsRequest():
                chans = await self.access.visible_channels(self.member,
                                                           admin=self.identity.admin)
                self.send(f.ChannelsResult(rid=frame.rid, chans=tuple(chans)))
            case f.AdminRequest():
                # authorised (403 unless an admin certificate) and audited by hub.admin
                result = await run_session_admin(self.hub, self, frame.op, frame.args)
                self.send(f.AdminResult(rid=frame.rid, result=result))
            case f.AttachmentUpload():
                await self._put_attachment(frame)
            case f.AttachmentRequest():
                await self._get_attachment(frame)
            case f.CheckpointRequest() | f.ProofRequest():
                await self._log_request(frame)
            case f.CrlRequest():  # any principal: the CA's CRL (hub.crlserve)
                self.send(await crl_result(self.hub.store, frame.rid))
            case _:
                # Every frame the codec decodes has a case (mypy checks it: a new frame
                # type without one fails the type check instead of leaving its request
                # unanswered until the client's timeout).
                assert_never(frame)

    async def _log_request(self, frame: f.CheckpointRequest | f.ProofRequest) -> None:
        """Signed checkpoints and proofs (hub.translog): for whoever may read the channel."""
        await self.access.channel(frame.ch, self.member, admin=self.identity.admin)
        if isinstance(frame, f.CheckpointRequest):
            cp = await self.hub.translog.latest(frame.ch)
            self.send(f.CheckpointResult(rid=frame.rid, ch=frame.ch, cp=cp.cp, sig=cp.sig,
                                         kid=cp.kid, prev_cp=cp.link_cp,
                                         prev_sig=cp.link_sig, prev_kid=cp.link_kid))
            return
        paths, cons = await self.hub.translog.proofs(
            frame.ch, epoch=frame.epoch, size=frame.size, offs=frame.offs,
            from_size=frame.from_size)
        self.send(f.Proof(rid=frame.rid, ch=frame.ch, epoch=frame.epoch, size=frame.size,
                          paths=tuple(f.ProofPath(o, tuple(p)) for o, p in paths),
                          cons=None if cons is None else tuple(cons)))

    # --- attachments -------------------------------------------------------------
    async def _put_attachment(self, frame: f.AttachmentUpload) -> None:
        """Writers of an open channel upload photos; checked by content, stored durably."""
        meta, role = await self.access.channel(frame.ch, self.member,
                                               admin=self.identity.admin)
        if role not in WRITE_ROLES:
            raise AccessDenied("role does not allow uploading")
        if meta.state != "open":
            raise ChannelClosed()
        sha256 = check_attachment(frame.data, frame.media, frame.sha256)
        if not self.hub.rate.take(self.principal):
            raise RateLimited("upload rate exceeded")
        stored = await self.hub.store.put_attachment(
            frame.ch, sha256, frame.media, frame.data, max_count=MAX_ATTACHMENTS_PER_CHANNEL)
        self.send(f.AttachmentStored(rid=frame.rid, ch=frame.ch, sha256=sha256,
                                     size=len(frame.data), media=frame.media, dup=not stored))

    async def _get_attachment(self, frame: f.AttachmentRequest) -> None:
        """Anyone who may read the channel fetches its attachments by digest."""
        await self.access.channel(frame.ch, self.member, admin=self.identity.admin)
        found = await self.hub.store.attachment(frame.ch, frame.sha256)
        if found is None:
            raise NotFound("no such attachment in this channel")
        self.send(f.Attachment(rid=frame.rid, ch=frame.ch, sha256=frame.sha256,
                               media=found[0], data=found[1]))

    # --- publish ---------------------------------------------------------------
    async def _publish(self, frame: f.Publish) -> None:
        """Checks that need no signature (synchronous answers), then the rest in order.

        The signature check runs on the verifier's threads (hub.verifier) while this
        reader goes on with the next frames (a lone check while they are idle is made at
        once: Verifier.verify_many); :meth:`_publishes` then takes the
        connection's publishes one by one, in the order received: signature, body,
        rate, then into the group commit. So the order of storage is the order of
        arrival, and the checks come in the order PROTOCOL.md §4 lists them.
        """
        env = decode_envelope(frame.alert)
        if env.channel != frame.ch:
            raise EnvelopeMismatch("signed channel differs from the target channel")
        if env.sender != self.principal:
            raise EnvelopeMismatch("signed sender is not the session's principal")
        generation = self.access.generation
        meta = await self._may_publish(frame.ch)
        if abs(env.ts - now_ms()) > self.hub.settings.clock_skew_ms:
            raise StaleTimestamp()
        key = await self.access.signer_key(env.kid, self.principal, env.ts)
        verified = self.hub.verifier.verify_many(((key, frame.alert, frame.sig),))
        await self._queue_publish(_Pending(
            frame.rid, frame.ch, False, [frame.alert], [frame.sig], [env], [None], [0],
            meta.epoch, verified, generation))

    async def _publish_batch(self, frame: f.PublishBatch) -> None:
        """``pubs``: the same checks as :meth:`_publish` for each alert, each settled on
        its own (a refused alert does not refuse the others); the frame as a whole is
        refused only when the channel is not one the member may publish in (404/403).
        Its alerts are stored in the frame's order, after those received before it."""
        generation = self.access.generation
        meta = await self._may_publish(frame.ch)
        now = now_ms()
        skew = self.hub.settings.clock_skew_ms
        n = len(frame.items)
        alerts = [item.alert for item in frame.items]
        sigs = [item.sig for item in frame.items]
        envs: list[Envelope | None] = [None] * n
        results: list[AppendResult | BaseException | None] = [None] * n
        checks: list[tuple[bytes, bytes, bytes]] = []
        checked: list[int] = []
        for i, alert in enumerate(alerts):
            try:
                if len(alert) > MAX_ALERT_BYTES:
                    raise FrameTooLarge("alert too large")
                env = decode_envelope(alert)
                if env.channel != frame.ch:
                    raise EnvelopeMismatch("signed channel differs from the target channel")
                if env.sender != self.principal:
                    raise EnvelopeMismatch("signed sender is not the session's principal")
                if abs(env.ts - now) > skew:
                    raise StaleTimestamp()
                key = await self.access.signer_key(env.kid, self.principal, env.ts)
            except CordonError as exc:
                results[i] = exc
                continue
            envs[i] = env
            checks.append((key, alert, sigs[i]))
            checked.append(i)
        verified = self.hub.verifier.verify_many(checks) if checks else None
        await self._queue_publish(_Pending(frame.rid, frame.ch, True, alerts, sigs, envs,
                                           results, checked, meta.epoch, verified,
                                           generation, min(n, self._in_flight_max)))

    async def _queue_publish(self, item: _Pending) -> None:
        """Take an in-flight slot per alert (released when answered; a ``pubs`` larger than
        the bound takes all of it, as its answer is one frame) and hand the frame to the
        connection's publish pipeline."""
        try:
            await self._in_flight.take(item.slots)
        except BaseException:
            if item.verified is not None:
                _forget(item.verified)
            raise
        if self._pipeline is None:
            self._pipeline = _Pipeline()
            self._spawn(self._publishes(self._pipeline))
        self._pipeline.put(item)

    async def _may_publish(self, ch: str) -> ChannelMeta:
        """The channel, if the member may publish in it (403/404 otherwise: hub.access)."""
        meta, role = await self.access.channel(ch, self.member, admin=False)
        if role not in WRITE_ROLES:
            raise AccessDenied("role does not allow publishing")
        return meta

    async def _still_allowed(self, item: _Pending) -> None:
        """Check a publish's role and signers again: an event (a revocation, a role or
        channel change) or the re-check changed a cached access decision since they were
        checked. A revocation that arrives while the publish waits for its signature
        check, or behind earlier publishes, refuses it before it is handed to the group
        commit (hub.access; PROTOCOL.md §6.8). Raises for the whole frame (its role);
        marks the alerts whose signer is no longer allowed."""
        while not self.access.unchanged_since(item.generation):
            item.generation = self.access.generation
            item.epoch = (await self._may_publish(item.ch)).epoch
            for i, env in enumerate(item.envs):
                if env is None or item.results[i] is not None:
                    continue
                try:
                    await self.access.signer_key(env.kid, self.principal, env.ts)
                except CordonError as exc:
                    item.results[i] = exc

    async def _publishes(self, pipeline: _Pipeline) -> None:
        """The connection's publish frames, in arrival order: checked, then handed to the
        group commit. Frames already waiting whose signatures are checked go together
        (one committer entry, one callback), in order."""
        while True:
            group: list[tuple[_Pending, list[int]]] = []
            requests: list[AppendRequest] = []
            for item in await pipeline.ready():
                try:
                    await self._check_pending(item)
                except Exception as exc:  # the whole frame: every alert not yet refused
                    for i, result in enumerate(item.results):
                        if result is None:
                            item.results[i] = exc
                positions: list[int] = []
                received = now_ms()
                ch, results, alerts, sigs = item.ch, item.results, item.alerts, item.sigs
                for i, env in enumerate(item.envs):
                    if env is None or results[i] is not None:
                        continue
                    requests.append(AppendRequest(  # channel, alert_id, alert, sig, kid,
                        # received, sender, seq, prev (positional: one made per alert)
                        ch, env.id, alerts[i], sigs[i], env.kid, received, env.sender,
                        env.seq, env.prev or b""))
                    positions.append(i)
                if positions:
                    group.append((item, positions))
                else:
                    self._answer(item)
            if not requests:
                continue
            try:
                committed = await self.hub.committer.enqueue_many(requests)
            except CordonError as exc:
                for item, positions in group:
                    for i in positions:
                        item.results[i] = exc
                    self._answer(item)
                continue
            self._committing.add(committed)
            committed.add_done_callback(functools.partial(self._committed, group))

    async def _check_pending(self, item: _Pending) -> None:
        """Signatures, bodies, access (again, if it changed) and rate, in this order, for
        each alert of the frame not refused yet; refusals go to ``item.results``."""
        if item.verified is not None:
            outcomes = await item.verified
            for i, outcome in zip(item.checked, outcomes, strict=True):
                if outcome is not None:
                    item.results[i] = outcome
        for i, env in enumerate(item.envs):
            if env is None or item.results[i] is not None:
                continue
            try:
                if check_body(env):  # refers to alerts or attachments: look them up
                    await check_references(self.hub.store, env)
            except CordonError as exc:
                item.results[i] = exc
        if not self.access.unchanged_since(item.generation):
            await self._still_allowed(item)
        results, envs = item.results, item.envs
        waiting = [i for i, result in enumerate(results)
                   if result is None and envs[i] is not None]
        if waiting:  # a token each, in order: the first that get none and the rest are 429
            granted = self.hub.rate.take_up_to(self.principal, len(waiting))
            for i in waiting[granted:]:
                results[i] = RateLimited("publish rate exceeded")

    def _committed(self, group: list[tuple[_Pending, list[int]]],
                   committed: asyncio.Future[list[AppendResult | Exception]]) -> None:
        """Answer publish frames once their alerts' batch is durable (or refused)."""
        self._committing.discard(committed)
        if committed.cancelled():  # the connection closed before its batch was sent
            return
        exc = committed.exception()
        results = iter(committed.result() if exc is None else ())
        for item, positions in group:
            for i in positions:
                item.results[i] = exc if exc is not None else next(results)
            self._answer(item)

    def _answer(self, item: _Pending) -> None:
        """Send the frame's answer (``ack``/``err`` for ``pub``, ``acks`` for ``pubs``)
        and free its in-flight slots; refusals are audited first (a 503 after: the store
        is what failed, so its answer must not wait for it)."""
        metrics = self.metrics
        refused: list[CordonError] = []
        acked = dups = 0
        for i, result in enumerate(item.results):
            if isinstance(result, AppendResult):
                if result.dup:
                    dups += 1
                else:
                    acked += 1
                continue
            if not isinstance(result, CordonError):
                log.error("%s: internal error handling pub", self.principal, exc_info=result)
                result = item.results[i] = InternalError()
            metrics.publish_refused(result.code)
            refused.append(result)
        metrics.acked += acked
        metrics.duplicates += dups
        if not refused:
            self._send_answer(item)
            return

        async def answer() -> None:
            try:
                later = [exc for exc in refused if isinstance(exc, Unavailable)]
                for exc in refused:
                    if not isinstance(exc, Unavailable | InternalError):
                        await self.hub.audit_refusal(self, "pub", exc, channel=item.ch)
                self._send_answer(item)
                for exc in later:
                    with contextlib.suppress(CordonError):
                        await self.hub.audit_refusal(self, "pub", exc, channel=item.ch)
            finally:
                self._in_flight.give(item.slots)
        self._spawn(answer())

    def _send_answer(self, item: _Pending) -> None:
        """The answer itself; frees the in-flight slots when every alert was acked."""
        if not item.batch:
            result = item.results[0]
            if isinstance(result, AppendResult):
                self._in_flight.give(1)
                # The epoch under which the offset became durable (a store recovered
                # meanwhile gave the channel a new one: Store.check_continuity).
                self.send(f.Ack(rid=item.rid, ch=item.ch, off=result.off,
                                epoch=result.epoch or item.epoch, dup=result.dup))
            else:
                assert isinstance(result, CordonError)
                self.send_error(item.rid, result)
            return
        # An ack item as its (off, epoch, dup): codec.encode_acks, no ItemAck per alert.
        answers: list[tuple[int, str, bool] | f.ItemError] = []
        acked, epoch, add = 0, item.epoch, answers.append
        for result in item.results:
            if isinstance(result, AppendResult):
                acked += 1
                add((result.off, result.epoch or epoch, result.dup))
            else:
                assert isinstance(result, CordonError)
                add(f.ItemError(code=result.code, msg=result.phrase, detail=result.detail))
        if acked == len(item.results):
            self._in_flight.give(item.slots)
        self.outbox.offer(codec.encode_acks(item.rid, item.ch, answers))

    # --- reading -------------------------------------------------------------
    async def _subscribe(self, frame: f.Subscribe) -> None:
        if frame.ch in self.subs:
            raise Conflict("already subscribed to this channel")
        if len(self.subs) >= MAX_SUBSCRIPTIONS:
            raise Conflict("too many subscriptions on this connection")
        meta, _role = await self.access.channel(frame.ch, self.member,
                                                admin=self.identity.admin, fresh=True)
        if meta.state == "archived":
            raise ChannelClosed("channel is archived: nothing more will arrive; use hist")
        if frame.epoch is not None and frame.epoch != meta.epoch:
            raise EpochMismatch(meta.epoch)
        since = meta.head if frame.since is None else frame.since
        if since > meta.head:
            raise InvalidFrame("since is beyond the channel's last offset")
        if since < meta.first - 1:
            raise HistoryGone(f"first retained offset is {meta.first}")
        sub = Subscription(channel=frame.ch, member=self.member, principal=self.principal,
                           outbox=self.outbox, cursor=since)
        self.subs[frame.ch] = sub
        self.send(f.Subscribed(rid=frame.rid, ch=frame.ch, epoch=meta.epoch,
                               first=meta.first, head=meta.head))
        task = asyncio.create_task(self._attach(frame.rid, sub, meta.head))
        self._attaching[frame.ch] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drop(self, ch: str) -> bool:
        """Stop the subscription to ``ch``, live or still catching up; False if none."""
        sub = self.subs.pop(ch, None)
        if sub is None:
            return False
        attaching = self._attaching.pop(ch, None)
        if attaching is not None:
            await cancel_and_wait(attaching)  # still catching up: stop before it joins
        await self.hub.feeds.detach(sub)
        return True

    async def end_subscription(self, ch: str, code: int, msg: str) -> None:
        """The hub ends the subscription to ``ch`` (role removed, channel gone): after
        what is already queued, the client gets ``ended`` and nothing more of ``ch``."""
        if await self._drop(ch):
            self.send(f.Ended(ch=ch, code=code, msg=msg))

    async def _attach(self, rid: int, sub: Subscription, head: int) -> None:
        try:
            await self.hub.feeds.attach(sub, head=head)
        except CordonError as exc:
            if self.subs.get(sub.channel) is sub:
                del self.subs[sub.channel]
            self.send_error(rid, exc)
        finally:
            if self._attaching.get(sub.channel) is asyncio.current_task():
                del self._attaching[sub.channel]

    async def _history(self, frame: f.HistoryRequest) -> None:
        meta, _role = await self.access.channel(frame.ch, self.member,
                                                admin=self.identity.admin, fresh=True)
        limit = max(1, min(frame.limit, HISTORY_PAGE_MAX))
        # Never above the durable watermark (meta.head): nothing not yet fsynced is shown.
        before = meta.head + 1 if frame.before is None else min(frame.before, meta.head + 1)
        items = await self.hub.store.read_before(frame.ch, before, limit)
        # The page must fit in one message a client accepts: keep the newest items that
        # do (at least one; an alert is far below the frame limit); the rest is "more".
        budget = min(self.hub.settings.max_frame_bytes, MAX_FRAME_BYTES) - _PAGE_OVERHEAD
        keep = 0
        for item in reversed(items):
            budget -= len(item.alert) + len(item.sig) + _ITEM_OVERHEAD
            if budget < 0 and keep:
                break
            keep += 1
        items = items[len(items) - keep:]
        more = bool(items) and items[0].off > meta.first
        self.send(f.HistoryPage(
            rid=frame.rid, ch=frame.ch, epoch=meta.epoch,
            items=tuple(f.PageItem(i.off, i.alert, i.sig) for i in items), more=more,
        ))


def _channel(frame: f.ClientFrame) -> str | None:
    return getattr(frame, "ch", None)
