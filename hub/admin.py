"""Administrative operations: the one place that changes members, principals, certificates,
channels and roles.

Each operation checks its arguments, writes the store, announces the change to every
hub process (so caches, subscriptions and sessions follow at once) and records it in
the audit log. The functions are used in-process (demo, tests) and by the ``adm``
frame through :func:`run_session_admin`, which authorises the caller (admin
certificates only: anyone else gets 403), runs the operation named on the wire
(``OPS``; PROTOCOL.md §6.8) and audits every refusal and every read.

Audit records are maps of strings: ``action`` (the operation), ``principal`` (who did
it), ``peer`` (from where: ``host:port``, or ``local`` for in-process callers),
``result`` (``ok``, ``refused`` or ``failed``), for refusals ``code``, ``reason`` and
``detail``, and the objects concerned: ``member``, ``subject`` (a principal acted
on), ``channel``, ``kid``, ``role``, ``state`` ... The store stamps the time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from certs import ca as certs_ca
from hub.protocol.errors import (
    AccessDenied,
    Conflict,
    CordonError,
    InternalError,
    InvalidFrame,
    NoSuchChannel,
    NotFound,
    Unavailable,
)
from hub.protocol.identity import (
    RESERVED_MEMBER,
    check_channel,
    check_name,
    principal_id,
    split_principal,
)
from hub.storage import (
    CHANNEL_STATES,
    PRINCIPAL_KINDS,
    ROLES,
    CertRecord,
    ChannelMeta,
    ChannelStats,
    MemberRecord,
    Store,
)

if TYPE_CHECKING:
    from hub.server import Hub
    from hub.session import Session

__all__ = [
    "COUNTRIES",
    "OPS",
    "Credentials",
    "add_member",
    "add_principal",
    "create_channel",
    "grant",
    "issue_certificate",
    "revoke_certificates",
    "revoke_role",
    "run_admin",
    "run_session_admin",
    "set_channel_state",
    "set_member_status",
    "update_member",
]

log = logging.getLogger("cordon.admin")

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
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_AUDIT_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
_ACTION = re.compile(r"[a-z][a-z0-9._-]{0,63}")


# --- records on the wire --------------------------------------------------------------


def _member_dict(m: MemberRecord, principals: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": m.id, "name": m.name, "country": m.country,
                           "status": m.status, "created": m.created}
    if principals is not None:
        out["principals"] = principals
    return out


def _cert_dict(c: CertRecord) -> dict[str, Any]:
    return {"kid": c.kid, "serial": f"{c.serial:016x}", "not_after": c.not_after,
            "status": c.status}


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
            "certs": [_cert_dict(c) for c in certs]}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _fields(record: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in record.items() if v is not None}


async def _audit(store: Store, record: dict[str, Any]) -> None:
    await store.audit(_fields(record))


# --- members ---------------------------------------------------------------------------


def _text(value: str, what: str, *, required: bool) -> str:
    value = value.strip()
    if (required and not value) or len(value) > _MAX_TEXT or _CONTROL.search(value):
        raise InvalidFrame(f"invalid {what}")
    return value


def _country(value: str) -> str:
    code = value.strip().upper()
    if code not in COUNTRIES:
        raise InvalidFrame("country must be an ISO 3166-1 alpha-2 code")
    return code


def _principal_arg(value: str) -> str:
    """A member principal id, or an administrator's (``admin/<name>``)."""
    if value.startswith(RESERVED_MEMBER + "/"):
        check_name(value.removeprefix(RESERVED_MEMBER + "/"), "admin name")
        return value
    split_principal(value)
    return value


def _member_id(value: str) -> str:
    check_name(value, "member id")
    if value == RESERVED_MEMBER:
        raise InvalidFrame("member id 'admin' is reserved")
    return value


async def add_member(store: Store, member: str, *, name: str, country: str,
                     by: str = "local", peer: str = "local") -> MemberRecord:
    """Enrol an administration (active). Conflict if the id is taken."""
    record = await store.add_member(_member_id(member), name=_text(name, "member name",
                                    required=True), country=_country(country))
    await _audit(store, {"action": "member.add", "principal": by, "peer": peer,
                         "member": member, "country": record.country, "result": "ok"})
    return record


async def update_member(store: Store, member: str, *, name: str | None = None,
                        country: str | None = None, by: str = "local", peer: str = "local"
                        ) -> MemberRecord:
    """Change a member's display name and/or country (members imported from the CA folder
    start with their id as name and no country). NotFound for an unknown member."""
    if name is None and country is None:
        raise InvalidFrame("nothing to update: give a name and/or a country")
    record = await store.update_member(
        _member_id(member),
        name=None if name is None else _text(name, "member name", required=True),
        country=None if country is None else _country(country))
    await _audit(store, {"action": "member.update", "principal": by, "peer": peer,
                         "member": member, "name": None if name is None else record.name,
                         "country": None if country is None else record.country,
                         "result": "ok"})
    return record


async def set_member_status(store: Store, member: str, status: str, *, by: str = "local",
                            peer: str = "local") -> MemberRecord:
    """Suspend (``suspended``) or reinstate (``active``) a member. A suspended member's
    sessions are closed on every hub process (4010) and it cannot connect until
    reinstated. NotFound for an unknown member; Conflict if it already has that status."""
    current = await store.member(_member_id(member))
    if current is None:
        raise NotFound("unknown member")
    if current.status == status:
        raise Conflict(f"member is already {'active' if status == 'active' else 'suspended'}")
    record = await store.set_member_status(member, status)
    await store.publish_event({"type": "member", "member": member, "status": status})
    action = "member.reinstate" if status == "active" else "member.suspend"
    await _audit(store, {"action": action, "principal": by, "peer": peer, "member": member,
                         "result": "ok"})
    return record


# --- principals and their certificates ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    """A certificate issued through the hub, with its private key (PEM)."""

    principal: str
    kind: str
    cert: CertRecord
    cert_pem: bytes
    key_pem: bytes
    ca_pem: bytes

    def wire(self) -> dict[str, Any]:
        return {"principal": self.principal, "kind": self.kind, **_cert_dict(self.cert),
                "cert": self.cert_pem.decode(), "key": self.key_pem.decode(),
                "ca": self.ca_pem.decode()}


def _days(value: int) -> int:
    if type(value) is not int or not 1 <= value <= _MAX_DAYS:
        raise InvalidFrame(f"days must be 1 to {_MAX_DAYS}")
    return value


def _issue(ca_dir: Path, scratch: Path, member: str, name: str, kind: str, days: int
           ) -> tuple[CertRecord, bytes, bytes, bytes]:
    """Issue with the CA folder's key into a private scratch folder, read it back, remove it.
    Blocking (file I/O, the CA lock): run in a thread."""
    scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix=".issue-") as out:
        issued = certs_ca.issue_member(ca_dir, member=member, name=name,
                                       kind=kind,  # type: ignore[arg-type]
                                       days=days, out=out, basename="leaf")
        cert_pem, key_pem = issued.cert.read_bytes(), issued.key.read_bytes()
        ca_pem = issued.ca.read_bytes()
    cert = x509.load_pem_x509_certificate(cert_pem)
    record = CertRecord(
        kid=issued.kid, principal=f"{member}/{name}", member=member, admin=False,
        der=cert.public_bytes(Encoding.DER), serial=issued.serial,
        not_after=int(cert.not_valid_after_utc.timestamp() * 1000), status="active",
    )
    return record, cert_pem, key_pem, ca_pem


async def _issue_via_ca(hub: Hub, member: str, name: str, kind: str, days: int
                        ) -> tuple[CertRecord, bytes, bytes, bytes]:
    s = hub.settings
    try:
        return await asyncio.to_thread(_issue, s.ca_dir, s.data_dir / "issue", member, name,
                                       kind, days)
    except certs_ca.InvalidRequest as exc:
        log.warning("the CA refused to issue for %s/%s: %s", member, name, exc)
        raise InvalidFrame("the CA refused the request (lifetime beyond the CA's?)") from exc
    except (certs_ca.CAError, OSError) as exc:
        log.error("cannot issue for %s/%s: %s", member, name, exc)
        raise Unavailable("certificate authority unavailable on this hub") from exc


async def _revoke_in_ca(hub: Hub, kid: str, reason: str) -> None:
    """Best effort: the registry already refuses the certificate."""
    with contextlib.suppress(certs_ca.AlreadyRevoked):
        await asyncio.to_thread(certs_ca.revoke, hub.settings.ca_dir, kid=kid, reason=reason)


async def add_principal(hub: Hub, member: str, name: str, *, kind: str,
                        days: int = _DEFAULT_DAYS, by: str = "local", peer: str = "local"
                        ) -> Credentials:
    """Add principal ``member/name`` (officer | system) and issue its first certificate in
    one step, with the CA folder the hub runs with. NotFound for an unknown member,
    Conflict if the principal exists (use :func:`issue_certificate` for a new one)."""
    store = hub.store
    pid = principal_id(_member_id(member), check_name(name, "principal name"))
    if kind not in PRINCIPAL_KINDS:
        raise InvalidFrame(f"kind must be one of {', '.join(PRINCIPAL_KINDS)}")
    _days(days)
    if await store.member(member) is None:
        raise NotFound("unknown member")
    if await store.principal(pid) is not None or await store.certs_of(pid):
        raise Conflict("principal already exists")
    cert, cert_pem, key_pem, ca_pem = await _issue_via_ca(hub, member, name, kind, days)
    try:
        await store.add_principal(member, name, kind=kind, cert=cert)
    except CordonError:
        with contextlib.suppress(certs_ca.CAError, OSError):
            await _revoke_in_ca(hub, cert.kid, "cessationOfOperation")  # lost a race
        raise
    await _audit(store, {"action": "principal.add", "principal": by, "peer": peer,
                         "member": member, "subject": pid, "kind": kind, "kid": cert.kid,
                         "result": "ok"})
    return Credentials(pid, kind, cert, cert_pem, key_pem, ca_pem)


async def issue_certificate(hub: Hub, principal: str, *, days: int = _DEFAULT_DAYS,
                            by: str = "local", peer: str = "local") -> Credentials:
    """Issue a further certificate for an existing member principal (renewal, or after a
    revocation). Its other certificates stay as they are. NotFound if unknown."""
    member, name = split_principal(principal)
    _days(days)
    record = await hub.store.principal(principal)
    if record is None and not await hub.store.certs_of(principal):
        raise NotFound("unknown principal")
    kind = record.kind if record is not None and record.kind else "system"
    cert, cert_pem, key_pem, ca_pem = await _issue_via_ca(hub, member, name, kind, days)
    await hub.store.register_cert(cert)
    await _audit(hub.store, {"action": "principal.issue", "principal": by, "peer": peer,
                             "member": member, "subject": principal, "kid": cert.kid,
                             "result": "ok"})
    return Credentials(principal, kind, cert, cert_pem, key_pem, ca_pem)


async def revoke_certificates(hub: Hub, *, principal: str | None = None,
                              kid: str | None = None, reason: str = "unspecified",
                              by: str = "local", peer: str = "local"
                              ) -> tuple[list[CertRecord], int | None]:
    """Revoke one certificate (``kid``) or every active one of a ``principal``, at once on
    every hub process: the registry refuses them (new connections: 4010), the principal's
    live sessions on those certificates are closed (4010), and the CA folder's CRL is
    rewritten and published to every process, which reloads TLS. Returns the revoked
    records and the new CRL's number (None if the CA folder could not be updated: the
    revocation still holds through the registry). Alerts signed before stay verifiable.
    NotFound for an unknown principal or certificate; Conflict if already revoked."""
    store = hub.store
    if (principal is None) == (kid is None):
        raise InvalidFrame("give exactly one of principal or kid")
    if reason not in certs_ca.REASONS:
        raise InvalidFrame("unknown revocation reason")
    if principal is not None:
        records = await store.certs_of(_principal_arg(principal))
        if not records:
            raise NotFound("unknown principal")
    else:
        assert kid is not None
        if _KID.fullmatch(kid) is None:
            raise InvalidFrame("invalid key id")
        one = await store.cert(kid.lower())
        if one is None:
            raise NotFound("unknown certificate")
        records = [one]
    active = [r for r in records if r.status == "active"]
    if not active:
        raise Conflict("already revoked")
    changed = set(await store.revoke_certs([r.kid for r in active]))
    revoked = [r for r in active if r.kid in changed]
    if not revoked:
        raise Conflict("already revoked")
    for r in revoked:
        await store.publish_event({"type": "revoke", "kid": r.kid, "principal": r.principal})
    number: int | None = None
    try:
        for r in revoked:
            with contextlib.suppress(certs_ca.UnknownCertificate):
                await _revoke_in_ca(hub, r.kid, reason)
        number = await hub.casync.publish_folder_crl()
    except (certs_ca.CAError, OSError, CordonError) as exc:
        log.error("revoked in the registry, but the CRL could not be republished: %s", exc)
    await _audit(store, {
        "action": "cert.revoke", "principal": by, "peer": peer,
        "subject": principal or revoked[0].principal, "kid": ",".join(r.kid for r in revoked),
        "revocation": reason, "crl": number, "result": "ok",
    })  # fmt: skip
    return revoked, number


# --- channels and roles ------------------------------------------------------------------


def _iso_date(value: str, what: str) -> str:
    if not value:
        return ""
    try:
        date.fromisoformat(value)
    except ValueError:
        raise InvalidFrame(f"{what} must be a date, YYYY-MM-DD") from None
    if len(value) != 10:
        raise InvalidFrame(f"{what} must be a date, YYYY-MM-DD")
    return value


async def create_channel(store: Store, name: str, *, title: str = "", starts: str = "",
                         ends: str = "", retention_ms: int = 0, by: str = "local",
                         peer: str = "local") -> ChannelMeta:
    """Create an operation's channel (open, fresh epoch). Conflict if the name is taken."""
    check_channel(name)
    title = _text(title, "title", required=False)
    starts, ends = _iso_date(starts, "starts"), _iso_date(ends, "ends")
    if starts and ends and ends < starts:
        raise InvalidFrame("ends is before starts")
    if type(retention_ms) is not int or retention_ms < 0:
        raise InvalidFrame("retention must be a non-negative number of milliseconds")
    meta = await store.create_channel(name, title=title, starts=starts, ends=ends,
                                      retention_ms=retention_ms)
    await store.publish_event({"type": "channel", "ch": name, "state": meta.state})
    await _audit(store, {"action": "channel.create", "principal": by, "peer": peer,
                         "channel": name, "result": "ok"})
    return meta


async def set_channel_state(store: Store, name: str, state: str, *, by: str = "local",
                            peer: str = "local") -> ChannelMeta:
    """open | closed (read-only: publishing gets 405, history stays readable) | archived
    (also ends every live subscription)."""
    if state not in CHANNEL_STATES:
        raise InvalidFrame(f"state must be one of {', '.join(CHANNEL_STATES)}")
    meta = await store.set_channel_state(name, state)
    await store.publish_event({"type": "channel", "ch": name, "state": state})
    await _audit(store, {"action": f"channel.{state}", "principal": by, "peer": peer,
                         "channel": name, "result": "ok"})
    return meta


async def grant(store: Store, channel: str, member: str, role: str, *, by: str = "local",
                peer: str = "local") -> str | None:
    """Give a member a role in a channel, or change it; returns the previous role."""
    if role not in ROLES:
        raise InvalidFrame(f"role must be one of {', '.join(ROLES)}")
    check_name(member, "member id")
    if await store.member(member) is None:
        raise NotFound("unknown member")
    previous = await store.role(channel, member)
    await store.set_role(channel, member, role)
    await store.publish_event({"type": "role", "ch": channel, "member": member, "role": role})
    action = "role.change" if previous is not None and previous != role else "role.grant"
    await _audit(store, {"action": action, "principal": by, "peer": peer, "channel": channel,
                         "member": member, "role": role, "previous": previous, "result": "ok"})
    return previous


async def revoke_role(store: Store, channel: str, member: str, *, by: str = "local",
                      peer: str = "local") -> None:
    """Remove a member from a channel; its live subscriptions to it end (``ended`` 404)."""
    if await store.channel(channel) is None:
        raise NoSuchChannel()
    await store.set_role(channel, member, None)
    await store.publish_event({"type": "role", "ch": channel, "member": member, "role": None})
    await _audit(store, {"action": "role.remove", "principal": by, "peer": peer,
                         "channel": channel, "member": member, "result": "ok"})


# --- the wire: arguments, operations, authorisation --------------------------------------


class _Args:
    """An ``adm`` frame's arguments: typed access; unknown keys are refused (401)."""

    def __init__(self, raw: dict[str, Any], allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(raw) - set(allowed))
        if unknown:
            raise InvalidFrame("unknown argument")
        self.raw = raw

    def text(self, key: str, default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if value is None:
            raise InvalidFrame(f"missing argument {key}")
        if not isinstance(value, str):
            raise InvalidFrame(f"argument {key} must be a string")
        return value

    def opt_text(self, key: str) -> str | None:
        return None if self.raw.get(key) is None else self.text(key)

    def count(self, key: str, default: int) -> int:
        value = self.raw.get(key, default)
        if value is None:
            return default
        if type(value) is not int or value < 0:
            raise InvalidFrame(f"argument {key} must be a non-negative integer")
        return value


@dataclass(frozen=True, slots=True)
class _Ctx:
    hub: Hub
    by: str
    peer: str

    @property
    def store(self) -> Store:
        return self.hub.store


_Result = dict[str, Any]
_Handler = Callable[[_Ctx, dict[str, Any]], Awaitable[_Result]]


async def _member_add(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("id", "name", "country"))
    m = await add_member(c.store, a.text("id"), name=a.text("name"), country=a.text("country"),
                         by=c.by, peer=c.peer)
    return {"member": _member_dict(m, 0)}


async def _member_list(c: _Ctx, raw: dict[str, Any]) -> _Result:
    _Args(raw, ())
    out = [_member_dict(m, len(await c.store.principals(m.id)))
           for m in await c.store.members()]
    return {"members": out}


async def _member_show(c: _Ctx, raw: dict[str, Any]) -> _Result:
    member = _member_id(_Args(raw, ("id",)).text("id"))
    m = await c.store.member(member)
    if m is None:
        raise NotFound("unknown member")
    now = _now_ms()
    principals = [_principal_dict(p.id, p.kind, await c.store.certs_of(p.id), now)
                  for p in await c.store.principals(member)]
    return {"member": _member_dict(m, len(principals)), "principals": principals,
            "roles": await c.store.roles_of(member)}


async def _member_update(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("id", "name", "country"))
    m = await update_member(c.store, a.text("id"), name=a.opt_text("name"),
                            country=a.opt_text("country"), by=c.by, peer=c.peer)
    return {"member": _member_dict(m)}


async def _member_suspend(c: _Ctx, raw: dict[str, Any]) -> _Result:
    member = _Args(raw, ("id",)).text("id")
    return {"member": _member_dict(await set_member_status(c.store, member, "suspended",
                                                           by=c.by, peer=c.peer))}


async def _member_reinstate(c: _Ctx, raw: dict[str, Any]) -> _Result:
    member = _Args(raw, ("id",)).text("id")
    return {"member": _member_dict(await set_member_status(c.store, member, "active",
                                                           by=c.by, peer=c.peer))}


async def _principal_add(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("member", "name", "kind", "days"))
    creds = await add_principal(c.hub, a.text("member"), a.text("name"), kind=a.text("kind"),
                                days=a.count("days", _DEFAULT_DAYS), by=c.by, peer=c.peer)
    return creds.wire()


async def _principal_issue(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("principal", "days"))
    creds = await issue_certificate(c.hub, a.text("principal"),
                                    days=a.count("days", _DEFAULT_DAYS), by=c.by, peer=c.peer)
    return creds.wire()


async def _principal_list(c: _Ctx, raw: dict[str, Any]) -> _Result:
    member = _Args(raw, ("member",)).opt_text("member")
    if member is not None:
        _member_id(member)
        if await c.store.member(member) is None:
            raise NotFound("unknown member")
        members = [member]
    else:
        members = [m.id for m in await c.store.members()]
    now = _now_ms()
    out = []
    for m in members:
        for p in await c.store.principals(m):
            d = _principal_dict(p.id, p.kind, await c.store.certs_of(p.id), now)
            d["certs"] = sum(1 for cert in d["certs"] if cert["status"] == "active")
            out.append(d)
    return {"principals": out}


async def _principal_show(c: _Ctx, raw: dict[str, Any]) -> _Result:
    pid = _principal_arg(_Args(raw, ("principal",)).text("principal"))
    record = None if pid.startswith("admin/") else await c.store.principal(pid)
    certs = await c.store.certs_of(pid)
    if not certs and record is None:
        raise NotFound("unknown principal")
    kind = "admin" if pid.startswith("admin/") else record.kind if record is not None else ""
    return {"principal": _principal_dict(pid, kind, certs, _now_ms())}


async def _cert_revoke(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("principal", "kid", "reason"))
    revoked, number = await revoke_certificates(
        c.hub, principal=a.opt_text("principal"), kid=a.opt_text("kid"),
        reason=a.text("reason", "unspecified"), by=c.by, peer=c.peer,
    )
    return {"revoked": [{"principal": r.principal, **_cert_dict(r), "status": "revoked"}
                        for r in revoked], "crl": number}


async def _channel_info(store: Store, meta: ChannelMeta) -> dict[str, Any]:
    stats = await store.channel_stats([meta.name])
    return _channel_dict(meta, stats.get(meta.name))


async def _channel_create(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("name", "title", "starts", "ends", "retention_ms"))
    meta = await create_channel(c.store, a.text("name"), title=a.text("title", ""),
                                starts=a.text("starts", ""), ends=a.text("ends", ""),
                                retention_ms=a.count("retention_ms", 0), by=c.by, peer=c.peer)
    return {"channel": await _channel_info(c.store, meta)}


async def _channel_list(c: _Ctx, raw: dict[str, Any]) -> _Result:
    _Args(raw, ())
    metas = await c.store.channels()
    stats = await c.store.channel_stats([m.name for m in metas])
    return {"channels": [_channel_dict(m, stats.get(m.name)) for m in metas]}


async def _channel_show(c: _Ctx, raw: dict[str, Any]) -> _Result:
    name = check_channel(_Args(raw, ("name",)).text("name"))
    meta = await c.store.channel(name)
    if meta is None:
        raise NoSuchChannel()
    return {"channel": await _channel_info(c.store, meta), "roles": await c.store.roles(name)}


async def _channel_state(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("name", "state"))
    name, state = check_channel(a.text("name")), a.text("state")
    if state not in CHANNEL_STATES:
        raise InvalidFrame(f"state must be one of {', '.join(CHANNEL_STATES)}")
    current = await c.store.channel(name)
    if current is None:
        raise NoSuchChannel()
    if current.state == "archived":
        raise Conflict("channel is archived")
    if current.state == state:
        raise Conflict(f"channel is already {state}")
    meta = await set_channel_state(c.store, name, state, by=c.by, peer=c.peer)
    return {"channel": await _channel_info(c.store, meta)}


async def _role_grant(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("channel", "member", "role"))
    ch, member, role = check_channel(a.text("channel")), a.text("member"), a.text("role")
    if role not in ROLES:
        raise InvalidFrame(f"role must be one of {', '.join(ROLES)}")
    _member_id(member)
    if await c.store.channel(ch) is None:
        raise NoSuchChannel()
    if await c.store.role(ch, member) == role:
        raise Conflict("member already has this role")
    previous = await grant(c.store, ch, member, role, by=c.by, peer=c.peer)
    return {"channel": ch, "member": member, "role": role, "previous": previous}


async def _role_remove(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("channel", "member"))
    ch, member = check_channel(a.text("channel")), _member_id(a.text("member"))
    if await c.store.channel(ch) is None:
        raise NoSuchChannel()
    previous = await c.store.role(ch, member)
    if previous is None:
        raise NotFound("member has no role in this channel")
    await revoke_role(c.store, ch, member, by=c.by, peer=c.peer)
    return {"channel": ch, "member": member, "previous": previous}


async def _audit_list(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("since_ms", "principal", "action", "after", "limit"))
    after, principal, action = a.opt_text("after"), a.opt_text("principal"), a.opt_text("action")
    if after is not None and _AUDIT_ID.fullmatch(after) is None:
        raise InvalidFrame("after must be an audit record id")
    if principal is not None and len(principal) > 80:
        raise InvalidFrame("invalid principal id")
    if action is not None and _ACTION.fullmatch(action) is None:
        raise InvalidFrame("invalid action")
    limit = a.count("limit", AUDIT_PAGE_MAX)
    if not 1 <= limit <= AUDIT_PAGE_MAX:
        raise InvalidFrame(f"limit must be 1 to {AUDIT_PAGE_MAX}")
    page = await c.store.audit_page(after=after, since_ms=a.count("since_ms", 0),
                                    principal=principal, action=action, limit=limit)
    return {"records": page.records, "next": page.next}


#: Every operation of the ``adm`` frame (PROTOCOL.md §6.8).
OPS: dict[str, _Handler] = {
    "member.add": _member_add,
    "member.list": _member_list,
    "member.show": _member_show,
    "member.update": _member_update,
    "member.suspend": _member_suspend,
    "member.reinstate": _member_reinstate,
    "principal.add": _principal_add,
    "principal.issue": _principal_issue,
    "principal.list": _principal_list,
    "principal.show": _principal_show,
    "cert.revoke": _cert_revoke,
    "channel.create": _channel_create,
    "channel.list": _channel_list,
    "channel.show": _channel_show,
    "channel.state": _channel_state,
    "role.grant": _role_grant,
    "role.remove": _role_remove,
    "audit.list": _audit_list,
}
#: Operations that change nothing: audited here (the others audit what they changed).
_READS = frozenset({"member.list", "member.show", "principal.list", "principal.show",
                    "channel.list", "channel.show", "audit.list"})


async def run_admin(hub: Hub, by: str, op: str, args: dict[str, Any], *,
                    peer: str = "local") -> dict[str, Any]:
    """Run operation ``op`` for administrator ``by`` (no authorisation, no refusal audit:
    for in-process callers; the wire goes through :func:`run_session_admin`)."""
    handler = OPS.get(op)
    if handler is None:
        raise InvalidFrame("unknown admin operation")
    return await handler(_Ctx(hub, by, peer), args)


def _subject(args: dict[str, Any]) -> dict[str, str]:
    """The objects a refused request named (checked names only) for its audit record."""
    out = {}
    for key, field, check in (("id", "member", _NAME), ("member", "member", _NAME),
                              ("name", "channel", _CHANNEL), ("channel", "channel", _CHANNEL),
                              ("principal", "subject", _PRINCIPAL), ("kid", "kid", _KID)):
        value = args.get(key)
        if isinstance(value, str) and check.fullmatch(value) and field not in out:
            out[field] = value
    return out


_NAME = re.compile(r"[a-z0-9-]{1,32}")
_CHANNEL = re.compile(r"[a-z0-9._-]{1,64}")
_PRINCIPAL = re.compile(r"[a-z0-9-]{1,32}/[a-z0-9-]{1,32}")
_KID = re.compile(r"[0-9a-fA-F]{64}")


async def run_session_admin(hub: Hub, session: Session, op: str, args: dict[str, Any]
                            ) -> dict[str, Any]:
    """The ``adm`` frame: authorise (403 unless an admin certificate), run, audit.

    Every refusal and failure is audited with the operation and the objects it named;
    successful changes are audited by the operation itself, successful reads here."""
    action = op if op in OPS else "adm"
    base = {"action": action, "principal": session.principal, "peer": session.peer}
    if action == "adm":
        base["op"] = op[:64].encode("ascii", "replace").decode()
    try:
        if not session.identity.admin:
            raise AccessDenied("admin certificate required")
        result = await run_admin(hub, session.principal, op, args, peer=session.peer)
    except CordonError as exc:
        await hub.refusals.record(session, _fields({
            **base, **_subject(args), "result": "refused", "code": exc.code,
            "reason": exc.phrase, "detail": exc.detail or None}))
        raise
    except Exception as exc:
        log.exception("admin operation %s failed", action)
        await hub.refusals.record(session, _fields({
            **base, **_subject(args), "result": "failed", "code": InternalError.code}))
        raise InternalError() from exc
    if action in _READS:
        with contextlib.suppress(CordonError):
            await _audit(hub.store, {**base, **_subject(args), "result": "ok"})
    return result
