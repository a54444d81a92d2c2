"""pytest-qt: the main window and compose form driven like an officer would, on a real hub."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit

from client.desktop.bridge import ONLINE
from client.desktop.compose import ComposeDialog
from client.desktop.models import COLUMNS, VERIFIED_COLUMN
from client.desktop.window import MainWindow
from hub.storage import AppendRequest
from tests.desktop import samples
from tests.desktop.conftest import CH, FAST, DeskFactory, open_window
from tests.harness import HubHarness
from tests.pki import Leaf

DOCS = Path(__file__).resolve().parents[2] / "docs"


def fill(dialog: ComposeDialog, key: str, value: str) -> None:
    widget = dialog.inputs[key].widget
    if isinstance(widget, QComboBox):
        at = widget.findData(value)
        assert at >= 0, (key, value)
        widget.setCurrentIndex(at)
    elif isinstance(widget, QPlainTextEdit):
        widget.setPlainText(value)
    else:
        assert isinstance(widget, QLineEdit)
        widget.setText(value)


def texts(window: MainWindow, column: int | str) -> list[str]:
    if isinstance(column, str):
        column = [key for key, _ in COLUMNS].index(column)
    proxy = window.proxy
    return [proxy.data(proxy.index(i, column)) for i in range(proxy.rowCount())]


async def test_compose_validates_as_you_type_then_shows_the_hub_ack(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any
) -> None:
    window = await open_window(hub, desk(members["fr"]), qtbot)
    dialog = window.open_compose("notice")
    assert not dialog.send.isEnabled()
    assert "Text" in dialog.problems.text()  # required, not filled yet
    assert dialog.inputs["text"].widget.styleSheet()  # outlined in red
    qtbot.keyClicks(dialog.inputs["text"].widget, "OCU desk open 08:00-20:00 CET")
    fill(dialog, "handling", "H3")  # H3 needs the restriction text
    assert not dialog.send.isEnabled()
    assert "H3" in dialog.problems.text()
    fill(dialog, "handling", "H0")
    assert dialog.send.isEnabled() and dialog.problems.text() == ""
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    await hub.wait_for(lambda: "offset 1" in dialog.status.text())
    assert "✔" in dialog.status.text()
    await hub.wait_for(lambda: window.proxy.rowCount() == 1)
    assert texts(window, "kind") == ["Notice"]


async def test_seizure_form_checks_goods_lines_and_publishes(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any
) -> None:
    window = await open_window(hub, desk(members["fr"]), qtbot)
    dialog = window.open_compose("seizure")
    for key, value in (("country", "FR"), ("location_type", "airport"),
                       ("transport_mode", 4), ("detection", "xray_scanner"),
                       ("status", "seized"), ("handling", "H1"), ("place", "Roissy CDG")):
        widget = dialog.inputs[key].widget
        if isinstance(widget, QComboBox):
            widget.setCurrentIndex(widget.findData(value))
        else:
            fill(dialog, key, str(value))
    line: dict[str, Any] = {i.field.key: i for i in dialog._goods_inputs[0]}
    line["category"].widget.setCurrentIndex(line["category"].widget.findData("ipr"))
    line["hs_code"].widget.setText("64")  # too short
    line["description"].widget.setText("counterfeit trainers")
    line["quantity"].widget.setText("12.5")  # pieces are whole numbers
    line["unit"].widget.setCurrentIndex(line["unit"].widget.findData("pcs"))
    problems = dialog.problems.text()
    assert "goods line 1: HS code" in problems
    assert "goods line 1: IPR type" in problems
    assert "goods line 1: Quantity" in problems
    assert line["hs_code"].widget.styleSheet()
    assert not dialog.send.isEnabled()
    line["hs_code"].widget.setText("640411")
    line["quantity"].widget.setText("340")
    line["ipr_type"].widget.setCurrentIndex(line["ipr_type"].widget.findData("trademark"))
    assert dialog.problems.text() == "" and dialog.send.isEnabled()
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    await hub.wait_for(lambda: "offset 1" in dialog.status.text())
    await hub.wait_for(lambda: window.proxy.rowCount() == 1)
    assert texts(window, "commodity") == ["IPR-infringing consumer goods"]
    assert texts(window, "quantity") == ["340 pieces"]


async def test_live_alert_from_another_member_notifies_and_feedback_threads(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any
) -> None:
    window = await open_window(hub, desk(members["fr"]), qtbot)
    async with hub.client(members["de"], **FAST) as de:
        ack = await de.publish(CH, "warning", samples.warning())
    await hub.wait_for(lambda: window.proxy.rowCount() == 1)
    assert texts(window, "sender") == ["DE"]
    assert "Verified" in texts(window, VERIFIED_COLUMN)[0]
    assert window.notifier.sent and "DE" in window.notifier.sent[-1][0]
    window.select_offset(ack.offset)
    assert window.reply_action.isEnabled()
    assert "Signature verified" in window.detail.browser.toPlainText()
    dialog = window.reply_with_feedback()
    assert dialog is not None and dialog.inputs["ref"].value() == ack.alert_id
    fill(dialog, "outcome", "seized")
    fill(dialog, "handling", "H0")
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    await hub.wait_for(lambda: "offset 2" in dialog.status.text())
    await hub.wait_for(lambda: window.proxy.rowCount() == 2)
    window.select_offset(ack.offset)
    detail = window.detail.browser.toPlainText()
    assert "Thread" in detail and "Feedback" in detail


async def test_forged_alert_from_a_tampered_store_is_shown_as_failed(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any
) -> None:
    """What a forgery looks like at the desk: the hub's store altered after the hub
    checked it (a compromised server or database). The signature no longer matches."""
    async with hub.client(members["de"], **FAST) as de:
        good = de.sign(CH, "seizure", samples.seizure(qty=1200))
        # 1200 -> 12 tablets, still canonical msgpack (12 is a fixint): only the signature fails
        forged = good.alert.replace(b"\xcd\x04\xb0", b"\x0c")
        assert forged != good.alert
        await hub.store.append_batch([AppendRequest(
            channel=CH, alert_id=good.envelope.id, alert=forged, sig=good.sig, kid=de.kid,
            received=int(time.time() * 1000))])
        await de.publish(CH, "seizure", samples.seizure(1))
    window = await open_window(hub, desk(members["fr"]), qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 2)
    window.proxy.set_newest_first(False)
    assert texts(window, "quantity") == ["12 tablets", "1,200 tablets"]
    badges = texts(window, VERIFIED_COLUMN)
    assert "FAILED" in badges[0] and "Verified" in badges[1]
    banner = window.integrity.banners["signature"]
    assert banner.isVisible() and "1 alert(s)" in banner.text()
    assert "may be forged" in banner.text()
    window.select_offset(1)
    assert "SIGNATURE CHECK FAILED" in window.detail.browser.toPlainText()
    assert window.show_dashboard().values["cases"].text() == "1"  # the forgery is not counted


async def test_resumes_after_hub_restart_and_status_follows(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any
) -> None:
    window = await open_window(hub, desk(members["fr"]), qtbot)
    assert window.status.state == ONLINE
    async with hub.client(members["de"], **FAST) as de:
        await de.publish(CH, "seizure", samples.seizure(1))
    await hub.wait_for(lambda: window.proxy.rowCount() == 1)
    await hub.restart()
    async with hub.client(members["de"], **FAST) as de:
        for i in (2, 3):
            await de.publish(CH, "seizure", samples.seizure(i))
    await hub.wait_for(lambda: window.proxy.rowCount() == 3, timeout=20)
    assert sorted(r.offset for r in window.proxy.visible_rows()) == [1, 2, 3]
    await hub.wait_for(lambda: window.status.state == ONLINE, timeout=10)


async def test_filter_export_and_screenshot(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any, tmp_path: Path
) -> None:
    """A populated channel: filters, CSV export, dashboard; a screenshot of it (written to
    docs/screenshot.png only with CORDON_UPDATE_SCREENSHOT=1, so a test run leaves the
    work tree clean)."""
    async with hub.client(members["de"], **FAST) as de, \
            hub.client(members["it"], **FAST) as _it:
        warn = await de.publish(CH, "warning", samples.warning())
        await de.publish(CH, "seizure", samples.seizure(1))
    fr_bodies = [
        samples.seizure(2, category="ipr", unit="pcs", qty=340, country="FR",
                        place="Roissy CDG express", locode="FRCDG", origin="CN"),
        samples.feedback(warn.alert_id),
        samples.seizure(3, category="medical_devices", unit="pcs", qty=5000, country="FR",
                        place="Le Havre", locode="FRLEH", ecommerce=False, origin="TR"),
        samples.notice(),
    ]
    async with hub.client(members["fr"], **FAST) as fr:
        for body in fr_bodies:
            kind = ("feedback" if "outcome" in body else "notice" if "text" in body
                    else "seizure")
            await fr.publish(CH, kind, body)
        good = fr.sign(CH, "seizure", samples.seizure(9, qty=800, place="Rotterdam",
                                                       locode="NLRTM", country="NL"))
    forged = good.alert.replace(b"Rotterdam", b"Rotterdim")
    await hub.store.append_batch([AppendRequest(
        channel=CH, alert_id=good.envelope.id, alert=forged, sig=good.sig, kid=good.envelope.kid,
        received=int(time.time() * 1000))])
    window = await open_window(hub, desk(members["de"]), qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 7)
    window.kind_filter.setCurrentIndex(window.kind_filter.findData("seizure"))
    assert window.proxy.rowCount() == 4
    window.eco_filter.setCurrentIndex(window.eco_filter.findData(False))
    assert window.proxy.rowCount() == 1
    window.eco_filter.setCurrentIndex(0)
    window.search.setText("roissy")
    assert window.proxy.rowCount() == 1
    out = tmp_path / "visible.csv"
    assert window.export_csv(out) == 1
    assert "Roissy CDG express" in out.read_text(encoding="utf-8")
    window.search.clear()
    window.kind_filter.setCurrentIndex(0)
    dashboard = window.show_dashboard()
    assert dashboard.values["cases"].text() == "3"
    assert dashboard.values["admins"].text() == "2"
    dashboard.close()
    window.select_offset(3)
    window.resize(1360, 760)
    window.statusBar().clearMessage()
    qtbot.wait(50)
    target = (DOCS if os.environ.get("CORDON_UPDATE_SCREENSHOT") == "1" else tmp_path)
    target.mkdir(exist_ok=True)
    assert window.grab().save(str(target / "screenshot.png"))


async def test_withheld_alert_from_a_tampered_store_shows_a_broken_chain(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any, raw: Any
) -> None:
    """What withholding looks like at the desk: the store drops de/zoll's second alert and
    renumbers the rest (every signature still verifies); its third shows the chain gap."""
    async with hub.client(members["de"], **FAST) as de:
        for n in (1, 2, 3):
            await de.publish(CH, "seizure", samples.seizure(n))
    log, meta = f"cordon:{{ch:{CH}}}:log", f"cordon:{{ch:{CH}}}:meta"
    entries = await raw.xrange(log)
    await raw.delete(log)
    for n, (_, fields) in enumerate([entries[0], entries[2]], 1):
        await raw.xadd(log, fields, id=f"0-{n}")
    await raw.hset(meta, mapping={"head": 2, "durable": 2})
    window = await open_window(hub, desk(members["fr"]), qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 2)
    window.proxy.set_newest_first(False)
    badges = texts(window, VERIFIED_COLUMN)
    assert "Verified" in badges[0] and "CHAIN BROKEN" in badges[1]
    gap = window.integrity.banners["gap"]
    assert gap.isVisible() and "BROKEN SENDER CHAIN (Chain gap)" in gap.text()
    assert "were withheld from you" in gap.text()
    assert not window.integrity.banners["signature"].isVisible()
    assert window.needs_action_count() == 1
