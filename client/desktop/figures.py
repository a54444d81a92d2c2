"""The operation dashboard's figures (pure Python).

:func:`figures_for` computes them with ``cordon report``'s own code
(:func:`client.report.build_report`: verification, schema, amendments and
withdrawals applied) from the alerts cached on this machine, so the desk and
the report agree. :func:`compute` is the small stand-in used when that module
is absent: cases (seizures), reporting administrations, e-commerce share,
items by category, top routes, detection methods and a day-by-day timeline;
only verified seizures count, withdrawn ones are left out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from client.desktop.rows import AlertRow, row_from_received
from client.sdk import Received
from hub.protocol import codes as _codes

__all__ = ["COUNTABLE_UNITS", "Figures", "compute", "figures_for"]

COUNTABLE_UNITS: frozenset[str] = frozenset(_codes.COUNTABLE_UNITS)


@dataclass(frozen=True, slots=True)
class Figures:
    cases: int = 0
    ecommerce_cases: int = 0
    administrations: tuple[str, ...] = ()
    items_by_category: dict[str, float] = field(default_factory=dict)
    routes: list[tuple[str, int]] = field(default_factory=list)
    detection: dict[str, int] = field(default_factory=dict)
    timeline: list[tuple[dt.date, int]] = field(default_factory=list)
    unverified: int = 0

    @property
    def ecommerce_share(self) -> float:
        return self.ecommerce_cases / self.cases if self.cases else 0.0

    @property
    def items(self) -> float:
        return sum(self.items_by_category.values())


def _day(row: AlertRow) -> dt.date:
    date = row.body.get("date")
    if isinstance(date, str):
        try:
            return dt.date.fromisoformat(date)
        except ValueError:
            pass
    return dt.datetime.fromtimestamp(row.ts / 1000, tz=dt.UTC).date()


def compute(rows: Iterable[AlertRow]) -> Figures:
    """Figures of one channel's rows (any order)."""
    rows = list(rows)
    withdrawn = {r.ref for r in rows if r.kind == "withdrawal" and r.verified}
    seizures = [r for r in rows if r.kind == "seizure" and r.alert_id not in withdrawn]
    good = [r for r in seizures if r.verified]
    items: dict[str, float] = {}
    routes: Counter[str] = Counter()
    detection: Counter[str] = Counter()
    days: Counter[dt.date] = Counter()
    for row in good:
        for line in row.body.get("goods") or []:
            if isinstance(line, dict) and line.get("unit") in COUNTABLE_UNITS:
                quantity = line.get("quantity")
                if isinstance(quantity, int | float) and not isinstance(quantity, bool):
                    category = str(line.get("category", "other"))
                    items[category] = items.get(category, 0.0) + quantity
        route = row.body.get("route")
        if isinstance(route, dict) and route.get("origin"):
            destination = route.get("destination") or row.body.get("country")
            routes[f"{route['origin']} → {destination}"] += 1
        if row.body.get("detection"):
            detection[str(row.body["detection"])] += 1
        days[_day(row)] += 1
    timeline: list[tuple[dt.date, int]] = []
    if days:
        day, last = min(days), max(days)
        while day <= last:
            timeline.append((day, days.get(day, 0)))
            day += dt.timedelta(days=1)
    return Figures(
        cases=len(good),
        ecommerce_cases=sum(1 for r in good if r.body.get("ecommerce") is True),
        administrations=tuple(sorted({r.member for r in good})),
        items_by_category=dict(sorted(items.items(), key=lambda kv: -kv[1])),
        routes=routes.most_common(5),
        detection=dict(detection.most_common()),
        timeline=timeline,
        unverified=len(seizures) - len(good),
    )


def figures_for(items: list[Received], *, channel: str, title: str = "") -> Figures:
    """The figures of ``cordon report`` for these alerts (offset order)."""
    try:
        from client.report import build_report
    except ImportError:  # pragma: no cover - only on a tree without the report
        return compute(row_from_received(item) for item in items)
    report = build_report(items, channel=channel, title=title)
    timeline = []
    for day, count in report.timeline.items():
        try:
            timeline.append((dt.date.fromisoformat(day), count))
        except ValueError:
            continue
    return Figures(
        cases=report.cases,
        ecommerce_cases=report.ecommerce,
        administrations=tuple(report.administrations),
        items_by_category={k: float(v) for k, v in report.items_by_category.most_common()},
        routes=[(route.replace(">", " → "), n) for route, n in report.top_routes(5)],
        detection=dict(report.detection.most_common()),
        timeline=sorted(timeline),
        unverified=report.unverified + report.invalid,
    )
