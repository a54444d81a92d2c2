"""``cordon export CHANNEL``: the channel's alerts themselves, as JSON lines or CSV.

Reads the whole retained history (verifying every alert unless ``--no-verify``)
and writes one record per alert in offset order:

- ``--format jsonl`` (default): ``{"channel", "offset", "id", "from", "kind",
  "ts", "body", "verified", "error"}`` per line, as ``cordon tail`` prints them;
- ``--format csv``: columns ``offset, id, kind, from, member, time (UTC ISO),
  verified, error, handling, ref, date, country, ecommerce, items, body`` (the
  body as JSON; ``items`` is the seizure's count of countable units).

Connection options and exit codes as for ``cordon report``.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from typing import Any

from client.cli import alert_json
from client.report import (
    collect,
    connection_parser,
    open_client,
    parse_connection,
    run_refusable,
    write_output,
)
from client.sdk import Client, Received
from hub.protocol import codes

__all__ = ["COLUMNS", "main", "to_csv", "to_jsonl"]

COLUMNS = ("offset", "id", "kind", "from", "member", "time", "verified", "error", "handling",
           "ref", "date", "country", "ecommerce", "items", "body")  # fmt: skip


def to_jsonl(items: list[Received]) -> str:
    return "".join(json.dumps(alert_json(item), ensure_ascii=False) + "\n" for item in items)


def _items(body: dict[str, Any]) -> int | str:
    goods = body.get("goods")
    if not isinstance(goods, list):
        return ""
    total: int = sum(
        line["quantity"]
        for line in goods
        if isinstance(line, dict)
        and line.get("unit") in codes.COUNTABLE_UNITS
        and isinstance(line.get("quantity"), int)
    )
    return total


def to_csv(items: list[Received]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in items:
        data = alert_json(item)
        body = data["body"] if isinstance(data["body"], dict) else {}
        time = ""
        if isinstance(data["ts"], int):
            moment = datetime.datetime.fromtimestamp(data["ts"] / 1000, datetime.UTC)
            time = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        ecommerce = body.get("ecommerce", "")
        writer.writerow([
            data["offset"], data["id"] or "", data["kind"] or "", data["from"] or "",
            (data["from"] or "").partition("/")[0], time, data["verified"],
            data["error"] or "", body.get("handling", ""), body.get("ref", ""),
            body.get("date", ""), body.get("country", ""),
            "" if ecommerce == "" else str(ecommerce).lower(), _items(body),
            json.dumps(data["body"], ensure_ascii=False, sort_keys=True),
        ])  # fmt: skip
    return buf.getvalue()


async def _fetch(client: Client, channel: str, verify: bool) -> list[Received]:
    async with client:
        return await collect(client, channel, verify=verify)


def main(argv: list[str] | None = None) -> int:
    prog = "cordon export"
    parser = connection_parser(prog, "Write a channel's alerts as JSON lines or CSV.")
    parser.add_argument("--format", "-f", choices=("jsonl", "csv"), default="jsonl",
                        help="jsonl (default: one alert a line, as cordon tail) or csv")
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
    text = to_csv(items) if args.format == "csv" else to_jsonl(items)
    code: int = write_output(prog, args.output, text)
    return code
