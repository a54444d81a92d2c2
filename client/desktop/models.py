"""Qt models of the desk, fed plain rows (:mod:`client.desktop.rows`); no network, no store.

- :class:`ChannelListModel`: the officer's channels with role and unread count.
- :class:`FeedModel`: every loaded alert, one row each, by ``(channel, offset)``, with
  each record's current state (:class:`RecordState`: withdrawn, amended, answered)
  derived as ``cordon report`` applies corrections: only a verified amendment or
  withdrawal from the original sender's administration counts.
- :class:`FeedFilter`: the visible part of the feed: one channel, filters, free
  text, newest or oldest first.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QCoreApplication,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from client.desktop import fields
from client.desktop.rows import AlertRow, ChannelRow

__all__ = [
    "COLUMNS",
    "ChannelListModel",
    "FeedFilter",
    "FeedModel",
    "FeedQuery",
    "RecordState",
    "RowRole",
    "code_text",
    "headline",
    "kind_text",
    "number_text",
    "time_text",
    "verification_text",
]

RowRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2
UnreadRole = Qt.ItemDataRole.UserRole + 3

_Index = QModelIndex | QPersistentModelIndex

#: (key, English header) of the feed's columns, in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("time", "Time"),
    ("verified", "Signature"),
    ("sender", "Sender"),
    ("kind", "Kind"),
    ("commodity", "Commodity"),
    ("quantity", "Quantity"),
    ("place", "Place"),
    ("ecommerce", "E-com."),
)
VERIFIED_COLUMN = 1

FAILED_BG = QColor("#fde2e1")
FAILED_FG = QColor("#a50e0e")
OK_FG = QColor("#1e7b34")


def _tr(context: str, text: str) -> str:
    return QCoreApplication.translate(context, text)


def code_text(codes: str, code: object, *, capital: bool = True) -> str:
    """The translated label of a code (the code itself when unknown)."""
    label = fields.code_label(codes, code)
    translated = _tr("codes", label)
    return translated[:1].upper() + translated[1:] if capital else translated


def number_text(value: float, decimals: int = 2) -> str:
    """A number in the interface language's format (``1,200`` / ``1 200``; Qt's locale).
    Anything not finite (only a forged, unverified body can carry it) is shown as is."""
    if not math.isfinite(value):
        return str(value)
    locale = QLocale()
    if locale.language() == QLocale.Language.C:  # no language chosen: English
        locale = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    if value == int(value):
        return locale.toString(int(value))
    return locale.toString(float(value), "f", decimals)


def quantity_text(row: AlertRow) -> str:
    """Total quantities per unit, with translated unit names."""
    return ", ".join(
        f"{number_text(n)} {code_text('unit', u, capital=False)}".strip()
        for u, n in row.summary.amounts)


def kind_text(kind: str) -> str:
    return _tr("kinds", fields.KIND_LABELS.get(kind, kind))


def time_text(ts_ms: int) -> str:
    """Local time of a signing timestamp, minutes precision."""
    if ts_ms <= 0:
        return ""
    return dt.datetime.fromtimestamp(ts_ms / 1000).strftime("%Y-%m-%d %H:%M")


def verification_text(row: AlertRow) -> str:
    if row.verified and row.chain_broken:
        return _tr("FeedModel", "⚠ CHAIN BROKEN")
    if row.verified:
        return _tr("FeedModel", "✔ Verified")
    return _tr("FeedModel", "✖ FAILED")


def headline(row: AlertRow) -> str:
    """One line for a record: feedback by its outcome, others by their text or commodity."""
    if row.kind == "feedback":
        outcome = code_text("outcome", row.body.get("outcome", ""))
        return f"{outcome} — {row.summary.text}" if row.summary.text else outcome
    return row.summary.text.split("\n")[0][:80] or _commodity(row)


_FINAL = ("amendment", "withdrawal")


@dataclass(frozen=True, slots=True)
class RecordState:
    """What later alerts did to a record: withdrawn, amended (oldest first), answered."""

    withdrawn_by: AlertRow | None = None
    amendments: tuple[AlertRow, ...] = ()
    feedback: tuple[AlertRow, ...] = ()  # verified feedback on it, oldest first
    answered_by: tuple[AlertRow, ...] = ()  # verified alerts of other members referring to it

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_by is not None

    @property
    def amended(self) -> bool:
        return bool(self.amendments)


def _states(rows: list[AlertRow]) -> dict[str, RecordState]:
    """The state of every record of one channel (rows in any order)."""
    originals: dict[str, AlertRow] = {}
    withdrawn: dict[str, AlertRow] = {}
    amendments: dict[str, list[AlertRow]] = {}
    feedback: dict[str, list[AlertRow]] = {}
    answered: dict[str, list[AlertRow]] = {}
    for row in sorted(rows, key=lambda r: r.offset):
        if not row.verified:
            continue
        ref = row.ref
        target = originals.get(ref) if ref else None
        if row.kind in _FINAL:
            valid = (target is not None and target.member == row.member
                     and ref not in withdrawn)
            if row.kind == "withdrawal" and valid:
                withdrawn[ref] = row
            elif valid and target is not None and row.body.get("of") == target.kind:
                amendments.setdefault(ref, []).append(row)
            continue
        originals.setdefault(row.alert_id, row)
        links = row.body.get("links")
        refs = {ref} if ref else set()
        refs |= {x for x in links if isinstance(x, str)} if isinstance(links, list) else set()
        for other in refs:
            target = originals.get(other)
            if target is None:
                continue
            if row.kind == "feedback" and other == ref:
                feedback.setdefault(other, []).append(row)
            if target.member != row.member:
                answered.setdefault(other, []).append(row)
    ids = set(withdrawn) | set(amendments) | set(feedback) | set(answered)
    return {i: RecordState(withdrawn.get(i), tuple(amendments.get(i, ())),
                           tuple(feedback.get(i, ())), tuple(answered.get(i, ())))
            for i in ids}


def current(row: AlertRow, state: RecordState | None) -> AlertRow:
    """The record as it stands: the latest amendment's record replaces the original's."""
    if state is None or not state.amendments:
        return row
    record = state.amendments[-1].body.get("record")
    if not isinstance(record, dict):
        return row
    return replace(row, body=dict(record), summary=fields.summarize(record))


def _commodity(row: AlertRow) -> str:
    commodity = row.summary.commodity
    if not commodity:
        return ""
    code, _, more = commodity.partition(" ")
    return code_text("category", code) + (f" {more}" if more else "")


def _categories(row: AlertRow) -> set[str]:
    goods = row.body.get("goods")
    found = {str(g.get("category")) for g in goods if isinstance(g, dict)} if isinstance(
        goods, list) else set()
    if isinstance(row.body.get("category"), str):
        found.add(row.body["category"])
    return found


class FeedModel(QAbstractTableModel):
    """All loaded alerts; rows are appended and replaced, never reordered."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[AlertRow] = []
        self._index: dict[tuple[str, int], int] = {}
        self._state: dict[str, dict[str, RecordState]] = {}  # channel -> alert id -> state
        self.own_member = ""

    # --- feeding -----------------------------------------------------------------
    def add_rows(self, rows: Iterable[AlertRow]) -> int:
        """Add rows (a row already present is replaced). Returns how many are new."""
        new: list[AlertRow] = []
        seen: set[tuple[str, int]] = set()
        rows = list(rows)
        for row in rows:
            key = (row.channel, row.offset)
            at = self._index.get(key)
            if at is None:
                if key not in seen:  # a set, not a scan: thousands of rows load at start
                    seen.add(key)
                    new.append(row)
            else:
                self._rows[at] = row
                self.dataChanged.emit(self.index(at, 0), self.index(at, len(COLUMNS) - 1))
        if new:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(new) - 1)
            for offset, row in enumerate(new):
                self._index[(row.channel, row.offset)] = start + offset
                self._rows.append(row)
            self.endInsertRows()
        touched = {r.channel for r in rows}
        for channel in touched:
            self._state[channel] = _states(self.rows(channel))
        if touched and self._rows:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._rows) - 1, len(COLUMNS) - 1))
        return len(new)

    def clear_channel(self, channel: str) -> None:
        self.beginResetModel()
        self._rows = [r for r in self._rows if r.channel != channel]
        self._index = {(r.channel, r.offset): i for i, r in enumerate(self._rows)}
        self._state.pop(channel, None)
        self.endResetModel()

    def state(self, row: AlertRow) -> RecordState | None:
        """What later alerts did to ``row`` (``None``: nothing)."""
        return self._state.get(row.channel, {}).get(row.alert_id)

    def current(self, row: AlertRow) -> AlertRow:
        """``row`` as it stands now (amended record applied)."""
        return current(row, self.state(row))

    def needs_action(self, row: AlertRow) -> str:
        """Why the officer should act on ``row`` ("" when nothing to do): a warning of
        another administration still awaiting our feedback, an alert that failed
        verification, or one of ours that another administration answered."""
        if not row.verified:
            return _tr("FeedModel", "failed the signature check")
        if row.chain_broken:
            return _tr("FeedModel", "sender chain broken: alerts withheld or reordered")
        state = self.state(row)
        if state is not None and state.withdrawn:
            return ""
        own = self.own_member
        answered = state is not None and any(f.member == own for f in state.feedback)
        if row.kind == "warning" and row.member != own and not answered:
            return _tr("FeedModel", "awaiting our feedback")
        if row.member == own and state is not None and state.answered_by:
            who = ", ".join(dict.fromkeys(a.member.upper() for a in state.answered_by))
            return _tr("FeedModel", "answered by {0}").format(who)
        return ""

    def rows(self, channel: str | None = None) -> list[AlertRow]:
        return [r for r in self._rows if channel is None or r.channel == channel]

    def row_at(self, row: int) -> AlertRow:
        return self._rows[row]

    def find(self, channel: str, alert_id: str) -> AlertRow | None:
        return next((r for r in self._rows if r.channel == channel and r.alert_id == alert_id),
                    None)

    def linked(self, row: AlertRow) -> list[AlertRow]:
        """The alerts linked to ``row``: what it refers to, and what refers to it, by offset."""
        ids = {row.alert_id}
        if row.ref:
            ids.add(row.ref)
        linked = []
        for other in self._rows:
            if other.channel != row.channel or other is row:
                continue
            links = other.body.get("links")
            refers = other.ref in ids or (isinstance(links, list) and row.alert_id in links)
            if other.alert_id in ids or refers:
                linked.append(other)
        return sorted(linked, key=lambda r: r.offset)

    # --- Qt model API ---------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _tr("FeedModel", COLUMNS[section][1])
        return None

    def text(self, row: AlertRow, column: int) -> str:
        key = COLUMNS[column][0]
        state = self.state(row)
        row = current(row, state)
        if key == "time":
            return time_text(row.ts)
        if key == "sender":
            return row.member.upper()
        if key == "kind":
            marks = []
            if state is not None and state.withdrawn:
                marks.append(_tr("FeedModel", "withdrawn"))
            if state is not None and state.amended:
                marks.append(_tr("FeedModel", "amended"))
            if state is not None and state.feedback:
                marks.append(_tr("FeedModel", "{0} feedback").format(len(state.feedback)))
            return " · ".join([kind_text(row.kind), *marks])
        if key == "commodity":
            if row.kind == "feedback":
                return headline(row)
            return _commodity(row) or row.summary.text.split("\n")[0][:80]
        if key == "quantity":
            return quantity_text(row)
        if key == "place":
            return row.summary.place
        if key == "ecommerce":
            eco = row.summary.ecommerce
            return "" if eco is None else _tr("FeedModel", "yes" if eco else "no")
        if key == "verified":
            return verification_text(row)
        return ""

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, column)
        if role == RowRole:
            return row
        if role == SortRole:
            return row.offset if column == 0 else self.text(row, column)
        state = self.state(row)
        withdrawn = state is not None and state.withdrawn
        if role == Qt.ItemDataRole.ToolTipRole:
            if not row.verified:
                return _tr("FeedModel", "Signature check failed: {0}").format(row.error or "")
            tip = f"{row.sender} · {row.alert_id} · #{row.offset}"
            if row.chain_broken:
                tip += "\n" + _tr("FeedModel", "Sender chain broken ({0}): {1}").format(
                    row.chain, row.chain_detail)
            action = self.needs_action(row)
            if action:
                tip += "\n" + _tr("FeedModel", "Needs action: {0}").format(action)
            if state is not None and state.withdrawn_by is not None:
                tip += "\n" + _tr("FeedModel", "Withdrawn: {0}").format(
                    state.withdrawn_by.body.get("reason", ""))
            return tip
        if role == Qt.ItemDataRole.FontRole and withdrawn:
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and withdrawn:
            return QBrush(QColor("#80868b"))
        if role == Qt.ItemDataRole.BackgroundRole and (not row.verified or row.chain_broken):
            return QBrush(FAILED_BG)
        if role == Qt.ItemDataRole.ForegroundRole and column == VERIFIED_COLUMN:
            return QBrush(OK_FG if row.verified and not row.chain_broken else FAILED_FG)
        if (role == Qt.ItemDataRole.ForegroundRole and COLUMNS[column][0] == "commodity"
                and not row.summary.commodity):
            return QBrush(QColor("#5f6368"))
        if role == Qt.ItemDataRole.FontRole and (not row.verified or row.kind == "warning"):
            font = QFont()
            font.setBold(True)
            return font
        return None


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """What the officer filters on; empty values do not filter."""

    channel: str = ""
    kinds: frozenset[str] = frozenset()
    sender: str = ""
    commodity: str = ""
    country: str = ""
    ecommerce: bool | None = None
    text: str = ""
    needs_action: bool = False  # only what needs the officer's action (FeedModel.needs_action)

    def matches(self, row: AlertRow) -> bool:
        if self.channel and row.channel != self.channel:
            return False
        if self.kinds and row.kind not in self.kinds:
            return False
        if self.sender and self.sender.lower() not in row.sender.lower():
            return False
        if self.commodity and self.commodity not in _categories(row):
            return False
        if self.country and self.country not in row.summary.countries:
            return False
        if self.ecommerce is not None and row.summary.ecommerce is not self.ecommerce:
            return False
        if self.text:
            needle = self.text.casefold()
            hay = " ".join((row.alert_id, row.sender, row.kind, row.summary.text,
                            row.summary.place, _commodity(row), str(dict(row.body))))
            if needle not in hay.casefold():
                return False
        return True


class FeedFilter(QSortFilterProxyModel):
    """One channel of the feed, filtered; sorted by offset (newest first by default)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.query = FeedQuery()
        self.setSortRole(SortRole)
        self.setDynamicSortFilter(True)
        self.sort(0, Qt.SortOrder.DescendingOrder)

    @property
    def newest_first(self) -> bool:
        return self.sortOrder() == Qt.SortOrder.DescendingOrder

    def set_newest_first(self, newest: bool) -> None:
        order = Qt.SortOrder.DescendingOrder if newest else Qt.SortOrder.AscendingOrder
        self.sort(0, order)

    def set_filter(self, **changes: Any) -> None:
        """Change any field of :class:`FeedQuery` (channel, kinds, sender, ...)."""
        self.beginFilterChange()
        self.query = replace(self.query, **changes)
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, FeedModel):
            return True
        row = model.row_at(source_row)
        if self.query.needs_action and not model.needs_action(row):
            return False
        return self.query.matches(model.current(row))

    def visible_rows(self) -> list[AlertRow]:
        """The rows shown, in display order."""
        return [self.data(self.index(i, 0), RowRole) for i in range(self.rowCount())]


class ChannelListModel(QAbstractListModel):
    """The officer's channels: title, role, unread count."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ChannelRow] = []

    def set_channels(self, rows: Iterable[ChannelRow]) -> None:
        new = list(rows)
        if [r.channel for r in new] == [r.channel for r in self._rows]:
            self._rows = new
            if new:
                self.dataChanged.emit(self.index(0), self.index(len(new) - 1))
            return
        self.beginResetModel()
        self._rows = new
        self.endResetModel()

    def channel_rows(self) -> list[ChannelRow]:
        return list(self._rows)

    def channel_at(self, row: int) -> ChannelRow:
        return self._rows[row]

    def row_of(self, channel: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.channel == channel), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            role_text = _tr("roles", row.role) if row.role else ""
            title = row.title or row.channel
            unread = _tr("ChannelListModel", "{0} unread").format(row.unread) if row.unread else ""
            second = " · ".join(part for part in (role_text, unread) if part)
            return f"{title}\n{second}" if second else title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.channel} ({row.state})"
        if role == UnreadRole:
            return row.unread
        if role == RowRole:
            return row
        if role == Qt.ItemDataRole.FontRole and row.unread:
            font = QFont()
            font.setBold(True)
            return font
        return None
