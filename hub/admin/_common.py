"""Shared by the admin modules: limits, the country list, argument checks, records on the
wire, audit writes."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Protocol

from hub.access import Access
from hub.config import Settings
from hub.protocol.identity import Identity
from hub.refusals import RefusalAudit
from hub.registry import CASync
from hub.storage import (
    CertRecord,
    ChannelMeta,
    ChannelStats,
    MemberRecord,
    Store,
)

if TYPE_CHECKING:
    from hub.ops import Operations

log = logging.getLogger("cordon.admin")


class AdminHost(Protocol):
    """What admin operations need of the hub process they run in (:class:`hub.server.Hub`
    is one): its settings (the CA folder), the store, its access decisions (a revocation
    is applied to them before it is announced), the CA folder's sync (CRL), and the
    refusal audit. Admin never imports the server."""

    settings: Settings
    store: Store
    access: Access
    casync: CASync
    refusals: RefusalAudit
    #: This process's operations side (``status``: hub.ops).
    ops: Operations


class AdminCaller(Hashable, Protocol):
    """The connection an ``adm`` frame came from (:class:`hub.session.Session` is one)."""

    @property
    def principal(self) -> str: ...

    @property
    def peer(self) -> str: ...

    @property
    def identity(self) -> Identity: ...

#: ISO 3166-1 alpha-2 codes (officially assigned), plus EU and XK (user-assigned, in use
#: by customs: the European Union, Kosovo).
_COUNTRY_LIST = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
VN VU WF WS YE YT ZA ZM ZW EU XK
"""
COUNTRIES = frozenset(_COUNTRY_LIST.split())

#: Longest member display name and channel title.
_MAX_TEXT = 200
#: Certificate lifetime bounds (days) for credentials issued through the hub.
_MAX_DAYS = 3650
_DEFAULT_DAYS = 365
#: Audit records per ``audit.list`` page (keeps an answer far below the frame limit).
AUDIT_PAGE_MAX = 200
#: Records per page of ``member.list``, ``principal.list`` and ``channel.list``; a page
#: also ends where one more record would not fit in one frame (``next`` says where to go on).
LIST_PAGE_MAX = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_AUDIT_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
_ACTION = re.compile(r"[a-z][a-z0-9._-]{0,63}")
#: Names a refused request may carry into its audit record (checked shapes only).
_NAME = re.compile(r"[a-z0-9-]{1,32}")
_CHANNEL = re.compile(r"[a-z0-9._-]{1,64}")
_PRINCIPAL = re.compile(r"[a-z0-9-]{1,32}/[a-z0-9-]{1,32}")
_KID = re.compile(r"[0-9a-fA-F]{64}")





def _member_dict(m: MemberRecord, principals: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": m.id, "name": m.name, "country": m.country,
                           "status": m.status, "created": m.created}
    if principals is not None:
        out["principals"] = principals
    return out


def _cert_dict(c: CertRecord, now: int | None = None) -> dict[str, Any]:
    """A certificate for admin results; with ``now``, an active one past its ``not_after``
    shows as ``expired`` (it can no longer connect), never as ``active``."""
    status = c.status
    if now is not None and status == "active" and c.not_after <= now:
        status = "expired"
    return {"kid": c.kid, "serial": f"{c.serial:016x}", "not_after": c.not_after,
            "status": status}


def _channel_dict(meta: ChannelMeta, stats: ChannelStats | None) -> dict[str, Any]:
    return {
        "name": meta.name, "title": meta.title, "state": meta.state, "epoch": meta.epoch,
        "created": meta.created, "starts": meta.starts, "ends": meta.ends,
        "retention_ms": meta.retention_ms, "head": meta.head, "first": meta.first,
        "members": stats.members if stats else 0, "alerts": stats.alerts if stats else 0,
        "last_activity": stats.last_ms if stats else 0,
    }  # fmt: skip


def _principal_dict(pid: str, kind: str, certs: list[CertRecord], now: int) -> dict[str, Any]:
    active = [c for c in certs if c.status == "active"]
    live = [c for c in active if c.not_after > now]
    status = ("active" if live else "expired" if active else "revoked" if certs
              else "no certificate")
    return {"id": pid, "kind": kind, "status": status,
            "expires": max((c.not_after for c in live), default=0),
            "certs": [_cert_dict(c, now) for c in certs]}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _fields(record: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in record.items() if v is not None}


async def _audit(store: Store, record: dict[str, Any]) -> None:
    await store.audit(_fields(record))
