"""The operation dashboard: the figures of ``cordon report`` for the current channel."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QVBoxLayout, QWidget

from client.desktop.figures import Figures
from client.desktop.models import code_text, number_text

__all__ = ["DashboardDialog", "TimelineChart"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("Dashboard", text)


class TimelineChart(QWidget):
    """Cases per day as bars (drawn by hand: no chart module needed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: list[tuple[str, int]] = []
        self.setMinimumHeight(160)

    def set_points(self, points: list[tuple[str, int]]) -> None:
        self.points = points
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.rect().adjusted(8, 8, -8, -24)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        if not self.points:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, _tr("No cases yet"))
            return
        top = max(n for _, n in self.points) or 1
        width = rect.width() / len(self.points)
        # Label every day only when there is room ("12-05" is ~40 px); else every k-th day.
        step = max(1, round(44 / width + 0.49)) if width < 44 else 1
        rect.setTop(rect.top() + 16)  # room for the tallest bar's count
        for i, (day, n) in enumerate(self.points):
            height = rect.height() * n / top
            bar = QRectF(rect.left() + i * width + 2, rect.bottom() - height, width - 4, height)
            painter.fillRect(bar, QColor("#1a73e8"))
            painter.setPen(QColor("#3c4043"))
            if i % step == 0:
                painter.drawText(QRectF(bar.left() - 8, rect.bottom() + 2, width + 16, 18),
                                 Qt.AlignmentFlag.AlignHCenter, day[5:])
            if n and width >= 18:
                painter.drawText(QRectF(bar.left(), bar.top() - 16, width - 4, 14),
                                 Qt.AlignmentFlag.AlignHCenter, str(n))
        painter.end()


class DashboardDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_tr("Operation dashboard"))
        self.resize(640, 520)
        layout = QVBoxLayout(self)
        self.incomplete = QLabel()
        self.incomplete.setObjectName("incomplete")
        self.incomplete.setWordWrap(True)
        self.incomplete.setStyleSheet(
            "background:#e37400;color:white;font-weight:bold;font-size:15px;padding:8px;"
            "border-radius:3px;")
        self.incomplete.hide()
        layout.addWidget(self.incomplete)
        self.title = QLabel()
        self.title.setStyleSheet("font-size:16px;font-weight:bold;")
        layout.addWidget(self.title)
        grid = QGridLayout()
        self.values: dict[str, QLabel] = {}
        names = (("cases", _tr("Cases")), ("admins", _tr("Reporting administrations")),
                 ("ecommerce", _tr("E-commerce share")), ("items", _tr("Items seized")))
        for column, (key, text) in enumerate(names):
            value = QLabel("0")
            value.setObjectName(f"figure:{key}")
            value.setStyleSheet("font-size:22px;font-weight:bold;color:#1a73e8;")
            grid.addWidget(value, 0, column)
            grid.addWidget(QLabel(text), 1, column)
            self.values[key] = value
        layout.addLayout(grid)
        self.categories = QLabel()
        self.categories.setObjectName("categories")
        self.categories.setWordWrap(True)
        layout.addWidget(self.categories)
        layout.addWidget(QLabel("<b>" + _tr("Cases per day") + "</b>"))
        self.chart = TimelineChart()
        layout.addWidget(self.chart, 1)
        self.coverage = QLabel()
        self.coverage.setWordWrap(True)
        self.coverage.setStyleSheet("color:#5f6368;")
        layout.addWidget(self.coverage)
        self.warning = QLabel()
        self.warning.setStyleSheet("color:#a50e0e;font-weight:bold;")
        layout.addWidget(self.warning)

    def show_coverage(self, cached: int, total: int, complete: bool) -> None:
        """Say prominently when the figures are not yet the whole operation's."""
        self.incomplete.setVisible(not complete)
        if complete:
            self.incomplete.setText("")
            return
        share = cached / total if total else 0.0
        self.incomplete.setText(_tr(
            "INCOMPLETE — these figures cover only {0} of the channel's {1} alerts "
            "({2:.0%}); the rest of the history is being fetched. Do not quote them yet."
        ).format(number_text(cached), number_text(total), share))

    def show_figures(self, title: str, figures: Figures) -> None:
        self.title.setText(title)
        self.values["cases"].setText(number_text(figures.cases))
        self.values["admins"].setText(str(len(figures.administrations)))
        self.values["ecommerce"].setText(f"{figures.ecommerce_share:.0%}")
        self.values["items"].setText(number_text(round(figures.items)))
        lines = [f"{code_text('category', c)}: {number_text(round(n))}" for c, n in
                 figures.items_by_category.items()]
        routes = [f"{r} ({n})" for r, n in figures.routes]
        detection = [f"{code_text('detection', d)} ({n})" for d, n in figures.detection.items()]
        self.categories.setText(
            "<b>" + _tr("Items by category") + ":</b> " + ("; ".join(lines) or "-")
            + "<br><b>" + _tr("Top routes") + ":</b> " + ("; ".join(routes) or "-")
            + "<br><b>" + _tr("Detection") + ":</b> " + ("; ".join(detection) or "-"))
        self.chart.set_points([(d.isoformat(), n) for d, n in figures.timeline])
        self.warning.setText(
            _tr("{0} alert(s) failed the signature or schema check and are not counted.").format(
                figures.unverified) if figures.unverified else "")
