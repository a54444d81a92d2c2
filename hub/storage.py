"""The hub's only Redis module: every key name, every script, every read and write.

CONTRACT STUB — to be implemented (see docstrings). Nothing else in Cordon imports redis.

Key layout (each channel's keys share one hash slot, so Redis Cluster works)::

    cordon:{ch:NAME}:log        stream; entry id 0-<offset>; fields a=<alert bytes>, s=<sig>,
                                k=<kid>, r=<hub receive time ms>
    cordon:{ch:NAME}:ids        hash alert id -> "<offset>:<sha1 of alert bytes>"  (dedup, kept
                                for the channel's whole life)
    cordon:{ch:NAME}:meta       hash epoch, title, state, created, starts, ends, retention_ms,
                                head, first
    cordon:{ch:NAME}:roles      hash member id -> reader | contributor | coordinator
    cordon:channels             set of channel names
    cordon:cert:<kid>           hash principal, member, admin, der, serial, not_after, status
    cordon:principal:<pid>      set of kids issued to the principal
    cordon:member:<id>          hash name, country, status (active | suspended), created
    cordon:members              set of member ids
    cordon:audit                stream of audit records
    cordon:events               pub/sub channel: revocations, suspensions, role changes
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AppendResult",
    "CertRecord",
    "ChannelMeta",
    "MemberRecord",
    "Store",
    "StoredAlert",
]

ROLES = ("reader", "contributor", "coordinator")
CHANNEL_STATES = ("open", "closed", "archived")


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


@dataclass(frozen=True, slots=True)
class StoredAlert:
    off: int
    alert: bytes
    sig: bytes


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


@dataclass(frozen=True, slots=True)
class MemberRecord:
    id: str
    name: str
    country: str
    status: str  # active | suspended
    created: int


@dataclass(frozen=True, slots=True)
class AppendRequest:
    channel: str
    alert_id: str
    alert: bytes
    sig: bytes
    kid: str
    received: int  # ms


class Store:
    """Async access to Redis/Valkey. Build with :meth:`connect`; close with :meth:`close`."""

    @classmethod
    async def connect(cls, url: str, *, durable: bool = True) -> Store:
        """Connect (``redis://``, ``rediss://`` or ``unix://``), ping, load scripts, and find
        out the durability mechanism: WAITAOF when the server has it (Valkey/Redis >= 7.2),
        else ``appendfsync always`` if set, else none (``durability`` says which)."""
        raise NotImplementedError

    durability: str  # "waitaof" | "appendfsync-always" | "none"; a sentence for logs too

    async def close(self) -> None:
        raise NotImplementedError

    # --- channels ---------------------------------------------------------
    async def create_channel(
        self, name: str, *, title: str = "", starts: str = "", ends: str = "",
        retention_ms: int = 0,
    ) -> ChannelMeta:
        """Create a channel with a fresh random epoch; Conflict if it exists."""
        raise NotImplementedError

    async def channel(self, name: str) -> ChannelMeta | None:
        raise NotImplementedError

    async def channels(self) -> list[ChannelMeta]:
        raise NotImplementedError

    async def set_channel_state(self, name: str, state: str) -> ChannelMeta:
        raise NotImplementedError

    async def delete_channel(self, name: str) -> None:
        """Remove every key of the channel (a later create gets a new epoch)."""
        raise NotImplementedError

    async def set_role(self, channel: str, member: str, role: str | None) -> None:
        """Grant/change (role) or remove (None) a member's role in the channel."""
        raise NotImplementedError

    async def role(self, channel: str, member: str) -> str | None:
        raise NotImplementedError

    async def roles(self, channel: str) -> dict[str, str]:
        raise NotImplementedError

    # --- alerts -----------------------------------------------------------
    async def append_batch(
        self, batch: Sequence[AppendRequest]
    ) -> list[AppendResult | Exception]:
        """Group commit. One atomic script per alert (dedup check, next offset, XADD 0-<off>,
        meta head), all pipelined in one round trip, then one durability wait (WAITAOF 1 0)
        for the whole batch. Per-item results in order: AppendResult, or AlertIdConflict
        (same id, other bytes), NoSuchChannel, ChannelClosed. Raises Unavailable if the store
        fails or durability cannot be confirmed (then nothing is acknowledged)."""
        raise NotImplementedError

    async def read_after(self, channel: str, after: int, count: int) -> list[StoredAlert]:
        """Alerts with offset > after, ascending, at most count."""
        raise NotImplementedError

    async def read_before(
        self, channel: str, before: int | None, count: int
    ) -> list[StoredAlert]:
        """The newest `count` alerts with offset < before (all when None), ascending."""
        raise NotImplementedError

    async def wait_after(
        self, channel: str, after: int, *, count: int, block_ms: int
    ) -> list[StoredAlert]:
        """Like read_after but blocks up to block_ms for new ones (XREAD BLOCK, own
        connection); [] on timeout. Used by the hub's per-channel live reader."""
        raise NotImplementedError

    async def trim(self, channel: str, *, now_ms: int) -> int:
        """Drop alerts older than the channel's retention; update meta first; return count."""
        raise NotImplementedError

    # --- members, certificates --------------------------------------------
    async def add_member(self, member_id: str, *, name: str, country: str) -> MemberRecord:
        raise NotImplementedError

    async def member(self, member_id: str) -> MemberRecord | None:
        raise NotImplementedError

    async def members(self) -> list[MemberRecord]:
        raise NotImplementedError

    async def set_member_status(self, member_id: str, status: str) -> MemberRecord:
        raise NotImplementedError

    async def register_cert(self, record: CertRecord) -> None:
        """Add or replace a certificate in the registry (idempotent)."""
        raise NotImplementedError

    async def cert(self, kid: str) -> CertRecord | None:
        raise NotImplementedError

    async def certs_of(self, principal: str) -> list[CertRecord]:
        raise NotImplementedError

    async def cert_ders(self, kids: Sequence[str]) -> dict[str, bytes]:
        raise NotImplementedError

    async def set_cert_status(self, kid: str, status: str) -> None:
        raise NotImplementedError

    # --- events and audit --------------------------------------------------
    async def publish_event(self, event: dict[str, Any]) -> None:
        """Broadcast an event (msgpack) to every hub process."""
        raise NotImplementedError

    def events(self) -> AsyncIterator[dict[str, Any]]:
        """Events published by any hub process, until cancelled."""
        raise NotImplementedError

    async def audit(self, record: dict[str, str]) -> None:
        raise NotImplementedError

    async def audit_log(
        self, *, since_ms: int = 0, principal: str | None = None, action: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, str]]:
        raise NotImplementedError
