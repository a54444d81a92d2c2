"""The operation generator's planted truth, and ``cordon demo`` end to end at reduced size."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from client.opgen import MEMBERS, apportion, generate, photo_png
from hub.demo import compare, main
from hub.protocol import codes, schema
from hub.protocol.attachments import image_type


def test_full_size_plan_states_exactly_the_stop_iii_figures() -> None:
    op = generate()
    truth = op.truth
    assert len(op.members) == 111 == len(set(op.members))
    assert all(m.upper() in codes.COUNTRIES for m in op.members)
    assert (truth.cases, truth.reporting, truth.ecommerce) == (894, 48, 634)
    assert truth.items == 45_000_000
    assert truth.items_by_category["medicines"] + truth.items_by_category["medical_devices"] == (
        43_500_000
    )
    assert truth.items_by_category["ipr"] == 1_100_000
    assert sorted(truth.timeline) == [f"2023-12-{d:02d}" for d in range(4, 16)]
    assert sum(truth.timeline.values()) == 894
    assert truth.kinds["warning"] > 0 and sum(truth.feedback.values()) > 0
    assert truth.amendments > 0 and truth.withdrawals > 0 and truth.attachments > 0
    assert len(op.senders) <= 60  # bounded connections


def test_plan_is_valid_ordered_and_reproducible() -> None:
    op = generate(cases=120, members=30, seed=7)
    position = {a.alert_id: a.seq for a in op.alerts}
    assert len(position) == len(op.alerts)  # unique ids
    for alert in op.alerts:
        schema.validate(alert.kind, alert.body)
        assert all(position[dep] < alert.seq for dep in alert.deps)
        assert alert.principal.partition("/")[0] == alert.member
        for photo in alert.photos:
            assert image_type(photo) == "image/png"
    again = generate(cases=120, members=30, seed=7)
    assert [(a.alert_id, a.body) for a in again.alerts] == [(a.alert_id, a.body) for a in op.alerts]
    other = generate(cases=120, members=30, seed=8)
    assert [a.body for a in other.alerts] != [a.body for a in op.alerts]


@pytest.mark.parametrize(("cases", "members"), [(1, 1), (3, 2), (60, 20), (200, 111)])
def test_small_plans_are_exact_too(cases: int, members: int) -> None:
    truth = generate(cases=cases, members=members, seed=1).truth
    assert truth.cases == cases
    assert 1 <= truth.reporting <= min(cases, members)
    assert truth.items == sum(truth.items_by_category.values())
    assert sum(truth.timeline.values()) == cases


def test_generator_arguments_and_helpers() -> None:
    with pytest.raises(ValueError):
        generate(cases=0)
    with pytest.raises(ValueError):
        generate(members=len(MEMBERS) + 1)
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert apportion(7, [5, 0.001], minimum=1) == [6, 1]
    assert sum(apportion(45_000_000, [0.3, 2.5, 7.1, 0.01])) == 45_000_000
    with pytest.raises(ValueError):
        apportion(1, [1, 1], minimum=1)
    assert photo_png(1) == photo_png(1) != photo_png(2)


def test_compare_names_every_difference() -> None:
    from client.report import OperationReport

    truth = generate(cases=5, members=3, seed=2).truth
    report = OperationReport(channel="x")
    differing = {name for name, planted, got in compare(report, truth) if planted != got}
    assert {"cases", "items seized", "alerts by kind"} <= differing
    assert "alerts failing verification" not in differing


def test_demo_end_to_end_reduced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """60 cases from 20 members through a real hub; the report equals the planted truth."""
    folder = tmp_path / "demo"
    code = main(["--cases", "60", "--members", "20", "--rate", "0", "--seed", "5",
                 "--dir", str(folder)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    truth = generate(cases=60, members=20, seed=5).truth
    assert "Ground truth check: all 19 figures equal" in out
    assert f"{truth.cases} cases reported by {truth.reporting} administrations" in out
    assert f"{truth.items:,} items seized" in out
    assert "0 failing verification" in out
    assert (folder / "ca" / "ca.pem").exists()  # --dir is kept
    # a second run refuses a non-empty folder instead of mixing two CAs
    assert main(["--cases", "5", "--dir", str(folder)]) == 2


def test_demo_paced_live_view_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--cases", "8", "--members", "4", "--rate", "400", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "seizure" in out and "notice" in out and "Day 1 briefing" in out
    assert "alerts/s" in out and "100%" in out


@pytest.mark.parametrize(
    "argv",
    [["--cases", "0"], ["--members", "112"], ["--rate", "-1"], ["--cases", "x"], ["--bogus"]],
)
def test_demo_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "error" in capsys.readouterr().err


def test_live_view_on_a_terminal() -> None:
    import io

    from hub.demo import LiveView
    from tests.client.test_report import received

    out = io.StringIO()
    view = LiveView(2, out, tty=True, quiet=False)
    view.add(received("seizure", schema.example("seizure"), offset=1))
    view.add(received("notice", schema.example("notice"), offset=2, verified=False))
    view.close()
    text = out.getvalue()
    assert "\x1b[K" in text and "\r" in text and "NOT VERIFIED" in text and "2/2" in text


def test_demo_is_registered() -> None:
    from hub.cli import COMMANDS

    assert {"demo", "report", "export"} <= set(COMMANDS)
    assert asyncio.iscoroutinefunction(compare) is False
