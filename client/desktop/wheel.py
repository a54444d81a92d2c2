"""No input changes value under the mouse wheel unless it has the keyboard focus.

Scrolling a long compose form with the wheel passes over combo boxes and spin
boxes; Qt lets each one under the pointer take the wheel and change its value
("Country of departure" became American Samoa, then the form was signed).
:func:`guard_wheel` gives every such input of a widget tree a click-or-tab
focus policy (the wheel no longer focuses it) and an event filter that hands
an unfocused input's wheel events to the nearest enclosing scroll area that
can scroll, so the form scrolls instead.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QSlider,
    QWidget,
)

__all__ = ["GUARDED", "guard_wheel"]

#: Input widget classes whose value the wheel changes.
GUARDED: tuple[type[QWidget], ...] = (QComboBox, QAbstractSpinBox, QSlider)  # not scroll bars


class _WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget)
                and not watched.hasFocus()):
            area = _scroller(watched)
            if area is not None:
                QApplication.sendEvent(area.viewport(), event.clone())
            event.accept()
            return True
        return False


def _scroller(widget: QWidget) -> QAbstractScrollArea | None:
    """The nearest enclosing scroll area that can scroll (else the outermost one)."""
    found = None
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            found = parent
            if parent.verticalScrollBar().maximum() > 0:
                return parent
        parent = parent.parentWidget()
    return found


_GUARD: _WheelGuard | None = None


def guard_wheel(root: QWidget) -> None:
    """Guard ``root`` and every guarded input below it (call again after adding inputs)."""
    global _GUARD
    if _GUARD is None:
        _GUARD = _WheelGuard()
    widgets = [root, *root.findChildren(QWidget)]
    for widget in widgets:
        if isinstance(widget, GUARDED) and not widget.property("wheelGuarded"):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            widget.installEventFilter(_GUARD)
            widget.setProperty("wheelGuarded", True)
