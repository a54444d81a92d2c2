"""Models, filters, export, figures and the schema adapter: plain data in, no widgets."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from client.desktop import fields
from client.desktop.export import HEADER, write_csv
from client.desktop.figures import figures_for
from client.desktop.models import (
    COLUMNS,
    VERIFIED_COLUMN,
    ChannelListModel,
    FeedFilter,
    FeedModel,
    FeedQuery,
    UnreadRole,
)
from client.desktop.rows import AlertRow, ChannelRow
from client.sdk import Received
from hub.protocol.envelope import Envelope
from hub.protocol.errors import BadSignature
from hub.protocol.identity import AlertId, ChannelName, PrincipalId
from tests.desktop import samples

pytestmark = pytest.mark.usefixtures("qapp")

T0 = 1_701_734_400_000  # 2023-12-05 00:00 UTC


def row(offset: int, kind: str = "seizure", body: dict[str, Any] | None = None, *,
        sender: str = "de/zoll", channel: str = "stop-iii", verified: bool = True,
        alert_id: str | None = None) -> AlertRow:
    body = samples.seizure(offset) if body is None else body
    return AlertRow(channel=channel, offset=offset, alert_id=alert_id or f"A{offset}",
                    sender=sender, kind=kind, ts=T0 + offset * 60_000, body=body,
                    verified=verified, error=None if verified else "bad signature",
                    summary=fields.summarize(body))


def test_feed_model_adds_dedups_and_replaces() -> None:
    model = FeedModel()
    assert model.add_rows([row(1), row(2), row(2)]) == 2
    assert model.rowCount() == 2 and model.columnCount() == len(COLUMNS)
    assert model.add_rows([row(2, verified=False)]) == 0  # replaced in place
    index = model.index(1, VERIFIED_COLUMN)
    assert "FAILED" in model.data(index)
    assert model.data(index, Qt.ItemDataRole.BackgroundRole) is not None
    assert "bad signature" in model.data(index, Qt.ItemDataRole.ToolTipRole)
    col = {key: i for i, (key, _) in enumerate(COLUMNS)}
    assert model.data(model.index(0, col["sender"])) == "DE"
    assert model.data(model.index(0, col["commodity"])) == "Illicit / falsified medicines"
    assert model.data(model.index(0, col["quantity"])) == "1,200 tablets"
    assert model.data(model.index(0, col["place"])) == "Hamburg port"
    assert model.data(model.index(0, col["ecommerce"])) == "yes"
    assert "Verified" in model.data(model.index(0, VERIFIED_COLUMN))
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Time"


def test_filter_by_channel_kind_sender_commodity_country_ecommerce_text() -> None:
    model = FeedModel()
    model.add_rows([
        row(1),
        row(2, body=samples.seizure(2, category="ipr", unit="pcs", country="FR",
                                    ecommerce=False, origin="CN", place="Roissy")),
        row(3, "warning", samples.warning(), sender="fr/ops"),
        row(1, channel="pangea"),
    ])
    proxy = FeedFilter()
    proxy.setSourceModel(model)
    proxy.set_filter(channel="stop-iii")
    assert [r.offset for r in proxy.visible_rows()] == [3, 2, 1]  # newest first
    proxy.set_newest_first(False)
    assert [r.offset for r in proxy.visible_rows()] == [1, 2, 3]
    cases = {
        "kinds": (frozenset({"warning"}), [3]),
        "sender": ("fr", [3]),
        "commodity": ("ipr", [2]),
        "country": ("CN", [2, 3]),
        "ecommerce": (False, [2]),
        "text": ("roissy", [2]),
    }
    for name, (value, expected) in cases.items():
        proxy.set_filter(**{name: value})
        assert [r.offset for r in proxy.visible_rows()] == expected, name
        proxy.set_filter(**{name: FeedQuery().__getattribute__(name)})
    assert len(proxy.visible_rows()) == 3


def test_thread_links_feedback_to_its_warning() -> None:
    model = FeedModel()
    warn = row(1, "warning", samples.warning(), alert_id="W1")
    model.add_rows([warn, row(2), row(3, "feedback", samples.feedback("W1"), sender="fr/ops")])
    assert [r.offset for r in model.linked(warn)] == [3]
    assert [r.offset for r in model.linked(model.row_at(2))] == [1]


def test_channel_list_shows_role_and_unread() -> None:
    model = ChannelListModel()
    model.set_channels([ChannelRow("stop-iii", "Operation STOP III", "contributor", "open", 9, 4)])
    text = model.data(model.index(0))
    assert "Operation STOP III" in text and "contributor" in text and "4 unread" in text
    assert model.data(model.index(0), UnreadRole) == 4
    model.set_channels([ChannelRow("stop-iii", "Operation STOP III", "contributor", "open", 9)])
    assert "unread" not in model.data(model.index(0))


def test_export_writes_visible_rows_in_display_order(tmp_path: Path) -> None:
    rows = [row(2), row(1, verified=False)]
    path = tmp_path / "out.csv"
    assert write_csv(path, rows) == 2
    lines = list(csv.reader(path.open(encoding="utf-8")))
    assert tuple(lines[0]) == HEADER
    assert [line[HEADER.index("offset")] for line in lines[1:]] == ["2", "1"]
    assert lines[2][HEADER.index("verified")] == "false"
    assert lines[2][HEADER.index("error")] == "bad signature"
    assert path.stat().st_mode & 0o777 == 0o600


def received_of(r: AlertRow) -> Received:
    env = Envelope(id=AlertId(r.alert_id), channel=ChannelName(r.channel),
                   sender=PrincipalId(r.sender), kid="0" * 64, ts=r.ts, kind=r.kind,
                   body=r.body)
    error = None if r.verified else BadSignature(r.error or "forged")
    return Received(r.channel, r.offset, env, b"", b"", verified=r.verified, error=error)


def test_figures_count_verified_seizures_only() -> None:
    rows = [
        row(1),
        row(2, body=samples.seizure(2, category="ipr", unit="pcs", qty=300, ecommerce=False)),
        row(3, sender="fr/ops"),
        row(4, verified=False),
        row(5, "warning", samples.warning()),
        row(6, sender="it/gdf", alert_id="S6"),
        row(7, "withdrawal", {"schema": 1, "handling": "H0", "ref": "S6", "reason": "dup"},
            sender="it/gdf"),
    ]
    figures = figures_for([received_of(r) for r in rows], channel="stop-iii")
    assert figures.cases == 3
    assert figures.administrations == ("de", "fr")
    assert figures.ecommerce_cases == 2
    assert figures.ecommerce_share == pytest.approx(2 / 3)
    assert figures.items_by_category == {"medicines": 2400, "ipr": 300}
    assert figures.unverified == 1
    assert figures.timeline and figures.timeline[0][1] == 3
    assert figures.detection == {"xray_scanner": 3}


def test_adapter_builds_and_validates_bodies_with_the_shared_schema() -> None:
    body = fields.build_body("notice", {"text": "Desk open", "handling": "H0", "title": ""})
    assert body == {"schema": fields.SCHEMA_VERSION, "text": "Desk open", "handling": "H0"}
    assert fields.validate("notice", body) == []
    bad = fields.validate("seizure", fields.build_body(
        "seizure", {"date": "2023-13-01", "handling": "H0"},
        [{"category": "drugs", "hs_code": "12", "quantity": 1.5, "unit": "pcs"}]))
    keys = {p.key for p in bad}
    assert {"date", "country", "goods.0.hs_code", "goods.0.description"} <= keys
    assert fields.validate("seizure", samples.seizure()) == []
    assert fields.code_label("transport_mode", 4) == "air"
    assert fields.code_label("country", "FR") == "France"
    assert fields.code_label("country", "??") == "??"
    summary = fields.summarize(samples.seizure())
    assert (summary.commodity, summary.quantity, summary.ecommerce) == (
        "medicines", "1,200 tablets", True)
    described = {label: text for label, text, _, _ in fields.describe("seizure", samples.seizure())}
    assert described["Mode of transport"] == "1" and described["E-commerce"] == "yes"


def test_a_non_finite_quantity_in_a_forged_body_does_not_break_the_feed(qapp: object) -> None:
    """Only a forged (unverified) body can carry NaN or infinity: it is shown, not fatal."""
    from client.desktop.fields import summarize
    from client.desktop.models import quantity_text

    body = {"goods": [{"category": "drugs", "quantity": float("nan"), "unit": "kg"},
                      {"category": "drugs", "quantity": float("inf"), "unit": "pcs"}]}
    forged = AlertRow("c", 1, "X-1", "de/x", "seizure", 1, body, False, "bad signature",
                      summarize(body))
    assert quantity_text(forged) == "nan kilograms, inf pieces"
