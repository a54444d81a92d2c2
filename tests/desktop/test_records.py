"""Each record's current state at the desk: withdrawn, amended, answered (real hub)."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt

from hub.storage import AppendRequest
from tests.desktop import samples
from tests.desktop.conftest import CH, FAST, DeskFactory, open_window
from tests.desktop.test_window import texts
from tests.harness import HubHarness
from tests.pki import Leaf


def row_of(window: Any, offset: int) -> int:
    for i in range(window.proxy.rowCount()):
        if window.proxy.visible_rows()[i].offset == offset:
            return i
    raise AssertionError(offset)


async def test_withdrawn_amended_and_answered_records_show_their_current_state(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any
) -> None:
    async with hub.client(members["fr"], **FAST) as fr, hub.client(members["de"], **FAST) as de:
        warn = await fr.publish(CH, "warning", samples.warning())  # 1
        kept = await fr.publish(CH, "seizure", samples.seizure(1, qty=1200))  # 2
        dup = await fr.publish(CH, "seizure", samples.seizure(2, qty=5000))  # 3
        fixed = samples.seizure(1, qty=1500, place="Hamburg Waltershof")
        await fr.publish(CH, "amendment", {"schema": 1, "handling": "H1", "ref": kept.alert_id,
                                           "of": "seizure", "reason": "recount: 1,500",
                                           "record": fixed})  # 4
        await fr.publish(CH, "withdrawal", {"schema": 1, "handling": "H1", "ref": dup.alert_id,
                                            "reason": "duplicate of the Hamburg report"})  # 5
        answer = samples.feedback(warn.alert_id, "seized")
        del answer["remarks"]  # an outcome and nothing else
        await de.publish(CH, "feedback", answer)  # 6
        # Planted past the hub (a compromised store): DE's validly signed withdrawal of FR's
        # report. Only the sender's administration may withdraw: the desk ignores it.
        forged = de.sign(CH, "withdrawal", {"schema": 1, "handling": "H0",
                                            "ref": kept.alert_id, "reason": "hostile"})
        await hub.store.append_batch([AppendRequest(
            channel=CH, alert_id=forged.envelope.id, alert=forged.alert, sig=forged.sig,
            kid=de.kid, received=int(time.time() * 1000))])  # 7
    window = await open_window(hub, desk(members["it"]), qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 7)
    window.proxy.set_newest_first(False)
    kinds = texts(window, "kind")
    assert kinds[0] == "Warning · 1 feedback"
    assert kinds[1] == "Seizure · amended"
    assert kinds[2] == "Seizure · withdrawn"
    quantities = texts(window, "quantity")
    assert quantities[1] == "1,500 tablets"  # the current figures, not the original 1,200
    assert texts(window, "place")[1] == "Hamburg Waltershof"
    assert texts(window, "commodity")[5] == "Seized"  # the feedback row says its outcome
    struck = window.proxy.index(2, 0).data(Qt.ItemDataRole.FontRole)
    assert struck is not None and struck.strikeOut()
    assert window.proxy.index(1, 0).data(Qt.ItemDataRole.FontRole) is None or not (
        window.proxy.index(1, 0).data(Qt.ItemDataRole.FontRole).strikeOut())

    window.select_offset(dup.offset)
    detail = window.detail.browser.toPlainText()
    assert "WITHDRAWN by fr/ops" in detail and "duplicate of the Hamburg report" in detail
    window.select_offset(kept.offset)
    detail = window.detail.browser.toPlainText()
    assert "AMENDED 1 time(s)" in detail and "History of changes" in detail
    assert "recount: 1,500" in detail and "goods.0.quantity" not in detail  # lists are whole
    assert "Changed: goods, place" in detail and "1,500 tablets" in detail
    assert "WITHDRAWN" not in detail  # the planted withdrawal from DE is not applied
    window.select_offset(warn.offset)
    detail = window.detail.browser.toPlainText()
    assert "Feedback DE: Seized" in detail  # in the thread, not "Feedback DE:" and nothing
    assert "Feedback: DE: Seized" in detail

    dashboard = window.show_dashboard()
    assert dashboard.values["cases"].text() == "1"  # the withdrawn duplicate is not counted
    assert dashboard.values["items"].text() == "1,500"  # the amended figure
