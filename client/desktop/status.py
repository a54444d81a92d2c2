"""Always-visible connection status, in-app toasts, and desktop notifications."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSystemTrayIcon, QWidget

__all__ = ["ConnectionStatus", "Notifier", "dot_icon"]

_COLOURS = {
    "online": "#1e8e3e",
    "connecting": "#f9ab00",
    "reconnecting": "#f9ab00",
    "offline": "#80868b",
    "refused": "#c5221f",
}


def _tr(text: str) -> str:
    return QCoreApplication.translate("ConnectionStatus", text)


def dot_icon(colour: str, size: int = 12) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(colour))
    painter.setPen(QColor(colour).darker(130))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return pixmap


class ConnectionStatus(QWidget):
    """A coloured dot and a word: Online, Connecting…, Reconnecting…, Offline, Refused."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        self.dot = QLabel()
        self.label = QLabel()
        self.label.setObjectName("connection")
        layout.addWidget(self.dot)
        layout.addWidget(self.label)
        self.state = ""
        self.set_state("offline", "")

    def set_state(self, state: str, detail: str) -> None:
        self.state = state
        words = {
            "online": _tr("Online"),
            "connecting": _tr("Connecting…"),
            "reconnecting": _tr("Reconnecting…"),
            "offline": _tr("Offline (cached history)"),
            "refused": _tr("Refused by the hub"),
        }
        self.dot.setPixmap(dot_icon(_COLOURS.get(state, "#80868b")))
        self.label.setText(words.get(state, state))
        self.setToolTip(detail)


class Toast(QLabel):
    """A message over the top-right corner of a window, gone after a few seconds."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setWordWrap(True)
        self.setStyleSheet(
            "background:#202124;color:white;padding:10px;border-radius:6px;font-weight:bold;")
        self.setFixedWidth(340)
        self.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)

    def show_message(self, title: str, text: str, msecs: int = 8000) -> None:
        self.setText(f"{title}\n{text}")
        self.adjustSize()
        parent = self.parentWidget()
        if parent is not None:
            self.move(parent.width() - self.width() - 16, 56)
        self.show()
        self.raise_()
        self._timer.start(msecs)


class Notifier:
    """Desktop notification through the system tray, or an in-app toast without one."""

    def __init__(self, window: QWidget, icon: QIcon) -> None:
        self.toast = Toast(window)
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(icon, window)
            self.tray.show()
        self.sent: list[tuple[str, str]] = []

    def notify(self, title: str, text: str) -> None:
        self.sent.append((title, text))
        if self.tray is not None and self.tray.supportsMessages():
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 10_000)
        else:
            self.toast.show_message(title, text)
