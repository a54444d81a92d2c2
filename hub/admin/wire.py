"""The ``adm`` frame: typed arguments, one handler per operation (``OPS``; PROTOCOL.md §6.8),
authorisation (admin certificates only) and the audit of refusals and reads."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgpack

from hub.admin._common import (
    _ACTION,
    _AUDIT_ID,
    _CHANNEL,
    _DEFAULT_DAYS,
    _KID,
    _NAME,
    _PRINCIPAL,
    AUDIT_PAGE_MAX,
    LIST_PAGE_MAX,
    _audit,
    _cert_dict,
    _channel_dict,
    _fields,
    _member_dict,
    _now_ms,
    _principal_dict,
    log,
)
from hub.admin.operations import (
    _member_id,
    _principal_arg,
    add_principal,
    ensure_channel,
    ensure_member,
    grant,
    issue_certificate,
    revoke_certificates,
    revoke_role,
    set_channel_state,
    set_member_status,
    update_member,
)
from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.errors import (
    AccessDenied,
    Conflict,
    CordonError,
    FrameTooLarge,
    InternalError,
    InvalidFrame,
    NoSuchChannel,
    NotFound,
)
from hub.protocol.identity import (
    check_channel,
)
from hub.protocol.limits import MAX_FRAME_BYTES
from hub.storage import (
    CHANNEL_STATES,
    ROLES,
    ChannelMeta,
    Store,
)

if TYPE_CHECKING:
    # never the server or the session themselves
    from hub.admin._common import AdminCaller as Session
    from hub.admin._common import AdminHost as Hub

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

    def flag(self, key: str) -> bool:
        value = self.raw.get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise InvalidFrame(f"argument {key} must be a boolean")
        return value

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
#: Room left in a frame for the ``admok`` around a page's records (type, rid, keys, next).
_PAGE_OVERHEAD = 1024
#: Longest ``after`` of a list page (a principal id ``member/name``).
_MAX_AFTER = 65


def _frame_budget(hub: Hub) -> int:
    """The largest message a client accepts from this hub (PROTOCOL.md §9)."""
    return min(hub.settings.max_frame_bytes, MAX_FRAME_BYTES)


def _page_args(a: _Args) -> tuple[str | None, int]:
    """A list page's ``after`` (the last key of the previous page) and ``limit``."""
    after = a.opt_text("after")
    if after is not None and not 0 < len(after) <= _MAX_AFTER:
        raise InvalidFrame("invalid after")
    limit = a.count("limit", LIST_PAGE_MAX)
    if not 1 <= limit <= LIST_PAGE_MAX:
        raise InvalidFrame(f"limit must be 1 to {LIST_PAGE_MAX}")
    return after, limit


async def _page(c: _Ctx, name: str, keys: list[str], after: str | None, limit: int,
                record: Callable[[str], Awaitable[dict[str, Any]]], *,
                order: Callable[[str], Any] = str) -> _Result:
    """``{name: [record(k) for the keys after ``after``], "next": …}``: at most ``limit``
    records, and no more than fit in one frame with the rest of the answer; ``next`` is the
    last key given when there are more (pass it as ``after``), else None."""
    keys = sorted(keys, key=order)
    if after is not None:
        keys = [k for k in keys if order(k) > order(after)]
    budget = _frame_budget(c.hub) - _PAGE_OVERHEAD
    out: list[dict[str, Any]] = []
    for key in keys[:limit]:
        item = await record(key)
        budget -= len(msgpack.packb(item, use_bin_type=True))
        if budget < 0 and out:
            break
        out.append(item)
    more = len(out) < len(keys)
    return {name: out, "next": _key_of(name, out[-1]) if more else None}


def _key_of(name: str, item: dict[str, Any]) -> str:
    return str(item["name" if name == "channels" else "id"])


async def _member_add(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("id", "name", "country"))
    m, unchanged = await ensure_member(c.store, a.text("id"), name=a.text("name"),
                                       country=a.text("country"), by=c.by, peer=c.peer)
    principals = len(await c.store.principals(m.id)) if unchanged else 0
    return {"member": _member_dict(m, principals), "unchanged": unchanged}


async def _member_list(c: _Ctx, raw: dict[str, Any]) -> _Result:
    after, limit = _page_args(_Args(raw, ("after", "limit")))
    members = {m.id: m for m in await c.store.members()}

    async def record(member: str) -> dict[str, Any]:
        m = members[member]
        return _member_dict(m, len(await c.store.principals(m.id)))

    return await _page(c, "members", list(members), after, limit, record)


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
    a = _Args(raw, ("member", "name", "kind", "days", "csr", "generate_key"))
    creds = await add_principal(c.hub, a.text("member"), a.text("name"), kind=a.text("kind"),
                                days=a.count("days", _DEFAULT_DAYS), csr=a.opt_text("csr"),
                                generate_key=a.flag("generate_key"), by=c.by, peer=c.peer)
    return creds.wire()


async def _principal_issue(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("principal", "days", "csr", "generate_key"))
    creds = await issue_certificate(c.hub, a.text("principal"),
                                    days=a.count("days", _DEFAULT_DAYS), csr=a.opt_text("csr"),
                                    generate_key=a.flag("generate_key"), by=c.by, peer=c.peer)
    return creds.wire()


async def _principal_list(c: _Ctx, raw: dict[str, Any]) -> _Result:
    a = _Args(raw, ("member", "after", "limit"))
    member = a.opt_text("member")
    after, limit = _page_args(a)
    if member is not None:
        _member_id(member)
        if await c.store.member(member) is None:
            raise NotFound("unknown member")
        members = [member]
    else:
        members = [m.id for m in await c.store.members()]
    now = _now_ms()
    kinds = {p.id: p.kind for m in members for p in await c.store.principals(m)}

    async def record(pid: str) -> dict[str, Any]:
        d = _principal_dict(pid, kinds[pid], await c.store.certs_of(pid), now)
        d["certs"] = sum(1 for cert in d["certs"] if cert["status"] == "active")
        return d

    # by member, then name (as the string "member/name" would not: "a-b/x" < "a/y")
    return await _page(c, "principals", list(kinds), after, limit, record,
                       order=lambda pid: tuple(pid.split("/", 1)))


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
    meta, unchanged = await ensure_channel(
        c.store, a.text("name"), title=a.text("title", ""), starts=a.text("starts", ""),
        ends=a.text("ends", ""), retention_ms=a.count("retention_ms", 0), by=c.by, peer=c.peer)
    return {"channel": await _channel_info(c.store, meta), "unchanged": unchanged}


async def _channel_list(c: _Ctx, raw: dict[str, Any]) -> _Result:
    after, limit = _page_args(_Args(raw, ("after", "limit")))
    metas = {m.name: m for m in await c.store.channels()}
    names = sorted(n for n in metas if after is None or n > after)[:limit]
    stats = await c.store.channel_stats(names)

    async def record(name: str) -> dict[str, Any]:
        return _channel_dict(metas[name], stats.get(name))

    return await _page(c, "channels", list(metas), after, limit, record)


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
    if await c.store.role(ch, member) == role:  # already so: nothing to change
        if await c.store.member(member) is None:
            raise NotFound("unknown member")
        await _audit(c.store, {"action": "role.grant", "principal": c.by, "peer": c.peer,
                               "channel": ch, "member": member, "role": role,
                               "result": "unchanged"})
        return {"channel": ch, "member": member, "role": role, "previous": role,
                "unchanged": True}
    previous = await grant(c.store, ch, member, role, by=c.by, peer=c.peer)
    return {"channel": ch, "member": member, "role": role, "previous": previous,
            "unchanged": False}


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


async def _status(c: _Ctx, raw: dict[str, Any]) -> _Result:
    _Args(raw, ())
    return await c.hub.ops.status()


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
    "status": _status,
}
#: Operations that change nothing: audited here (the others audit what they changed).
_READS = frozenset({"member.list", "member.show", "principal.list", "principal.show",
                    "channel.list", "channel.show", "audit.list", "status"})


async def run_admin(hub: Hub, by: str, op: str, args: dict[str, Any], *,
                    peer: str = "local") -> dict[str, Any]:
    """Run operation ``op`` for administrator ``by`` (no authorisation, no refusal audit:
    for in-process callers; the wire goes through :func:`run_session_admin`)."""
    handler = OPS.get(op)
    if handler is None:
        raise InvalidFrame("unknown admin operation")
    return await handler(_Ctx(hub, by, peer), args)


#: What each operation's audit record names, from which argument: ``(argument, field)``.
#: The same fields whether the operation was done or refused (PROTOCOL.md §6.8); the
#: done records of changes are written by :mod:`hub.admin.operations` with these fields
#: (and what the change produced: a new ``kid``, the ``role`` ...).
SUBJECT_ARGS: dict[str, tuple[tuple[str, str], ...]] = {
    "member.add": (("id", "member"),),
    "member.list": (),
    "member.show": (("id", "member"),),
    "member.update": (("id", "member"),),
    "member.suspend": (("id", "member"),),
    "member.reinstate": (("id", "member"),),
    "principal.add": (("member", "member"), ("name", "name")),  # subject: member/name
    "principal.issue": (("principal", "subject"),),
    "principal.list": (("member", "member"),),
    "principal.show": (("principal", "subject"),),
    "cert.revoke": (("principal", "subject"), ("kid", "kid")),
    "channel.create": (("name", "channel"),),
    "channel.list": (),
    "channel.show": (("name", "channel"),),
    "channel.state": (("name", "channel"),),
    "role.grant": (("channel", "channel"), ("member", "member")),
    "role.remove": (("channel", "channel"), ("member", "member")),
    "audit.list": (),
    "status": (),
}
_SHAPES = {"member": _NAME, "name": _NAME, "subject": _PRINCIPAL, "kid": _KID,
           "channel": _CHANNEL}


def audit_subject(op: str, args: dict[str, Any]) -> dict[str, str]:
    """The objects operation ``op`` names in ``args``, as its audit record carries them:
    ``member``, ``subject`` (the principal acted on; its member too), ``channel``,
    ``kid``. Only well-formed values are recorded; an unknown operation names nothing."""
    found: dict[str, str] = {}
    for key, field in SUBJECT_ARGS.get(op, ()):
        value = args.get(key)
        if isinstance(value, str) and _SHAPES[field].fullmatch(value):
            found[field] = value.lower() if field == "kid" else value
    name = found.pop("name", None)
    if name is not None and "member" in found:
        found["subject"] = f"{found['member']}/{name}"
    subject = found.get("subject")
    if subject is not None and not subject.startswith("admin/"):
        found.setdefault("member", subject.partition("/")[0])
    return found


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
        _check_fits(hub, action, result)
    except CordonError as exc:
        await hub.refusals.record(session, _fields({
            **base, **audit_subject(action, args), "result": "refused", "code": exc.code,
            "reason": exc.phrase, "detail": exc.detail or None}))
        raise
    except Exception as exc:
        log.exception("admin operation %s failed", action)
        await hub.refusals.record(session, _fields({
            **base, **audit_subject(action, args), "result": "failed",
            "code": InternalError.code}))
        raise InternalError() from exc
    if action in _READS:
        with contextlib.suppress(CordonError):
            await _audit(hub.store, {**base, **audit_subject(action, args), "result": "ok"})
    return result


def _check_fits(hub: Hub, action: str, result: dict[str, Any]) -> None:
    """Every ``admok`` must fit in one frame a client accepts (lists are paged so that
    theirs do). Otherwise 413, saying whether anything was done (PROTOCOL.md §6.8)."""
    size = len(codec.encode(f.AdminResult(rid=2**64 - 1, result=result)))
    if size > _frame_budget(hub):
        raise FrameTooLarge("result too large for one frame" if action in _READS else
                            "done, but its result is too large for one frame")
