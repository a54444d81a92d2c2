"""``cordon admin apply FILE``: provision members, principals, channels and roles from one
declarative TOML file, over one connection.

::

    [defaults]                  # optional
    days = 365                  # lifetime of certificates issued here
    out = "creds"               # where credentials are written (relative to FILE)

    [[members]]
    id = "fr"
    name = "Douane française"
    country = "FR"

    [[principals]]
    id = "fr/ops"
    kind = "system"             # or "officer"
    csr = "requests/fr-ops.csr" # the member's request (relative to FILE) ...
    # generate_key = true       # ... or have the hub generate the key
    # days = 90                 # overrides [defaults]

    [[channels]]
    name = "stop-iii"
    title = "Operation STOP III"
    starts = "2026-03-01"       # optional dates
    ends = "2026-03-12"
    retention_days = 0          # 0: forever
    roles = { fr = "contributor", de = "reader" }

    [[roles]]                   # the same as a channel's roles table
    channel = "stop-iii"
    member = "nl"
    role = "coordinator"

The whole file is checked first (unknown keys, names, dates, duplicates, readable
requests): nothing is sent if anything is wrong. Then the hub's current state is
read and compared: what exists identically is ``unchanged`` (and not sent again),
what exists differently is a ``conflict`` — any conflict stops the apply before it
writes anything. ``--dry-run`` stops there and prints the plan. Otherwise the
changes are sent (members; then channels and principals; then roles), several at
a time on the one connection. A principal that exists already is sent again only
with a ``csr``: the hub answers ``unchanged`` if it holds a certificate for that
request's key, 407 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from client._admin_commands import _prepare_out, _save_credentials, list_all
from client._admin_common import _COUNTRY, _DAY_MS, EXIT_INPUT, EXIT_OK, _BadInput, _json
from client.sdk import Client
from hub.protocol.errors import CordonError, InvalidFrame
from hub.protocol.identity import check_channel, check_name, split_principal

__all__ = ["CONCURRENCY", "Plan", "apply_file", "load_plan"]

#: Admin requests in flight at once on the connection.
CONCURRENCY = 16
_ROLES = ("reader", "contributor", "coordinator")
_KINDS = ("officer", "system")
_SECTIONS = ("defaults", "members", "principals", "channels", "roles")


@dataclass
class Plan:
    """The file, checked: what it asks for, in order."""

    members: list[dict[str, Any]] = field(default_factory=list)
    principals: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    roles: list[tuple[str, str, str]] = field(default_factory=list)


def _keys(where: str, table: object, required: tuple[str, ...], optional: tuple[str, ...]
          ) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise _BadInput(f"{where}: must be a table")
    unknown = sorted(set(table) - set(required) - set(optional))
    if unknown:
        raise _BadInput(f"{where}: unknown key {unknown[0]!r} (expected "
                        f"{', '.join(required + optional)})")
    missing = [k for k in required if k not in table]
    if missing:
        raise _BadInput(f"{where}: missing {missing[0]!r}")
    return table


def _str(where: str, table: dict[str, Any], key: str, default: str = "") -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise _BadInput(f"{where}: {key} must be a string")
    return value


def _check(where: str, what: str, check: Callable[[str], object], value: str) -> str:
    try:
        check(value)
    except (InvalidFrame, ValueError):
        raise _BadInput(f"{where}: invalid {what} {value!r}") from None
    return value


def _member_id(value: str) -> None:
    check_name(value, "member id")
    if value == "admin":
        raise InvalidFrame("reserved")


def _date(value: str) -> None:
    if value:
        date.fromisoformat(value)
        if len(value) != 10:
            raise ValueError(value)


def _int(where: str, table: dict[str, Any], key: str, default: int, low: int, high: int
         ) -> int:
    value = table.get(key, default)
    if type(value) is not int or not low <= value <= high:
        raise _BadInput(f"{where}: {key} must be a whole number from {low} to {high}")
    return value


def load_plan(path: Path, *, out: Path | None = None) -> Plan:
    """Read and check ``path``; :class:`_BadInput` names the first problem."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _BadInput(f"cannot read {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _BadInput(f"{path} is not valid TOML: {exc}") from exc
    unknown = sorted(set(doc) - set(_SECTIONS))
    if unknown:
        raise _BadInput(f"{path}: unknown section {unknown[0]!r} (expected "
                        f"{', '.join(_SECTIONS)})")
    base = path.parent
    defaults = _keys("[defaults]", doc.get("defaults", {}), (), ("days", "out"))
    days = _int("[defaults]", defaults, "days", 365, 1, 3650)
    out_dir = out if out is not None else base / _str("[defaults]", defaults, "out", "creds")
    plan = Plan()
    seen: set[str] = set()

    def lst(section: str) -> list[Any]:
        value = doc.get(section, [])
        if not isinstance(value, list):
            raise _BadInput(f"{path}: {section} must be an array of tables ([[{section}]])")
        return value

    def once(where: str, key: str) -> None:
        if key in seen:
            raise _BadInput(f"{where}: {key} is given twice")
        seen.add(key)

    for i, raw in enumerate(lst("members")):
        where = f"members[{i}]"
        t = _keys(where, raw, ("id", "name", "country"), ())
        mid = _check(where, "member id", _member_id, _str(where, t, "id"))
        country = _str(where, t, "country")
        if _COUNTRY.fullmatch(country) is None:
            raise _BadInput(f"{where}: invalid country {country!r} (ISO 3166-1 alpha-2)")
        once(where, f"member {mid}")
        plan.members.append({"id": mid, "name": _str(where, t, "name"), "country": country})
    for i, raw in enumerate(lst("principals")):
        where = f"principals[{i}]"
        t = _keys(where, raw, ("id", "kind"), ("csr", "generate_key", "days"))
        pid = _str(where, t, "id")
        try:
            member, _name = split_principal(pid)
            _member_id(member)
        except (InvalidFrame, ValueError):
            raise _BadInput(f"{where}: invalid principal {pid!r} (member/name)") from None
        kind = _str(where, t, "kind")
        if kind not in _KINDS:
            raise _BadInput(f"{where}: kind must be officer or system")
        generate = t.get("generate_key", False)
        if not isinstance(generate, bool) or ("csr" in t) == generate:
            raise _BadInput(f"{where}: give exactly one of csr = \"FILE\" (recommended) or "
                            "generate_key = true")
        once(where, f"principal {pid}")
        item: dict[str, Any] = {"id": pid, "kind": kind, "days": _int(where, t, "days", days,
                                                                      1, 3650)}
        ns = argparse.Namespace(principal=pid, out=out_dir, force=False, csr=None)
        if "csr" in t:
            ns.csr = base / _str(where, t, "csr")
            try:
                ns.csr_text = ns.csr.read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                raise _BadInput(f"{where}: cannot read the certificate request {ns.csr}: "
                                f"{getattr(exc, 'strerror', None) or 'not PEM text'}") from None
        item["args"] = ns
        plan.principals.append(item)
    for i, raw in enumerate(lst("channels")):
        where = f"channels[{i}]"
        t = _keys(where, raw, ("name",), ("title", "starts", "ends", "retention_days",
                                          "roles"))
        name = _check(where, "channel name", check_channel, _str(where, t, "name"))
        starts = _check(where, "starts date", _date, _str(where, t, "starts"))
        ends = _check(where, "ends date", _date, _str(where, t, "ends"))
        if starts and ends and ends < starts:
            raise _BadInput(f"{where}: ends is before starts")
        once(where, f"channel {name}")
        plan.channels.append({"name": name, "title": _str(where, t, "title"), "starts": starts,
                              "ends": ends, "retention_ms": _int(where, t, "retention_days",
                                                                 0, 0, 36500) * _DAY_MS})
        roles = t.get("roles", {})
        if not isinstance(roles, dict):
            raise _BadInput(f"{where}: roles must be a table member = \"role\"")
        for member, role in roles.items():
            _add_role(plan, once, f"{where}.roles", name, member, role)
    for i, raw in enumerate(lst("roles")):
        where = f"roles[{i}]"
        t = _keys(where, raw, ("channel", "member", "role"), ())
        channel = _check(where, "channel name", check_channel, _str(where, t, "channel"))
        _add_role(plan, once, where, channel, t["member"], t["role"])
    return plan


def _add_role(plan: Plan, once: Callable[[str, str], None], where: str, channel: str,
              member: object, role: object) -> None:
    if not isinstance(member, str) or not isinstance(role, str) or role not in _ROLES:
        raise _BadInput(f"{where}: a role is reader, contributor or coordinator, for a member")
    _check(where, "member id", _member_id, member)
    once(where, f"role of {member} in {channel}")
    plan.roles.append((channel, member, role))


# --- comparing with the hub, and applying ------------------------------------------------------


@dataclass
class _Step:
    what: str  # "member fr"
    action: str  # add | change | unchanged | conflict | check
    note: str = ""
    send: Callable[[], Awaitable[dict[str, Any]]] | None = None
    after: Callable[[dict[str, Any]], None] | None = None
    result: str = ""


async def _compare(plan: Plan, c: Client) -> list[list[_Step]]:
    members = {m["id"]: m for m in (await list_all(c, "member.list", "members"))["members"]}
    principals = {p["id"]: p for p in
                  (await list_all(c, "principal.list", "principals"))["principals"]}
    channels = {ch["name"]: ch for ch in
                (await list_all(c, "channel.list", "channels"))["channels"]}
    roles: dict[str, dict[str, str]] = {}
    for name in {ch["name"] for ch in plan.channels} | {r[0] for r in plan.roles}:
        if name in channels:
            roles[name] = (await c.admin("channel.show", {"name": name}))["roles"]

    def adm(op: str, args: dict[str, Any]) -> Callable[[], Awaitable[dict[str, Any]]]:
        return lambda: c.admin(op, args)

    first: list[_Step] = []
    for m in plan.members:
        have = members.get(m["id"])
        if have is None:
            first.append(_Step(f"member {m['id']}", "add", send=adm("member.add", m)))
        elif (have["name"], have["country"]) == (m["name"].strip(), m["country"].upper()):
            first.append(_Step(f"member {m['id']}", "unchanged"))
        else:
            first.append(_Step(f"member {m['id']}", "conflict",
                               f"exists as {have['name']!r}, {have['country']}"))
    second: list[_Step] = []
    for ch in plan.channels:
        have = channels.get(ch["name"])
        if have is None:
            second.append(_Step(f"channel {ch['name']}", "add", send=adm("channel.create", ch)))
        elif all(have[k] == ch[k] for k in ("title", "starts", "ends", "retention_ms")):
            second.append(_Step(f"channel {ch['name']}", "unchanged", have["state"]))
        else:
            differs = [k for k in ("title", "starts", "ends", "retention_ms")
                       if have[k] != ch[k]]
            second.append(_Step(f"channel {ch['name']}", "conflict",
                                f"exists with another {', '.join(differs)}"))
    for p in plan.principals:
        have = principals.get(p["id"])
        ns: argparse.Namespace = p["args"]
        member, name = p["id"].split("/")
        request = {"member": member, "name": name, "kind": p["kind"], "days": p["days"]}
        request.update({"csr": ns.csr_text} if ns.csr is not None else {"generate_key": True})
        step = _Step(f"principal {p['id']}", "add", send=adm("principal.add", request),
                     after=_keeper(ns))
        if have is not None:
            if have["kind"] != p["kind"]:
                step = _Step(step.what, "conflict", f"exists as {have['kind'] or '?'}")
            elif ns.csr is None:
                step = _Step(step.what, "unchanged", "exists; no new key generated")
            else:
                step.action, step.note = "check", "exists: the hub compares the request's key"
        if step.send is not None:
            try:
                _prepare_out(ns)  # can the credentials be written? (before anything is sent)
            except _BadInput as exc:
                step = _Step(step.what, "conflict", str(exc))
        second.append(step)
    third: list[_Step] = []
    for channel, member, role in plan.roles:
        current = roles.get(channel, {}).get(member)
        what = f"role {member} in {channel}"
        if current == role:
            third.append(_Step(what, "unchanged", role))
        else:
            action = "add" if current is None else "change"
            note = role if current is None else f"{current} -> {role}"
            third.append(_Step(what, action, note, send=adm("role.grant", {
                "channel": channel, "member": member, "role": role})))
    return [first, second, third]


def _keeper(ns: argparse.Namespace) -> Callable[[dict[str, Any]], None]:
    def keep(r: dict[str, Any]) -> None:
        ns.force = True  # the folder was checked before anything was sent
        _save_credentials(ns, r)

    return keep


async def _send(step: _Step, gate: asyncio.Semaphore) -> None:
    assert step.send is not None
    async with gate:
        try:
            r = await step.send()
        except CordonError as exc:
            step.result = f"refused: {exc.detail or exc.phrase} ({exc.code} {exc.phrase})"
            return
    if step.after is not None:
        step.after(r)
    step.result = "unchanged" if r.get("unchanged") else {"add": "added", "change": "changed",
                                                          "check": "added"}[step.action]


async def apply_file(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    """``cordon admin apply FILE [--dry-run]``."""
    started = time.monotonic()
    plan = load_plan(args.file, out=args.out)
    phases = await _compare(plan, c)
    steps = [s for phase in phases for s in phase]
    conflicts = [s for s in steps if s.action == "conflict"]
    if args.dry_run or conflicts:
        if args.json:
            _json({"plan": [{"object": s.what, "action": s.action, "note": s.note}
                            for s in steps], "dry_run": args.dry_run}, out)
        else:
            for s in steps:
                note = f" ({s.note})" if s.note else ""
                print(f"{s.action:<9}  {s.what}{note}", file=out)
            counts = {a: sum(s.action == a for s in steps)
                      for a in ("add", "change", "check", "unchanged", "conflict")}
            print("plan: " + ", ".join(f"{n} {a}" for a, n in counts.items()), file=out)
        if conflicts:
            raise _BadInput(f"{len(conflicts)} conflict(s) with what the hub holds (first: "
                            f"{conflicts[0].what}, {conflicts[0].note}); nothing was changed")
        return EXIT_OK
    gate = asyncio.Semaphore(CONCURRENCY)
    for phase in phases:
        await asyncio.gather(*(_send(s, gate) for s in phase if s.send is not None))
    for s in steps:
        if not s.result:
            s.result = "unchanged"
    refused = [s for s in steps if s.result.startswith("refused")]
    elapsed = time.monotonic() - started
    if args.json:
        _json({"results": [{"object": s.what, "result": s.result} for s in steps],
               "seconds": round(elapsed, 3)}, out)
    else:
        for s in steps:
            print(f"{s.what}: {s.result}", file=out)
        tally = {r: sum(s.result == r for s in steps)
                 for r in ("added", "changed", "unchanged")}
        print(f"applied {args.file}: " + ", ".join(f"{n} {r}" for r, n in tally.items())
              + f", {len(refused)} refused, in {elapsed:.1f} s over one connection", file=out)
    return EXIT_INPUT if refused else EXIT_OK
