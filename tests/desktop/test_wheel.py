"""The mouse wheel never changes an input the officer has not focused (it scrolls the form)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QScrollArea, QWidget

from client.desktop.compose import ComposeDialog
from client.desktop.settings import DeskSettings
from client.desktop.setup import SetupDialog


def wheel(widget: QWidget, notches: int = -3) -> None:
    """A real wheel event over the middle of ``widget`` (negative: scroll down)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * notches), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_wheel_over_an_unfocused_combo_scrolls_the_form_and_keeps_the_value(qtbot: Any) -> None:
    dialog = ComposeDialog("seizure", [("stop-iii", "STOP III")], lambda *a: 1)
    qtbot.addWidget(dialog)
    dialog.resize(620, 400)  # the form is longer than the window: it scrolls
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    departure = dialog.inputs["route.departure"].widget
    assert isinstance(departure, QComboBox)
    departure.setCurrentIndex(departure.findData("FR"))
    dialog.inputs["place"].widget.setFocus()
    assert dialog.inputs["place"].widget.hasFocus() and not departure.hasFocus()
    scroll = dialog.findChild(QScrollArea)
    assert scroll is not None
    before = scroll.verticalScrollBar().value()
    wheel(departure)
    assert departure.currentData() == "FR"  # not American Samoa
    assert not departure.hasFocus()  # the wheel does not focus it either
    assert scroll.verticalScrollBar().value() > before  # the form scrolled instead
    goods_unit = dialog._goods_inputs[0][4].widget  # a goods line's combo, added later
    assert isinstance(goods_unit, QComboBox)
    goods_unit.setCurrentIndex(goods_unit.findData("kg"))
    wheel(goods_unit)
    assert goods_unit.currentData() == "kg"
    dialog.add_goods_line()
    added = dialog._goods_inputs[1][0].widget
    assert isinstance(added, QComboBox)
    wheel(added)
    assert added.currentIndex() == 0
    # Focused (clicked or tabbed to), the wheel works as usual.
    departure.setFocus()
    assert departure.hasFocus()
    wheel(departure, notches=-1)
    assert departure.currentData() != "FR"


def test_wheel_guard_covers_the_setup_dialog(qtbot: Any) -> None:
    dialog = SetupDialog(DeskSettings())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.hub.setFocus()
    assert dialog.hub.hasFocus()
    language = dialog.language
    wheel(language)
    assert language.currentIndex() == 0


def test_every_input_is_named_and_reachable_by_keyboard_and_the_form_fits(qtbot: Any) -> None:
    dialog = ComposeDialog("seizure", [("stop-iii", "STOP III")], lambda *a: 1)
    qtbot.addWidget(dialog)
    dialog.show()
    inputs = [*dialog.inputs.values(), *dialog._goods_inputs[0]]
    for item in inputs:
        widgets = ([item.source, item.accuracy] if item.field.type == "evaluation"
                   else [item.widget])
        for widget in widgets:
            assert widget.accessibleName(), item.field.key
            assert widget.focusPolicy() & Qt.FocusPolicy.TabFocus, item.field.key
    assert dialog.inputs["route.departure"].widget.accessibleName() == "Country of departure"
    scroll = dialog.findChild(QScrollArea)
    assert scroll is not None
    form = scroll.widget()
    assert form is not None
    screen = dialog.screen().availableGeometry().width()
    assert dialog.width() >= min(form.sizeHint().width(), screen - 40)
