"""The hub's only Redis module: every key name, every script, every read and write.

Nothing else in Cordon imports redis.

Key layout (each channel's keys share one hash slot, so Redis Cluster works)::

    cordon:{ch:NAME}:log        stream; entry id 0-<offset>; fields a=<alert bytes>, s=<sig>,
                                k=<kid>, r=<hub receive time ms>
    cordon:{ch:NAME}:ids        hash alert id -> "<offset>:<sha1 of alert bytes>"  (dedup, kept
                                for the channel's whole life)
    cordon:{ch:NAME}:meta       hash epoch, title, state, created, starts, ends, retention_ms,
                                head, first (+ dups: duplicate publishes answered)
    cordon:{ch:NAME}:roles      hash member id -> reader | contributor | coordinator
    cordon:{ch:NAME}:att        hash attachments: m:<sha256> -> "<media> <size>",
                                d:<sha256> -> the bytes (photos referenced by alerts)
    cordon:channels             set of channel names
    cordon:cert:<kid>           hash principal, member, admin, der, serial, not_after, status
    cordon:principal:<pid>      set of kids issued to the principal
    cordon:member:<id>          hash name, country, status (active | suspended), created
    cordon:member:<id>:principals  hash principal name -> officer | system ("" if unknown)
    cordon:members              set of member ids
    cordon:crl                  hash number, pem: the newest CRL any hub process published
    cordon:audit                stream of audit records
    cordon:events               pub/sub channel: revocations, suspensions, role changes, CRLs

Writes touching several keys are one Lua script (conditional) or one MULTI
(unconditional). The hot path, :meth:`Store.append_batch`, touches one channel's
keys only. The admin writes that also update a global index set
(``cordon:channels``, ``cordon:members``, ``cordon:principal:*``) are atomic on
a standalone or Sentinel deployment; Redis Cluster would need them split.

Durability: an append is acknowledged after ``WAITAOF 1 0`` on the connection
that wrote it says the AOF is fsynced (one wait per batch: group commit). A
duplicate publish also writes (``meta.dups``) so that the same wait covers the
original append, which another connection may have made a moment before.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import msgpack
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hub.protocol.errors import (
    AlertIdConflict,
    ChannelClosed,
    Conflict,
    CordonError,
    InternalError,
    NoSuchChannel,
    NotFound,
    Unavailable,
)
from hub.protocol.identity import CHANNEL_PATTERN, check_channel, check_name

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

__all__ = [
    "AUDIT_MAX_ENTRIES",
    "CERT_STATUSES",
    "CHANNEL_STATES",
    "DURABILITY_MODES",
    "FSYNC_TIMEOUT_MS",
    "MAX_CONNECTIONS",
    "MEMBER_STATUSES",
    "PRINCIPAL_KINDS",
    "ROLES",
    "STORE_TIMEOUT_S",
    "AppendRequest",
    "AppendResult",
    "AuditPage",
    "CertRecord",
    "ChannelMeta",
    "ChannelStats",
    "EventStream",
    "MemberRecord",
    "PrincipalRecord",
    "Store",
    "StoredAlert",
]

log = logging.getLogger("cordon.storage")

ROLES = ("reader", "contributor", "coordinator")
CHANNEL_STATES = ("open", "closed", "archived")
MEMBER_STATUSES = ("active", "suspended")
CERT_STATUSES = ("active", "revoked")
PRINCIPAL_KINDS = ("officer", "system")
DURABILITY_MODES = ("waitaof", "appendfsync-always", "none")

#: Seconds a store command may take before the store counts as unavailable.
STORE_TIMEOUT_S = 10.0
#: Milliseconds a batch waits for its AOF fsync (WAITAOF) before failing unacknowledged.
FSYNC_TIMEOUT_MS = 5000
#: Audit records kept (approximately: XADD MAXLEN ~); the oldest go first.
AUDIT_MAX_ENTRIES = 1_000_000
#: Pooled connections for ordinary commands (callers queue for one when all are busy).
MAX_CONNECTIONS = 64
#: Connections for blocking reads and pub/sub (one per live channel feed / event stream).
_MAX_BLOCKING_CONNECTIONS = 1024
#: Stream entries the trim script examines per call (bounds the time the server is busy).
_TRIM_CHUNK = 200
#: Audit entries fetched per round trip while filtering.
_AUDIT_PAGE = 1000
#: Largest event payload accepted from pub/sub.
_MAX_EVENT_BYTES = 64 * 1024
#: Most audit entries one :meth:`Store.audit_page` call examines (bounds filtered scans).
_AUDIT_SCAN_MAX = 10_000

# --- key names ---------------------------------------------------------------------------
CHANNELS_KEY: Final = "cordon:channels"
MEMBERS_KEY: Final = "cordon:members"
AUDIT_KEY: Final = "cordon:audit"
EVENTS_CHANNEL: Final = "cordon:events"
CRL_KEY: Final = "cordon:crl"


def _ch(name: str) -> str:
    return f"cordon:{{ch:{name}}}"


def _log_key(name: str) -> str:
    return _ch(name) + ":log"


def _ids_key(name: str) -> str:
    return _ch(name) + ":ids"


def _meta_key(name: str) -> str:
    return _ch(name) + ":meta"


def _roles_key(name: str) -> str:
    return _ch(name) + ":roles"


def _att_key(name: str) -> str:
    return _ch(name) + ":att"


def _cert_key(kid: str) -> str:
    return f"cordon:cert:{kid}"


def _principal_key(principal: str) -> str:
    return f"cordon:principal:{principal}"


def _member_key(member_id: str) -> str:
    return f"cordon:member:{member_id}"


def _principals_key(member_id: str) -> str:
    return f"cordon:member:{member_id}:principals"


# --- scripts -------------------------------------------------------------------------------
# Results of the append script: {code, offset}.
_NEW, _DUP, _CONFLICT, _NO_CHANNEL, _CLOSED = 0, 1, 2, 3, 4

_APPEND = """
local prev = redis.call('HGET', KEYS[2], ARGV[1])
if prev then
  local sep = string.find(prev, ':', 1, true)
  local off = tonumber(string.sub(prev, 1, sep - 1))
  if string.sub(prev, sep + 1) ~= ARGV[2] then return {2, off} end
  redis.call('HINCRBY', KEYS[1], 'dups', 1)
  return {1, off}
end
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {3, 0} end
if state ~= 'open' then return {4, 0} end
local off = tonumber(redis.call('HGET', KEYS[1], 'head')) + 1
local soff = string.format('%d', off)
redis.call('XADD', KEYS[3], '0-' .. soff, 'a', ARGV[3], 's', ARGV[4], 'k', ARGV[5], 'r', ARGV[6])
redis.call('HSET', KEYS[1], 'head', soff)
redis.call('HSET', KEYS[2], ARGV[1], soff .. ':' .. ARGV[2])
return {0, off}
"""

_APPEND_SHA: Final = hashlib.sha1(_APPEND.encode(), usedforsecurity=False).hexdigest()

_CREATE_CHANNEL = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[6])
redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'title', ARGV[3], 'state', 'open',
  'created', ARGV[4], 'starts', ARGV[5], 'ends', ARGV[6], 'retention_ms', ARGV[7],
  'head', '0', 'first', '1')
redis.call('SADD', KEYS[5], ARGV[1])
return 1
"""

_DELETE_CHANNEL = """
local found = redis.call('EXISTS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6])
redis.call('SREM', KEYS[5], ARGV[1])
return found
"""

# Stores an attachment unless present: 1 stored, 0 already there, -1 channel full (ARGV[5]),
# -2 no such channel.
_PUT_ATTACHMENT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
if redis.call('HEXISTS', KEYS[2], 'm:' .. ARGV[1]) == 1 then return 0 end
if redis.call('HLEN', KEYS[2]) >= 2 * tonumber(ARGV[5]) then return -1 end
redis.call('HSET', KEYS[2], 'm:' .. ARGV[1], ARGV[2] .. ' ' .. ARGV[3], 'd:' .. ARGV[1], ARGV[4])
return 1
"""

# Sets fields (ARGV: field, value, ...) of an existing hash and returns the whole hash; {}
# when it does not exist.
_UPDATE_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('HSET', KEYS[1], unpack(ARGV))
return redis.call('HGETALL', KEYS[1])
"""

_SET_ROLE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 0
end
if redis.call('EXISTS', KEYS[3]) == 0 then return 2 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 0
"""

_ADD_MEMBER = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[2], 'country', ARGV[3], 'status', 'active',
  'created', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""

# Adds principal ARGV[1] (kind ARGV[2]) to member KEYS[1]'s principals KEYS[2], and when
# ARGV[3] is set registers its first certificate (KEYS[3] hash, KEYS[4] the principal's kids):
# 1 unknown member, 2 principal exists (unless ARGV[4] == '1': then the kind is only filled in
# when unknown, and nothing else changes), 0 done.
_ADD_PRINCIPAL = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old then
  if ARGV[4] ~= '1' then return 2 end
  if old == '' and ARGV[2] ~= '' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[3], 'principal', ARGV[5], 'member', ARGV[6], 'admin', '0',
    'der', ARGV[7], 'serial', ARGV[8], 'not_after', ARGV[9], 'status', 'active')
  redis.call('SADD', KEYS[4], ARGV[3])
end
return 0
"""

# Marks every active certificate among KEYS revoked; returns the keys it changed.
_REVOKE_CERTS = """
local changed = {}
for i, key in ipairs(KEYS) do
  if redis.call('HGET', key, 'status') == 'active' then
    redis.call('HSET', key, 'status', 'revoked', 'revoked_at', ARGV[1])
    table.insert(changed, key)
  end
end
return changed
"""

# Stores CRL ARGV[2] with number ARGV[1] unless the stored one is as new; 1 stored, 0 not.
_SET_CRL = """
local cur = redis.call('HGET', KEYS[1], 'number')
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'number', ARGV[1], 'pem', ARGV[2])
return 1
"""

# Drops the oldest entries received before ARGV[1] (ms), examining at most ARGV[2] entries;
# returns {dropped, more}. `first` and the stream change together.
_TRIM = """
local head = redis.call('HGET', KEYS[1], 'head')
if not head then return {0, 0} end
head = tonumber(head)
local cutoff = tonumber(ARGV[1])
local chunk = tonumber(ARGV[2])
local entries = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', chunk)
local n = 0
local newfirst = nil
for _, e in ipairs(entries) do
  local off = tonumber(string.sub(e[1], 3))
  local r = 0
  local f = e[2]
  for j = 1, #f, 2 do
    if f[j] == 'r' then r = tonumber(f[j + 1]) or 0 break end
  end
  if r >= cutoff then newfirst = off break end
  n = n + 1
end
if n == 0 then return {0, 0} end
local more = 0
if not newfirst then
  if #entries < chunk then
    newfirst = head + 1
  else
    newfirst = tonumber(string.sub(entries[#entries][1], 3)) + 1
    more = 1
  end
end
local sfirst = string.format('%d', newfirst)
redis.call('HSET', KEYS[1], 'first', sfirst)
redis.call('XTRIM', KEYS[2], 'MINID', '0-' .. sfirst)
return {n, more}
"""

_ENTRY_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")

_TRANSIENT_REPLIES = (
    "OOM", "READONLY", "MISCONF", "LOADING", "MASTERDOWN", "BUSY", "NOREPLICAS", "TRYAGAIN",
    "CLUSTERDOWN", "NOPERM",
)  # fmt: skip


@contextlib.contextmanager
def _guard() -> Iterator[None]:
    """Turn store failures into :class:`Unavailable` (or :class:`InternalError` for bugs)."""
    try:
        yield
    except CordonError:
        raise
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise Unavailable("store unreachable") from exc
    except ResponseError as exc:
        if str(exc).startswith(_TRANSIENT_REPLIES):
            raise Unavailable("store refused the command") from exc
        raise InternalError("store command failed") from exc
    except RedisError as exc:
        raise Unavailable("store error") from exc


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _s(h: dict[bytes, bytes], field: str) -> str:
    return h.get(field.encode(), b"").decode("utf-8", "replace")


def _i(h: dict[bytes, bytes], field: str, default: int = 0) -> int:
    v = h.get(field.encode())
    return int(v) if v else default


def _pairs(flat: Sequence[bytes]) -> dict[bytes, bytes]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _off(entry_id: bytes) -> int:
    return int(entry_id.partition(b"-")[2])


def _valid_channel(name: str) -> bool:
    return isinstance(name, str) and CHANNEL_PATTERN.fullmatch(name) is not None


def _check_choice(value: object, choices: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"invalid {what} {value!r}: expected one of {', '.join(choices)}")
    return value


@dataclass(frozen=True, slots=True)
class ChannelMeta:
    name: str
    title: str
    epoch: str  # 32 hex chars, random at creation
    state: str  # open | closed | archived
    created: int  # ms
    starts: str  # ISO date or ""
    ends: str  # ISO date or ""
    retention_ms: int  # 0 = keep forever
    head: int  # last offset assigned (0 = none yet)
    first: int  # first offset still retained (head + 1 when empty)

    @classmethod
    def _from_hash(cls, name: str, h: dict[bytes, bytes]) -> ChannelMeta:
        return cls(
            name=name, title=_s(h, "title"), epoch=_s(h, "epoch"), state=_s(h, "state"),
            created=_i(h, "created"), starts=_s(h, "starts"), ends=_s(h, "ends"),
            retention_ms=_i(h, "retention_ms"), head=_i(h, "head"), first=_i(h, "first", 1),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoredAlert:
    off: int
    alert: bytes
    sig: bytes
    kid: str = ""  # signer's key id, as stored
    received: int = 0  # hub receive time, ms

    @classmethod
    def _from_entry(cls, entry_id: bytes, fields: dict[bytes, bytes]) -> StoredAlert:
        return cls(
            off=_off(entry_id), alert=fields.get(b"a", b""), sig=fields.get(b"s", b""),
            kid=fields.get(b"k", b"").decode("ascii", "replace"), received=_i(fields, "r"),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class AppendResult:
    off: int
    dup: bool


@dataclass(frozen=True, slots=True)
class CertRecord:
    kid: str  # hex sha256 of der
    principal: str  # member/name or admin/name
    member: str | None
    admin: bool
    der: bytes
    serial: int
    not_after: int  # ms
    status: str  # active | revoked

    @classmethod
    def _from_hash(cls, kid: str, h: dict[bytes, bytes]) -> CertRecord:
        return cls(
            kid=kid, principal=_s(h, "principal"), member=_s(h, "member") or None,
            admin=_s(h, "admin") == "1", der=h.get(b"der", b""), serial=_i(h, "serial"),
            not_after=_i(h, "not_after"), status=_s(h, "status"),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class MemberRecord:
    id: str
    name: str
    country: str
    status: str  # active | suspended
    created: int

    @classmethod
    def _from_hash(cls, member_id: str, h: dict[bytes, bytes]) -> MemberRecord:
        return cls(
            id=member_id, name=_s(h, "name"), country=_s(h, "country"),
            status=_s(h, "status"), created=_i(h, "created"),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PrincipalRecord:
    id: str  # member/name
    member: str
    name: str
    kind: str  # officer | system | "" (registered from a certificate, kind not recorded)


@dataclass(frozen=True, slots=True)
class ChannelStats:
    members: int  # members holding a role
    alerts: int  # alerts still retained
    last_ms: int  # hub receive time of the newest alert (0 = none)


@dataclass(frozen=True, slots=True)
class AuditPage:
    records: list[dict[str, str]]  # oldest first, each with its ``id``
    next: str | None  # pass as ``after`` to continue; None when the log was read to its end


@dataclass(frozen=True, slots=True)
class AppendRequest:
    channel: str
    alert_id: str
    alert: bytes
    sig: bytes
    kid: str
    received: int  # ms


class EventStream:
    """Events from every hub process (an async iterator on its own connection).

    ``async with store.events() as events`` subscribes before the body runs, so
    nothing published after entry is missed; plain ``async for`` subscribes on
    the first iteration. Raises :class:`Unavailable` when the connection is lost
    (events published meanwhile are lost: resubscribe and re-read state).
    """

    def __init__(self, client: aioredis.Redis[bytes]) -> None:
        self._client = client
        self._pubsub: Any = None
        self._closed = False

    async def start(self) -> None:
        """Subscribe now (idempotent)."""
        if self._pubsub is not None or self._closed:
            return
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            with _guard():
                await pubsub.subscribe(EVENTS_CHANNEL)
        except BaseException:
            await pubsub.aclose()  # type: ignore[attr-defined]
            raise
        self._pubsub = pubsub

    async def aclose(self) -> None:
        self._closed = True
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def __aenter__(self) -> EventStream:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self._closed:
            raise StopAsyncIteration
        try:
            await self.start()
            while True:
                with _guard():
                    msg = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=None
                    )
                if msg is None or msg.get("type") != "message":
                    continue
                event = self._decode(msg.get("data"))
                if event is not None:
                    return event
        except BaseException:
            await self.aclose()
            raise

    @staticmethod
    def _decode(data: object) -> dict[str, Any] | None:
        if not isinstance(data, bytes) or len(data) > _MAX_EVENT_BYTES:
            log.warning("ignoring an event that is not bytes or too large")
            return None
        try:
            event = msgpack.unpackb(data, raw=False)
        except (ValueError, TypeError, msgpack.UnpackException):
            log.warning("ignoring an event that is not msgpack")
            return None
        if not isinstance(event, dict):
            log.warning("ignoring an event that is not a map")
            return None
        return event


class Store:
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

    # --- channels ---------------------------------------------------------
    async def create_channel(
        self,
        name: str,
        *,
        title: str = "",
        starts: str = "",
        ends: str = "",
        retention_ms: int = 0,
    ) -> ChannelMeta:
        """Create a channel with a fresh random epoch; Conflict if it exists."""
        check_channel(name)
        if not isinstance(retention_ms, int) or retention_ms < 0:
            raise ValueError("retention_ms must be a non-negative integer")
        epoch = secrets.token_hex(16)
        with _guard():
            created = await self._create(
                keys=[_meta_key(name), _log_key(name), _ids_key(name), _roles_key(name),
                      CHANNELS_KEY, _att_key(name)],
                args=[name, epoch, title, _now_ms(), starts, ends, retention_ms],
            )  # fmt: skip
        if not created:
            raise Conflict("channel already exists")
        meta = await self.channel(name)
        if meta is None:  # deleted in between
            raise NoSuchChannel()
        return meta

    async def channel(self, name: str) -> ChannelMeta | None:
        if not _valid_channel(name):
            return None
        with _guard():
            h = await self._r.hgetall(_meta_key(name))
        return ChannelMeta._from_hash(name, h) if h else None

    async def channels(self) -> list[ChannelMeta]:
        """Every channel, by name."""
        with _guard():
            names = sorted(n.decode() for n in await self._r.smembers(CHANNELS_KEY))
            pipe = self._r.pipeline(transaction=False)
            for name in names:
                pipe.hgetall(_meta_key(name))
            hashes = await pipe.execute()
        return [ChannelMeta._from_hash(n, h) for n, h in zip(names, hashes, strict=True) if h]

    async def set_channel_state(self, name: str, state: str) -> ChannelMeta:
        """Set open | closed | archived; NoSuchChannel if unknown."""
        _check_choice(state, CHANNEL_STATES, "channel state")
        if not _valid_channel(name):
            raise NoSuchChannel()
        with _guard():
            flat = await self._update(keys=[_meta_key(name)], args=["state", state])
        if not flat:
            raise NoSuchChannel()
        return ChannelMeta._from_hash(name, _pairs(flat))

    async def delete_channel(self, name: str) -> None:
        """Remove every key of the channel (a later create gets a new epoch); NoSuchChannel
        if unknown."""
        if not _valid_channel(name):
            raise NoSuchChannel()
        with _guard():
            found = await self._delete(
                keys=[_meta_key(name), _log_key(name), _ids_key(name), _roles_key(name),
                      CHANNELS_KEY, _att_key(name)],
                args=[name],
            )  # fmt: skip
        if not found:
            raise NoSuchChannel()

    async def set_role(self, channel: str, member: str, role: str | None) -> None:
        """Grant/change (role) or remove (None) a member's role in the channel.
        NoSuchChannel for an unknown channel, NotFound for an unknown member (on grant)."""
        if role is not None:
            _check_choice(role, ROLES, "role")
        check_name(member, "member id")
        if not _valid_channel(channel):
            raise NoSuchChannel()
        with _guard():
            status = await self._set_role(
                keys=[_meta_key(channel), _roles_key(channel), _member_key(member)],
                args=[member, role or ""],
            )
        if status == 1:
            raise NoSuchChannel()
        if status == 2:
            raise NotFound("unknown member")

    async def role(self, channel: str, member: str) -> str | None:
        if not _valid_channel(channel):
            return None
        with _guard():
            value = await self._r.hget(_roles_key(channel), member)
        return value.decode() if value is not None else None

    async def roles(self, channel: str) -> dict[str, str]:
        """Member id -> role ({} for an unknown channel)."""
        if not _valid_channel(channel):
            return {}
        with _guard():
            h = await self._r.hgetall(_roles_key(channel))
        return {k.decode(): v.decode() for k, v in sorted(h.items())}

    async def roles_of(self, member: str) -> dict[str, str]:
        """Channel -> the member's role there, for every channel it holds a role in."""
        with _guard():
            names = sorted(n.decode() for n in await self._r.smembers(CHANNELS_KEY))
            pipe = self._r.pipeline(transaction=False)
            for name in names:
                pipe.hget(_roles_key(name), member)
            roles = await pipe.execute()
        return {n: r.decode() for n, r in zip(names, roles, strict=True) if r is not None}

    async def roles_in(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Role of each (channel, member) pair that has one; one round trip."""
        unique = [p for p in dict.fromkeys(pairs) if _valid_channel(p[0])]
        if not unique:
            return {}
        with _guard():
            pipe = self._r.pipeline(transaction=False)
            for channel, member in unique:
                pipe.hget(_roles_key(channel), member)
            replies = await pipe.execute()
        return {p: v.decode() for p, v in zip(unique, replies, strict=True) if v is not None}

    async def channel_stats(self, names: Sequence[str]) -> dict[str, ChannelStats]:
        """Members with a role, retained alerts and last activity of each named channel
        (one round trip; unknown or invalid names are left out)."""
        valid = [n for n in dict.fromkeys(names) if _valid_channel(n)]
        if not valid:
            return {}
        with _guard():
            pipe = self._r.pipeline(transaction=False)
            for name in valid:
                pipe.exists(_meta_key(name))
                pipe.hlen(_roles_key(name))
                pipe.xlen(_log_key(name))
                pipe.xrevrange(_log_key(name), max="+", min="-", count=1)
            replies = await pipe.execute()
        out: dict[str, ChannelStats] = {}
        for i, name in enumerate(valid):
            exists, members, alerts, last = replies[4 * i : 4 * i + 4]
            if not exists:
                continue
            last_ms = _i(last[0][1], "r") if last else 0
            out[name] = ChannelStats(members=int(members), alerts=int(alerts), last_ms=last_ms)
        return out

    # --- alerts -----------------------------------------------------------
    async def append_batch(self, batch: Sequence[AppendRequest]) -> list[AppendResult | Exception]:
        """Group commit. One atomic script per alert (dedup check, next offset, XADD 0-<off>,
        meta head), all pipelined in one round trip with one durability wait (WAITAOF 1 0,
        on the same connection) for the whole batch. Per-item results in order: AppendResult,
        or AlertIdConflict (same id, other bytes; detail names the original offset),
        NoSuchChannel, ChannelClosed. Raises Unavailable if the store fails or durability
        cannot be confirmed (then nothing is acknowledged; retrying is safe: dedup)."""
        results: list[AppendResult | Exception] = [NoSuchChannel() for _ in batch]
        todo = [i for i, req in enumerate(batch) if _valid_channel(req.channel)]
        if not todo:
            return results
        wait = self.durability == "waitaof"
        with _guard():
            pipe = self._r.pipeline(transaction=False)
            # Loading first makes EVALSHA safe even right after a server restart.
            pipe.execute_command("SCRIPT", "LOAD", _APPEND)
            sha = _APPEND_SHA
            for i in todo:
                req = batch[i]
                digest = hashlib.sha1(req.alert, usedforsecurity=False).hexdigest()
                pipe.evalsha(
                    sha, 3, _meta_key(req.channel), _ids_key(req.channel), _log_key(req.channel),
                    req.alert_id, digest, req.alert, req.sig, req.kid, req.received,
                )  # fmt: skip
            if wait:
                pipe.execute_command("WAITAOF", 1, 0, self._fsync_timeout_ms)
            replies = await pipe.execute(raise_on_error=False)
        fsync: Any = replies.pop() if wait else None
        for reply in replies:
            if isinstance(reply, Exception):
                with _guard():
                    raise reply
        if isinstance(fsync, Exception):
            raise Unavailable("fsync not confirmed") from fsync
        if wait and int(fsync[0]) < 1:
            raise Unavailable("fsync not confirmed")
        for i, reply in zip(todo, replies[1 : 1 + len(todo)], strict=True):
            code, off = int(reply[0]), int(reply[1])
            if code == _NEW:
                results[i] = AppendResult(off=off, dup=False)
            elif code == _DUP:
                results[i] = AppendResult(off=off, dup=True)
            elif code == _CONFLICT:
                results[i] = AlertIdConflict(f"alert id already used at offset {off}")
            elif code == _CLOSED:
                results[i] = ChannelClosed()
            else:
                results[i] = NoSuchChannel()
        return results

    async def read_after(self, channel: str, after: int, count: int) -> list[StoredAlert]:
        """Alerts with offset > after, ascending, at most count."""
        if count <= 0 or not _valid_channel(channel):
            return []
        with _guard():
            entries = await self._r.xrange(
                _log_key(channel), min=f"0-{max(after, 0) + 1}", max="+", count=count
            )
        return [StoredAlert._from_entry(eid, fields) for eid, fields in entries]

    async def read_before(self, channel: str, before: int | None, count: int) -> list[StoredAlert]:
        """The newest `count` alerts with offset < before (all when None), ascending."""
        if count <= 0 or not _valid_channel(channel) or (before is not None and before <= 1):
            return []
        top = "+" if before is None else f"0-{before - 1}"
        with _guard():
            entries = await self._r.xrevrange(_log_key(channel), max=top, min="-", count=count)
        return [StoredAlert._from_entry(eid, fields) for eid, fields in reversed(entries)]

    async def wait_after(
        self, channel: str, after: int, *, count: int, block_ms: int
    ) -> list[StoredAlert]:
        """Like read_after but blocks up to block_ms (> 0) for new ones (XREAD BLOCK on a
        connection of its own, from a separate pool); [] on timeout. Cancelling it drops
        that connection, so the pool is never left with an unread reply."""
        if block_ms <= 0:
            raise ValueError("block_ms must be positive (0 would block forever)")
        if count <= 0 or not _valid_channel(channel):
            return []
        key = _log_key(channel)
        with _guard():
            async with asyncio.timeout(block_ms / 1000 + self._timeout_s):
                reply = await self._block.xread(
                    {key: f"0-{max(after, 0)}"}, count=count, block=block_ms
                )
        if not reply:
            return []
        entries = reply[0][1] if isinstance(reply, list) else next(iter(reply.values()))[0]
        return [StoredAlert._from_entry(eid, fields) for eid, fields in entries]

    async def trim(self, channel: str, *, now_ms: int) -> int:
        """Drop alerts older than the channel's retention; update meta first; return count.

        Only a prefix is dropped (offsets stay contiguous): it ends before the first alert
        received at or after ``now_ms - retention_ms``."""
        meta = await self.channel(channel)
        if meta is None or meta.retention_ms <= 0:
            return 0
        cutoff = now_ms - meta.retention_ms
        dropped = 0
        with _guard():
            while True:
                n, more = await self._trim(
                    keys=[_meta_key(channel), _log_key(channel)], args=[cutoff, _TRIM_CHUNK]
                )
                dropped += int(n)
                if not more:
                    return dropped

    async def alert_offset(self, channel: str, alert_id: str) -> int | None:
        """The offset of the channel's alert ``alert_id`` (kept for the channel's whole
        life, even after its bytes are trimmed), or None if the channel has no such id."""
        if not _valid_channel(channel):
            return None
        with _guard():
            value = await self._r.hget(_ids_key(channel), alert_id)
        return None if value is None else int(value.partition(b":")[0])

    # --- attachments --------------------------------------------------------
    async def put_attachment(
        self, channel: str, sha256: str, media: str, data: bytes, *, max_count: int
    ) -> bool:
        """Store a checked attachment under its digest (durably, like an append); True if
        new, False if the channel already had it. NoSuchChannel; Conflict when the channel
        holds ``max_count`` attachments."""
        if not _valid_channel(channel):
            raise NoSuchChannel()
        wait = self.durability == "waitaof"
        with _guard():
            pipe = self._r.pipeline(transaction=False)
            pipe.eval(
                _PUT_ATTACHMENT, 2, _meta_key(channel), _att_key(channel),
                sha256, media, len(data), data, max_count,
            )  # fmt: skip
            if wait:
                pipe.execute_command("WAITAOF", 1, 0, self._fsync_timeout_ms)
            replies = await pipe.execute()
        if wait and int(replies[-1][0]) < 1:
            raise Unavailable("fsync not confirmed")
        code = int(replies[0])
        if code == -2:
            raise NoSuchChannel()
        if code == -1:
            raise Conflict("the channel holds the maximum number of attachments")
        return code == 1

    async def attachment_info(self, channel: str, sha256: str) -> tuple[str, int] | None:
        """(media type, size) of a stored attachment, or None."""
        if not _valid_channel(channel):
            return None
        with _guard():
            value = await self._r.hget(_att_key(channel), "m:" + sha256)
        if value is None:
            return None
        media, _, size = value.decode().partition(" ")
        return media, int(size)

    async def attachment(self, channel: str, sha256: str) -> tuple[str, bytes] | None:
        """(media type, bytes) of a stored attachment, or None."""
        if not _valid_channel(channel):
            return None
        with _guard():
            meta, data = await self._r.hmget(_att_key(channel), ["m:" + sha256, "d:" + sha256])
        if meta is None or data is None:
            return None
        return meta.decode().partition(" ")[0], data

    # --- members, certificates --------------------------------------------
    async def add_member(self, member_id: str, *, name: str, country: str) -> MemberRecord:
        """Register a member administration (status active); Conflict if it exists."""
        check_name(member_id, "member id")
        created = _now_ms()
        with _guard():
            ok = await self._add_member(
                keys=[_member_key(member_id), MEMBERS_KEY],
                args=[member_id, name, country, created],
            )
        if not ok:
            raise Conflict("member already exists")
        return MemberRecord(
            id=member_id, name=name, country=country, status="active", created=created
        )

    async def member(self, member_id: str) -> MemberRecord | None:
        with _guard():
            h = await self._r.hgetall(_member_key(member_id))
        return MemberRecord._from_hash(member_id, h) if h else None

    async def members(self) -> list[MemberRecord]:
        """Every member, by id."""
        with _guard():
            ids = sorted(m.decode() for m in await self._r.smembers(MEMBERS_KEY))
            pipe = self._r.pipeline(transaction=False)
            for member_id in ids:
                pipe.hgetall(_member_key(member_id))
            hashes = await pipe.execute()
        return [MemberRecord._from_hash(m, h) for m, h in zip(ids, hashes, strict=True) if h]

    async def update_member(self, member_id: str, *, name: str | None = None,
                            country: str | None = None) -> MemberRecord:
        """Change a member's display name and/or country (atomically); NotFound if unknown."""
        args: list[str] = []
        if name is not None:
            args += ["name", name]
        if country is not None:
            args += ["country", country]
        if not args:
            raise ValueError("nothing to update")
        with _guard():
            flat = await self._update(keys=[_member_key(member_id)], args=args)
        if not flat:
            raise NotFound("unknown member")
        return MemberRecord._from_hash(member_id, _pairs(flat))

    async def member_statuses(self, member_ids: Sequence[str]) -> dict[str, str]:
        """Status of each known member (unknown ones are left out); one round trip."""
        unique = list(dict.fromkeys(member_ids))
        if not unique:
            return {}
        with _guard():
            pipe = self._r.pipeline(transaction=False)
            for member_id in unique:
                pipe.hget(_member_key(member_id), "status")
            replies = await pipe.execute()
        return {m: v.decode() for m, v in zip(unique, replies, strict=True) if v is not None}

    async def set_member_status(self, member_id: str, status: str) -> MemberRecord:
        """active | suspended; NotFound if unknown."""
        _check_choice(status, MEMBER_STATUSES, "member status")
        with _guard():
            flat = await self._update(keys=[_member_key(member_id)], args=["status", status])
        if not flat:
            raise NotFound("unknown member")
        return MemberRecord._from_hash(member_id, _pairs(flat))

    async def register_cert(self, record: CertRecord) -> None:
        """Add or replace a certificate in the registry (idempotent)."""
        _check_choice(record.status, CERT_STATUSES, "certificate status")
        if not record.kid or not record.principal:
            raise ValueError("certificate record needs a kid and a principal")
        key = _cert_key(record.kid)
        with _guard():
            pipe = self._r.pipeline(transaction=True)
            pipe.delete(key)
            pipe.hset(key, mapping={
                "principal": record.principal, "member": record.member or "",
                "admin": "1" if record.admin else "0", "der": record.der,
                "serial": record.serial, "not_after": record.not_after, "status": record.status,
            })  # fmt: skip
            pipe.sadd(_principal_key(record.principal), record.kid)
            await pipe.execute()

    async def cert(self, kid: str) -> CertRecord | None:
        with _guard():
            h = await self._r.hgetall(_cert_key(kid))
        return CertRecord._from_hash(kid, h) if h else None

    async def certs_of(self, principal: str) -> list[CertRecord]:
        """Certificates issued to the principal, by kid."""
        with _guard():
            kids = sorted(k.decode() for k in await self._r.smembers(_principal_key(principal)))
            pipe = self._r.pipeline(transaction=False)
            for kid in kids:
                pipe.hgetall(_cert_key(kid))
            hashes = await pipe.execute()
        return [CertRecord._from_hash(k, h) for k, h in zip(kids, hashes, strict=True) if h]

    async def cert_ders(self, kids: Sequence[str]) -> dict[str, bytes]:
        """DER of each known kid (unknown ones are left out)."""
        unique = list(dict.fromkeys(kids))
        if not unique:
            return {}
        with _guard():
            pipe = self._r.pipeline(transaction=False)
            for kid in unique:
                pipe.hget(_cert_key(kid), "der")
            ders = await pipe.execute()
        return {k: d for k, d in zip(unique, ders, strict=True) if d is not None}

    async def cert_statuses(self, kids: Sequence[str]) -> dict[str, str]:
        """Status of each known kid (unknown ones are left out); one round trip."""
        unique = list(dict.fromkeys(kids))
        if not unique:
            return {}
        with _guard():
            pipe = self._r.pipeline(transaction=False)
            for kid in unique:
                pipe.hget(_cert_key(kid), "status")
            replies = await pipe.execute()
        return {k: v.decode() for k, v in zip(unique, replies, strict=True) if v is not None}

    async def set_cert_status(self, kid: str, status: str) -> None:
        """active | revoked; NotFound if unknown."""
        _check_choice(status, CERT_STATUSES, "certificate status")
        with _guard():
            flat = await self._update(keys=[_cert_key(kid)], args=["status", status])
        if not flat:
            raise NotFound("unknown certificate")

    async def revoke_certs(self, kids: Sequence[str]) -> list[str]:
        """Mark the active certificates among ``kids`` revoked, atomically (revocation is
        final: nothing re-activates them); return the kids that changed."""
        unique = list(dict.fromkeys(kids))
        if not unique:
            return []
        with _guard():
            changed = await self._revoke_certs(keys=[_cert_key(k) for k in unique],
                                               args=[_now_ms()])
        by_key = {_cert_key(k): k for k in unique}
        return [by_key[key.decode()] for key in changed]

    # --- principals ---------------------------------------------------------
    async def add_principal(
        self,
        member: str,
        name: str,
        *,
        kind: str,
        cert: CertRecord | None = None,
        exist_ok: bool = False,
    ) -> PrincipalRecord:
        """Record principal ``member/name`` (officer | system; "" when not known), and with
        ``cert`` register its first certificate in the same atomic step. NotFound for an
        unknown member; Conflict if the principal exists, unless ``exist_ok`` (then only an
        unknown kind is filled in, and ``cert`` is not registered)."""
        check_name(member, "member id")
        check_name(name, "principal name")
        if kind:
            _check_choice(kind, PRINCIPAL_KINDS, "principal kind")
        principal = f"{member}/{name}"
        args: list[Any] = [name, kind, "", "1" if exist_ok else "0"]
        keys = [_member_key(member), _principals_key(member), _cert_key(""),
                _principal_key(principal)]
        if cert is not None:
            if cert.principal != principal or cert.member != member or cert.admin:
                raise ValueError("the certificate belongs to another principal")
            keys[2] = _cert_key(cert.kid)
            args = [name, kind, cert.kid, "1" if exist_ok else "0", principal, member, cert.der,
                    cert.serial, cert.not_after]
        with _guard():
            status = await self._add_principal(keys=keys, args=args)
        if status == 1:
            raise NotFound("unknown member")
        if status == 2:
            raise Conflict("principal already exists")
        return PrincipalRecord(id=principal, member=member, name=name, kind=kind)

    async def principals(self, member: str) -> list[PrincipalRecord]:
        """The member's principals, by name ([] for an unknown member)."""
        with _guard():
            h = await self._r.hgetall(_principals_key(member))
        return [
            PrincipalRecord(id=f"{member}/{n.decode()}", member=member, name=n.decode(),
                            kind=k.decode())
            for n, k in sorted(h.items())
        ]  # fmt: skip

    async def principal(self, principal: str) -> PrincipalRecord | None:
        member, sep, name = principal.partition("/")
        if not sep:
            return None
        with _guard():
            kind = await self._r.hget(_principals_key(member), name)
        if kind is None:
            return None
        return PrincipalRecord(id=principal, member=member, name=name, kind=kind.decode())

    # --- the CRL every hub process loads ---------------------------------------
    async def set_crl(self, pem: bytes, number: int) -> bool:
        """Keep ``pem`` as the current CRL if ``number`` is above the stored one's."""
        if type(number) is not int or number < 0:
            raise ValueError("CRL number must be a non-negative integer")
        with _guard():
            return bool(await self._set_crl(keys=[CRL_KEY], args=[number, pem]))

    async def crl(self) -> tuple[int, bytes] | None:
        """The stored CRL: ``(number, pem)``, or None if none was published."""
        with _guard():
            number, pem = await self._r.hmget(CRL_KEY, ["number", "pem"])
        if number is None or pem is None:
            return None
        return int(number), pem

    async def crl_number(self) -> int:
        """The stored CRL's number (0 if none): a cheap check before fetching it."""
        with _guard():
            number = await self._r.hget(CRL_KEY, "number")
        return int(number) if number is not None else 0

    # --- events and audit --------------------------------------------------
    async def publish_event(self, event: dict[str, Any]) -> None:
        """Broadcast an event (msgpack) to every hub process."""
        data = msgpack.packb(event, use_bin_type=True)
        if len(data) > _MAX_EVENT_BYTES:
            raise ValueError("event too large")
        with _guard():
            await self._r.publish(EVENTS_CHANNEL, data)

    def events(self) -> EventStream:
        """Events published by any hub process, until cancelled (see :class:`EventStream`)."""
        return EventStream(self._block)

    async def audit(self, record: dict[str, str]) -> None:
        """Append a record (str -> str; conventionally action, principal, result, ...).
        The store's clock stamps it: the entry id, returned as ``id`` by :meth:`audit_log`.
        The log keeps about ``audit_max_entries`` records (``XADD MAXLEN ~``): the oldest
        are dropped first."""
        if not record:
            raise ValueError("empty audit record")
        if "id" in record:
            raise ValueError("'id' is reserved in audit records")
        fields = {str(k): str(v) for k, v in record.items()}
        with _guard():
            await self._r.xadd(AUDIT_KEY, fields,
                               maxlen=self._audit_max, approximate=True)

    async def audit_log(
        self,
        *,
        since_ms: int = 0,
        principal: str | None = None,
        action: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, str]]:
        """Records stamped at or after since_ms, oldest first, optionally only those of one
        principal and/or action, at most limit. Each has ``id`` ("<ms>-<seq>") added."""
        out: list[dict[str, str]] = []
        start = f"{max(since_ms, 0)}-0"
        with _guard():
            while len(out) < limit:
                entries = await self._r.xrange(AUDIT_KEY, min=start, max="+", count=_AUDIT_PAGE)
                for eid, fields in entries:
                    rec = {k.decode(): v.decode("utf-8", "replace") for k, v in fields.items()}
                    if principal is not None and rec.get("principal") != principal:
                        continue
                    if action is not None and rec.get("action") != action:
                        continue
                    rec["id"] = eid.decode()
                    out.append(rec)
                    if len(out) >= limit:
                        break
                if len(entries) < _AUDIT_PAGE:
                    break
                start = "(" + entries[-1][0].decode()
        return out

    async def audit_page(
        self,
        *,
        after: str | None = None,
        since_ms: int = 0,
        principal: str | None = None,
        action: str | None = None,
        limit: int = 200,
    ) -> AuditPage:
        """Like :meth:`audit_log`, one page at a time: records after entry id ``after``
        (exclusive; else from ``since_ms``), oldest first, at most ``limit``. One call
        examines at most a bounded number of entries; ``next`` is the cursor to continue
        from, None once the end of the log was reached."""
        if after is not None and _ENTRY_ID.fullmatch(after) is None:
            raise ValueError("after must be an audit entry id")
        out: list[dict[str, str]] = []
        start = "(" + after if after is not None else f"{max(since_ms, 0)}-0"
        scanned = 0
        if limit <= 0:
            return AuditPage(records=[], next=after)
        with _guard():
            while True:
                count = min(_AUDIT_PAGE, _AUDIT_SCAN_MAX - scanned)
                entries = await self._r.xrange(AUDIT_KEY, min=start, max="+", count=count)
                for eid, fields in entries:
                    scanned += 1
                    last = eid.decode()
                    rec = {k.decode(): v.decode("utf-8", "replace") for k, v in fields.items()}
                    if principal is not None and rec.get("principal") != principal:
                        continue
                    if action is not None and rec.get("action") != action:
                        continue
                    rec["id"] = last
                    out.append(rec)
                    if len(out) >= limit:
                        return AuditPage(records=out, next=last)
                if len(entries) < count:
                    return AuditPage(records=out, next=None)
                start = "(" + last
                if scanned >= _AUDIT_SCAN_MAX:
                    return AuditPage(records=out, next=last)
