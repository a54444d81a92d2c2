"""client.report and client.export: figures, corrections applied, formats, the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from client.export import main as export_main
from client.export import to_csv
from client.report import build_report, render
from client.report import main as report_main
from client.sdk import Received
from hub.protocol.envelope import Envelope
from hub.protocol.errors import BadSignature
from hub.protocol.identity import AlertId, ChannelName, PrincipalId
from hub.protocol.schema import example
from tests.harness import HubHarness
from tests.pki import Leaf

CH = "stop-iii"
_counter = iter(range(1, 10**6))


def received(kind: str, body: dict[str, Any], *, offset: int | None = None,
             sender: str = "fr/ops", alert_id: str | None = None,
             verified: bool = True) -> Received:  # fmt: skip
    off = next(_counter) if offset is None else offset
    env = Envelope(
        id=AlertId(alert_id or f"A-{off}"), channel=ChannelName(CH),
        sender=PrincipalId(sender), kid="0" * 64, ts=1_701_648_000_000, kind=kind, body=body,
    )  # fmt: skip
    error = None if verified else BadSignature("forged")
    return Received(CH, off, env, b"", b"", verified=verified, error=error)


def seizure(**changes: Any) -> dict[str, Any]:
    return example("seizure", **changes)


def test_figures_with_amendments_and_withdrawals() -> None:
    goods = [{"category": "medicines", "hs_code": "300490", "description": "tablets",
              "quantity": 1000, "unit": "tablets"},
             {"category": "drugs", "hs_code": "293979", "description": "powder",
              "quantity": 1500, "unit": "g"},
             {"category": "alcohol", "hs_code": "220830", "description": "spirits",
              "quantity": 700, "unit": "ml"}]  # fmt: skip
    items = [
        received("notice", example("notice")),
        received("seizure", seizure(goods=goods), alert_id="FR-1"),
        received("seizure", seizure(date="2023-12-08", ecommerce=False, platform=None,
                                    consignment=None, small_consignment=None),
                 alert_id="DE-1", sender="de/zoll"),
        received("seizure", seizure(), alert_id="DE-2", sender="de/zoll"),
        received("warning", example("warning"), alert_id="W-1"),
        received("feedback", example("feedback", ref="W-1")),
        received("feedback", example("feedback", ref="W-1", outcome="nothing_found")),
        # DE corrects DE-1 (now e-commerce, from India) and withdraws DE-2
        received("amendment", example("amendment", ref="DE-1",
                                      record=seizure(date="2023-12-08", route={"origin": "IN"})),
                 sender="de/zoll"),
        received("withdrawal", example("withdrawal", ref="DE-2"), sender="de/zoll"),
        # refused corrections: another member's alert, a wrong kind, an unknown id
        received("withdrawal", example("withdrawal", ref="FR-1"), sender="de/zoll"),
        received("amendment", example("amendment", ref="FR-1", of="notice",
                                      record=example("notice"))),
        received("amendment", example("amendment", ref="NOPE")),
        received("withdrawal", example("withdrawal", ref="DE-2"), sender="de/zoll"),  # again
        # left out: forged, undecodable and schema-invalid alerts
        received("seizure", seizure(), verified=False),
        Received(CH, 999, None, b"\xc1", b"", verified=False),
        received("seizure", {"schema": 1, "handling": "H0"}),
    ]
    report = build_report(items, channel=CH, title="Test op")
    assert (report.cases, report.reporting, report.ecommerce) == (2, 2, 2)
    assert report.administrations == ["de", "fr"]
    assert report.items == 1000 + 12040  # FR-1's tablets + DE-1's amended record
    assert report.items_by_category == {"medicines": 1000 + 12000, "ipr": 40}
    assert report.kg_by_category == {"drugs": 1.5}
    assert report.litres_by_category == {"alcohol": 0.7}
    assert report.routes == {"CN>FR": 1, "IN>??": 1}
    assert report.timeline == {"2023-12-06": 1, "2023-12-07": 0, "2023-12-08": 1}
    assert (report.amendments, report.amendments_refused) == (1, 2)
    assert (report.withdrawals, report.withdrawals_refused) == (1, 2)
    assert (report.unverified, report.invalid, report.alerts) == (2, 1, 16)
    assert report.warnings == 1 and report.feedback == {"seized": 1, "nothing_found": 1}
    assert report.kinds["seizure"] == 3 and report.kinds["amendment"] == 3
    assert report.medical_items == 13000
    assert "2 cases reported by 2 administrations, 2 (100%) related to e-commerce" in (
        report.headline()
    )


def test_empty_channel_report() -> None:
    report = build_report([], channel=CH)
    assert report.cases == 0 and report.timeline == {} and report.ecommerce_share == 0
    for fmt in ("text", "markdown", "csv", "json", "html"):
        assert render(report, fmt)


def sample_report() -> Any:
    items = [received("seizure", seizure(), alert_id=f"S-{i}") for i in range(3)]
    items.append(received("seizure", seizure(date="2023-12-09", detection="detector_dog",
                                             transport_mode=1, location_type="seaport",
                                             goods=[seizure()["goods"][1]])))  # fmt: skip
    return build_report(items, channel=CH, title="STOP test")


def test_formats() -> None:
    report = sample_report()
    text = render(report, "text")
    assert "Operation report: STOP test" in text and "Top 10 routes" in text
    assert "IPR-infringing consumer goods" in text and "█" in text
    assert "risk profiling" not in text and "X-ray / scanner" in text
    md = render(report, "markdown", top=3)
    assert md.startswith("# Operation report: STOP test") and "| route | cases |" in md
    assert "Top 3 routes" in md
    rows = list(csv.reader(io.StringIO(render(report, "csv"))))
    assert rows[0] == ["section", "key", "value"]
    assert ["summary", "cases", "4"] in rows and ["items_by_category", "ipr", "160"] in rows
    assert ["administrations", "0", "fr"] in rows
    data = json.loads(render(report, "json"))
    assert data["cases"] == 4 and data["items"] == 36160 and data["routes"] == {"CN>FR": 4}
    page = render(report, "html")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 2
    assert "2023-12-09" in page and "<script" not in page


def test_export_csv_columns() -> None:
    items = [received("seizure", seizure(), alert_id="S-1"),
             received("notice", example("notice"), verified=False),
             Received(CH, 77, None, b"\xc1", b"", verified=False)]  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(to_csv(items))))
    assert rows[0]["id"] == "S-1" and rows[0]["items"] == "12040"
    assert rows[0]["member"] == "fr" and rows[0]["ecommerce"] == "true"
    assert rows[0]["time"] == "2023-12-04T00:00:00.000Z"
    assert json.loads(rows[0]["body"])["country"] == "FR"
    assert rows[1]["verified"] == "false" and rows[1]["items"] == ""
    assert rows[2]["offset"] == "77" and rows[2]["kind"] == ""


# --- the commands against a real hub ----------------------------------------------------------


@pytest.fixture
async def leaves(hub: HubHarness) -> dict[str, Leaf]:
    out = {"fr": await hub.member("fr", "ops"), "it": await hub.member("it", "gdf"),
           "es": await hub.member("es", "ops")}  # fmt: skip
    await hub.channel(CH, {"fr": "contributor", "it": "reader"}, title="STOP live")
    return out


def creds(hub: HubHarness, leaf: Leaf) -> list[str]:
    return ["--hub", hub.url, "--cert", str(leaf.cert), "--key", str(leaf.key),
            "--ca", str(hub.pki.ca), "--retries", "1"]  # fmt: skip


async def test_report_and_export_commands(
    hub: HubHarness, leaves: dict[str, Leaf], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    async with hub.client(leaves["fr"]) as fr:
        await fr.publish(CH, "seizure", seizure(), alert_id="FR-1")
        await fr.publish(CH, "seizure", seizure(), alert_id="FR-2")
        await fr.publish(CH, "withdrawal", example("withdrawal", ref="FR-2"))
    reader = creds(hub, leaves["it"])
    code = await asyncio.to_thread(report_main, [CH, *reader, "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (data["cases"], data["withdrawals"], data["title"]) == (1, 1, "STOP live")
    html_file = tmp_path / "report.html"
    code = await asyncio.to_thread(report_main, [CH, *reader, "-f", "html", "-o", str(html_file)])
    assert code == 0 and "<svg" in html_file.read_text()
    code = await asyncio.to_thread(export_main, [CH, *reader])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert code == 0 and [x["offset"] for x in lines] == [1, 2, 3]
    assert all(x["verified"] for x in lines) and lines[0]["id"] == "FR-1"
    out = tmp_path / "alerts.csv"
    code = await asyncio.to_thread(export_main, [CH, *reader, "-f", "csv", "-o", str(out),
                                                 "--no-verify"])  # fmt: skip
    rows = list(csv.DictReader(out.open()))
    assert code == 0 and [r["kind"] for r in rows] == ["seizure", "seizure", "withdrawal"]
    admin = await hub.admin_leaf()
    code = await asyncio.to_thread(report_main, [CH, *creds(hub, admin), "-f", "csv"])
    assert code == 0 and "summary,cases,1" in capsys.readouterr().out


async def test_commands_exit_codes(
    hub: HubHarness, leaves: dict[str, Leaf], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    outsider = creds(hub, leaves["es"])
    # a channel the principal may not read: refused, exit 3
    assert await asyncio.to_thread(report_main, [CH, *outsider]) == 3
    assert "404" in capsys.readouterr().err
    assert await asyncio.to_thread(export_main, [CH, *outsider]) == 3
    # unwritable output: exit 2
    reader = creds(hub, leaves["it"])
    bad = str(tmp_path / "no" / "such" / "dir" / "r.txt")
    assert await asyncio.to_thread(report_main, [CH, *reader, "-o", bad]) == 2
    assert "cannot write" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "CHANNEL"),
        ([CH], "missing --hub, --cert, --key, --ca"),
        ([CH, "--hub", "https://x/", "--cert", "c", "--key", "k", "--ca", "a"], "wss://"),
        ([CH, "--hub", "wss://x/", "--cert", "c", "--key", "k", "--ca", "a", "--retries", "0"],
         "--retries"),
        ([CH, "--hub", "wss://x/", "--cert", "c", "--key", "k", "--ca", "a"],
         "cannot read certificate c"),
        ([CH, "--format", "pdf"], "invalid choice"),
        ([CH, "--hub", "wss://x/", "--cert", "c", "--key", "k", "--ca", "a", "--top", "0"],
         "--top"),
    ],
)  # fmt: skip
def test_bad_arguments_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    for name in ("CORDON_HUB", "CORDON_CERT", "CORDON_KEY", "CORDON_CA"):
        monkeypatch.delenv(name, raising=False)
    assert report_main(argv) == 2
    assert message in capsys.readouterr().err
    if "--top" not in argv and "pdf" not in argv:
        assert export_main(argv) == 2


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert report_main(["--help"]) == 0
    assert export_main(["--help"]) == 0
    assert "CHANNEL" in capsys.readouterr().out
