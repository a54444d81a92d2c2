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
    cordon admin principal add MEMBER/NAME --kind officer|system (--csr FILE | --generate-key)
                               [--days N] [--out DIR] [--force]
    cordon admin principal issue MEMBER/NAME (--csr FILE | --generate-key) [--days N]
                                 [--out DIR] [--force]
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
    cordon admin apply FILE [--dry-run] [--out DIR]
    cordon admin status

Writes are idempotent where that means something: adding a member or a channel that
exists with the same fields, granting a role the member already has, or adding a
principal again with a request for the key it already has a certificate for,
succeeds (exit 0) and says ``unchanged``; the same name with other fields is a
conflict (407, exit 4). ``apply`` provisions from a declarative TOML file over one
connection (see :mod:`client._admin_apply` for the format): the file is checked,
compared with the hub (``--dry-run`` prints that plan), and only the differences
are sent; a conflict stops it before anything is written.

Connection options, before or after the command (each also read from the
environment): ``--hub URL`` (``CORDON_HUB``), ``--cert PEM`` (``CORDON_CERT``),
``--key PEM`` (``CORDON_KEY``), ``--ca PEM`` (``CORDON_CA``), ``--server-name``
(``CORDON_SERVER_NAME``), ``--timeout S`` (default 30). ``--json`` prints the
hub's answer as one JSON document instead of text and tables.

``principal add`` and ``principal issue`` certify the member's own key: ``--csr FILE``
is the certificate request the member made with ``cordon key new`` (the private key
never leaves the member). Only ``--generate-key`` has the hub generate the private
key instead (it then travels to this client once); one of the two is required. The
new certificate is written to ``--out`` (default: the current folder) as
``<member>-<name>.pem`` (0644) with ``ca.pem``, and with ``--generate-key`` the key
as ``<member>-<name>.key`` (0600, never printed); existing files are never replaced
without ``--force``. ``--retention`` is in days (0: keep forever). ``--since`` takes an
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
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from client._admin_apply import apply_file, load_plan
from client._admin_commands import (
    _audit,
    _cert_revoke,
    _channel_create,
    _channel_list,
    _channel_show,
    _channel_state,
    _member_add,
    _member_list,
    _member_reinstate,
    _member_show,
    _member_suspend,
    _member_update,
    _prepare_out,
    _principal_add,
    _principal_issue,
    _principal_list,
    _principal_revoke,
    _principal_show,
    _role_grant,
    _role_remove,
    _status,
)
from client._admin_common import (
    _AGE,
    _COUNTRY,
    _INPUT_CODES,
    _KID,
    _REFUSED_CODES,
    _UNIT_S,
    AUDIT_COLUMNS,
    EXIT_FAIL,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    PROG,
    _BadInput,
    _Failed,
)
from client._options import add_connection_options, connection_problem
from client._preflight import build_client, explain
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
    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    add_connection_options(p, default=default, cert_help="your administrator certificate",
                           key_help="its private key")
    p.add_argument("--timeout", type=_count(1, 3600), default=default(30), metavar="S",
                   help="seconds to wait for the hub (default 30)")
    p.add_argument("--retries", type=_count(1, 100), default=default(1), metavar="N",
                   help="tries to connect, with back-off (default 1: fail fast)")
    p.add_argument("--json", action="store_true", default=default(False),
                   help="print the hub's answer as JSON")
    p.add_argument("-v", "--verbose", action="store_true", default=default(False),
                   help="log connection events")


#: Every ``cordon admin`` parser's epilog.
EXIT_EPILOG = ("Exit codes: 0 ok (also 'unchanged'), 1 failed, 2 usage (bad options, unreadable "
               "or mismatched credentials), 3 hub unreachable or refused (or your certificate "
               "expired), 4 bad input (unknown names, conflicts, invalid arguments), "
               "130 interrupted.")
#: RFC 5280 revocation reasons the hub accepts (PROTOCOL.md §6.8 ``cert.revoke``).
REASONS = ("unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
           "cessationOfOperation", "privilegeWithdrawn")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Administer a running Cordon hub (admin certificate required).",
        epilog=EXIT_EPILOG,
    )  # fmt: skip
    _add_connection(parser, top=True)
    conn = argparse.ArgumentParser(add_help=False)
    _add_connection(conn, top=False)
    groups = parser.add_subparsers(dest="group", required=True, metavar="command")

    def leaf(sub: Any, name: str, help_text: str, func: _Command) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, parents=[conn],
                                                    description=help_text, epilog=EXIT_EPILOG)
        p.set_defaults(func=func)
        return p

    member = groups.add_parser("member", help="member administrations",
                               epilog=EXIT_EPILOG).add_subparsers(
        dest="verb", required=True, metavar="verb")
    p = leaf(member, "add", "enrol an administration", _member_add)
    p.add_argument("id", help="member id, like fr")
    p.add_argument("--name", required=True, help="the administration's name")
    p.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 code, like FR")
    leaf(member, "list", "list the members", _member_list)
    p = leaf(member, "show", "a member, its principals and certificates, its roles",
             _member_show)
    p.add_argument("id", help="member id, like fr")
    p = leaf(member, "update", "change a member's name and/or country", _member_update)
    p.add_argument("id", help="member id, like fr")
    p.add_argument("--name", help="the administration's name")
    p.add_argument("--country", help="ISO 3166-1 alpha-2 code, like FR")
    p = leaf(member, "suspend", "close its sessions; refuse it until reinstated",
             _member_suspend)
    p.add_argument("id", help="member id, like fr")
    p = leaf(member, "reinstate", "let a suspended member connect again", _member_reinstate)
    p.add_argument("id", help="member id, like fr")

    principal = groups.add_parser("principal", help="officers and systems",
                                  epilog=EXIT_EPILOG).add_subparsers(
        dest="verb", required=True, metavar="verb")
    p = leaf(principal, "add", "add a principal and issue its credentials", _principal_add)
    p.add_argument("principal", help="member/name, like fr/ops")
    p.add_argument("--kind", required=True, choices=("officer", "system"),
                   help="an officer (a person's desk) or a system (a member's software)")
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
    p.add_argument("--reason", default="unspecified", choices=REASONS, metavar="REASON",
                   help=f"revocation reason (RFC 5280): {', '.join(REASONS)}; "
                   "default unspecified")

    cert = groups.add_parser("cert", help="certificates", epilog=EXIT_EPILOG).add_subparsers(
        dest="verb", required=True, metavar="verb")
    p = leaf(cert, "revoke", "revoke one certificate by key id", _cert_revoke)
    p.add_argument("kid", help="key id (SHA-256 fingerprint, 64 hex digits)")
    p.add_argument("--reason", default="unspecified", choices=REASONS, metavar="REASON",
                   help=f"revocation reason (RFC 5280): {', '.join(REASONS)}; "
                   "default unspecified")

    channel = groups.add_parser("channel", help="operation channels",
                                epilog=EXIT_EPILOG).add_subparsers(
        dest="verb", required=True, metavar="verb")
    p = leaf(channel, "create", "create an operation's channel", _channel_create)
    p.add_argument("name", help="channel name")
    p.add_argument("--title", default="", help="the operation's title, shown in lists")
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

    role = groups.add_parser("role", help="members' roles in channels",
                             epilog=EXIT_EPILOG).add_subparsers(
        dest="verb", required=True, metavar="verb")
    p = leaf(role, "grant", "give a member a role in a channel, or change it", _role_grant)
    p.add_argument("channel", help="channel name")
    p.add_argument("member", help="member id, like fr")
    p.add_argument("role", choices=("reader", "contributor", "coordinator"),
                   help="reader (subscribe, history), contributor (also publish), "
                   "coordinator (also publish; coordinates the channel)")
    p = leaf(role, "remove", "remove a member from a channel (ends its subscription)",
             _role_remove)
    p.add_argument("channel", help="channel name")
    p.add_argument("member", help="member id, like fr")

    p = leaf(groups, "apply", "provision members, principals, channels and roles from a "
             "TOML file, over one connection (unchanged objects are left alone)", apply_file)
    p.add_argument("file", type=Path, metavar="FILE",
                   help="the TOML file ([[members]], [[principals]], [[channels]], [[roles]])")
    p.add_argument("--dry-run", action="store_true",
                   help="compare with the hub and print the plan; change nothing")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="where issued credentials go (default: [defaults] out, else creds/ "
                   "beside FILE)")
    p.set_defaults(prepare=lambda a: load_plan(a.file, out=a.out))  # checked before connecting

    p = leaf(groups, "audit", "read or export the audit log", _audit)
    p.add_argument("--since", type=_since, default=0, metavar="WHEN",
                   help="ISO date/time, or an age like 30m, 12h, 7d")
    p.add_argument("--principal", help="only what this principal did (e.g. admin/alice)")
    p.add_argument("--action", help="only this action (e.g. connect, cert.revoke)")
    p.add_argument("--limit", type=_count(1, 10_000_000), metavar="N",
                   help="at most N records (default: all)")
    p.add_argument("--format", choices=("table", "csv", "jsonl"), default="table",
                   help="table (default), csv (for spreadsheets) or jsonl (one record a line)")
    p.add_argument("--output", type=Path, metavar="FILE", help="write to FILE (not stdout)")
    leaf(groups, "status", "the hub's nodes, store, connections, channels, recent refusals",
         _status)
    return parser


def _add_issue_options(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group()
    source.add_argument("--csr", type=Path, metavar="FILE",
                        help="the member's certificate request (from 'cordon key new'): "
                        "the recommended way, the private key stays with the member")
    source.add_argument("--generate-key", action="store_true",
                        help="have the hub generate the private key (it is sent to you once)")
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
    if args.group == "principal" and args.verb in ("add", "issue") and \
            args.csr is None and not args.generate_key:
        print(f"{PROG}: error: principal {args.verb}: give --csr FILE, the member's "
              "certificate request (the member runs 'cordon key new --principal "
              f"{args.principal}' and sends you the .csr file; its private key never leaves "
              "it), or --generate-key to have the hub generate the private key",
              file=sys.stderr)
        return EXIT_USAGE
    problem = connection_problem(args)
    if problem:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format=f"{PROG}: %(message)s", stream=sys.stderr)
    client = build_client(PROG, args.hub, cert=args.cert, key=args.key, ca=args.ca,
                          server_hostname=args.server_name, connect_attempts=args.retries,
                          reconnect=False, open_timeout=args.timeout,
                          request_timeout=args.timeout)
    if isinstance(client, int):
        return client
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
        print(f"{PROG}: {what}: {explain(exc, ca=args.ca)}", file=sys.stderr)
        return EXIT_REFUSED


async def _session(args: argparse.Namespace, client: Client) -> int:
    _check_args(args)
    prepare = getattr(args, "prepare", None)
    if prepare is not None:
        prepare(args)
    async with client:  # reconnect=False: an admin write is never resent blindly
        code: int = await args.func(args, client, sys.stdout)
    return code



if __name__ == "__main__":
    sys.exit(main())
