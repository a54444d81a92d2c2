"""``cordon report CHANNEL``: an operation's results, computed from the hub's stored history.

Reads the channel's whole retained history (history pages), verifies every
alert's signature against the CA, checks every body against the schema, then
applies the channel's corrections in offset order: an ``amendment`` by the
administration that sent the original replaces the original's record, a
``withdrawal`` by it removes the alert from every figure. Alerts that fail
verification or the schema are counted and left out, never guessed at.

Figures: cases (seizure reports), reporting administrations, e-commerce share,
items (countable units: pieces, doses, tablets, ampoules, packages) and weights
by commodity category, top routes (origin -> destination), detection methods,
transport modes, types of location, a day-by-day timeline of seizure dates,
warnings and feedback outcomes, amendments and withdrawals applied.

Formats (``--format``): ``text`` (terminal tables, default), ``markdown``,
``csv`` (section,key,value rows), ``json``, ``html`` (self-contained page with
inline SVG charts of the timeline and the categories). ``--output FILE``
writes to a file instead of stdout.

Connection options as for ``cordon tail`` (``--hub``, ``--cert``, ``--key``,
``--ca``, ``--server-name`` or ``CORDON_*``), with the credentials of any
principal that may read the channel (member or hub administrator).

Exit codes: 0 ok, 2 usage (bad options, unreadable credentials, unwritable
output), 3 the hub refused or is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime
import html
import io
import json
import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client._options import (
    EXIT_CODES_EPILOG,
    add_channel_argument,
    add_connection_options,
    connection_problem,
)
from client._preflight import build_client, explain, refusal
from client.sdk import Client, ClientError, ConnectionLost, Received, check_chains
from hub.protocol import codes, schema
from hub.protocol.errors import CordonError

__all__ = [
    "FORMATS",
    "OperationReport",
    "build_report",
    "collect",
    "connection_parser",
    "main",
    "render",
]

EXIT_OK, EXIT_USAGE, EXIT_REFUSED = 0, 2, 3
FORMATS = ("text", "markdown", "csv", "json", "html")
_MEDICAL = ("medicines", "medical_devices")
_FINAL = ("amendment", "withdrawal")


@dataclass
class _Record:
    kind: str
    body: dict[str, Any]
    member: str
    withdrawn: bool = False


@dataclass
class OperationReport:
    """Every figure of the report (counters keyed by code; routes as ``"CN>FR"``)."""

    channel: str
    title: str = ""
    alerts: int = 0
    unverified: int = 0
    invalid: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    cases: int = 0
    reporting: int = 0
    administrations: list[str] = field(default_factory=list)
    ecommerce: int = 0
    items: int = 0
    items_by_category: Counter[str] = field(default_factory=Counter)
    kg_by_category: Counter[str] = field(default_factory=Counter)
    litres_by_category: Counter[str] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)
    detection: Counter[str] = field(default_factory=Counter)
    transport: Counter[str] = field(default_factory=Counter)
    locations: Counter[str] = field(default_factory=Counter)
    timeline: dict[str, int] = field(default_factory=dict)
    warnings: int = 0
    feedback: Counter[str] = field(default_factory=Counter)
    amendments: int = 0
    amendments_refused: int = 0
    withdrawals: int = 0
    withdrawals_refused: int = 0
    attachments: int = 0

    @property
    def medical_items(self) -> int:
        return sum(self.items_by_category[c] for c in _MEDICAL)

    @property
    def ecommerce_share(self) -> float:
        return self.ecommerce / self.cases if self.cases else 0.0

    def headline(self) -> str:
        return (
            f"{self.cases:,} cases reported by {self.reporting} administrations, "
            f"{self.ecommerce:,} ({self.ecommerce_share:.0%}) related to e-commerce; "
            f"{self.items:,} items seized ({_millions(self.items)}), including "
            f"{self.medical_items:,} ({_millions(self.medical_items)}) illicit medicines and "
            f"medical devices and {self.items_by_category['ipr']:,} "
            f"({_millions(self.items_by_category['ipr'])}) IPR-infringing goods."
        )

    def top_routes(self, n: int = 10) -> list[tuple[str, int]]:
        return sorted(self.routes.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def as_dict(self) -> dict[str, Any]:
        def ordered(counter: Counter[str]) -> dict[str, Any]:
            return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

        return {
            "channel": self.channel,
            "title": self.title,
            "headline": self.headline(),
            "alerts": self.alerts,
            "unverified": self.unverified,
            "invalid": self.invalid,
            "kinds": ordered(self.kinds),
            "cases": self.cases,
            "reporting": self.reporting,
            "administrations": self.administrations,
            "ecommerce": self.ecommerce,
            "ecommerce_share": round(self.ecommerce_share, 4),
            "items": self.items,
            "medical_items": self.medical_items,
            "items_by_category": ordered(self.items_by_category),
            "kg_by_category": {k: round(v, 3) for k, v in ordered(self.kg_by_category).items()},
            "litres_by_category": {
                k: round(v, 3) for k, v in ordered(self.litres_by_category).items()
            },
            "routes": ordered(self.routes),
            "detection": ordered(self.detection),
            "transport": ordered(self.transport),
            "locations": ordered(self.locations),
            "timeline": self.timeline,
            "warnings": self.warnings,
            "feedback": ordered(self.feedback),
            "amendments": self.amendments,
            "amendments_refused": self.amendments_refused,
            "withdrawals": self.withdrawals,
            "withdrawals_refused": self.withdrawals_refused,
            "attachments": self.attachments,
        }


def _millions(n: int) -> str:
    return f"{n / 1e6:.1f} million" if n >= 100_000 else f"{n:,}"


# --- computing ------------------------------------------------------------------------------


def build_report(items: Iterable[Received], *, channel: str, title: str = "") -> OperationReport:
    """The report of a channel's alerts, given in offset order (as the hub stores them)."""
    report = OperationReport(channel=channel, title=title)
    records: dict[str, _Record] = {}
    for item in items:
        report.alerts += 1
        env = item.envelope
        if not item.verified or env is None:
            report.unverified += 1
            continue
        body = dict(env.body)
        if schema.check(env.kind, body):
            report.invalid += 1
            continue
        report.kinds[env.kind] += 1
        member = env.sender.partition("/")[0]
        if env.kind in _FINAL:
            _apply(report, records, env.kind, body, member)
        else:
            records.setdefault(env.id, _Record(env.kind, body, member))
    _tally(report, [r for r in records.values() if not r.withdrawn])
    return report


def _apply(report: OperationReport, records: dict[str, _Record], kind: str,
           body: dict[str, Any], member: str) -> None:  # fmt: skip
    target = records.get(body["ref"])
    valid = target is not None and target.member == member and not target.withdrawn
    if kind == "amendment":
        if valid and target is not None and target.kind == body["of"]:
            target.body = dict(body["record"])
            report.amendments += 1
        else:
            report.amendments_refused += 1
    elif valid and target is not None:
        target.withdrawn = True
        report.withdrawals += 1
    else:
        report.withdrawals_refused += 1


def _tally(report: OperationReport, records: list[_Record]) -> None:
    cases = [r for r in records if r.kind == "seizure"]
    report.cases = len(cases)
    report.administrations = sorted({r.member for r in cases})
    report.reporting = len(report.administrations)
    dates: Counter[str] = Counter()
    for case in cases:
        body = case.body
        report.ecommerce += body["ecommerce"] is True
        dates[body["date"]] += 1
        report.detection[body["detection"]] += 1
        report.transport[str(body["transport_mode"])] += 1
        report.locations[body["location_type"]] += 1
        route = body.get("route", {})
        report.routes[f"{route.get('origin', '??')}>{route.get('destination', '??')}"] += 1
        report.attachments += len(body.get("attachments", ()))
        for line in body["goods"]:
            category, quantity, unit = line["category"], line["quantity"], line["unit"]
            if unit in codes.COUNTABLE_UNITS:
                report.items += quantity
                report.items_by_category[category] += quantity
            elif unit in ("kg", "g"):
                report.kg_by_category[category] += quantity / 1000 if unit == "g" else quantity
            else:
                report.litres_by_category[category] += quantity / 1000 if unit == "ml" else (
                    quantity)
    report.timeline = _fill_days(dates)
    for record in records:
        if record.kind == "warning":
            report.warnings += 1
        elif record.kind == "feedback":
            report.feedback[record.body["outcome"]] += 1


def _fill_days(dates: Counter[str]) -> dict[str, int]:
    if not dates:
        return {}
    first = datetime.date.fromisoformat(min(dates))
    last = datetime.date.fromisoformat(max(dates))
    span = (last - first).days + 1
    days = [(first + datetime.timedelta(days=i)).isoformat() for i in range(span)]
    return {day: dates.get(day, 0) for day in days}


async def collect(
    client: Client, channel: str, *, page: int = 100, verify: bool = True
) -> list[Received]:
    """Every retained alert of the channel, verified, in offset order (history pages).

    Pages are kept small because a page travels as one frame; if one still does
    not fit (the connection drops), the page size is divided by 4 and the page
    asked again, down to a single alert."""
    pages: list[list[Received]] = []
    before: int | None = None
    limit = page
    while True:
        try:
            answer = await client.history(channel, before=before, limit=limit, verify=verify)
        except ConnectionLost:
            if limit == 1:
                raise
            limit = max(1, limit // 4)
            continue
        pages.append(answer.items)
        if answer.before is None:
            break
        before = answer.before
    # Sender chains over the whole history, not page by page (PROTOCOL.md §4).
    return check_chains(item for chunk in reversed(pages) for item in chunk)


# --- rendering ------------------------------------------------------------------------------


def _label(table: Any, code: str) -> str:
    return str(table.get(code, code))


def _route_label(route: str) -> str:
    origin, _, dest = route.partition(">")
    return f"{origin} → {dest}"


_Section = tuple[str, list[str], list[list[Any]]]


def _sections(report: OperationReport, top: int) -> list[_Section]:
    """(title, header, rows) of every table, shared by text, Markdown and CSV."""
    r = report
    share = f"{r.ecommerce_share:.1%}"
    overview: list[list[Any]] = [
        ["cases (seizures)", r.cases], ["reporting administrations", r.reporting],
        ["related to e-commerce", f"{r.ecommerce:,} ({share})"], ["items seized", r.items],
        ["medicines and medical devices", r.medical_items],
        ["IPR-infringing goods", r.items_by_category["ipr"]],
        ["warnings", r.warnings], ["feedback", sum(r.feedback.values())],
        ["amendments applied", r.amendments], ["withdrawals applied", r.withdrawals],
        ["photos attached", r.attachments], ["alerts in the channel", r.alerts],
        ["alerts failing verification (left out)", r.unverified],
        ["alerts failing the schema (left out)", r.invalid],
    ]  # fmt: skip
    categories = sorted(set(r.items_by_category) | set(r.kg_by_category)
                        | set(r.litres_by_category),
                        key=lambda c: (-r.items_by_category[c], c))  # fmt: skip
    by_category = [
        [_label(codes.CATEGORIES, c), r.items_by_category[c],
         f"{r.items_by_category[c] / r.items:.1%}" if r.items else "-",
         _qty(r.kg_by_category[c]), _qty(r.litres_by_category[c])]
        for c in categories
    ]  # fmt: skip

    def counted(counter: Counter[str], table: Any) -> list[list[Any]]:
        total = sum(counter.values())
        return [[_label(table, k), v, f"{v / total:.1%}"]
                for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]

    modes = {str(k): f"{k} {v}" for k, v in codes.TRANSPORT_MODES.items()}
    routes = [[_route_label(k), v] for k, v in r.top_routes(top)]
    peak = max(r.timeline.values(), default=0) or 1
    timeline = [[day, n, "█" * round(30 * n / peak)] for day, n in r.timeline.items()]
    outcomes = counted(r.feedback, codes.FEEDBACK_OUTCOMES)
    return [
        ("Overview", ["figure", "value"], overview),
        ("Items by commodity category", ["category", "items", "share", "kg", "litres"],
         by_category),
        (f"Top {top} routes (origin → destination)", ["route", "cases"], routes),
        ("Detection methods", ["method", "cases", "share"], counted(r.detection, codes.DETECTION)),
        ("Transport modes (UN/ECE Rec. 19)", ["mode", "cases", "share"],
         counted(r.transport, modes)),
        ("Types of location", ["location", "cases", "share"],
         counted(r.locations, codes.LOCATION_TYPES)),
        ("Timeline (cases by seizure date)", ["date", "cases", ""], timeline),
        ("Feedback on warnings", ["outcome", "alerts", "share"], outcomes),
    ]  # fmt: skip


def _qty(value: float) -> str:
    return f"{value:,.3f}".rstrip("0").rstrip(".") if value else ""


def _cell(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def render_text(report: OperationReport, *, top: int = 10) -> str:
    out = [f"Operation report: {report.title or report.channel} (channel {report.channel})",
           "", report.headline()]  # fmt: skip
    for title, header, rows in _sections(report, top):
        cells = [header, *[[_cell(v) for v in row] for row in rows]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        out += ["", title, "-" * len(title)]
        for n, row in enumerate(cells):
            parts = [row[0].ljust(widths[0])] + [
                c.ljust(w) if c.startswith("█") else c.rjust(w)
                for c, w in zip(row[1:], widths[1:], strict=True)]  # fmt: skip
            out.append("  ".join(parts).rstrip())
            if n == 0:
                out.append("  ".join("-" * w for w in widths))
    return "\n".join(out) + "\n"


def render_markdown(report: OperationReport, *, top: int = 10) -> str:
    out = [f"# Operation report: {report.title or report.channel}", "",
           f"Channel `{report.channel}`. {report.headline()}"]  # fmt: skip
    for title, header, rows in _sections(report, top):
        out += ["", f"## {title}", "", "| " + " | ".join(header) + " |",
                "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]  # fmt: skip
        out += ["| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |"
                for row in rows]  # fmt: skip
    return "\n".join(out) + "\n"


def render_csv(report: OperationReport) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "key", "value"])
    for key, value in report.as_dict().items():
        if isinstance(value, dict):
            writer.writerows([key, k, v] for k, v in value.items())
        elif isinstance(value, list):
            writer.writerows([key, i, v] for i, v in enumerate(value))
        else:
            writer.writerow(["summary", key, value])
    return buf.getvalue()


def render_json(report: OperationReport) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"


def _svg_bars(pairs: list[tuple[str, int]], *, vertical: bool, colour: str) -> str:
    if not pairs:
        return "<p>No data.</p>"
    peak = max(v for _, v in pairs) or 1
    esc = html.escape
    if vertical:
        w, h, bar = 60 * len(pairs) + 40, 260, 44
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
                 f'role="img" font-family="sans-serif" font-size="11">']
        for i, (label, value) in enumerate(pairs):
            bh = round(180 * value / peak)
            x = 30 + i * 60
            parts.append(f'<rect x="{x}" y="{210 - bh}" width="{bar}" height="{bh}" '
                         f'fill="{colour}"><title>{esc(label)}: {value:,}</title></rect>')
            parts.append(f'<text x="{x + bar / 2}" y="{204 - bh}" text-anchor="middle">'
                         f"{value:,}</text>")
            parts.append(f'<text x="{x + bar / 2}" y="228" text-anchor="middle">'
                         f"{esc(label[5:])}</text>")
        parts.append("</svg>")
        return "".join(parts)
    w, h = 760, 28 * len(pairs) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'font-family="sans-serif" font-size="12">']
    for i, (label, value) in enumerate(pairs):
        bw = max(1, round(400 * value / peak))
        y = 5 + i * 28
        parts.append(f'<text x="0" y="{y + 16}">{esc(label)}</text>')
        parts.append(f'<rect x="250" y="{y}" width="{bw}" height="20" fill="{colour}">'
                     f"<title>{esc(label)}: {value:,}</title></rect>")
        parts.append(f'<text x="{256 + bw}" y="{y + 15}">{value:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: OperationReport, *, top: int = 10) -> str:
    esc = html.escape
    tables = []
    for title, header, rows in _sections(report, top):
        head = "".join(f"<th>{esc(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{esc(_cell(v))}</td>" for v in row) + "</tr>"
                       for row in rows)  # fmt: skip
        tables.append(f"<h2>{esc(title)}</h2><table><tr>{head}</tr>{body}</table>")
    categories = [(_label(codes.CATEGORIES, c), v) for c, v in
                  sorted(report.items_by_category.items(), key=lambda kv: -kv[1])]  # fmt: skip
    timeline = list(report.timeline.items())
    title = esc(report.title or report.channel)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Operation report: {title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; max-width: 60em; }}
table {{ border-collapse: collapse; margin-bottom: 1em; }}
td, th {{ border: 1px solid #ccc; padding: 2px 8px; }}
td + td {{ text-align: right; }}
.headline {{ font-size: 1.2em; background: #eef4fb; padding: 0.8em; }}
</style></head><body>
<h1>Operation report: {title}</h1>
<p>Channel <code>{esc(report.channel)}</code>, computed from the hub's stored history after
verifying every alert's signature.</p>
<p class="headline">{esc(report.headline())}</p>
<h2>Timeline (cases by seizure date)</h2>
{_svg_bars(timeline, vertical=True, colour="#2f6db5")}
<h2>Items by commodity category</h2>
{_svg_bars(categories, vertical=False, colour="#c0504d")}
{"".join(tables)}
</body></html>
"""


def render(report: OperationReport, fmt: str, *, top: int = 10) -> str:
    """The report in one of :data:`FORMATS`."""
    renderers: dict[str, Callable[[], str]] = {
        "text": lambda: render_text(report, top=top),
        "markdown": lambda: render_markdown(report, top=top),
        "csv": lambda: render_csv(report),
        "json": lambda: render_json(report),
        "html": lambda: render_html(report, top=top),
    }
    return renderers[fmt]()


# --- command line ---------------------------------------------------------------------------


def connection_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A parser with the hub connection options (env CORDON_*) and a CHANNEL argument."""
    p = argparse.ArgumentParser(prog=prog, description=description, epilog=EXIT_CODES_EPILOG)
    add_channel_argument(p)
    add_connection_options(p)
    p.add_argument("--retries", type=int, default=1, metavar="N",
                   help="connection tries, with back-off (default 1: fail fast)")
    p.add_argument("--output", "-o", type=Path, metavar="FILE", help="write here, not stdout")
    p.add_argument("-v", "--verbose", action="store_true", help="log connection events")
    return p  # fmt: skip


def parse_connection(parser: argparse.ArgumentParser, argv: list[str] | None
                     ) -> argparse.Namespace | int:  # fmt: skip
    """Parse; an exit code instead of the namespace on a usage error or --help."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    from client.cli import resolve_channel

    if resolve_channel(parser, args) is None:
        return EXIT_USAGE
    problem = connection_problem(args)
    if problem is None and args.retries < 1:
        problem = "--retries must be at least 1"
    if problem:
        print(f"{parser.prog}: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format=f"{parser.prog}: %(message)s", stream=sys.stderr)  # fmt: skip
    return args


def open_client(prog: str, args: argparse.Namespace) -> Client | int:
    """Check the credentials and build the client (or print why not: exit 2 or 3)."""
    client: Client | int = build_client(prog, args.hub, cert=args.cert, key=args.key,
                                        ca=args.ca, server_hostname=args.server_name,
                                        max_attempts=args.retries)  # fmt: skip
    return client


def write_output(prog: str, path: Path | None, text: str) -> int:
    if path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return EXIT_OK
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"{prog}: error: cannot write {path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def run_refusable(prog: str, coro: Any, *, channel: str | None = None,
                  ca: Path | None = None) -> Any:
    """Run; a refusal by the hub or a lost connection is printed and becomes exit 3."""
    try:
        return asyncio.run(coro)
    except CordonError as exc:
        print(f"{prog}: hub refused: {refusal(exc, channel=channel)}", file=sys.stderr)
    except ClientError as exc:
        print(f"{prog}: {explain(exc, ca=ca)}", file=sys.stderr)
    return EXIT_REFUSED


async def fetch_report(client: Client, channel: str) -> OperationReport:
    """Connect, read and verify the whole history, and compute the report."""
    async with client:
        title = next((c.title for c in await client.channels() if c.ch == channel), "")
        items = await collect(client, channel)
    return build_report(items, channel=channel, title=title)


def main(argv: list[str] | None = None) -> int:
    prog = "cordon report"
    parser = connection_parser(prog, "An operation's results from the channel's history.")
    parser.add_argument("--format", "-f", choices=FORMATS, default="text",
                        help=f"{', '.join(FORMATS)} (default text)")
    parser.add_argument("--top", type=int, default=10, metavar="N", help="routes shown (10)")
    args = parse_connection(parser, argv)
    if isinstance(args, int):
        return args
    if args.top < 1:
        print(f"{prog}: error: --top must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    client = open_client(prog, args)
    if isinstance(client, int):
        return client
    report = run_refusable(prog, fetch_report(client, args.channel),
                            channel=args.channel, ca=args.ca)
    if isinstance(report, int):
        return report
    return write_output(prog, args.output, render(report, args.format, top=args.top))
