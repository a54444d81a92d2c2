"""The operation dashboard's figures (pure Python).

:func:`figures_for` computes them with ``cordon report``'s own code
(:func:`client.report.build_report`: verification, schema, amendments and
withdrawals applied) from the alerts cached on this machine, so the desk and
the report agree: cases (seizures), reporting administrations, e-commerce
share, items by category, top routes, detection methods and a day-by-day
timeline; only verified seizures count, withdrawn ones are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from client.report import build_report
from client.sdk import Received

__all__ = ["Figures", "figures_for"]


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


def figures_for(items: list[Received], *, channel: str, title: str = "") -> Figures:
    """The figures of ``cordon report`` for these alerts (offset order)."""
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
