"""``cordon export CHANNEL``: the channel's alerts themselves, as JSON lines or CSV.

Reads the whole retained history (verifying every alert unless ``--no-verify``)
and writes one record per alert in offset order:

- ``--format jsonl`` (default): ``{"channel", "offset", "id", "from", "kind",
  "ts", "body", "verified", "error"}`` per line, as ``cordon tail`` prints them;
- ``--format stix`` / ``misp``: a STIX 2.1 bundle or a MISP event of the verified
  alerts (:mod:`client.interop`); alerts with handling H2/H3 are left out unless
  ``--include-restricted``, and stderr says how many were left out and why;
- ``--format csv``: the format the desk's "Export CSV…" writes too
  (:mod:`client.csvout`: machine-readable quantities, formula cells neutralised).

Connection options and exit codes as for ``cordon report``.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from client.cli import alert_json
from client.csvout import COLUMNS, alert_row, write_rows
from client.report import (
    collect,
    connection_parser,
    open_client,
    parse_connection,
    run_refusable,
    write_output,
)
from client.sdk import Client, Received

__all__ = ["COLUMNS", "main", "to_csv", "to_jsonl"]


def to_jsonl(items: list[Received]) -> str:
    return "".join(json.dumps(alert_json(item), ensure_ascii=False) + "\n" for item in items)


def to_csv(items: list[Received]) -> str:
    buf = io.StringIO()
    write_rows(buf, (alert_row(
        offset=item.offset, alert_id=item.envelope.id if item.envelope else None,
        kind=item.envelope.kind if item.envelope else None,
        sender=item.envelope.sender if item.envelope else None,
        ts=item.envelope.ts if item.envelope else None,
        body=item.envelope.body if item.envelope else None,
        verified=item.verified, error=item.reason) for item in items))  # fmt: skip
    return buf.getvalue()


async def _fetch(client: Client, channel: str, verify: bool) -> list[Received]:
    async with client:
        return await collect(client, channel, verify=verify)


def _interop(prog: str, args: Any, items: list[Received]) -> int:
    """``--format stix|misp``: verified alerts only, H2/H3 left out unless asked for."""
    from client import interop

    chosen = interop.select(items, args.channel, include_restricted=args.include_restricted)
    doc = interop.to_stix(chosen) if args.format == "stix" else interop.to_misp(chosen)
    code: int = write_output(prog, args.output, json.dumps(doc, indent=1, ensure_ascii=False)
                             + "\n")
    print(f"{prog}: {chosen.summary()}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    prog = "cordon export"
    parser = connection_parser(prog, "Write a channel's alerts as JSON lines or CSV.")
    parser.add_argument("--format", "-f", choices=("jsonl", "csv", "stix", "misp"),
                        default="jsonl", help="jsonl (default: one alert a line, as cordon "
                        "tail), csv, stix (a STIX 2.1 bundle) or misp (a MISP event)")
    parser.add_argument("--include-restricted", action="store_true",
                        help="stix/misp: include alerts with handling H2/H3 (not to be "
                        "passed on without the sender's permission; left out by default)")
    parser.add_argument("--no-verify", action="store_true", help="do not verify signatures")
    args = parse_connection(parser, argv)
    if isinstance(args, int):
        return args
    client = open_client(prog, args)
    if isinstance(client, int):
        return client
    items = run_refusable(prog, _fetch(client, args.channel, not args.no_verify),
                          channel=args.channel, ca=args.ca)
    if isinstance(items, int):
        return items
    if args.format in ("stix", "misp"):
        return _interop(prog, args, items)
    text = to_csv(items) if args.format == "csv" else to_jsonl(items)
    code: int = write_output(prog, args.output, text)
    return code
