"""Composing safely: replies carry the warning's handling code, withdraw and amend act on a
selected record of ours (no typed ids), closing a changed form asks (real hub)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox, QPlainTextEdit

from client.desktop.compose import ComposeDialog
from tests.desktop import samples
from tests.desktop.conftest import CH, FAST, DeskFactory, open_window
from tests.desktop.test_window import texts
from tests.harness import HubHarness
from tests.pki import Leaf


async def test_reply_withdraw_and_amend_act_on_the_selected_record(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any
) -> None:
    async with hub.client(members["fr"], **FAST) as fr, hub.client(members["de"], **FAST) as de:
        ours = await fr.publish(CH, "seizure", samples.seizure(1, qty=1200))
        restricted = {**samples.warning(), "handling": "H3",
                      "handling_text": "not to be shared with police"}
        theirs = await de.publish(CH, "warning", restricted)
    window = await open_window(hub, desk(members["fr"]), qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 2)

    window.select_offset(theirs.offset)
    assert not window.amend_action.isEnabled() and not window.withdraw_action.isEnabled()
    reply = window.reply_with_feedback()
    assert reply is not None
    assert reply.inputs["handling"].value() == "H3"  # the warning's restrictions carry over
    assert reply.inputs["handling_text"].value() == "not to be shared with police"
    ref = reply.inputs["ref"].widget
    assert isinstance(ref, QLineEdit) and ref.isReadOnly() and ref.text() == theirs.alert_id
    reply.close()

    window.select_offset(ours.offset)
    assert window.amend_action.isEnabled() and window.withdraw_action.isEnabled()
    amend = window.amend_selected()
    assert amend is not None and amend.publish_kind == "amendment"
    assert amend.inputs["place"].value() == "Hamburg port"  # prefilled with the record
    assert amend.inputs["route.origin"].value() == "IN"
    quantity = amend._goods_inputs[0][3].widget
    assert isinstance(quantity, QLineEdit) and quantity.text() == "1200"
    quantity.setText("1500")
    assert not amend.send.isEnabled() and "Reason" in amend.problems.text()
    assert amend.reason is not None
    amend.reason.setPlainText("recount at the warehouse")
    assert amend.send.isEnabled(), amend.problems.text()
    qtbot.mouseClick(amend.send, Qt.MouseButton.LeftButton)
    await hub.wait_for(lambda: "offset 3" in amend.status.text())
    window.proxy.set_newest_first(False)
    await hub.wait_for(lambda: "amended" in texts(window, "kind")[0])
    assert texts(window, "quantity")[0] == "1,500 tablets"
    assert texts(window, "kind")[2] == "Amendment"

    window.select_offset(ours.offset)
    withdraw = window.withdraw_selected()
    assert withdraw is not None
    ref = withdraw.inputs["ref"].widget
    assert isinstance(ref, QLineEdit) and ref.isReadOnly() and ref.text() == ours.alert_id
    reason = withdraw.inputs["reason"].widget
    assert isinstance(reason, QPlainTextEdit)
    reason.setPlainText("duplicate report")
    assert withdraw.send.isEnabled(), withdraw.problems.text()
    qtbot.mouseClick(withdraw.send, Qt.MouseButton.LeftButton)
    await hub.wait_for(lambda: "offset 4" in withdraw.status.text())
    await hub.wait_for(lambda: "withdrawn" in texts(window, "kind")[0])
    window.select_offset(ours.offset)
    assert not window.withdraw_action.isEnabled() and not window.amend_action.isEnabled()
    assert window.show_dashboard().values["cases"].text() == "0"


def test_closing_a_changed_form_asks_first(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    answer = [QMessageBox.StandardButton.Cancel]

    def question(_parent: Any, title: str, *_args: Any) -> QMessageBox.StandardButton:
        asked.append(title)
        return answer[0]

    monkeypatch.setattr(QMessageBox, "question", question)
    untouched = ComposeDialog("notice", [(CH, "STOP III")], lambda *a: 1)
    qtbot.addWidget(untouched)
    untouched.show()
    assert untouched.close() and asked == []  # nothing typed: closes without asking

    dialog = ComposeDialog("seizure", [(CH, "STOP III")], lambda *a: 1)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.inputs["place"].set_value("Roissy CDG")
    assert not dialog.close()  # "Cancel": the form stays open with its content
    assert dialog.isVisible() and asked == ["Discard this alert?"]
    dialog.reject()  # Escape asks too
    assert dialog.isVisible() and len(asked) == 2
    answer[0] = QMessageBox.StandardButton.Discard
    assert dialog.close() and not dialog.isVisible() and len(asked) == 3
