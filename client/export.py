"""``cordon export CHANNEL``: the channel's alerts themselves, as JSON lines or CSV.

Reads the whole retained history (verifying every alert unless ``--no-verify``)
and writes one record per alert in offset order:

- ``--format jsonl`` (default): ``{"channel", "offset", "id", "from", "kind",
  "ts", "body", "verified", "error"}`` per line, as ``cordon tail`` prints them;
- ``--format csv``: the format the desk's "Export CSV…" writes too
  (:mod:`client.csvout`: machine-readable quantities, formula cells neutralised).

Connection options and exit codes as for ``cordon report``.
"""

from __future__ import annotations

import io
import json

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


def main(argv: list[str] | None = None) -> int:
    prog = "cordon export"
    parser = connection_parser(prog, "Write a channel's alerts as JSON lines or CSV.")
    parser.add_argument("--format", "-f", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--no-verify", action="store_true", help="do not verify signatures")
    args = parse_connection(parser, argv)
    if isinstance(args, int):
        return args
    client = open_client(prog, args)
    if isinstance(client, int):
        return client
    items = run_refusable(prog, _fetch(client, args.channel, not args.no_verify))
    if isinstance(items, int):
        return items
    text = to_csv(items) if args.format == "csv" else to_jsonl(items)
    code: int = write_output(prog, args.output, text)
    return code
