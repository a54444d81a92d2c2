"""Shared by the storage modules: limits, value sets, error mapping, small helpers."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hub.protocol.errors import (
    CordonError,
    InternalError,
    Unavailable,
)
from hub.protocol.identity import CHANNEL_PATTERN

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

    from hub.storage.records import ChannelMeta

_MetaT = TypeVar("_MetaT", bound="ChannelMeta")




log = logging.getLogger("cordon.storage")

ROLES = ("reader", "contributor", "coordinator")
CHANNEL_STATES = ("open", "closed", "archived")
MEMBER_STATUSES = ("active", "suspended")
CERT_STATUSES = ("active", "revoked")
PRINCIPAL_KINDS = ("officer", "system")
DURABILITY_MODES = ("waitaof", "appendfsync-always", "waitaof-unverified", "none")

#: Seconds any one store operation may take in all (connecting, waiting for a pooled
#: connection, retries and WAITAOF included) before the store counts as unavailable.
STORE_TIMEOUT_S = 10.0
#: Milliseconds a batch waits for its AOF fsync (WAITAOF) before failing unacknowledged
#: (at most half the store timeout, so the whole append stays within it).
FSYNC_TIMEOUT_MS = 5000
#: Replicas that must confirm each batch's fsync (WAITAOF 1 N) before it is acknowledged,
#: by default: 0 (one machine; the ``ack_replicas`` setting raises it).
ACK_REPLICAS = 0
#: Largest ``ack_replicas`` accepted (a Sentinel deployment has a handful of replicas).
MAX_ACK_REPLICAS = 8
#: Milliseconds each WAITAOF waits for replicas before it is re-issued on the same
#: connection (re-issuing makes the primary ask the replicas for their fsynced offset
#: again: a replica can report a stale one for up to ~1 s, measured). A replica answers the
#: primary's request for its offset before it fsyncs what came with that request, so the
#: first WAITAOF of a batch rarely confirms and the second usually does: 10 → 2 ms took
#: W2's p50 with ack_replicas = 1 from 32.9 to 17.5 ms (bench/README.md).
ACK_RETRY_MS = 2
#: Seconds between two looks at the sentinels' idea of the primary (a primary frozen
#: past down-after says nothing, so a failover is also noticed this way).
SENTINEL_POLL_S = 0.5
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

class _Base:
    """What the :class:`~hub.storage.Store` mixins share (set by ``Store.__init__``)."""

    #: channel -> (epoch, highest durable watermark this process has seen under it): what
    #: :meth:`Store.check_continuity` compares a (re)started store against.
    _seen: dict[str, tuple[str, int]]

    def _note(self, meta: _MetaT) -> _MetaT:
        self._see(meta.name, meta.epoch, meta.head)
        return meta

    def _see(self, channel: str, epoch: str, watermark: int) -> None:
        if not epoch:
            return
        seen = self._seen.get(channel)
        if seen is None or seen[0] != epoch or seen[1] < watermark:
            self._seen[channel] = (epoch, watermark)

    _r: aioredis.Redis[bytes]
    _block: aioredis.Redis[bytes]
    _timeout_s: float
    #: False from the moment a store restart is noticed until its continuity is checked.
    _writes_open: bool
    _fsync_timeout_ms: int
    _ack_replicas: int
    #: Bumped each time the store is noticed to be another server (restart, failover):
    #: event streams opened before end, so their owners resubscribe and re-read.
    _generation: int
    _audit_max: int
    durability: str
    _create: AsyncScript
    _delete: AsyncScript
    _update: AsyncScript
    _set_role: AsyncScript
    _add_member: AsyncScript
    _add_principal: AsyncScript
    _revoke_certs: AsyncScript
    _set_crl: AsyncScript
    _trim: AsyncScript
    _raise: AsyncScript
    _recover: AsyncScript
