"""The records the store returns and takes (frozen dataclasses, a named tuple)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from hub.storage._common import _i, _off, _s


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
    head: int  # last durable offset: the durable watermark (0 = none yet); never above it
    first: int  # first offset still retained (head + 1 when empty)
    assigned: int = 0  # last offset assigned (>= head: appended, durability not yet confirmed)

    @classmethod
    def _from_hash(cls, name: str, h: dict[bytes, bytes]) -> ChannelMeta:
        assigned = _i(h, "head")
        head = min(assigned, _i(h, "durable"))
        return cls(
            name=name, title=_s(h, "title"), epoch=_s(h, "epoch"), state=_s(h, "state"),
            created=_i(h, "created"), starts=_s(h, "starts"), ends=_s(h, "ends"),
            retention_ms=_i(h, "retention_ms"), head=head,
            first=min(_i(h, "first", 1), head + 1), assigned=assigned,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoredAlert:
    off: int
    alert: bytes
    sig: bytes
    kid: str = ""  # signer's key id: only in entries stored before the compact layout
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
    #: The channel's epoch when the watermark was raised over ``off`` (what the ack names).
    epoch: str = field(default="", compare=False)


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


class AppendRequest(NamedTuple):
    """One alert for :meth:`hub.storage.Store.append_batch`. A named tuple rather than a
    frozen dataclass: one is made per published alert, and a frozen dataclass's
    ``__init__`` (``object.__setattr__`` per field) costs 1.5 against 0.5 us (issue 17)."""

    channel: str
    alert_id: str
    alert: bytes
    sig: bytes
    kid: str
    received: int  # ms
    #: The sender's chain (PROTOCOL.md §4), checked atomically with the append: the
    #: principal, ``seq`` (``None``: unchained), ``prev`` (32 bytes).
    sender: str = ""
    seq: int | None = None
    prev: bytes = b""
