"""``cordon ca``: the certificate authority's command line.

::

    cordon ca init          [--dir D] [--name NAME] [--days N]
    cordon ca issue-server  [--dir D] --dns NAME [--dns NAME ...] [--ip IP ...]
                            [--days N] [--out O] [--force]
    cordon ca issue-log-key [--dir D] [--hub NAME] [--days N] [--out O] [--force]
    cordon ca issue         [--dir D] --member M --name N [--kind system|officer]
                            [--csr FILE] [--days N] [--out O] [--force]
    cordon ca issue         [--dir D] --admin --name N [--csr FILE] [--days N] [--out O]
                            [--force]
    cordon ca revoke        [--dir D] (--serial HEX | --kid KID | --principal P)
                            [--reason R] [--crl-days N]
    cordon ca crl           [--dir D] [--days N]
    cordon ca list          [--dir D] [--json]

``--dir`` defaults to ``$CORDON_CA_DIR``, else ``./var/ca``; ``--out`` to
``<dir>/out``. Serials are written and read in hex, as ``list`` shows them
and as ``issued/<serial>.pem`` names them. Private keys are written to files
(mode 0600) and never printed. With ``--csr FILE`` (a request made by
``cordon key new``) the certificate is issued for the request's key, which never
comes near the CA: only the certificate and ``ca.pem`` are written.

Exit status: 0 success (also when the reader of the output went away, as with
``| head``: the rest of the output is dropped quietly); 2 usage error (from argparse); 3 CA error
(:class:`~certs.errors.CAError` or an operating-system error), reported on
stderr as ``cordon ca: error: <message>``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from certs.ca import (
    REASONS,
    CAError,
    CertRecord,
    IssuedCert,
    init_ca,
    issue_admin,
    issue_from_request,
    issue_log,
    issue_member,
    issue_server,
    load_index,
    revoke,
    write_crl,
)

__all__ = ["DEFAULT_DIR", "ENV_DIR", "EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "main"]

PROG = "cordon ca"
#: Environment variable naming the CA directory.
ENV_DIR = "CORDON_CA_DIR"
#: CA directory when neither ``--dir`` nor ``$CORDON_CA_DIR`` is given.
DEFAULT_DIR = "./var/ca"
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_ERROR = 3

Command = Callable[[argparse.Namespace], int]


def _serial(text: str) -> int:
    digits = text.lower().removeprefix("0x").replace(":", "")
    try:
        value = int(digits, 16)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a hex serial: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"serial must be positive: {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _print_issued(what: str, issued: IssuedCert) -> None:
    record = issued.record
    print(f"issued {what}")
    print(f"  serial   {record.serial_hex}")
    print(f"  kid      {record.kid}")
    print(f"  valid    {_time(record.not_before)} .. {_time(record.not_after)}")
    print(f"  cert     {issued.cert}")
    print(f"  key      {issued.key}  (private, mode 0600)")
    print(f"  ca       {issued.ca}")


def _cmd_init(args: argparse.Namespace) -> int:
    path = init_ca(args.dir, name=args.name, days=args.days)
    print(f"created CA {args.name!r} in {args.dir}")
    print(f"  ca       {path}")
    return EXIT_OK


def _cmd_issue_server(args: argparse.Namespace) -> int:
    issued = issue_server(
        args.dir,
        dns_names=args.dns,
        ip_addresses=args.ip,
        days=args.days or 397,
        out=args.out,
        overwrite=args.force,
    )
    _print_issued(f"server certificate for {issued.record.subject}", issued)
    return EXIT_OK


def _cmd_issue_log(args: argparse.Namespace) -> int:
    issued = issue_log(args.dir, hub=args.hub, days=args.days or 1825, out=args.out,
                       overwrite=args.force)
    _print_issued(f"log key for hub {args.hub} (signs channel checkpoints)", issued)
    return EXIT_OK


def _cmd_issue(args: argparse.Namespace) -> int:
    if args.csr is not None:
        certified = issue_from_request(
            args.dir, args.csr.read_bytes(), member=None if args.admin else args.member,
            name=args.name, admin=args.admin, kind=args.kind or "system",
            days=args.days or 365, out=args.out, overwrite=args.force,
        )
        record = certified.record
        kind = "admin" if args.admin else record.principal_kind
        print(f"issued {kind} certificate for {record.principal} from {args.csr}")
        print(f"  serial   {record.serial_hex}")
        print(f"  kid      {record.kid}")
        print(f"  valid    {_time(record.not_before)} .. {_time(record.not_after)}")
        print(f"  cert     {certified.cert}")
        print("  key      kept by its holder (issued from the request)")
        print(f"  ca       {certified.ca}")
        return EXIT_OK
    if args.admin:
        issued = issue_admin(
            args.dir, name=args.name, days=args.days or 365, out=args.out, overwrite=args.force
        )
        what = f"admin certificate for {issued.record.principal}"
    else:
        issued = issue_member(
            args.dir,
            member=args.member,
            name=args.name,
            kind=args.kind or "system",
            days=args.days or 365,
            out=args.out,
            overwrite=args.force,
        )
        what = f"{issued.record.principal_kind} certificate for {issued.record.principal}"
    _print_issued(what, issued)
    return EXIT_OK


def _cmd_revoke(args: argparse.Namespace) -> int:
    records = revoke(
        args.dir,
        serial=args.serial,
        kid=args.kid,
        principal=args.principal,
        reason=args.reason,
        crl_days=args.crl_days,
    )
    for record in records:
        print(f"revoked {record.serial_hex} {record.kind} {record.subject} ({record.reason})")
    print(f"CRL updated: {Path(args.dir) / 'crl.pem'}")
    return EXIT_OK


def _cmd_crl(args: argparse.Namespace) -> int:
    print(f"CRL written: {write_crl(args.dir, days=args.days)}")
    return EXIT_OK


def _status(record: CertRecord, now: datetime) -> str:
    if record.status == "active" and record.not_after <= now:
        return "expired"
    return record.status


def _cmd_list(args: argparse.Namespace) -> int:
    records = load_index(args.dir)
    if args.json:
        print(json.dumps([r.to_json() for r in records], indent=2))
        return EXIT_OK
    now = datetime.now(UTC)
    rows = [("SERIAL", "KIND", "SUBJECT", "STATUS", "NOT AFTER", "KID")]
    for r in records:
        subject = r.subject if r.principal_kind is None else f"{r.subject} ({r.principal_kind})"
        rows.append((r.serial_hex, r.kind, subject, _status(r, now), _time(r.not_after), r.kid))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]))
    if not records:
        print("(no certificates issued)")
    return EXIT_OK


_EPILOG = "Exit codes: 0 done, 2 usage (bad options), 3 the CA refused or failed."


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dir",
        type=Path,
        default=Path(os.environ.get(ENV_DIR) or DEFAULT_DIR),
        help=f"CA directory (default: ${ENV_DIR}, else {DEFAULT_DIR})",
    )
    leaf = argparse.ArgumentParser(add_help=False)
    leaf.add_argument("--days", type=_positive, help="validity in days")
    leaf.add_argument("--out", type=Path, help="output directory (default: <dir>/out)")
    leaf.add_argument("--force", action="store_true", help="replace existing output files")

    parser = argparse.ArgumentParser(prog=PROG, description="Cordon certificate authority.",
                                     epilog=_EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    p = sub.add_parser("init", parents=[common], help="create a new CA", epilog=_EPILOG)
    p.add_argument("--name", default="Cordon Hub CA", help="CA common name")
    p.add_argument("--days", type=_positive, default=3650, help="validity in days")
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("issue-server", parents=[common, leaf],
                       help="issue the hub's certificate", epilog=_EPILOG)
    p.add_argument("--dns", action="append", required=True, help="DNS name (repeatable)")
    p.add_argument("--ip", action="append", default=[], help="IP address (repeatable)")
    p.set_defaults(func=_cmd_issue_server)

    p = sub.add_parser("issue-log-key", parents=[common, leaf],
                       help="issue the hub's log key (signs channel checkpoints)",
                       epilog=_EPILOG)
    p.add_argument("--hub", default="main", help="the deployment's name (default: main); "
                   "its log key certificate names urn:cordon:log:<hub>")
    p.set_defaults(func=_cmd_issue_log)

    p = issue = sub.add_parser("issue", parents=[common, leaf],
                               help="issue a member or admin cert", epilog=_EPILOG)
    p.add_argument("--member", help="member administration id, e.g. fr")
    p.add_argument("--name", required=True, help="principal (or admin) name, e.g. ops")
    p.add_argument("--kind", choices=("system", "officer"), help="principal kind (members)")
    p.add_argument("--admin", action="store_true", help="issue a hub administrator's cert")
    p.add_argument("--csr", type=Path, metavar="FILE",
                   help="certify the key of this request (from 'cordon key new'): the "
                   "private key stays with its holder")
    p.set_defaults(func=_cmd_issue)

    p = sub.add_parser("revoke", parents=[common], help="revoke certificates, update the CRL",
                       epilog=_EPILOG)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--serial", type=_serial, help="serial in hex, as `list` shows it")
    which.add_argument("--kid", help="key id (hex SHA-256 of the certificate)")
    which.add_argument("--principal", help="every active cert of e.g. fr/ops or admin/alice")
    p.add_argument("--reason", choices=list(REASONS), default="unspecified", metavar="REASON",
                   help=f"revocation reason (RFC 5280): {', '.join(REASONS)}; "
                   "default unspecified")
    p.add_argument("--crl-days", type=_positive, default=7, help="CRL validity in days")
    p.set_defaults(func=_cmd_revoke)

    p = sub.add_parser("crl", parents=[common], help="regenerate the CRL", epilog=_EPILOG)
    p.add_argument("--days", type=_positive, default=7, help="CRL validity in days")
    p.set_defaults(func=_cmd_crl)

    p = sub.add_parser("list", parents=[common], help="list issued certificates",
                       epilog=_EPILOG)
    p.add_argument("--json", action="store_true", help="print index records as JSON")
    p.set_defaults(func=_cmd_list)
    return parser, issue


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser, issue = _parser()
    args = parser.parse_args(argv)
    if args.command == "issue":
        if args.admin and (args.member is not None or args.kind is not None):
            issue.error("--admin takes no --member or --kind")
        if not args.admin and args.member is None:
            issue.error("--member is required (or --admin)")
    return args


def _stdout_gone() -> None:
    """The reader of our output went away (``cordon ca list | head``): stop quietly. Point
    stdout at /dev/null so that Python's final flush does not fail again at exit."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    """Run ``cordon ca`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    try:
        args = _parse(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    command: Command = args.func
    try:
        code = command(args)
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        _stdout_gone()
        return EXIT_OK
    except CAError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
