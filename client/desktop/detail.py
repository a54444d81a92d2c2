"""The detail pane: every field of the selected alert with human labels, goods lines,
routing, photos (thumbnails; click to open full size) and the linked thread."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from client.desktop import fields
from client.desktop.models import (
    RecordState,
    code_text,
    current,
    headline,
    kind_text,
    number_text,
    time_text,
)
from client.desktop.rows import AlertRow

__all__ = ["DetailPane", "render_html"]

_THUMB = 96


def _tr(text: str) -> str:
    return QCoreApplication.translate("DetailPane", text)


def _e(value: object) -> str:
    return html.escape(str(value))


def _value_html(text: str, codes: str | None, raw: Any) -> str:
    if isinstance(raw, bool):
        return _e(QCoreApplication.translate("FeedModel", "yes") if raw
                  else QCoreApplication.translate("FeedModel", "no"))
    if codes is None:
        return _e(text)
    values = raw if isinstance(raw, list) else [raw]
    return _e(", ".join(code_text(codes, v) + (f" ({v})" if codes == "country" else "")
                        for v in values))


def _goods_line(line: dict[str, Any]) -> str:
    head = [code_text("category", line.get("category", ""))]
    if "quantity" in line:
        unit = code_text("unit", line.get("unit", ""), capital=False)
        quantity = line["quantity"]
        head.append(f"{number_text(quantity)} {unit}" if isinstance(quantity, int | float)
                    and not isinstance(quantity, bool) else f"{quantity} {unit}")
    text = f"<b>{_e(' — '.join(head))}</b>"
    rest = []
    for f in fields.form_for("seizure").goods:
        if f.key in ("category", "quantity", "unit") or f.key not in line:
            continue
        value = line[f.key]
        if f.codes and f.key != "currency":
            shown = code_text(f.codes, value)
        elif f.type == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            shown = number_text(value)
        else:
            shown = str(value)
        rest.append(f"{QCoreApplication.translate('fields', f.label)}: {shown}")
    return text + ("<br>" + _e("; ".join(rest)) if rest else "")


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flat(inner, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def _changes(before: Any, after: Any) -> list[str]:
    """The dotted fields that differ between two bodies."""
    old, new = _flat(before), _flat(after)
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _state_html(original: AlertRow, state: RecordState | None) -> str:
    if state is None:
        return ""
    parts = []
    if state.withdrawn_by is not None:
        w = state.withdrawn_by
        parts.append(
            '<div style="background:#5f6368;color:white;padding:8px;font-weight:bold;'
            'font-size:14px">'
            + _e(_tr("WITHDRAWN by {0} on {1} — not counted in any figure").format(
                w.sender, time_text(w.ts))) + "<br>"
            + _e(_tr("Reason: {0}").format(w.body.get("reason", ""))) + "</div>")
    if state.amendments:
        parts.append(
            '<div style="background:#fef7e0;color:#7a4a00;padding:6px;font-weight:bold">'
            + _e(_tr("AMENDED {0} time(s): the current record is shown").format(
                len(state.amendments))) + "</div>")
        parts.append("<h4>" + _e(_tr("History of changes")) + "</h4><ol>")
        before: Any = dict(original.body)
        for amendment in state.amendments:
            record = amendment.body.get("record", {})
            changed = ", ".join(_changes(before, record)) or "-"
            parts.append(
                f"<li>#{amendment.offset} {_e(time_text(amendment.ts))} "
                f"{_e(amendment.sender)}: {_e(amendment.body.get('reason', ''))}<br>"
                + _e(_tr("Changed: {0}").format(changed)) + "</li>")
            before = record
        parts.append("</ol>")
    if state.feedback:
        outcomes = ", ".join(f"{o.member.upper()}: {code_text('outcome', o.body.get('outcome'))}"
                             for o in state.feedback)
        parts.append("<p><b>" + _e(_tr("Feedback")) + ":</b> " + _e(outcomes) + "</p>")
    return "".join(parts)


def render_html(row: AlertRow, thread: list[AlertRow], state: RecordState | None = None) -> str:
    """The pane's content for one alert (pure function of plain data): its current
    record, what happened to it (withdrawn, amended, feedback) and its thread."""
    original = row
    row = current(row, state)
    parts = []
    if row.verified:
        parts.append(
            '<div style="background:#e6f4ea;color:#1e7b34;padding:6px;font-weight:bold">'
            + _e(_tr("✔ Signature verified: sent by {0}").format(row.sender)) + "</div>")
    else:
        parts.append(
            '<div style="background:#c5221f;color:white;padding:8px;font-weight:bold;'
            'font-size:14px">'
            + _e(_tr("✖ SIGNATURE CHECK FAILED — do not trust this alert")) + "<br>"
            + _e(_tr("Claims to be from {0}. Reason: {1}").format(row.sender, row.error or ""))
            + "</div>")
    parts.append(_state_html(original, state))
    title = f"{_e(kind_text(row.kind))} · {_e(row.member.upper())}"
    if state is not None and state.withdrawn:
        title = f"<s>{title}</s> ({_e(_tr('withdrawn'))})"
    parts.append(f"<h3>{title}</h3>")
    meta = [
        (_tr("Alert id"), row.alert_id),
        (_tr("Sender"), row.sender),
        (_tr("Signed at"), time_text(row.ts)),
        (_tr("Channel / offset"), f"{row.channel} #{row.offset}"),
    ]
    rows_html = [f"<tr><td><b>{_e(k)}</b></td><td>{_e(v)}</td></tr>" for k, v in meta]
    for label, text, codes, raw in fields.describe(row.kind, row.body):
        shown = _value_html(text, codes, raw)
        if label == "Mode of transport" or (codes is None and label == "transport_mode"):
            shown = _e(code_text("transport_mode", raw))
        if label == "Evaluation" and isinstance(raw, str) and len(raw) == 2:
            shown = _e(f"{raw} — {code_text('reliability', raw[0])}, "
                       f"{code_text('accuracy', raw[1])}")
        rows_html.append(
            f"<tr><td><b>{_e(QCoreApplication.translate('fields', label))}</b></td>"
            f"<td>{shown}</td></tr>")
    parts.append('<table cellspacing="2" cellpadding="2">' + "".join(rows_html) + "</table>")
    goods = row.body.get("goods")
    if isinstance(goods, list) and goods:
        parts.append("<h4>" + _e(_tr("Goods")) + "</h4><ol>")
        for line in goods:
            if isinstance(line, dict):
                parts.append("<li>" + _goods_line(line) + "</li>")
        parts.append("</ol>")
    if thread:
        parts.append("<h4>" + _e(_tr("Thread")) + "</h4><ul>")
        for other in thread:
            badge = "✔" if other.verified else "✖"
            text = headline(other)
            parts.append(
                f"<li>{badge} #{other.offset} {_e(time_text(other.ts))} "
                f"<b>{_e(kind_text(other.kind))}</b> {_e(other.member.upper())}: {_e(text)}</li>")
        parts.append("</ul>")
    return "".join(parts)


class DetailPane(QWidget):
    """Shows one alert. Asks for photos through ``wantAttachment(channel, sha256)``."""

    wantAttachment = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row: AlertRow | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.browser = QTextBrowser()
        self.browser.setObjectName("detail")
        self.browser.setOpenLinks(False)
        self.browser.setPlaceholderText(_tr("Select an alert to see every field."))
        layout.addWidget(self.browser, 1)
        self.photos = QWidget()
        self.photo_row = QHBoxLayout(self.photos)
        self.photo_row.setContentsMargins(4, 4, 4, 4)
        self.photo_row.addStretch()
        scroll = QScrollArea()
        scroll.setWidget(self.photos)
        scroll.setWidgetResizable(True)
        scroll.setFixedHeight(_THUMB + 24)
        self.photo_area = scroll
        scroll.hide()
        layout.addWidget(scroll)
        self._buttons: dict[str, QToolButton] = {}
        self._images: dict[str, QPixmap] = {}

    def show_row(self, row: AlertRow | None, thread: list[AlertRow],
                 state: RecordState | None = None) -> None:
        self.row = row
        for button in self._buttons.values():
            button.deleteLater()
        self._buttons.clear()
        if row is None:
            self.browser.clear()
            self.photo_area.hide()
            return
        self.browser.setHtml(render_html(row, thread, state))
        refs = current(row, state).body.get("attachments")
        refs = [r for r in refs if isinstance(r, dict)] if isinstance(refs, list) else []
        self.photo_area.setVisible(bool(refs))
        for ref in refs:
            sha = str(ref.get("sha256", ""))
            button = QToolButton()
            button.setObjectName(f"photo:{sha}")
            button.setIconSize(QSize(_THUMB, _THUMB))
            button.setText(_tr("loading…"))
            button.setToolTip(str(ref.get("caption", "")) or sha[:12])
            button.clicked.connect(self._opener(sha))
            self.photo_row.insertWidget(self.photo_row.count() - 1, button)
            self._buttons[sha] = button
            self.wantAttachment.emit(row.channel, sha)

    def _opener(self, sha: str) -> Callable[[], object]:
        return lambda: self.open_full(sha)

    def attachment_loaded(self, channel: str, sha256: str, media: str, data: bytes) -> None:
        button = self._buttons.get(sha256)
        if button is None:
            return
        pixmap = QPixmap()
        if not data or not pixmap.loadFromData(data):
            button.setText(_tr("unavailable"))
            return
        self._images[sha256] = pixmap
        button.setText("")
        button.setIcon(pixmap.scaled(_THUMB, _THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation))

    def open_full(self, sha256: str) -> QDialog | None:
        pixmap = self._images.get(sha256)
        if pixmap is None:
            return None
        dialog = QDialog(self)
        dialog.setWindowTitle(_tr("Photo {0}").format(sha256[:12]))
        label = QLabel()
        label.setPixmap(pixmap)
        scroll = QScrollArea()
        scroll.setWidget(label)
        box = QVBoxLayout(dialog)
        box.addWidget(scroll)
        dialog.resize(min(pixmap.width() + 40, 1200), min(pixmap.height() + 40, 900))
        dialog.show()
        return dialog
