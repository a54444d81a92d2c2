"""``cordon admin``: the hub administrator's command line.

It connects to a running hub over mutual TLS with an administrator's certificate
and runs one operation (PROTOCOL.md §6.8); the hub authorises it and records it
in its audit log. The very first administrator certificate is made on the CA
host with ``cordon ca issue --admin --name NAME``.

::

    cordon admin member add ID --name NAME --country CC
    cordon admin member list
    cordon admin member show ID
    cordon admin member update ID [--name NAME] [--country CC]
    cordon admin member suspend ID
    cordon admin member reinstate ID
    cordon admin principal add MEMBER/NAME --kind officer|system [--days N] [--out DIR] [--force]
    cordon admin principal issue MEMBER/NAME [--days N] [--out DIR] [--force]
    cordon admin principal list [--member ID]
    cordon admin principal show PRINCIPAL
    cordon admin principal revoke PRINCIPAL [--reason R]
    cordon admin cert revoke KID [--reason R]
    cordon admin channel create NAME [--title T] [--starts DATE] [--ends DATE] [--retention DAYS]
    cordon admin channel list
    cordon admin channel show NAME
    cordon admin channel close|reopen|archive NAME
    cordon admin role grant CHANNEL MEMBER reader|contributor|coordinator
    cordon admin role remove CHANNEL MEMBER
    cordon admin audit [--since WHEN] [--principal P] [--action A] [--limit N]
                       [--format table|csv|jsonl] [--output FILE]

Connection options, before or after the command (each also read from the
environment): ``--hub URL`` (``CORDON_HUB``), ``--cert PEM`` (``CORDON_CERT``),
``--key PEM`` (``CORDON_KEY``), ``--ca PEM`` (``CORDON_CA``), ``--server-name``
(``CORDON_SERVER_NAME``), ``--timeout S`` (default 30). ``--json`` prints the
hub's answer as one JSON document instead of text and tables.

``principal add`` and ``principal issue`` write the new credentials to ``--out``
(default: the current folder) as ``<member>-<name>.pem`` (0644), ``.key`` (0600,
never printed) and ``ca.pem``; existing files are never replaced without
``--force``. ``--retention`` is in days (0: keep forever). ``--since`` takes an
ISO date or time (UTC unless it says otherwise) or an age: ``90s``, ``30m``,
``12h``, ``7d``. Revocation reasons: unspecified (default), keyCompromise,
cACompromise, affiliationChanged, superseded, cessationOfOperation,
privilegeWithdrawn. A closed channel is read-only; an archived one is closed
for good (it cannot be reopened) and its live subscriptions end.

Exit codes: 0 done; 1 failed (hub internal error, or a revocation whose CRL
could not be republished: the certificate is refused anyway); 2 usage (bad
options, missing or unreadable credentials); 3 the hub is unreachable or
refused this administrator (403, revoked, unknown, TLS refusal, store
unavailable); 4 bad input (invalid name or argument, unknown member, principal,
channel or certificate, duplicate name, state conflict, output file exists);
130 interrupted. Errors are reported on stderr as ``cordon admin: ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import logging
import os
import re
import ssl
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from client.sdk import Client, ClientError
from hub.protocol.errors import CordonError, InvalidFrame
from hub.protocol.identity import check_channel, check_name, split_principal

__all__ = [
    "AUDIT_COLUMNS",
    "EXIT_FAIL",
    "EXIT_INPUT",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "main",
]

PROG = "cordon admin"
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_REFUSED, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

#: Hub refusal codes that mean "the request was wrong" (exit 4); 403/503: exit 3; else 1.
_INPUT_CODES = frozenset({401, 404, 405, 406, 407, 413})
_REFUSED_CODES = frozenset({403, 503})
#: Fixed CSV columns of an audit export; any other field goes to ``extra`` as k=v;...
AUDIT_COLUMNS = ("time", "id", "action", "principal", "peer", "result", "code", "reason",
                 "detail", "member", "subject", "channel", "role", "state", "kid", "extra")
_AUDIT_PAGE = 200
_AGE = re.compile(r"(\d+)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_KID = re.compile(r"[0-9a-fA-F]{64}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_DAY_MS = 86_400_000


class _BadInput(Exception):
    """Bad input found before asking the hub (exit 4)."""


class _Failed(Exception):
    """Done only in part, or failed on this side (exit 1)."""


# --- formatting ----------------------------------------------------------------------------


def _clean(value: object) -> str:
    text = "" if value is None else str(value)
    return _CONTROL.sub("?", text)


def _when(ms: object, *, day: bool = False) -> str:
    if not isinstance(ms, int) or ms <= 0:
        return "-"
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%d" if day else "%Y-%m-%d %H:%M:%SZ")


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]], out: IO[str]) -> None:
    cells = [[_clean(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(),
              file=out)


def _fields(pairs: Iterable[tuple[str, object]], out: IO[str]) -> None:
    items = list(pairs)
    width = max(len(k) for k, _ in items)
    for key, value in items:
        print(f"{key.ljust(width)}  {_clean(value)}", file=out)


def _json(obj: object, out: IO[str]) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True), file=out)


# --- argument types --------------------------------------------------------------------------


def _not_admin(text: str) -> None:
    check_name(text, "member id")
    if text == "admin":
        raise InvalidFrame("reserved")


def _any_principal(text: str) -> None:
    if text.startswith("admin/"):
        check_name(text.removeprefix("admin/"))
    else:
        split_principal(text)


def _member_principal(text: str) -> None:
    member, _name = split_principal(text)
    _not_admin(member)


def _country(text: str) -> None:
    if _COUNTRY.fullmatch(text) is None:
        raise InvalidFrame("not a country code")


def _kid(text: str) -> None:
    if _KID.fullmatch(text) is None:
        raise InvalidFrame("not a key id")


def _date(text: str) -> None:
    if text:
        date.fromisoformat(text)  # ValueError
        if len(text) != 10:
            raise ValueError(text)


#: Arguments checked after parsing, so a bad value is "bad input" (exit 4), not a usage
#: error: attribute -> (check, what it must be).
_CHECKS: dict[str, tuple[Callable[[str], object], str]] = {
    "id": (_not_admin, "a member id: a-z, 0-9 and inner '-', at most 32 characters"),
    "member": (_not_admin, "a member id: a-z, 0-9 and inner '-', at most 32 characters"),
    "principal": (_any_principal, "a principal id, member/name (or admin/name)"),
    "channel": (check_channel, "a channel name: a-z, 0-9 and inner '.', '_', '-'"),
    "country": (_country, "an ISO 3166-1 alpha-2 country code, like FR"),
    "kid": (_kid, "a key id: 64 hex digits (the certificate's SHA-256 fingerprint)"),
    "starts": (_date, "a date, YYYY-MM-DD"),
    "ends": (_date, "a date, YYYY-MM-DD"),
}


def _check_args(args: argparse.Namespace) -> None:
    names = dict(_CHECKS)
    if args.group == "channel":
        names["name"] = names["channel"]
    if args.group == "principal" and args.verb in ("add", "issue"):
        names["principal"] = (_member_principal, "a member principal id, member/name")
    for attr, (check, what) in names.items():
        value = getattr(args, attr, None)
        if attr == "principal" and args.group == "audit":
            continue  # a filter: any text
        if isinstance(value, str):
            try:
                check(value)
            except (InvalidFrame, ValueError):
                raise _BadInput(f"invalid {attr} {value!r}: must be {what}") from None
    if getattr(args, "starts", "") and getattr(args, "ends", "") and args.ends < args.starts:
        raise _BadInput("--ends is before --starts")


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low} to {high}: {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def parse_since(text: str, *, now: datetime | None = None) -> int:
    """``--since``: an ISO date/time (UTC unless it has an offset) or an age (``30m``...),
    as milliseconds since the epoch."""
    now = datetime.now(UTC) if now is None else now
    age = _AGE.fullmatch(text.strip())
    if age is not None:
        moment = now - timedelta(seconds=int(age.group(1)) * _UNIT_S[age.group(2)])
    else:
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"invalid time {text!r}: an ISO date or time, or an age like 30m, 12h, 7d"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return max(0, int(moment.timestamp() * 1000))


def _since(text: str) -> int:
    return parse_since(text)


# --- the parser -------------------------------------------------------------------------------


def _add_connection(p: argparse.ArgumentParser, *, top: bool) -> None:
    env = os.environ.get

    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    p.add_argument("--hub", default=default(env("CORDON_HUB")), metavar="URL",
                   help="hub URL, wss://host:port/ (env CORDON_HUB)")
    p.add_argument("--cert", type=Path, default=default(env("CORDON_CERT")), metavar="PEM",
                   help="your administrator certificate (env CORDON_CERT)")
    p.add_argument("--key", type=Path, default=default(env("CORDON_KEY")), metavar="PEM",
                   help="its private key (env CORDON_KEY)")
    p.add_argument("--ca", type=Path, default=default(env("CORDON_CA")), metavar="PEM",
                   help="the hub's CA certificate (env CORDON_CA)")
    p.add_argument("--server-name", default=default(env("CORDON_SERVER_NAME")),
                   metavar="NAME", help="host name expected in the hub's certificate")
    p.add_argument("--timeout", type=_count(1, 3600), default=default(30), metavar="S",
                   help="seconds to wait for the hub (default 30)")
    p.add_argument("--json", action="store_true", default=default(False),
                   help="print the hub's answer as JSON")
    p.add_argument("-v", "--verbose", action="store_true", default=default(False),
                   help="log connection events")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Administer a running Cordon hub (admin certificate required).",
        epilog="Exit codes: 0 ok, 1 failed, 2 usage, 3 hub unreachable or refused, "
               "4 bad input (unknown or duplicate names, invalid arguments).",
    )  # fmt: skip
    _add_connection(parser, top=True)
    conn = argparse.ArgumentParser(add_help=False)
    _add_connection(conn, top=False)
    groups = parser.add_subparsers(dest="group", required=True, metavar="command")

    def leaf(sub: Any, name: str, help_text: str, func: _Command) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, parents=[conn],
                                                    description=help_text)
        p.set_defaults(func=func)
        return p

    member = groups.add_parser("member", help="member administrations").add_subparsers(
        dest="verb", required=True, metavar="verb")
    p = leaf(member, "add", "enrol an administration", _member_add)
    p.add_argument("id", help="member id, like fr")
    p.add_argument("--name", required=True, help="the administration's name")
    p.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 code, like FR")
    leaf(member, "list", "list the members", _member_list)
    p = leaf(member, "show", "a member, its principals and certificates, its roles",
             _member_show)
    p.add_argument("id")
    p = leaf(member, "update", "change a member's name and/or country", _member_update)
    p.add_argument("id")
    p.add_argument("--name", help="the administration's name")
    p.add_argument("--country", help="ISO 3166-1 alpha-2 code, like FR")
    p = leaf(member, "suspend", "close its sessions; refuse it until reinstated",
             _member_suspend)
    p.add_argument("id")
    p = leaf(member, "reinstate", "let a suspended member connect again", _member_reinstate)
    p.add_argument("id")

    principal = groups.add_parser("principal", help="officers and systems").add_subparsers(
        dest="verb", required=True, metavar="verb")
    p = leaf(principal, "add", "add a principal and issue its credentials", _principal_add)
    p.add_argument("principal", help="member/name, like fr/ops")
    p.add_argument("--kind", required=True, choices=("officer", "system"))
    _add_issue_options(p)
    p = leaf(principal, "issue", "issue a new certificate for an existing principal",
             _principal_issue)
    p.add_argument("principal", help="member/name")
    _add_issue_options(p)
    p = leaf(principal, "list", "list principals with status and expiry", _principal_list)
    p.add_argument("--member", help="only this member's")
    p = leaf(principal, "show", "a principal's certificates", _principal_show)
    p.add_argument("principal", help="member/name or admin/name")
    p = leaf(principal, "revoke", "revoke every active certificate of a principal",
             _principal_revoke)
    p.add_argument("principal", help="member/name or admin/name")
    p.add_argument("--reason", default="unspecified", help="revocation reason (RFC 5280)")

    cert = groups.add_parser("cert", help="certificates").add_subparsers(
        dest="verb", required=True, metavar="verb")
    p = leaf(cert, "revoke", "revoke one certificate by key id", _cert_revoke)
    p.add_argument("kid", help="key id (SHA-256 fingerprint, 64 hex digits)")
    p.add_argument("--reason", default="unspecified", help="revocation reason (RFC 5280)")

    channel = groups.add_parser("channel", help="operation channels").add_subparsers(
        dest="verb", required=True, metavar="verb")
    p = leaf(channel, "create", "create an operation's channel", _channel_create)
    p.add_argument("name", help="channel name")
    p.add_argument("--title", default="")
    p.add_argument("--starts", default="", metavar="DATE",
                   help="operation start, YYYY-MM-DD")
    p.add_argument("--ends", default="", metavar="DATE",
                   help="operation end, YYYY-MM-DD")
    p.add_argument("--retention", type=_count(0, 36500), default=0, metavar="DAYS",
                   help="keep alerts this many days (default 0: forever)")
    leaf(channel, "list", "list channels with members, alerts, last activity", _channel_list)
    for verb, state, text in (("show", None, "a channel and its members' roles"),
                              ("close", "closed", "make a channel read-only"),
                              ("reopen", "open", "reopen a closed channel"),
                              ("archive", "archived", "close a channel for good")):
        p = leaf(channel, verb, text, _channel_show if state is None else _channel_state)
        p.add_argument("name", help="channel name")
        p.set_defaults(state=state)

    role = groups.add_parser("role", help="members' roles in channels").add_subparsers(
        dest="verb", required=True, metavar="verb")
    p = leaf(role, "grant", "give a member a role in a channel, or change it", _role_grant)
    p.add_argument("channel")
    p.add_argument("member")
    p.add_argument("role", choices=("reader", "contributor", "coordinator"))
    p = leaf(role, "remove", "remove a member from a channel (ends its subscription)",
             _role_remove)
    p.add_argument("channel")
    p.add_argument("member")

    p = leaf(groups, "audit", "read or export the audit log", _audit)
    p.add_argument("--since", type=_since, default=0, metavar="WHEN",
                   help="ISO date/time, or an age like 30m, 12h, 7d")
    p.add_argument("--principal", help="only what this principal did (e.g. admin/alice)")
    p.add_argument("--action", help="only this action (e.g. connect, cert.revoke)")
    p.add_argument("--limit", type=_count(1, 10_000_000), metavar="N",
                   help="at most N records (default: all)")
    p.add_argument("--format", choices=("table", "csv", "jsonl"), default="table")
    p.add_argument("--output", type=Path, metavar="FILE", help="write to FILE (not stdout)")
    return parser


def _add_issue_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--days", type=_count(1, 3650), default=365,
                   help="certificate lifetime (default 365)")
    p.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                   help="where to write the credentials (default: here)")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.set_defaults(prepare=_prepare_out)  # checked before the hub issues anything


# --- running ---------------------------------------------------------------------------------


_Command = Callable[[argparse.Namespace, Client, IO[str]], Awaitable[int]]


def _describe(args: argparse.Namespace) -> str:
    """The command and the objects it names, for messages: ``member show fr``."""
    words = [args.group] + ([args.verb] if getattr(args, "verb", None) else [])
    keys: tuple[str, ...] = ("id", "principal", "kid", "name", "channel", "member")
    if args.group in ("member", "audit"):
        keys = ("id",)
    words += [v for v in (getattr(args, k, None) for k in keys) if isinstance(v, str) and v]
    return " ".join(words)


def _refusal_exit(exc: CordonError) -> int:
    if exc.code in _INPUT_CODES:
        return EXIT_INPUT
    if exc.code in _REFUSED_CODES:
        return EXIT_REFUSED
    return EXIT_FAIL


def main(argv: list[str] | None = None) -> int:
    """``cordon admin ...``: see the module docstring."""
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if (args.group, getattr(args, "verb", None)) == ("member", "update") and \
            args.name is None and args.country is None:
        print(f"{PROG}: error: member update: give --name and/or --country", file=sys.stderr)
        return EXIT_USAGE
    missing = [f"--{n}" for n in ("hub", "cert", "key", "ca") if not getattr(args, n, None)]
    if missing:
        print(f"{PROG}: error: missing {', '.join(missing)} (option or environment)",
              file=sys.stderr)
        return EXIT_USAGE
    if not str(args.hub).startswith("wss://"):
        print(f"{PROG}: error: --hub must be a wss:// URL", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format=f"{PROG}: %(message)s", stream=sys.stderr)
    try:
        client = Client(args.hub, cert=args.cert, key=args.key, ca=args.ca,
                        server_hostname=args.server_name, reconnect=False,
                        open_timeout=args.timeout, request_timeout=args.timeout)
    except (OSError, ValueError, ssl.SSLError) as exc:
        print(f"{PROG}: error: cannot load credentials: {exc}", file=sys.stderr)
        return EXIT_USAGE
    what = _describe(args)
    try:
        code = asyncio.run(_session(args, client))
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # The reader of the output went away (``| head``): stop quietly, like ``cordon tail``.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except _BadInput as exc:
        print(f"{PROG}: {what}: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except _Failed as exc:
        print(f"{PROG}: {what}: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except CordonError as exc:
        text = exc.detail or exc.phrase
        hint = ""
        if exc.code == 403 and client.welcome is not None and not client.welcome.admin:
            hint = (f"; the certificate names {client.identity.principal}, "
                    "not a hub administrator")
        elif exc.code == 403:
            hint = "; the hub refused this administrator"
        print(f"{PROG}: {what}: {text} ({exc.code} {exc.phrase}){hint}", file=sys.stderr)
        return _refusal_exit(exc)
    except ClientError as exc:
        print(f"{PROG}: {what}: hub unreachable or refused the connection: {exc}",
              file=sys.stderr)
        return EXIT_REFUSED


async def _session(args: argparse.Namespace, client: Client) -> int:
    _check_args(args)
    prepare = getattr(args, "prepare", None)
    if prepare is not None:
        prepare(args)
    async with client:
        code: int = await args.func(args, client, sys.stdout)
    return code


# --- members ---------------------------------------------------------------------------------


async def _member_add(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("member.add", {"id": args.id, "name": args.name,
                                     "country": args.country})
    m = r["member"]
    if args.json:
        _json(r, out)
    else:
        print(f"added member {m['id']} ({_clean(m['name'])}, {m['country']})", file=out)
    return EXIT_OK


async def _member_list(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("member.list", {})
    if args.json:
        _json(r, out)
    elif not r["members"]:
        print("no members", file=out)
    else:
        _table(("ID", "NAME", "COUNTRY", "STATUS", "PRINCIPALS", "SINCE"),
               [(m["id"], m["name"], m["country"], m["status"], m["principals"],
                 _when(m["created"], day=True)) for m in r["members"]], out)
    return EXIT_OK


def _cert_rows(pid: str, kind: str, certs: list[dict[str, Any]]) -> list[tuple[object, ...]]:
    return [(pid, kind, c["status"], _when(c["not_after"], day=True), c["serial"], c["kid"])
            for c in certs] or [(pid, kind, "no certificate", "-", "-", "-")]


_CERT_HEADERS = ("PRINCIPAL", "KIND", "STATUS", "EXPIRES", "SERIAL", "FINGERPRINT (KID)")


async def _member_show(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("member.show", {"id": args.id})
    if args.json:
        _json(r, out)
        return EXIT_OK
    m = r["member"]
    _fields([("member", m["id"]), ("name", m["name"]), ("country", m["country"]),
             ("status", m["status"]), ("since", _when(m["created"]))], out)
    print(file=out)
    rows = [row for p in r["principals"] for row in _cert_rows(p["id"], p["kind"], p["certs"])]
    if rows:
        _table(_CERT_HEADERS, rows, out)
    else:
        print("no principals", file=out)
    print(file=out)
    if r["roles"]:
        _table(("CHANNEL", "ROLE"), sorted(r["roles"].items()), out)
    else:
        print("no channel roles", file=out)
    return EXIT_OK


async def _member_update(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    changes = {k: v for k, v in (("name", args.name), ("country", args.country))
               if v is not None}
    r = await c.admin("member.update", {"id": args.id, **changes})
    m = r["member"]
    if args.json:
        _json(r, out)
    else:
        print(f"updated member {m['id']} ({_clean(m['name'])}, {m['country'] or '-'})",
              file=out)
    return EXIT_OK


async def _member_suspend(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("member.suspend", {"id": args.id})
    if args.json:
        _json(r, out)
    else:
        print(f"member {args.id} suspended: its sessions are closed and it cannot connect "
              "until reinstated", file=out)
    return EXIT_OK


async def _member_reinstate(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("member.reinstate", {"id": args.id})
    if args.json:
        _json(r, out)
    else:
        print(f"member {args.id} reinstated", file=out)
    return EXIT_OK


# --- principals and certificates ------------------------------------------------------------


def _paths(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    base = str(args.principal).replace("/", "-")
    return args.out / f"{base}.pem", args.out / f"{base}.key", args.out / "ca.pem"


def _prepare_out(args: argparse.Namespace) -> None:
    """Before asking the hub to issue anything: can the credentials be written?"""
    cert, key, _ca = _paths(args)
    if args.out.exists() and not args.out.is_dir():
        raise _BadInput(f"{args.out} is not a folder")
    if not args.force:
        for path in (cert, key):
            if path.exists():
                raise _BadInput(f"{path} already exists (use --force to replace it)")
    try:
        args.out.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _BadInput(f"cannot create {args.out}: {exc.strerror}") from exc
    if not os.access(args.out, os.W_OK):
        raise _BadInput(f"cannot write to {args.out}")


def _write(path: Path, data: str, mode: int) -> None:
    """Write ``data`` to ``path`` with exactly ``mode``, atomically (temp file, rename)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _save_credentials(args: argparse.Namespace, r: dict[str, Any]) -> dict[str, str]:
    cert, key, ca = _paths(args)
    try:
        _write(key, r["key"], 0o600)
        _write(cert, r["cert"], 0o644)
        if not ca.exists() or ca.read_text(encoding="ascii", errors="replace") != r["ca"]:
            _write(ca, r["ca"], 0o644)
    except OSError as exc:
        raise _Failed(f"certificate {r['kid']} was issued but cannot be written "
                      f"({exc.strerror}); revoke it with 'cordon admin cert revoke "
                      f"{r['kid']}' and issue again") from exc
    return {"cert": str(cert), "key": str(key), "ca": str(ca)}


async def _issue(args: argparse.Namespace, c: Client, out: IO[str], op: str,
                 request: dict[str, Any]) -> int:
    r = await c.admin(op, request)
    files = _save_credentials(args, r)
    shown = {k: v for k, v in r.items() if k not in ("cert", "key", "ca")}
    if args.json:
        _json({**shown, "files": files}, out)
        return EXIT_OK
    print(f"issued {r['kind']} certificate for {r['principal']}", file=out)
    _fields([("  kid", r["kid"]), ("  serial", r["serial"]),
             ("  expires", _when(r["not_after"])), ("  cert", files["cert"]),
             ("  key", f"{files['key']}  (private, mode 0600)"), ("  ca", files["ca"])], out)
    return EXIT_OK


async def _principal_add(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    member, name = args.principal.split("/")
    return await _issue(args, c, out, "principal.add",
                        {"member": member, "name": name, "kind": args.kind, "days": args.days})


async def _principal_issue(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    return await _issue(args, c, out, "principal.issue",
                        {"principal": args.principal, "days": args.days})


async def _principal_list(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("principal.list", {} if args.member is None else {"member": args.member})
    if args.json:
        _json(r, out)
    elif not r["principals"]:
        print("no principals", file=out)
    else:
        _table(("PRINCIPAL", "KIND", "STATUS", "ACTIVE CERTS", "EXPIRES"),
               [(p["id"], p["kind"] or "-", p["status"], p["certs"],
                 _when(p["expires"], day=True)) for p in r["principals"]], out)
    return EXIT_OK


async def _principal_show(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("principal.show", {"principal": args.principal})
    if args.json:
        _json(r, out)
    else:
        p = r["principal"]
        _fields([("principal", p["id"]), ("kind", p["kind"] or "-"), ("status", p["status"]),
                 ("expires", _when(p["expires"]))], out)
        print(file=out)
        _table(_CERT_HEADERS, _cert_rows(p["id"], p["kind"] or "-", p["certs"]), out)
    return EXIT_OK


async def _revoke(args: argparse.Namespace, c: Client, out: IO[str],
                  request: dict[str, Any]) -> int:
    r = await c.admin("cert.revoke", {**request, "reason": args.reason})
    if args.json:
        _json(r, out)
    else:
        for cert in r["revoked"]:
            print(f"revoked {cert['principal']} certificate {cert['kid']} "
                  f"(serial {cert['serial']}): its sessions are closed, new connections "
                  "refused", file=out)
        if r["crl"] is not None:
            print(f"CRL {r['crl']} published; every hub process reloads it", file=out)
    if r["crl"] is None:
        raise _Failed("revoked in the hub's registry, but the CA folder's CRL could not be "
                      "republished: check the hub's CA folder, then run 'cordon ca crl'")
    return EXIT_OK


async def _principal_revoke(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    return await _revoke(args, c, out, {"principal": args.principal})


async def _cert_revoke(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    return await _revoke(args, c, out, {"kid": args.kid})


# --- channels and roles ---------------------------------------------------------------------


async def _channel_create(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("channel.create", {
        "name": args.name, "title": args.title, "starts": args.starts, "ends": args.ends,
        "retention_ms": args.retention * _DAY_MS,
    })  # fmt: skip
    if args.json:
        _json(r, out)
    else:
        print(f"created channel {args.name} (epoch {r['channel']['epoch']})", file=out)
    return EXIT_OK


def _period(ch: dict[str, Any]) -> str:
    if not ch["starts"] and not ch["ends"]:
        return "-"
    return f"{ch['starts'] or '?'} .. {ch['ends'] or '?'}"


async def _channel_list(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("channel.list", {})
    if args.json:
        _json(r, out)
    elif not r["channels"]:
        print("no channels", file=out)
    else:
        _table(("CHANNEL", "TITLE", "STATE", "MEMBERS", "ALERTS", "LAST ACTIVITY"),
               [(ch["name"], ch["title"], ch["state"], ch["members"], ch["alerts"],
                 _when(ch["last_activity"])) for ch in r["channels"]], out)
    return EXIT_OK


async def _channel_show(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("channel.show", {"name": args.name})
    if args.json:
        _json(r, out)
        return EXIT_OK
    ch = r["channel"]
    retention = f"{ch['retention_ms'] // _DAY_MS} days" if ch["retention_ms"] else "forever"
    _fields([("channel", ch["name"]), ("title", ch["title"] or "-"), ("state", ch["state"]),
             ("operation", _period(ch)), ("retention", retention), ("epoch", ch["epoch"]),
             ("alerts", f"{ch['alerts']} retained (offsets {ch['first']}..{ch['head']})"),
             ("last activity", _when(ch["last_activity"])), ("created", _when(ch["created"]))],
            out)
    print(file=out)
    if r["roles"]:
        _table(("MEMBER", "ROLE"), sorted(r["roles"].items()), out)
    else:
        print("no members", file=out)
    return EXIT_OK


async def _channel_state(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("channel.state", {"name": args.name, "state": args.state})
    if args.json:
        _json(r, out)
    else:
        note = {"closed": " (read-only: history stays readable)",
                "archived": " (for good; live subscriptions ended)"}.get(args.state, "")
        print(f"channel {args.name} is now {args.state}{note}", file=out)
    return EXIT_OK


async def _role_grant(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("role.grant", {"channel": args.channel, "member": args.member,
                                     "role": args.role})
    if args.json:
        _json(r, out)
    else:
        was = f" (was {r['previous']})" if r["previous"] else ""
        print(f"{args.member} is now {args.role} in {args.channel}{was}", file=out)
    return EXIT_OK


async def _role_remove(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("role.remove", {"channel": args.channel, "member": args.member})
    if args.json:
        _json(r, out)
    else:
        print(f"removed {args.member} ({r['previous']}) from {args.channel}; its live "
              "subscriptions ended", file=out)
    return EXIT_OK


# --- audit -------------------------------------------------------------------------------------


def _audit_row(rec: dict[str, str]) -> dict[str, str]:
    ms = int(rec.get("id", "0-0").partition("-")[0] or 0)
    row = {col: rec.get(col, "") for col in AUDIT_COLUMNS}
    row["time"] = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
    row["time"] = row["time"].replace("+00:00", "Z")
    extra = {k: v for k, v in rec.items() if k not in AUDIT_COLUMNS}
    row["extra"] = ";".join(f"{k}={v}" for k, v in sorted(extra.items()))
    return row


def _csv_cell(value: str) -> str:
    """Neutralise spreadsheet formulas (a cell starting with = + - @ or a control)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def _audit_records(args: argparse.Namespace, c: Client) -> Any:
    after: str | None = None
    left = args.limit
    while True:
        request: dict[str, Any] = {"since_ms": args.since,
                                   "limit": _AUDIT_PAGE if left is None else
                                   min(_AUDIT_PAGE, left)}
        for key in ("principal", "action"):
            if getattr(args, key):
                request[key] = getattr(args, key)
        if after is not None:
            request["after"] = after
        page = await c.admin("audit.list", request)
        for rec in page["records"]:
            yield rec
        if left is not None:
            left -= len(page["records"])
        after = page["next"]
        if after is None or (left is not None and left <= 0):
            return


async def _audit(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    if args.output is not None:
        try:
            with args.output.open("w", encoding="utf-8", newline="") as fh:
                return await _audit_to(args, c, fh)
        except OSError as exc:
            raise _BadInput(f"cannot write {args.output}: {exc.strerror}") from exc
    return await _audit_to(args, c, out)


async def _audit_to(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    records = _audit_records(args, c)
    if args.json:
        _json({"records": [rec async for rec in records]}, out)
    elif args.format == "jsonl":
        async for rec in records:
            print(json.dumps(rec, ensure_ascii=False, sort_keys=True), file=out)
    elif args.format == "csv":
        writer = csv.writer(out)
        writer.writerow(AUDIT_COLUMNS)
        async for rec in records:
            row = _audit_row(rec)
            writer.writerow([_csv_cell(row[col]) for col in AUDIT_COLUMNS])
    else:
        rows = []
        async for rec in records:
            row = _audit_row(rec)
            details = [f"{k}={row[k]}" for k in ("code", "reason", "detail", "member",
                                                 "subject", "channel", "role", "state", "kid")
                       if row[k]]
            if row["extra"]:
                details.append(row["extra"].replace(";", " "))
            rows.append((row["time"], row["action"], row["principal"], row["peer"],
                         row["result"], " ".join(details)))
        if rows:
            _table(("TIME", "ACTION", "PRINCIPAL", "FROM", "RESULT", "DETAILS"), rows, out)
        else:
            print("no audit records", file=out)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
