"""The :class:`Store`: connecting, durability detection, closing; the operations
live in the mixins (channels, alerts, registry, audit, events)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError, ResponseError

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

from hub.storage._common import (
    _MAX_BLOCKING_CONNECTIONS,
    AUDIT_MAX_ENTRIES,
    FSYNC_TIMEOUT_MS,
    MAX_CONNECTIONS,
    STORE_TIMEOUT_S,
    _guard,
    log,
)
from hub.storage._scripts import (
    _ADD_MEMBER,
    _ADD_PRINCIPAL,
    _APPEND,
    _CREATE_CHANNEL,
    _DELETE_CHANNEL,
    _REVOKE_CERTS,
    _SET_CRL,
    _SET_ROLE,
    _TRIM,
    _UPDATE_EXISTING,
)
from hub.storage.alerts import AlertsMixin
from hub.storage.audit import AuditMixin
from hub.storage.channels import ChannelsMixin
from hub.storage.events import EventsMixin
from hub.storage.registry import RegistryMixin


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

    def __repr__(self) -> str:
        return f"<Store durability={self.durability}>"

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        durable: bool = True,
        timeout_s: float = STORE_TIMEOUT_S,
        fsync_timeout_ms: int = FSYNC_TIMEOUT_MS,
        max_connections: int = MAX_CONNECTIONS,
        audit_max_entries: int = AUDIT_MAX_ENTRIES,
    ) -> Store:
        """Connect (``redis://``, ``rediss://`` or ``unix://``), ping, load scripts, and find
        out the durability mechanism: WAITAOF when the server has it (Valkey/Redis >= 7.2),
        else ``appendfsync always`` if set, else none (``durability`` says which).
        ``durable=False`` never waits for fsync (``durability`` is then "none").
        Raises :class:`Unavailable` if the server cannot be reached."""
        if fsync_timeout_ms <= 0 or fsync_timeout_ms >= timeout_s * 1000:
            raise ValueError("fsync_timeout_ms must be positive and below timeout_s")
        if audit_max_entries < 1:
            raise ValueError("audit_max_entries must be positive")
        retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2)
        common: dict[str, Any] = {
            "retry": retry, "socket_connect_timeout": timeout_s, "health_check_interval": 30,
        }  # fmt: skip
        pool: Any = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=timeout_s,
            socket_timeout=timeout_s, **common,
        )  # fmt: skip
        # Blocking reads and pub/sub wait legitimately: no socket timeout (bounded per call).
        block_pool: Any = aioredis.ConnectionPool.from_url(
            url, max_connections=_MAX_BLOCKING_CONNECTIONS, socket_timeout=None, **common
        )
        client: Any = aioredis.Redis(connection_pool=pool)
        blocking: Any = aioredis.Redis(connection_pool=block_pool)
        store = cls(client, blocking, timeout_s=timeout_s, fsync_timeout_ms=fsync_timeout_ms,
                    audit_max_entries=audit_max_entries)
        try:
            with _guard():
                await client.ping()
                await client.script_load(_APPEND)
                await store._detect_durability(durable)
        except BaseException:
            await store.close()
            raise
        if durable and store.durability == "none":
            log.warning("store durability: %s", store.durability_detail)
        return store

    async def _detect_durability(self, durable: bool) -> None:
        if not durable:
            self.durability = "none"
            self.durability_detail = "none: durable=False, acks do not wait for fsync"
            return
        try:
            # A fresh connection has written nothing, so this returns at once when AOF is on.
            raw: Any = self._r
            local, _replicas = await raw.execute_command("WAITAOF", 1, 0, 1000)
        except ResponseError as exc:
            text = str(exc).lower()
            if "unknown command" not in text:
                self.durability = "none"
                self.durability_detail = f"none: WAITAOF unusable ({exc}); enable appendonly"
                return
        else:
            if int(local) >= 1:
                self.durability = "waitaof"
                self.durability_detail = "waitaof: every batch waits for WAITAOF 1 0 (AOF fsync)"
                return
        try:
            conf = await self._r.config_get("append*")
        except ResponseError as exc:
            self.durability = "none"
            self.durability_detail = f"none: no WAITAOF and CONFIG unavailable ({exc})"
            return
        aof = conf.get(b"appendonly", conf.get("appendonly", b""))
        fsync = conf.get(b"appendfsync", conf.get("appendfsync", b""))
        aof = aof.decode() if isinstance(aof, bytes) else str(aof)
        fsync = fsync.decode() if isinstance(fsync, bytes) else str(fsync)
        if aof == "yes" and fsync == "always":
            self.durability = "appendfsync-always"
            self.durability_detail = (
                "appendfsync-always: no WAITAOF; the server fsyncs every write before replying"
            )
        else:
            self.durability = "none"
            self.durability_detail = (
                f"none: no WAITAOF and appendonly={aof or '?'} appendfsync={fsync or '?'}; "
                "acks do not wait for fsync"
            )

    async def close(self) -> None:
        for client in (self._r, self._block):
            with contextlib.suppress(RedisError, OSError):
                await client.aclose(close_connection_pool=True)  # type: ignore[attr-defined]

    async def ping(self) -> None:
        """Round trip to the server; :class:`Unavailable` if it does not answer."""
        with _guard():
            await self._r.ping()
