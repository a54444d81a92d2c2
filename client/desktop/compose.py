"""Compose an alert: one form per kind, built from :mod:`client.desktop.fields`.

Drop-downs for code lists, validation as you type with the shared schema
(bad fields outlined in red, every problem listed, Send disabled until the
body is valid), photos to attach, and the hub's acknowledgement shown in the
form once the alert is durable. The form never talks to the hub: it asks a
``publish(channel, kind, body, photos) -> token`` callable (the bridge's) and
is told the outcome through :meth:`ComposeDialog.acknowledged` / :meth:`failed`.

An amendment is the original kind's form, prefilled with the record as it
stands, plus the reason; it is sent as an ``amendment`` carrying the whole
corrected record. References chosen for the officer (the warning answered,
the record withdrawn or amended) are shown read-only. Closing a form whose
content changed and was not sent asks first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from client.desktop import fields
from client.desktop.models import code_text, kind_text
from client.desktop.wheel import guard_wheel

__all__ = ["ComposeDialog", "Publisher"]

Publisher = Callable[[str, str, dict[str, Any], list[bytes]], int]

_BAD = "border: 2px solid #c5221f; border-radius: 3px;"


def _tr(text: str) -> str:
    return QCoreApplication.translate("ComposeDialog", text)


def _label(text: str) -> str:
    return QCoreApplication.translate("fields", text)


def _combo(codes: str, required: bool) -> QComboBox:
    box = QComboBox()
    # Required lists start empty too: the officer chooses, nothing is picked for them.
    box.addItem(_tr("— choose —") if required else "—", None)
    for code, _english in fields.code_list(codes):
        shown = code_text(codes, code)
        text = f"{code} - {shown}" if codes in ("country", "handling") else shown
        if codes == "currency":
            text = str(code)
        box.addItem(text, code)
    return box


def _number(text: str) -> int | float | str:
    clean = text.strip().replace(" ", "").replace(",", ".")
    try:
        return int(clean)
    except ValueError:
        pass
    try:
        return float(clean)
    except ValueError:
        return text  # the schema says why


class _Input:
    """One field's widget, its typed value, and how to show a problem on it."""

    def __init__(self, field: fields.Field, on_change: Callable[[], object]) -> None:
        self.field = field
        self.widget: QWidget
        t = field.type
        if t == "code" and field.codes:
            self.widget = _combo(field.codes, field.required)
            self.widget.currentIndexChanged.connect(on_change)
        elif t == "bool":
            self.widget = QCheckBox()
            self.widget.toggled.connect(on_change)
        elif t in ("multiline", "lines"):
            self.widget = QPlainTextEdit()
            self.widget.setFixedHeight(64)
            self.widget.textChanged.connect(on_change)
        elif t == "evaluation":
            self.widget = QWidget()
            row = QHBoxLayout(self.widget)
            row.setContentsMargins(0, 0, 0, 0)
            self.source = _combo("reliability", False)
            self.accuracy = _combo("accuracy", False)
            for box in (self.source, self.accuracy):
                box.currentIndexChanged.connect(on_change)
                row.addWidget(box)
            row.addStretch(1)  # the two combos stay together, at the left
        else:
            edit = QLineEdit()
            if t == "date":
                edit.setPlaceholderText("YYYY-MM-DD")
                if field.required:
                    edit.setText(dt.date.today().isoformat())
            elif t == "countries":
                edit.setPlaceholderText("CN, HK")
            elif t == "ids":
                edit.setPlaceholderText(_tr("alert ids, comma separated"))
            self.widget = edit
            edit.textChanged.connect(on_change)
        self.widget.setObjectName(f"field:{field.key}")

    def value(self) -> Any:
        w, t = self.widget, self.field.type
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QPlainTextEdit):
            text = w.toPlainText()
            if t == "lines":
                return [line.strip() for line in text.splitlines() if line.strip()]
            return text.strip()
        if t == "evaluation":
            source, accuracy = self.source.currentData(), self.accuracy.currentData()
            return f"{source or ''}{accuracy or ''}"
        assert isinstance(w, QLineEdit)
        text = w.text().strip()
        if t == "number":
            return _number(text) if text else ""
        if t in ("countries", "ids"):
            parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
            return [p.upper() for p in parts] if t == "countries" else parts
        return text

    def set_value(self, value: Any) -> None:
        w = self.widget
        if isinstance(w, QComboBox):
            at = w.findData(value)
            if at >= 0:
                w.setCurrentIndex(at)
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText("\n".join(value) if isinstance(value, list) else str(value))
        elif isinstance(w, QLineEdit):
            w.setText(", ".join(value) if isinstance(value, list) else str(value))
        elif self.field.type == "evaluation" and isinstance(value, str) and len(value) == 2:
            self.source.setCurrentIndex(max(0, self.source.findData(value[0])))
            self.accuracy.setCurrentIndex(max(0, self.accuracy.findData(value[1])))

    def name(self, text: str) -> None:
        """The accessible name screen readers announce (the field's label)."""
        self.widget.setAccessibleName(text)
        if self.field.type == "evaluation":
            self.source.setAccessibleName(text + " — " + _tr("source reliability"))
            self.accuracy.setAccessibleName(text + " — " + _tr("information accuracy"))

    def lock(self) -> None:
        """Read-only (a reference chosen for the officer, not typed)."""
        if isinstance(self.widget, QLineEdit):
            self.widget.setReadOnly(True)
            self.widget.setStyleSheet("background: #f1f3f4;")
        else:
            self.widget.setEnabled(False)

    def mark(self, problem: str | None) -> None:
        self.widget.setStyleSheet(_BAD if problem else "")
        self.widget.setToolTip(problem or "")


class ComposeDialog(QDialog):
    """A non-modal form for one kind of alert. ``sent`` carries the publish token."""

    sent = Signal(int)

    def __init__(
        self,
        kind: str,
        channels: Iterable[tuple[str, str]],
        publish: Publisher,
        *,
        prefill: Mapping[str, Any] | None = None,
        locked: Iterable[str] = (),
        amends: tuple[str, Mapping[str, Any]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``amends=(alert id, current record)`` makes an amendment of that record."""
        super().__init__(parent)
        self.kind = kind
        self.form = fields.form_for(kind)
        self._publish = publish
        self.token: int | None = None
        self.delivered = False  # sent and stored, or discarded: closing asks nothing
        self.photos: list[tuple[str, bytes]] = []
        self.amends = amends
        self._kept: dict[str, Any] = {}
        if amends is not None:
            record = dict(amends[1])
            prefill = {f.key: fields.get_path(record, f.key) for f in self.form.fields}
            prefill = {k: v for k, v in prefill.items() if v is not None}
            known = {f.key.split(".")[0] for f in self.form.fields} | {"goods", "schema"}
            self._kept = {k: v for k, v in record.items() if k not in known}
            self.setWindowTitle(_tr("Amend {0} {1}").format(kind_text(kind).lower(), amends[0]))
        else:
            self.setWindowTitle(_tr("New {0}").format(kind_text(kind).lower()))
        self.resize(620, 720)

        outer = QVBoxLayout(self)
        self.channel = QComboBox()
        self.channel.setObjectName("channel")
        for ch, title in channels:
            self.channel.addItem(title or ch, ch)
        top = QFormLayout()
        top.addRow(_tr("Channel"), self.channel)
        outer.addLayout(top)

        body = QWidget()
        layout = QFormLayout(body)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.reason: QPlainTextEdit | None = None
        if amends is not None:
            self.reason = QPlainTextEdit()
            self.reason.setObjectName("field:reason")
            self.reason.setFixedHeight(48)
            self.reason.textChanged.connect(self.revalidate)
            layout.addRow(_tr("Reason for the amendment") + " *", self.reason)
        self.inputs: dict[str, _Input] = {}
        for field in self.form.fields:
            item = _Input(field, self.revalidate)
            self.inputs[field.key] = item
            text = _label(field.label) + (" *" if field.required else "")
            layout.addRow(text, item.widget)
            item.name(_label(field.label))
        self.goods: QTableWidget | None = None
        if self.form.goods:
            layout.addRow(QLabel("<b>" + _tr("Goods") + "</b>"))
            self.goods = QTableWidget(0, len(self.form.goods))
            self.goods.setObjectName("goods")
            self.goods.setHorizontalHeaderLabels(
                [_label(f.label) + (" *" if f.required else "") for f in self.form.goods])
            self.goods.horizontalHeader().setSectionResizeMode(
                QHeaderView.ResizeMode.ResizeToContents)
            self.goods.setMinimumHeight(120)
            self._goods_inputs: list[list[_Input]] = []
            layout.addRow(self.goods)
            buttons = QHBoxLayout()
            add, remove = QPushButton(_tr("Add goods line")), QPushButton(_tr("Remove line"))
            add.clicked.connect(lambda: self.add_goods_line())
            remove.clicked.connect(self.remove_goods_line)
            buttons.addWidget(add)
            buttons.addWidget(remove)
            buttons.addStretch()
            layout.addRow(buttons)
            lines = (amends[1].get("goods") if amends is not None else None) or [None]
            for line in lines:
                self.add_goods_line(line if isinstance(line, Mapping) else None)
        if kind in fields.PHOTO_KINDS:
            layout.addRow(QLabel("<b>" + _tr("Photos") + "</b>"))
            self.photo_list = QListWidget()
            self.photo_list.setMaximumHeight(70)
            attach = QPushButton(_tr("Attach photo…"))
            attach.clicked.connect(self._choose_photo)
            layout.addRow(self.photo_list)
            layout.addRow(attach)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        self.problems = QLabel()
        self.problems.setObjectName("problems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #a50e0e;")
        outer.addWidget(self.problems)
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        outer.addWidget(self.status)
        row = QHBoxLayout()
        row.addStretch()
        self.cancel = QPushButton(_tr("Close"))
        self.cancel.clicked.connect(self.close)
        self.send = QPushButton(_tr("Sign and send"))
        self.send.setObjectName("send")
        self.send.setDefault(True)
        self.send.clicked.connect(self.submit)
        row.addWidget(self.cancel)
        row.addWidget(self.send)
        outer.addLayout(row)
        for key, value in (prefill or {}).items():
            if key in self.inputs:
                self.inputs[key].set_value(value)
        for key in locked:
            if key in self.inputs:
                self.inputs[key].lock()
        guard_wheel(self)
        self.revalidate()
        self._initial = self._snapshot()
        self.channel.setAccessibleName(_tr("Channel"))
        self.send.setAccessibleName(_tr("Sign and send"))
        wanted = body.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 40
        screen = self.screen().availableGeometry() if self.screen() else None
        width = max(620, wanted if screen is None else min(wanted, screen.width() - 40))
        self.resize(width, 720 if screen is None else min(720, screen.height() - 40))

    # --- goods lines -----------------------------------------------------------
    def add_goods_line(self, values: Mapping[str, Any] | None = None) -> None:
        assert self.goods is not None
        at = self.goods.rowCount()
        self.goods.insertRow(at)
        line = []
        for column, field in enumerate(self.form.goods):
            item = _Input(field, self.revalidate)
            item.widget.setObjectName(f"goods:{at}:{field.key}")
            item.name(_tr("goods line {0}").format(at + 1) + ": " + _label(field.label))
            self.goods.setCellWidget(at, column, item.widget)
            if values and field.key in values:
                item.set_value(values[field.key])
            line.append(item)
        self._goods_inputs.append(line)
        guard_wheel(self.goods)
        self.revalidate()

    def remove_goods_line(self) -> None:
        if self.goods is None or not self._goods_inputs:
            return
        at = self.goods.currentRow() if self.goods.currentRow() >= 0 else self.goods.rowCount() - 1
        self.goods.removeRow(at)
        del self._goods_inputs[at]
        self.revalidate()

    # --- photos -----------------------------------------------------------------------
    def _choose_photo(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, _tr("Attach photo"), "",
                                              _tr("Photos (*.jpg *.jpeg *.png)"))
        if name:
            self.attach_photo(Path(name))

    def attach_photo(self, path: Path) -> None:
        data = Path(path).read_bytes()
        self.photos.append((Path(path).name, data))
        self.photo_list.addItem(f"{Path(path).name} ({len(data) // 1024} KiB)")

    # --- values and validation ---------------------------------------------------------
    @property
    def publish_kind(self) -> str:
        return "amendment" if self.amends is not None else self.kind

    def record(self) -> dict[str, Any]:
        """The record the form describes (for an amendment: the corrected record)."""
        values = {key: item.value() for key, item in self.inputs.items()}
        lines = getattr(self, "_goods_inputs", [])
        goods = [{i.field.key: i.value() for i in line} for line in lines]
        return {**fields.build_body(self.kind, values, goods), **self._kept}

    def body(self) -> dict[str, Any]:
        """What is signed: the record, or the amendment carrying it."""
        record = self.record()
        if self.amends is None:
            return record
        amendment: dict[str, Any] = {"schema": fields.SCHEMA_VERSION, "ref": self.amends[0],
                                     "of": self.kind, "record": record}
        for key in ("handling", "handling_text"):
            if key in record:
                amendment[key] = record[key]
        reason = self.reason.toPlainText().strip() if self.reason is not None else ""
        if reason:
            amendment["reason"] = reason
        return amendment

    def _snapshot(self) -> tuple[dict[str, Any], int]:
        return self.body(), len(self.photos)

    def changed(self) -> bool:
        """The officer changed something that was not sent."""
        return self.token is None and not self.delivered and self._snapshot() != self._initial

    def confirm_discard(self) -> bool:
        answer = QMessageBox.question(
            self, _tr("Discard this alert?"),
            _tr("This form has changes that were not sent. Close it and lose them?"),
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.changed() and not self.confirm_discard():
            event.ignore()
            return
        self.delivered = True  # nothing left to ask about
        super().closeEvent(event)

    def reject(self) -> None:  # Escape: the same question as closing
        if self.changed() and not self.confirm_discard():
            return
        self.delivered = True
        super().reject()

    def revalidate(self) -> list[fields.Problem]:
        """Check the body as it stands; mark bad fields; enable Send only when valid."""
        if not hasattr(self, "send"):
            return []  # still building the form
        problems = fields.validate(self.publish_kind, self.body())
        if self.amends is not None:  # the record's problems are the form's fields
            problems = [fields.Problem(p.key.removeprefix("record."), p.message)
                        if p.key.startswith("record.") else p for p in problems]
        by_key = {p.key: p.message for p in problems}
        if self.reason is not None:
            self.reason.setStyleSheet(_BAD if "reason" in by_key else "")
        for key, item in self.inputs.items():
            item.mark(by_key.get(key) or by_key.get(key.split(".")[0]))
        for index, line in enumerate(getattr(self, "_goods_inputs", [])):
            for item in line:
                item.mark(by_key.get(f"goods.{index}.{item.field.key}"))
        lines = []
        for p in problems[:8]:
            lines.append(f"• {self._where(p.key)}: {_tr(p.message)}")
        if len(problems) > 8:
            lines.append(_tr("… and {0} more").format(len(problems) - 8))
        self.problems.setText("\n".join(lines))
        self.send.setEnabled(not problems and self.token is None and self.channel.count() > 0)
        return problems

    def _where(self, key: str) -> str:
        if key == "reason" and self.reason is not None:
            return _tr("Reason for the amendment")
        if key == "goods":
            return _tr("Goods")
        for field in self.form.fields:
            if field.key == key:
                return _label(field.label)
        parts = key.split(".")
        if parts[0] == "goods" and len(parts) == 3:
            label = next((f.label for f in self.form.goods if f.key == parts[2]), parts[2])
            return _tr("goods line {0}").format(int(parts[1]) + 1) + ": " + _label(label)
        return key or _tr("alert")

    # --- sending --------------------------------------------------------------------------
    def submit(self) -> None:
        if self.revalidate() or self.token is not None:
            return
        channel = self.channel.currentData()
        self.token = self._publish(channel, self.publish_kind, self.body(),
                                   [d for _, d in self.photos])
        self.send.setEnabled(False)
        self.status.setStyleSheet("color: #5f6368;")
        self.status.setText(_tr("Signed with your key; waiting for the hub…"))
        self.sent.emit(self.token)

    def acknowledged(self, token: int, offset: int, dup: bool) -> None:
        if token != self.token:
            return
        self.status.setStyleSheet("color: #1e7b34; font-weight: bold;")
        text = _tr("✔ Stored by the hub at offset {0}").format(offset)
        if dup:
            text += " " + _tr("(already stored earlier)")
        self.status.setText(text)
        self.delivered = True
        self.cancel.setText(_tr("Done"))

    def failed(self, token: int, message: str) -> None:
        if token != self.token:
            return
        self.token = None
        self.status.setStyleSheet("color: #a50e0e; font-weight: bold;")
        self.status.setText(_tr("✖ Not sent: {0}").format(message))
        self.revalidate()
