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

Sentinel. With ``sentinels`` (and no URL) every connection goes to the server the
sentinels name as the primary of ``service`` (:class:`_SentinelConnection`: asked again
on every reconnection) and is refused unless that server says ``role:master`` (INFO
replication, read with the run_id); a READONLY reply on a pooled connection (the
server was demoted while connected) drops it, and the command is retried on the new
primary. A promoted replica has another run_id, so a failover runs the same path as a
restart: writes pause, the new primary's durability settings are checked again (and
its replicas' with ``ack_replicas``), then its continuity. The sentinels are also asked
every SENTINEL_POLL_S which server is the primary (:meth:`Store._watch_sentinels`):
a primary frozen past down-after closes nothing and answers nothing, so when they name
another one every connection to the old one is dropped at once, and event streams end
(their owners resubscribe and re-read: pub/sub messages are lost in a failover).

Replicated acks. With ``ack_replicas = N`` every durability wait is ``WAITAOF 1 N`` on
the connection that wrote, re-issued every ACK_RETRY_MS until it confirms or the fsync
timeout passes (:meth:`AlertsMixin._durable_pipeline`): an ack, and the durable
watermark, then mean "fsynced on the primary and on N replicas". Replicas must run
``appendfsync always``; :meth:`Store._check_replicas` asks each (CONFIG GET) at
connect and after each failover.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import SSLConnection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import (
    MasterNotFoundError,
    Sentinel,
    SentinelConnectionPool,
    SentinelManagedConnection,
)
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

from hub.protocol.errors import CordonError, Unavailable
from hub.storage._common import (
    _MAX_BLOCKING_CONNECTIONS,
    ACK_REPLICAS,
    AUDIT_MAX_ENTRIES,
    FSYNC_TIMEOUT_MS,
    MAX_ACK_REPLICAS,
    MAX_CONNECTIONS,
    SENTINEL_POLL_S,
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
from hub.storage.logs import LogsMixin
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


class _SentinelConnection(SentinelManagedConnection):
    """A connection to the primary the sentinels name, however it (re)connects.

    redis-py's asyncio SentinelManagedConnection asks the sentinels only in
    ``connect()``; a command retried after a dropped connection reconnects through
    ``connect_check_health()``, straight to the *old* address: after a failover away from
    a frozen primary, that is a server which accepts TCP (the kernel does) and answers
    nothing, for a whole store timeout. Here every reconnection asks the sentinels."""

    async def connect_to(self, address: Any) -> None:
        self.host, self.port = address
        base: Any = super(SentinelManagedConnection, self)
        pool: Any = self.connection_pool
        await base.connect_check_health(check_health=pool.check_connection,
                                        retry_socket_connect=False)

    async def connect_check_health(self, check_health: bool = True,
                                   retry_socket_connect: bool = True) -> None:
        if self.is_connected:
            return
        await self.connect()


class _SentinelSSLConnection(_SentinelConnection, SSLConnection):
    pass


class _SentinelPool(SentinelConnectionPool):  # type: ignore[type-arg]
    """Connections to whichever server the sentinels name as the primary (redis-py asks
    them on every new connection; a READONLY reply drops the connection)."""


class _BlockingSentinelPool(SentinelConnectionPool,  # type: ignore[type-arg]
                            aioredis.BlockingConnectionPool):  # type: ignore[type-arg]
    """The same, waiting (up to its timeout) for a free connection when all are busy,
    like the plain store's BlockingConnectionPool."""


def _address(text: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) as a pair; ValueError if it is not one."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not a host:port sentinel address: {text!r}")
    return host, int(port)


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
        #: Refuse a connection to a server that is not a primary (Sentinel deployments:
        #: the sentinels' answer may be stale for a moment around a failover).
        self.require_primary = False
        #: Seconds a new connection may take to say hello (set to the store timeout).
        self.timeout_s = STORE_TIMEOUT_S

    async def on_connect(self, conn: Any) -> None:
        # Bounded even on connections without a socket timeout (blocking reads, pub/sub):
        # a frozen server accepts TCP connections (the kernel does) and answers nothing.
        try:
            async with asyncio.timeout(self.timeout_s):
                await self._on_connect(conn)
        except TimeoutError as exc:
            raise RedisConnectionError("the store did not answer a new connection") from exc

    async def _on_connect(self, conn: Any) -> None:
        await conn.on_connect()
        await conn.send_command("INFO", "server", "replication", check_health=False)
        try:
            info = await conn.read_response()
        except ResponseError:  # INFO not permitted (an ACL): restarts cannot be noticed
            if not self.blind:
                self.blind = True
                log.warning("store: INFO is not permitted, so a store restart cannot be "
                            "noticed; call Hub.on_store_restarted() after restarting it")
            return
        run_id = _info_field(info, "run_id")
        role = _info_field(info, "role")
        if self.require_primary and role and role != "master":
            raise RedisConnectionError(f"the server the sentinels named is a {role}, not the "
                                       "primary (a failover is under way)")
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


class Store(AlertsMixin, ChannelsMixin, RegistryMixin, AuditMixin, EventsMixin, LogsMixin):
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
        ack_replicas: int = ACK_REPLICAS,
        sentinel: Sentinel | None = None,
        service: str = "",
        durable: bool = True,
    ) -> None:
        """Use :meth:`connect`."""
        self._audit_max = audit_max_entries
        self._ack_replicas = ack_replicas
        self._sentinel = sentinel
        self._service = service
        self._durable = durable
        self._generation = 0
        self._primary: tuple[str, int] | None = None
        self._sentinel_watch: asyncio.Task[None] | None = None
        self._moves: set[asyncio.Task[None]] = set()
        self._no_primary = False
        #: Failovers (a new primary named by the sentinels) this store noticed.
        self.failovers = 0
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
    def ack_replicas(self) -> int:
        """Replicas that confirm each acknowledged write's fsync, besides the primary."""
        return self._ack_replicas

    @property
    def primary(self) -> tuple[str, int] | None:
        """(host, port) of the primary the sentinels named last (None without Sentinel)."""
        return self._primary

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
        url: str | None,
        *,
        durable: bool = True,
        timeout_s: float = STORE_TIMEOUT_S,
        fsync_timeout_ms: int | None = None,
        max_connections: int = MAX_CONNECTIONS,
        audit_max_entries: int = AUDIT_MAX_ENTRIES,
        remembered: Mapping[str, tuple[str, int]] | None = None,
        sentinels: Sequence[str] = (),
        service: str = "cordon",
        password: str | None = None,
        username: str | None = None,
        sentinel_password: str | None = None,
        tls: bool = False,
        tls_ca: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        ack_replicas: int = ACK_REPLICAS,
    ) -> Store:
        """Connect (``redis://``, ``rediss://`` or ``unix://``; or, with ``sentinels``
        (``host:port`` each) and no ``url``, to the primary the sentinels name for
        ``service``), ping, load scripts, check durability (module docstring: refuses,
        with :class:`Unavailable`, a store on which an ack would not imply an fsync when
        ``durable``), then check continuity against ``remembered`` (channel -> (epoch,
        watermark), e.g. persisted by a previous run). ``fsync_timeout_ms`` defaults to
        FSYNC_TIMEOUT_MS, at most half of ``timeout_s``. ``password``/``username``: the
        data nodes' (with a URL, instead of putting them in it); ``sentinel_password``: the
        sentinels' own. ``tls``: TLS to the data nodes and the sentinels (a ``rediss://``
        URL implies it), their certificates checked against the CA file ``tls_ca`` (the
        system's CAs when None) and the host name; ``tls_cert``/``tls_key``: a client
        certificate, for a store that requires one (``tls-auth-clients yes``).
        ``ack_replicas``: replicas that must confirm each write's fsync (WAITAOF 1 N)
        before it is acknowledged (needs WAITAOF: ``durable``, and a store that has it).
        Raises :class:`Unavailable` if the server cannot be reached."""
        if (url is None) == (not sentinels):
            raise ValueError("give either a store URL or sentinel addresses")
        tls = tls or (url or "").startswith("rediss://")
        if tls and (url or "").startswith("unix://"):
            raise ValueError("TLS to a unix socket store makes no sense")
        if (tls_ca or tls_cert or tls_key) and not tls:
            raise ValueError("tls_ca / tls_cert / tls_key need tls")
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("give tls_cert and tls_key together")
        if not 0 <= ack_replicas <= MAX_ACK_REPLICAS:
            raise ValueError(f"ack_replicas must be 0..{MAX_ACK_REPLICAS}")
        if ack_replicas and not durable:
            raise ValueError("ack_replicas needs durable = true (acks wait for WAITAOF)")
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
        secure: dict[str, Any] = {}
        if tls:
            secure = {"ssl_ca_certs": tls_ca, "ssl_certfile": tls_cert, "ssl_keyfile": tls_key,
                      "ssl_cert_reqs": "required", "ssl_check_hostname": True}
        auth: dict[str, Any] = {k: v for k, v in (("password", password),
                                                   ("username", username)) if v is not None}
        sentinel: Sentinel | None = None
        if url is not None:
            if tls and not url.startswith("rediss://"):
                auth["connection_class"] = SSLConnection  # store_tls with a redis:// URL
            # Options in the URL itself (a password, ?ssl_ca_certs=) win over these.
            pool: Any = aioredis.BlockingConnectionPool.from_url(
                url, max_connections=max_connections, timeout=timeout_s,
                socket_timeout=timeout_s, **auth, **secure, **common,
            )  # fmt: skip
            # Blocking reads and pub/sub wait legitimately: no socket timeout (bounded per
            # call).
            block_pool: Any = aioredis.ConnectionPool.from_url(
                url, max_connections=_MAX_BLOCKING_CONNECTIONS, socket_timeout=None,
                **auth, **secure, **common)
        else:
            addresses = [_address(a) for a in sentinels]
            sentinel = Sentinel(addresses, sentinel_kwargs={
                "socket_timeout": timeout_s, "socket_connect_timeout": timeout_s,
                "password": sentinel_password, **({"ssl": True, **secure} if tls else {})})
            auth["connection_class"] = _SentinelSSLConnection if tls else _SentinelConnection
            pool = _BlockingSentinelPool(  # type: ignore[call-arg]
                service, sentinel, max_connections=max_connections, timeout=timeout_s,
                socket_timeout=timeout_s, **auth, **secure, **common)
            block_pool = _SentinelPool(  # type: ignore[call-arg]
                service, sentinel, max_connections=_MAX_BLOCKING_CONNECTIONS,
                socket_timeout=None, **auth, **secure, **common)
        client = _DeadlineRedis(connection_pool=pool)
        client._deadline_s = timeout_s
        blocking = _DeadlineRedis(connection_pool=block_pool)
        store = cls(client, blocking, timeout_s=timeout_s, fsync_timeout_ms=fsync_timeout_ms,
                    audit_max_entries=audit_max_entries, ack_replicas=ack_replicas,
                    sentinel=sentinel, service=service, durable=durable)
        store._watch.require_primary = sentinel is not None
        store._watch.timeout_s = timeout_s
        holder.append(store)
        try:
            try:
                with _guard():
                    if sentinel is not None:
                        store._primary = await sentinel.discover_master(service)
                    await client.ping()
                    await client.execute_command("SCRIPT", "LOAD", _APPEND)
            except Unavailable as exc:  # the first contact: say why, when it is clear
                text = _chain_text(exc)
                if tls and "[SSL" not in text:
                    # No TLS reason in what redis-py says: its sentinel discovery keeps only
                    # the errors' class names, and a refused client certificate (TLS 1.3:
                    # after the handshake) can reach it as a reset, not the server's alert,
                    # when the reset for its unread first command overtakes the alert.
                    if sentinel is not None:
                        host, port = _address(sentinels[0])
                    else:
                        parsed = urlsplit(url or "")
                        host, port = parsed.hostname or "localhost", parsed.port or 6379
                    text += " | " + await _tls_probe(host, port, tls_ca, tls_cert, tls_key,
                                                     timeout_s)
                why = _diagnose(text, tls=tls, tls_ca=tls_ca)
                if why is None:
                    raise
                raise Unavailable(f"{exc}: {why}") from exc
            with _guard():
                await store._detect_durability(durable)
                await store._check_replicas()
            await store.check_continuity(remembered)
        except BaseException:
            await store.close()
            raise
        if store.durability == "waitaof-unverified":
            log.warning("store durability: %s", store.durability_detail)
        if sentinel is not None:
            store._sentinel_watch = asyncio.get_running_loop().create_task(
                store._watch_sentinels(), name="sentinel-watch")
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
                f"every batch waits for WAITAOF 1 {self._ack_replicas}: an ack follows the "
                "batch's fsync" + (f" on the primary and {self._ack_replicas} replica(s)"
                                   if self._ack_replicas else ""))
        else:
            self.durability = "appendfsync-always"
            self.durability_detail = (
                f"appendfsync-always ({version}, {waitaof}): appendonly yes, appendfsync "
                "always (checked): the server fsyncs before it replies")
            if self._ack_replicas:
                raise Unavailable(
                    f"ack_replicas = {self._ack_replicas} needs WAITAOF, and the store "
                    f"({version}) has {waitaof}: replicas could not confirm an fsync")

    def _node_options(self) -> dict[str, Any]:
        """How to reach another data node of the deployment (the primary's credentials
        and TLS settings), for the replica check."""
        pool: Any = self._r.connection_pool
        kw = pool.connection_kwargs
        out = {k: kw[k] for k in ("username", "password", "ssl_ca_certs", "ssl_certfile",
                                   "ssl_keyfile", "ssl_cert_reqs") if kw.get(k) is not None}
        if issubclass(pool.connection_class, SSLConnection):
            out["ssl"] = True
        return out

    async def _check_replicas(self) -> None:
        """With ``ack_replicas``: every replica the primary lists (INFO replication) must
        run ``appendonly yes`` and ``appendfsync always`` (CONFIG GET on the replica
        itself), since under ``everysec`` a replica confirms WAITAOF without fsyncing.
        A replica that says otherwise: :class:`Unavailable` (nothing is acknowledged
        until it is fixed). One that cannot be asked (unreachable, CONFIG refused) is
        logged: its confirmations are then trusted as they are. Fewer replicas than
        ``ack_replicas`` is logged too (publishes get 503 until they are back)."""
        if not self._ack_replicas or self.durability == "none":
            return
        raw: Any = self._r
        info = await raw.execute_command("INFO", "replication")
        replicas: list[tuple[str, int, str]] = []
        for key, value in _replica_fields(info):
            if key.startswith("slave") and key[5:].isdigit():
                fields = {str(k): str(v) for k, v in value.items()}
                if fields.get("ip") and fields.get("port", "").isdigit():
                    replicas.append((fields["ip"], int(fields["port"]),
                                     fields.get("state", "?")))
        online = sum(1 for *_, state in replicas if state == "online")
        if online < self._ack_replicas:
            log.warning("store: %d replica(s) online, ack_replicas = %d: publishes get 503 "
                        "until enough replicas confirm", online, self._ack_replicas)
        # All at once, each within the fsync wait: a frozen replica must not hold up a
        # failover's continuity check (writes are paused meanwhile) for long.
        found = await asyncio.gather(*(self._replica_conf(host, port)
                                       for host, port, _state in replicas))
        bad = [f for f in found if f is not None]
        if bad:
            raise Unavailable(
                f"ack_replicas = {self._ack_replicas} needs every replica to run appendonly "
                f"yes and appendfsync always ({'; '.join(bad)}): under everysec a replica "
                "confirms WAITAOF without fsyncing")

    async def _replica_conf(self, host: str, port: int) -> str | None:
        """Why the replica at host:port cannot be trusted to fsync before it confirms
        (None: it runs appendonly yes + appendfsync always, or it could not be asked)."""
        limit = self._fsync_timeout_ms / 1000
        node: Any = aioredis.Redis(host=host, port=port, socket_timeout=limit,
                                   socket_connect_timeout=limit, **self._node_options())
        try:
            async with asyncio.timeout(limit):
                conf = await node.config_get("append*")
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("store: cannot check replica %s:%d's configuration (%s): its "
                        "confirmations mean an fsync only if it runs appendfsync always",
                        host, port, type(exc).__name__)
            return None
        finally:
            with contextlib.suppress(RedisError, OSError):
                await node.aclose()
        aof, fsync = _conf(conf, "appendonly"), _conf(conf, "appendfsync")
        if aof != "yes" or fsync != "always":
            return f"{host}:{port} has appendonly {aof or '?'}, appendfsync {fsync or '?'}"
        return None

    @property
    def paused(self) -> str | None:
        """Why writes are paused (the sentinels name no healthy primary; or the store was
        noticed to be another server: a restart or a failover, and its durability and
        continuity are being checked), or None. For readiness: publishes get 503
        meanwhile."""
        if self._no_primary:
            return "the sentinels name no healthy primary (a failover is under way)"
        if self._writes_open:
            return None
        return "store restarted or failed over: checking its durability and continuity"

    # --- Sentinel ----------------------------------------------------------------------
    async def _watch_sentinels(self) -> None:
        """Ask the sentinels every SENTINEL_POLL_S which server is the primary; when they
        name another one, drop every connection to the old one, in use or not (a primary
        frozen past down-after answers nothing and closes nothing, so waiting for its
        connections to fail would take a whole store timeout) and end the event streams,
        whose owners resubscribe and re-read what the events they may have missed would
        have changed. The first new connection then sees the new server's run_id: writes pause until
        its durability and continuity are checked (:meth:`check_continuity`)."""
        assert self._sentinel is not None
        while True:
            await asyncio.sleep(SENTINEL_POLL_S)
            try:
                async with asyncio.timeout(self._timeout_s):
                    address = await self._sentinel.discover_master(self._service)
            except MasterNotFoundError:  # none names a healthy primary: failover under way
                self._no_primary = True
                continue
            except (RedisError, OSError, TimeoutError):
                continue  # no sentinel answers
            except Exception:  # an answer redis-py cannot parse: the watch must go on
                log.exception("store: asking the sentinels for the primary failed")
                continue
            self._no_primary = False
            if address == self._primary:
                continue
            log.warning("store: the sentinels name a new primary %s:%s (was %s): "
                        "reconnecting", address[0], address[1],
                        "{}:{}".format(*self._primary) if self._primary else "?")
            self._primary = address
            self.failovers += 1
            self._generation += 1
            # In a task of its own: dropping connections to a frozen server, or meeting
            # the new primary just as it freezes too, may take a store timeout, and the
            # watch must go on asking meanwhile.
            task = asyncio.get_running_loop().create_task(self._move(), name="store-move")
            self._moves.add(task)
            task.add_done_callback(self._moves.discard)

    async def _move(self) -> None:
        """After the sentinels named a new primary: drop every connection (commands in
        flight on the old primary fail now, retried or 503, instead of waiting for the
        store timeout; appends are idempotent: dedup), then meet the new primary (its
        run_id starts the durability and continuity checks) rather than at the next
        command."""
        for client in (self._r, self._block):
            pool: Any = client.connection_pool
            with contextlib.suppress(RedisError, OSError):
                await pool.disconnect(inuse_connections=True)
        with contextlib.suppress(CordonError, TimeoutError), _guard():
            await self._r.ping()

    # --- continuity ------------------------------------------------------------------
    def on_continuity(self, listener: Callable[[dict[str, str]], None]) -> None:
        """Call ``listener(changed)`` after every continuity check that followed a store
        restart this store noticed; ``changed`` maps each channel whose epoch changed to
        its new epoch."""
        self._listeners.append(listener)

    def _restarted(self) -> None:
        self._writes_open = False
        self._generation += 1
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
                # Another server (a restart, or a failover to a replica): its settings too.
                self._watch.known = pending
                with _guard():
                    await self._detect_durability(self._durable)
                    await self._check_replicas()
            for name, (epoch, mark) in (remembered or {}).items():
                mine = self._seen.get(name)
                if mine is None or (mine[0] == epoch and mine[1] < mark):
                    self._seen[name] = (epoch, mark)
            known = dict(self._seen)
            with _guard():
                names = sorted({n.decode() for n in await self._r.smembers(CHANNELS_KEY)}
                               | set(known))

                def fill(pipe: Any) -> None:
                    pipe.set(PROBE_KEY, secrets.token_hex(8))
                    for name in names:
                        pipe.hget(_meta_key(name), "head")

                # What it holds must be fsynced before the watermarks rise to it. On the
                # primary only: after a failover with fewer replicas than ack_replicas,
                # waiting for them here would refuse every connection, reads included
                # (publishes still get 503 until enough replicas confirm; what this
                # server holds beyond the last ack, written but never acknowledged,
                # becomes visible, and a retry of it is acknowledged "dup" only once
                # ack_replicas replicas confirm).
                replies, confirmed = await self._durable_pipeline(
                    fill, wait=self.durability in _WAITAOF_MODES, replicas=0)
                for reply in replies:
                    if isinstance(reply, Exception):
                        raise reply
                if not confirmed:
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
        for task in [self._sentinel_watch, *self._moves]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._recovery
        for client in (self._r, self._block):
            with contextlib.suppress(RedisError, OSError):
                await client.aclose(close_connection_pool=True)  # type: ignore[attr-defined]
        if self._sentinel is not None:
            sentinel: Any = self._sentinel
            with contextlib.suppress(RedisError, OSError):
                await sentinel.aclose()

    async def ping(self) -> None:
        """Round trip to the server; :class:`Unavailable` if it does not answer."""
        with _guard():
            await self._r.ping()


def _replica_fields(info: Any) -> list[tuple[str, Mapping[Any, Any]]]:
    """INFO replication's ``slaveN`` entries as (key, fields): redis-py parses the reply
    into a dict (each slaveN a dict), a raw reply is text (``ip=…,port=…,state=…``)."""
    if isinstance(info, Mapping):
        return [(str(k), v) for k, v in info.items() if isinstance(v, Mapping)]
    text = info.decode("utf-8", "replace") if isinstance(info, bytes) else str(info)
    out: list[tuple[str, Mapping[Any, Any]]] = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        out.append((key, dict(f.partition("=")[::2] for f in value.strip().split(","))))
    return out


def _chain_text(exc: BaseException) -> str:
    """``exc`` and the exceptions chained to it, as one line."""
    texts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(texts) < 8:
        texts.append(f"{type(seen).__name__}: {seen}")
        seen = seen.__cause__ or seen.__context__
    return " | ".join(texts)


#: How long the TLS probe waits for a refusal alert after its handshake.
_PROBE_ALERT_WAIT_S = 1.0


async def _tls_probe(host: str, port: int, ca: str | None, cert: str | None,
                     key: str | None, timeout_s: float) -> str:
    """One TLS handshake with host:port as the store's clients make it, then a short wait
    for the alert a refused client certificate gets under TLS 1.3; the error as text, or
    ""."""
    writer = None
    try:
        ctx = ssl.create_default_context(cafile=ca)
        if cert is not None:
            ctx.load_cert_chain(cert, key)
        async with asyncio.timeout(min(timeout_s, 5.0)):
            reader, writer = await asyncio.open_connection(host, port, ssl=ctx)
        # Nothing is written: a server that refuses the client certificate (TLS 1.3: after
        # the handshake) sends its alert and closes; bytes of ours it never read would
        # make its kernel reset the connection, and the reset can overtake the alert.
        try:
            if not await asyncio.wait_for(reader.read(1), _PROBE_ALERT_WAIT_S):
                return "Connection closed by server"
        except TimeoutError:
            return ""  # no alert: the handshake was accepted
    except (OSError, TimeoutError, ValueError) as exc:  # ssl.SSLError is an OSError
        return f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    return ""


def _diagnose(text: str, *, tls: bool, tls_ca: str | None) -> str | None:
    """Why the first contact with the store failed, in words an operator can act on, when
    the errors' ``text`` (:func:`_chain_text`) shows it (TLS, credentials); None otherwise.
    (For the operator's terminal and log only: peers never see store errors.)"""
    ca = f"the CA in {tls_ca}" if tls_ca else "the system's CAs"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        detail = text.partition("certificate verify failed: ")[2].partition(" (")[0]
        return (f"the store's TLS certificate was not accepted ({detail or 'verify failed'}): "
                f"it must be issued by {ca} (store_tls_ca) and name the host connected to")
    if "CERTIFICATE_REQUIRED" in text or "PEER_DID_NOT_RETURN_A_CERTIFICATE" in text:
        return ("the store requires a client certificate (tls-auth-clients): give "
                "store_tls_cert and store_tls_key")
    if "WRONG_VERSION_NUMBER" in text or "RECORD_LAYER_FAILURE" in text:
        return "the store did not answer TLS at that address: is it a TLS port (tls-port)?"
    if tls and "[SSL" in text:
        reason = text[text.index("[SSL"):].partition("]")[2].partition(" (_ssl")[0].strip()
        return f"the TLS handshake with the store failed ({reason or 'no reason given'})"
    if not tls and ("reset by peer" in text or "Connection closed by server" in text):
        return ("the store closed the connection at once: if it accepts only TLS, set "
                "store_tls (and store_tls_ca)")
    if "AuthenticationError" in text or "WRONGPASS" in text or "NOAUTH" in text:
        return ("the store refused the credentials: check store_password / store_username "
                "(or the password in redis_url)")
    return None


def _conf(conf: Mapping[Any, Any], name: str) -> str:
    value = conf.get(name.encode(), conf.get(name, b""))
    return value.decode() if isinstance(value, bytes) else str(value)
