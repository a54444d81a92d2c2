"""The :class:`Store`: connecting, durability checks, store-restart detection and
continuity, closing; the operations live in the mixins (channels, alerts, registry,
audit, events).

Deadlines. Every store operation runs under one overall deadline (``timeout_s``):
the client classes below wrap each command and each pipeline in
``asyncio.timeout``, so waiting for a pooled connection, connecting, redis-py's
retries and a WAITAOF all count against the same budget. (Before, socket timeouts,
retries and the pool's wait multiplied: a frozen store answered nothing for 80 s.)
Blocking reads (XREAD BLOCK, pub/sub) carry their own per-call bound instead.

Durability (what an ack means; :attr:`Store.durability`, :attr:`Store.durability_detail`):

- ``waitaof``: CONFIG GET says ``appendonly yes`` and ``appendfsync always``, and every
  batch also waits for ``WAITAOF 1 0``. An ack follows the fsync of the batch.
- ``appendfsync-always``: the same settings, on a server without WAITAOF (Redis 7.0):
  the server fsyncs before any reply of the event-loop turn leaves.
- ``waitaof-unverified``: CONFIG is unavailable (managed services), WAITAOF works:
  acks wait for WAITAOF, which implies an fsync only under ``appendfsync always``;
  under ``everysec`` Valkey 8.1 answers WAITAOF without fsyncing when its last fsync is
  under a second old (redis/redis#13793), so an ack then means "in the AOF, fsynced
  within about a second". Said in one log line at start.
- ``none``: ``durable=False``.

With ``durable=True``, a store whose CONFIG shows ``appendonly no`` or an
``appendfsync`` other than ``always``, or that has neither WAITAOF nor a readable CONFIG,
is refused (:class:`Unavailable`, with the reason): an ack there would not imply an fsync.

Continuity. Each pooled connection, when it opens, reads the server's ``run_id``
(INFO server). A new run_id means the store restarted: the connection is refused,
writes pause (:class:`Unavailable`), and :meth:`Store.check_continuity` runs: it
confirms what the store now holds is fsynced (a probe write + WAITAOF), then for every
channel compares the head with the highest durable watermark this process has seen
(and the ones persisted by the hub, passed as ``remembered``). A head below it means
the store lost alerts that were acked or delivered: the channel gets a new epoch
(offsets above the head will be reused, so old resumes must get 412). Then watermarks
are raised to the confirmed heads and writes resume; listeners
(:meth:`Store.on_continuity`) learn which channels changed epoch.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

from hub.protocol.errors import CordonError, Unavailable
from hub.storage._common import (
    _MAX_BLOCKING_CONNECTIONS,
    AUDIT_MAX_ENTRIES,
    FSYNC_TIMEOUT_MS,
    MAX_CONNECTIONS,
    STORE_TIMEOUT_S,
    _guard,
    log,
)
from hub.storage._keys import CHANNELS_KEY, PROBE_KEY, _dur_key, _meta_key
from hub.storage._scripts import (
    _ADD_MEMBER,
    _ADD_PRINCIPAL,
    _APPEND,
    _CREATE_CHANNEL,
    _DELETE_CHANNEL,
    _RAISE,
    _RECOVER,
    _RECOVER_SHA,
    _REVOKE_CERTS,
    _SET_CRL,
    _SET_ROLE,
    _TRIM,
    _UPDATE_EXISTING,
)
from hub.storage.alerts import _WAITAOF_MODES, AlertsMixin
from hub.storage.audit import AuditMixin
from hub.storage.channels import ChannelsMixin
from hub.storage.events import EventsMixin
from hub.storage.registry import RegistryMixin

#: Why WAITAOF alone is not trusted (the refusal and the log line cite it).
_EVERYSEC_BUG = ("under appendfsync everysec the server answers WAITAOF without fsyncing "
                 "when its last fsync is under a second old (redis/redis#13793)")


class _DeadlinePipeline(Pipeline):  # type: ignore[type-arg]
    _deadline_s: float | None = None

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        run: Any = super().execute
        if self._deadline_s is None:
            return await run(raise_on_error)  # type: ignore[no-any-return]
        async with asyncio.timeout(self._deadline_s):
            return await run(raise_on_error)  # type: ignore[no-any-return]


class _DeadlineRedis(aioredis.Redis):  # type: ignore[type-arg]
    """A client whose every command and pipeline has one overall deadline (retries, the
    pool's wait and reconnecting included); None: no deadline (blocking reads)."""

    _deadline_s: float | None = None

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        run: Any = super().execute_command
        if self._deadline_s is None:
            return await run(*args, **options)
        async with asyncio.timeout(self._deadline_s):
            return await run(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Any:
        pipe = _DeadlinePipeline(self.connection_pool, self.response_callbacks, transaction,
                                 shard_hint)
        pipe._deadline_s = self._deadline_s
        return pipe


def _info_field(info: Any, name: str) -> str:
    text = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return value.strip()
    return ""


class _RestartWatch:
    """Reads the server's run_id on every new connection; a new one is a restart."""

    def __init__(self) -> None:
        self.known: str | None = None
        self.pending: str | None = None
        self.version = ""
        self.blind = False  # INFO refused: no restart detection
        self.on_restart: Callable[[], None] | None = None

    async def on_connect(self, conn: Any) -> None:
        await conn.on_connect()
        await conn.send_command("INFO", "server", check_health=False)
        try:
            info = await conn.read_response()
        except ResponseError:  # INFO not permitted (an ACL): restarts cannot be noticed
            if not self.blind:
                self.blind = True
                log.warning("store: INFO is not permitted, so a store restart cannot be "
                            "noticed; call Hub.on_store_restarted() after restarting it")
            return
        run_id = _info_field(info, "run_id")
        if self.known is None:
            self.known = run_id
            self.version = (_info_field(info, "valkey_version")
                            and "valkey " + _info_field(info, "valkey_version")) or (
                "redis " + _info_field(info, "redis_version"))
            return
        if run_id == self.known:
            return
        if run_id != self.pending:
            self.pending = run_id
            log.warning("store restarted (new run_id): writes paused until its continuity "
                        "is checked")
            if self.on_restart is not None:
                self.on_restart()
        raise RedisConnectionError("store restarted: continuity not checked yet")


class Store(AlertsMixin, ChannelsMixin, RegistryMixin, AuditMixin, EventsMixin):
    """Async access to Redis/Valkey. Build with :meth:`connect`; close with :meth:`close`."""

    durability: str  # "waitaof" | "appendfsync-always" | "none"
    durability_detail: str  # a sentence for logs

    def __init__(
        self,
        client: aioredis.Redis[bytes],
        blocking: aioredis.Redis[bytes],
        *,
        timeout_s: float,
        fsync_timeout_ms: int,
        audit_max_entries: int = AUDIT_MAX_ENTRIES,
    ) -> None:
        """Use :meth:`connect`."""
        self._audit_max = audit_max_entries
        self._r = client
        self._block = blocking
        self._timeout_s = timeout_s
        self._fsync_timeout_ms = fsync_timeout_ms
        self.durability = "none"
        self.durability_detail = "not determined yet"
        self._create: AsyncScript = client.register_script(_CREATE_CHANNEL)
        self._delete: AsyncScript = client.register_script(_DELETE_CHANNEL)
        self._update: AsyncScript = client.register_script(_UPDATE_EXISTING)
        self._set_role: AsyncScript = client.register_script(_SET_ROLE)
        self._add_member: AsyncScript = client.register_script(_ADD_MEMBER)
        self._add_principal: AsyncScript = client.register_script(_ADD_PRINCIPAL)
        self._revoke_certs: AsyncScript = client.register_script(_REVOKE_CERTS)
        self._set_crl: AsyncScript = client.register_script(_SET_CRL)
        self._trim: AsyncScript = client.register_script(_TRIM)
        self._raise: AsyncScript = client.register_script(_RAISE)
        self._recover: AsyncScript = client.register_script(_RECOVER)
        self._seen = {}
        self._writes_open = True
        self._watch = _RestartWatch()
        self._watch.on_restart = self._restarted
        self._continuity = asyncio.Lock()
        self._recovery: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[dict[str, str]], None]] = []

    def __repr__(self) -> str:
        return f"<Store durability={self.durability}>"

    @property
    def timeout_s(self) -> float:
        """The overall deadline of one store operation (seconds)."""
        return self._timeout_s

    @property
    def seen(self) -> dict[str, tuple[str, int]]:
        """channel -> (epoch, highest durable watermark this process has seen): what the
        hub persists in its data folder and passes back as ``remembered``."""
        return dict(self._seen)

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        durable: bool = True,
        timeout_s: float = STORE_TIMEOUT_S,
        fsync_timeout_ms: int | None = None,
        max_connections: int = MAX_CONNECTIONS,
        audit_max_entries: int = AUDIT_MAX_ENTRIES,
        remembered: Mapping[str, tuple[str, int]] | None = None,
    ) -> Store:
        """Connect (``redis://``, ``rediss://`` or ``unix://``), ping, load scripts, check
        durability (module docstring: refuses, with :class:`Unavailable`, a store on which
        an ack would not imply an fsync when ``durable``), then check continuity against
        ``remembered`` (channel -> (epoch, watermark), e.g. persisted by a previous run).
        ``fsync_timeout_ms`` defaults to FSYNC_TIMEOUT_MS, at most half of ``timeout_s``.
        Raises :class:`Unavailable` if the server cannot be reached."""
        if fsync_timeout_ms is None:
            fsync_timeout_ms = min(FSYNC_TIMEOUT_MS, int(timeout_s * 500))
        if fsync_timeout_ms <= 0 or fsync_timeout_ms >= timeout_s * 1000:
            raise ValueError("fsync_timeout_ms must be positive and below timeout_s")
        if audit_max_entries < 1:
            raise ValueError("audit_max_entries must be positive")
        holder: list[Store] = []

        async def on_connect(conn: Any) -> None:
            await holder[0]._watch.on_connect(conn)

        retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2)
        common: dict[str, Any] = {
            "retry": retry, "socket_connect_timeout": timeout_s, "health_check_interval": 30,
            "redis_connect_func": on_connect,
        }  # fmt: skip
        pool: Any = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=timeout_s,
            socket_timeout=timeout_s, **common,
        )  # fmt: skip
        # Blocking reads and pub/sub wait legitimately: no socket timeout (bounded per call).
        block_pool: Any = aioredis.ConnectionPool.from_url(
            url, max_connections=_MAX_BLOCKING_CONNECTIONS, socket_timeout=None, **common
        )
        client = _DeadlineRedis(connection_pool=pool)
        client._deadline_s = timeout_s
        blocking = _DeadlineRedis(connection_pool=block_pool)
        store = cls(client, blocking, timeout_s=timeout_s, fsync_timeout_ms=fsync_timeout_ms,
                    audit_max_entries=audit_max_entries)
        holder.append(store)
        try:
            with _guard():
                await client.ping()
                await client.execute_command("SCRIPT", "LOAD", _APPEND)
                await store._detect_durability(durable)
            await store.check_continuity(remembered)
        except BaseException:
            await store.close()
            raise
        if store.durability == "waitaof-unverified":
            log.warning("store durability: %s", store.durability_detail)
        return store

    async def _detect_durability(self, durable: bool) -> None:
        version = self._watch.version or "unknown version"
        if not durable:
            self.durability = "none"
            self.durability_detail = "none: durable=False, acks do not wait for fsync"
            return
        raw: Any = self._r
        waitaof: str | None = None  # None: works; else why not
        try:
            # A fresh connection has written nothing, so this returns at once when AOF is on.
            local, _replicas = await raw.execute_command("WAITAOF", 1, 0, 1000)
        except ResponseError as exc:
            waitaof = "no WAITAOF" if "unknown command" in str(exc).lower() else "WAITAOF refused"
        else:
            if int(local) < 1:
                waitaof = "WAITAOF got no local fsync"
        try:
            conf = await self._r.config_get("append*")
        except ResponseError:
            conf = None
        if conf is None:
            if waitaof is not None:
                raise Unavailable(
                    f"durable = true, but the store ({version}) has {waitaof} and its "
                    "CONFIG is unavailable: nothing confirms an fsync. Use a store with "
                    "appendonly yes and appendfsync always, or set durable = false")
            self.durability = "waitaof-unverified"
            self.durability_detail = (
                f"waitaof-unverified ({version}): CONFIG is unavailable, so appendfsync "
                "cannot be checked; acks wait for WAITAOF 1 0, which means fsynced only "
                f"under appendfsync always: {_EVERYSEC_BUG}, so under everysec an ack "
                "means 'in the AOF, fsynced within about a second'")
            return
        aof = _conf(conf, "appendonly")
        fsync = _conf(conf, "appendfsync")
        if aof != "yes" or fsync != "always":
            raise Unavailable(
                f"durable = true needs the store to run with appendonly yes and appendfsync "
                f"always; it ({version}) has appendonly {aof or '?'}, appendfsync "
                f"{fsync or '?'}, so an ack would not imply an fsync (WAITAOF alone is not "
                f"trusted: {_EVERYSEC_BUG}). Fix the store's configuration, or set "
                "durable = false")
        if waitaof is None:
            self.durability = "waitaof"
            self.durability_detail = (
                f"waitaof ({version}): appendonly yes, appendfsync always (checked), and "
                "every batch waits for WAITAOF 1 0: an ack follows the batch's fsync")
        else:
            self.durability = "appendfsync-always"
            self.durability_detail = (
                f"appendfsync-always ({version}, {waitaof}): appendonly yes, appendfsync "
                "always (checked): the server fsyncs before it replies")

    # --- continuity ------------------------------------------------------------------
    def on_continuity(self, listener: Callable[[dict[str, str]], None]) -> None:
        """Call ``listener(changed)`` after every continuity check that followed a store
        restart this store noticed; ``changed`` maps each channel whose epoch changed to
        its new epoch."""
        self._listeners.append(listener)

    def _restarted(self) -> None:
        self._writes_open = False
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.get_running_loop().create_task(
                self._recover_loop(), name="store-continuity")

    async def _recover_loop(self) -> None:
        delay = 0.05
        while self._watch.pending is not None:
            try:
                changed = await self.check_continuity()
            except CordonError as exc:
                log.warning("store continuity check failed (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            for listener in list(self._listeners):
                try:
                    listener(changed)
                except Exception:  # a listener's bug must not stop the others
                    log.exception("continuity listener failed")

    async def check_continuity(
        self, remembered: Mapping[str, tuple[str, int]] | None = None
    ) -> dict[str, str]:
        """Check that the store holds everything this process saw as durable; give every
        channel that lost some a new epoch. Returns channel -> new epoch for each channel
        whose epoch differs from the one remembered (by this check or another process's).

        Writes of this store wait meanwhile. First a probe write and WAITAOF (on the same
        connection) confirm that what the store holds now is fsynced, with every channel's
        head read in the same round trip; after the check, each watermark is raised to
        that confirmed head. Idempotent: call it after restarting the store (the hub's
        supervision does, through :meth:`hub.server.Hub.on_store_restarted`)."""
        while True:
            noticed = self._watch.pending
            try:
                return await self._check_continuity(remembered)
            except Unavailable:
                # A restart noticed during this check (its first new connection): again.
                if self._watch.pending is None or self._watch.pending == noticed:
                    raise

    async def _check_continuity(
        self, remembered: Mapping[str, tuple[str, int]] | None
    ) -> dict[str, str]:
        async with self._continuity:
            self._writes_open = False
            pending = self._watch.pending
            if pending is not None:
                self._watch.known = pending
            for name, (epoch, mark) in (remembered or {}).items():
                mine = self._seen.get(name)
                if mine is None or (mine[0] == epoch and mine[1] < mark):
                    self._seen[name] = (epoch, mark)
            known = dict(self._seen)
            with _guard():
                names = sorted({n.decode() for n in await self._r.smembers(CHANNELS_KEY)}
                               | set(known))
                pipe = self._r.pipeline(transaction=False)
                pipe.set(PROBE_KEY, secrets.token_hex(8))
                for name in names:
                    pipe.hget(_meta_key(name), "head")
                wait = self.durability in _WAITAOF_MODES
                if wait:
                    pipe.execute_command("WAITAOF", 1, 0, self._fsync_timeout_ms)
                replies = await pipe.execute()
                if wait and int(replies[-1][0]) < 1:
                    raise Unavailable("fsync not confirmed")
                heads = [int(h) if h else 0 for h in replies[1:1 + len(names)]]
                pipe = self._r.pipeline(transaction=False)
                pipe.execute_command("SCRIPT", "LOAD", _RECOVER)
                for name, head in zip(names, heads, strict=True):
                    epoch, mark = known.get(name, ("", 0))
                    pipe.evalsha(_RECOVER_SHA, 2, _meta_key(name), _dur_key(name),
                                 epoch, mark, head, secrets.token_hex(16))
                results = await pipe.execute()
            changed: dict[str, str] = {}
            for name, head, result in zip(names, heads, results[1:], strict=True):
                bumped, epoch, mark = int(result[0]), result[1].decode(), int(result[2])
                if bumped < 0:
                    self._seen.pop(name, None)
                    continue
                old = known.get(name)
                if bumped:
                    log.error("channel %s: the store holds alerts up to %d, but %d were durable "
                              "before: new epoch %s", name, head, old[1] if old else 0, epoch)
                if old is not None and old[0] != epoch:
                    changed[name] = epoch
                self._seen[name] = (epoch, mark)
            if self._watch.pending == pending:
                self._watch.pending = None
                self._writes_open = True
            return changed

    async def close(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._recovery
        for client in (self._r, self._block):
            with contextlib.suppress(RedisError, OSError):
                await client.aclose(close_connection_pool=True)  # type: ignore[attr-defined]

    async def ping(self) -> None:
        """Round trip to the server; :class:`Unavailable` if it does not answer."""
        with _guard():
            await self._r.ping()


def _conf(conf: Mapping[Any, Any], name: str) -> str:
    value = conf.get(name.encode(), conf.get(name, b""))
    return value.decode() if isinstance(value, bytes) else str(value)
