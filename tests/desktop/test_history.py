"""The dashboard's figures are the operation's: the whole verified history, fetched in the
background, equal to ``cordon report``'s on the same channel (a generated operation with
amendments and a withdrawal, on a real hub)."""

from __future__ import annotations

import sqlite3
from typing import Any

from client.desktop.figures import figures_for
from client.desktop.window import MainWindow
from client.opgen import generate
from client.report import OperationReport, build_report, collect
from tests.desktop.conftest import FAST, DeskFactory, open_window, publish_operation
from tests.harness import HubHarness


def assert_dashboard_is(window: MainWindow, report: OperationReport) -> None:
    dashboard = window.show_dashboard()
    assert dashboard.values["cases"].text() == f"{report.cases:,}"
    assert dashboard.values["admins"].text() == str(report.reporting)
    assert dashboard.values["items"].text() == f"{report.items:,}"
    assert dashboard.values["ecommerce"].text() == f"{report.ecommerce_share:.0%}"
    figures = figures_for(window.bridge.cached_items(window.channel), channel=window.channel)
    assert figures.cases == report.cases
    assert figures.administrations == tuple(report.administrations)
    assert figures.items_by_category == {k: float(v) for k, v in report.items_by_category.items()}
    assert dict(figures.detection) == dict(report.detection)
    assert sum(n for _, n in figures.timeline) == sum(report.timeline.values())


async def test_dashboard_is_the_whole_history_and_equals_cordon_report(
    hub: HubHarness, desk: DeskFactory, qtbot: Any, tmp_path: Any
) -> None:
    op = generate(cases=50, members=8, seed=3)  # 75 alerts: amendments and a withdrawal
    leaves = await publish_operation(hub, op)
    reader = leaves[op.senders[1]]
    async with hub.client(reader, **FAST) as client:
        report = build_report(await collect(client, op.channel), channel=op.channel)
    assert report.withdrawals == 1 and report.amendments == 2 and report.alerts == 75

    # A fresh desk pages 20 at a time: the first page, then the rest in the background.
    bridge = desk(reader, cache_name="c1", page=20)
    window = await open_window(hub, bridge, qtbot, channel=op.channel, timeout=5)
    await hub.wait_for(lambda: bridge.coverage(op.channel)[2], timeout=20)
    assert bridge.coverage(op.channel) == (75, 75, True)
    assert len(window.feed.rows(op.channel)) == 75
    assert_dashboard_is(window, report)
    assert window.dashboard is not None and not window.dashboard.incomplete.isVisible()
    window.close()
    await bridge.stop()
    bridge.cache.close()

    # The cache lost its older part (as a desk from before the background fetch had it):
    # the dashboard says so prominently, then completes by itself and equals the report.
    with sqlite3.connect(tmp_path / "c1.sqlite3") as db:
        db.execute("DELETE FROM alerts WHERE off <= 30")
        db.execute("UPDATE channels SET complete = 0")
    again = desk(reader, cache_name="c1", page=20)
    window = MainWindow(again)
    qtbot.addWidget(window)
    window.show()
    again.load_cached()  # every cached alert, not the newest page only
    assert len(window.feed.rows(op.channel)) == 45
    dashboard = window.show_dashboard()
    assert dashboard.incomplete.isVisible()
    assert "INCOMPLETE" in dashboard.incomplete.text() and "45 of the channel's 75" in (
        dashboard.incomplete.text())
    again.start()
    await hub.wait_for(lambda: again.coverage(op.channel)[2], timeout=20)
    await hub.wait_for(lambda: not dashboard.incomplete.isVisible())
    assert len(window.feed.rows(op.channel)) == 75
    assert_dashboard_is(window, report)
