"""The main window: channels, filter bar, live feed, detail pane, status; no network here.

It is wired to a :class:`~client.desktop.bridge.HubBridge` by signals and
calls only the bridge's methods (``publish``, ``load_older``, ``mark_read``,
``load_attachment``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QCoreApplication, QItemSelection, QModelIndex, Qt
from PySide6.QtGui import QAction, QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from client.desktop import fields
from client.desktop.bridge import HubBridge
from client.desktop.compose import ComposeDialog
from client.desktop.dashboard import DashboardDialog
from client.desktop.detail import DetailPane
from client.desktop.export import write_csv
from client.desktop.figures import figures_for
from client.desktop.integrity import CheckpointRow, HelpDialog, IntegrityPanel
from client.desktop.models import (
    COLUMNS,
    ChannelListModel,
    FeedFilter,
    FeedModel,
    RowRole,
    code_text,
    kind_text,
)
from client.desktop.rows import AlertRow, ChannelRow
from client.desktop.status import ConnectionStatus, Notifier, dot_icon
from client.desktop.wheel import guard_wheel
from client.evidence import permission_body
from hub.protocol.evidence import RESTRICTED_HANDLING

__all__ = ["MainWindow"]

_PUBLISHING_ROLES = ("contributor", "coordinator")
_KEYS = [key for key, _ in COLUMNS]
_COMMODITY, _PLACE = _KEYS.index("commodity"), _KEYS.index("place")
_QUANTITY = _KEYS.index("quantity")


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


class MainWindow(QMainWindow):
    def __init__(self, bridge: HubBridge, *, newest_first: bool = True) -> None:
        super().__init__()
        self.bridge = bridge
        self.setWindowTitle(_tr("Cordon desk — {0}").format(bridge.principal))
        self.resize(1360, 800)
        self.feed = FeedModel(self)
        self.feed.own_member = bridge.principal.split("/")[0]
        self.proxy = FeedFilter(self)
        self.proxy.setSourceModel(self.feed)
        self.proxy.set_newest_first(newest_first)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved,
                       self.proxy.modelReset, self.proxy.layoutChanged):
            signal.connect(lambda *_: self._refresh_counts())
        self.channels = ChannelListModel(self)
        self.composers: list[ComposeDialog] = []
        self.dashboard: DashboardDialog | None = None
        self.help: HelpDialog | None = None
        self.channel = ""
        self._fitted = 0
        self._build()
        self.notifier = Notifier(self, QIcon(dot_icon("#c5221f", 32)))
        bridge.statusChanged.connect(self.status.set_state)
        bridge.channelsChanged.connect(self._on_channels)
        bridge.alertsAdded.connect(self._on_alerts)
        bridge.olderLoaded.connect(self._on_older)
        bridge.published.connect(self._on_published)
        bridge.publishFailed.connect(self._on_publish_failed)
        bridge.notice.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        bridge.attachmentLoaded.connect(self.detail.attachment_loaded)
        bridge.coverageChanged.connect(self._on_coverage)
        bridge.checkpointChanged.connect(self._on_checkpoint)
        bridge.evidenceExported.connect(self._on_evidence)
        self.detail.wantAttachment.connect(bridge.load_attachment)
        self.status.set_state(bridge.state, bridge.detail)
        guard_wheel(self)
        for widget, name in ((self.table, _tr("Alerts")), (self.channel_view, _tr("Channels")),
                             (self.kind_filter, _tr("Kind")), (self.sender_filter, _tr("Sender")),
                             (self.commodity_filter, _tr("Commodity")),
                             (self.country_filter, _tr("Country")),
                             (self.eco_filter, _tr("E-commerce")), (self.search, _tr("Search"))):
            widget.setAccessibleName(name)

    # --- layout ----------------------------------------------------------------------
    def _build(self) -> None:
        bar = self.addToolBar(_tr("Actions"))
        bar.setObjectName("actions")
        bar.setMovable(False)
        compose = QToolButton()
        compose.setText(_tr("New alert"))
        compose.setObjectName("compose")
        compose.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(compose)
        for kind in fields.COMPOSE_KINDS:
            if kind == "withdrawal":
                continue  # an action on a selected record of ours (no typed ids)
            action = menu.addAction(kind_text(kind))
            action.triggered.connect(lambda _=False, k=kind: self.open_compose(k))
        compose.setMenu(menu)
        bar.addWidget(compose)
        self.reply_action = QAction(_tr("Reply with feedback"), self)
        self.reply_action.setEnabled(False)
        self.reply_action.triggered.connect(self.reply_with_feedback)
        bar.addAction(self.reply_action)
        self.amend_action = QAction(_tr("Amend…"), self)
        self.amend_action.setEnabled(False)
        self.amend_action.setToolTip(_tr("Correct the selected record of your administration"))
        self.amend_action.triggered.connect(self.amend_selected)
        bar.addAction(self.amend_action)
        self.withdraw_action = QAction(_tr("Withdraw…"), self)
        self.withdraw_action.setEnabled(False)
        self.withdraw_action.setToolTip(_tr("Withdraw the selected record of your administration"))
        self.withdraw_action.triggered.connect(self.withdraw_selected)
        bar.addAction(self.withdraw_action)
        self.permit_action = QAction(_tr("Permit as evidence…"), self)
        self.permit_action.setEnabled(False)
        self.permit_action.setToolTip(_tr(
            "Permit the selected record of your administration (handling H1, H2 or H3) to be "
            "passed on and used as evidence: publishes your administration's permission"))
        self.permit_action.triggered.connect(self.permit_selected)
        bar.addAction(self.permit_action)
        self.evidence_action = QAction(_tr("Export evidence…"), self)
        self.evidence_action.setEnabled(False)
        self.evidence_action.setToolTip(_tr(
            "Write the selected alert, with the proof that the channel's log contained it, "
            "to one file anyone can check offline (cordon evidence verify)"))
        self.evidence_action.triggered.connect(self._export_evidence_clicked)
        bar.addAction(self.evidence_action)
        bar.addSeparator()
        self.action_view = QAction(_tr("Needs action"), self)
        self.action_view.setObjectName("needs-action")
        self.action_view.setCheckable(True)
        self.action_view.setToolTip(_tr(
            "Only warnings awaiting our feedback, alerts that failed the signature check "
            "and our alerts that others answered"))
        self.action_view.toggled.connect(self.show_needs_action)
        bar.addAction(self.action_view)
        self.order_action = QAction(_tr("Newest first"), self)
        self.order_action.setCheckable(True)
        self.order_action.setChecked(self.proxy.newest_first)
        self.order_action.toggled.connect(self.proxy.set_newest_first)
        bar.addAction(self.order_action)
        older = QAction(_tr("Load older"), self)
        older.triggered.connect(self.load_older)
        bar.addAction(older)
        export = QAction(_tr("Export CSV…"), self)
        export.triggered.connect(self._export_clicked)
        bar.addAction(export)
        dashboard = QAction(_tr("Dashboard"), self)
        dashboard.triggered.connect(self.show_dashboard)
        bar.addAction(dashboard)
        meaning = QAction(_tr("What the warnings mean"), self)
        meaning.setObjectName("help-states")
        meaning.triggered.connect(self.show_states_help)
        bar.addAction(meaning)

        self.channel_view = QListView()
        self.channel_view.setObjectName("channels")
        self.channel_view.setModel(self.channels)
        self.channel_view.setSpacing(2)
        self.channel_view.selectionModel().currentChanged.connect(self._channel_changed)

        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self._filter_bar())
        self.integrity = IntegrityPanel()
        column.addWidget(self.integrity)
        self.table = QTableView()
        self.table.setObjectName("feed")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.verticalScrollBar().valueChanged.connect(self._scrolled)
        column.addWidget(self.table, 1)
        self.more_button = QPushButton(_tr("Load older alerts"))
        self.more_button.setObjectName("older")
        self.more_button.clicked.connect(self.load_older)
        column.addWidget(self.more_button)

        self.detail = DetailPane()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.channel_view)
        split.addWidget(centre)
        split.addWidget(self.detail)
        split.setSizes([210, 800, 350])
        self.splitter = split
        self.setCentralWidget(split)

        self.status = ConnectionStatus()
        self.statusBar().addPermanentWidget(self.status)
        self.counts = QLabel()
        self.statusBar().addPermanentWidget(self.counts)

    def _filter_bar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.kind_filter = QComboBox()
        self.kind_filter.setObjectName("filter:kind")
        self.kind_filter.addItem(_tr("All kinds"), "")
        for kind in fields.KIND_LABELS:
            self.kind_filter.addItem(kind_text(kind), kind)
        self.kind_filter.currentIndexChanged.connect(
            lambda _: self.proxy.set_filter(kinds=frozenset(
                [self.kind_filter.currentData()] if self.kind_filter.currentData() else [])))
        self.sender_filter = QLineEdit()
        self.sender_filter.setObjectName("filter:sender")
        self.sender_filter.setPlaceholderText(_tr("Sender"))
        self.sender_filter.setMaximumWidth(90)
        self.sender_filter.textChanged.connect(lambda t: self.proxy.set_filter(sender=t.strip()))
        self.commodity_filter = self._code_filter("category", _tr("All commodities"), "commodity")
        self.country_filter = self._code_filter("country", _tr("All countries"), "country")
        self.eco_filter = QComboBox()
        self.eco_filter.setObjectName("filter:ecommerce")
        for text, value in ((_tr("E-commerce: any"), None), (_tr("E-commerce only"), True),
                            (_tr("Not e-commerce"), False)):
            self.eco_filter.addItem(text, value)
        self.eco_filter.currentIndexChanged.connect(
            lambda _: self.proxy.set_filter(ecommerce=self.eco_filter.currentData()))
        self.search = QLineEdit()
        self.search.setObjectName("filter:text")
        self.search.setPlaceholderText(_tr("Search…"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda t: self.proxy.set_filter(text=t.strip()))
        for widget in (self.kind_filter, self.sender_filter, self.commodity_filter,
                       self.country_filter, self.eco_filter):
            row.addWidget(widget)
        row.addWidget(self.search, 1)
        return row

    def _code_filter(self, codes: str, all_text: str, name: str) -> QComboBox:
        box = QComboBox()
        box.setObjectName(f"filter:{name}")
        box.addItem(all_text, "")
        for code, _ in fields.code_list(codes):
            box.addItem(code_text(codes, code), code)
        box.setMaximumWidth(160)
        box.currentIndexChanged.connect(
            lambda _: self.proxy.set_filter(**{name: box.currentData() or ""}))
        return box

    # --- bridge events -----------------------------------------------------------------
    def _on_channels(self, rows: list[ChannelRow]) -> None:
        self.channels.set_channels(rows)
        if not self.channel and rows:
            self.select_channel(rows[0].channel)

    def select_channel(self, channel: str) -> None:
        at = self.channels.row_of(channel)
        if at >= 0:
            self.channel_view.setCurrentIndex(self.channels.index(at))

    def _channel_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        row: ChannelRow = self.channels.data(current, RowRole)
        self.channel = row.channel
        self.proxy.set_filter(channel=row.channel)
        self.integrity.show_checkpoint(self.bridge.checkpoints.get(row.channel))
        self.fit_columns()
        self.detail.show_row(None, [])
        self._mark_read()
        self._refresh_counts()

    def _reshow(self) -> None:
        """Show the selected record again: a later alert may have changed its state."""
        if self.selected_row() is not None:
            self._selection_changed(QItemSelection(), QItemSelection())

    def fit_columns(self) -> None:
        """Columns sized to their content (headers included; Commodity and Quantity between
        140 and 260 px); Place hidden when no row of the channel has one."""
        rows = self.feed.rows(self.channel) if self.channel else []
        self.table.setColumnHidden(_PLACE, bool(rows) and not any(r.summary.place for r in rows))
        for column in range(len(COLUMNS)):
            self.table.resizeColumnToContents(column)
            if column in (_COMMODITY, _QUANTITY):  # long free text: capped, never hidden
                width = self.table.columnWidth(column)
                self.table.setColumnWidth(column, max(140, min(width, 260)))
        self._fitted = len(rows)

    def _on_alerts(self, channel: str, rows: list[AlertRow], live: bool) -> None:
        self.feed.add_rows(rows)
        if channel == self.channel and (not live or not self._fitted):
            self.fit_columns()
        self._reshow()
        if channel == self.channel:
            self._mark_read()
        if live:
            for row in rows:
                if row.kind == "warning" and row.member != self.feed.own_member:
                    text = row.summary.text or code_text("category", row.summary.commodity)
                    title = _tr("New warning from {0}").format(row.member.upper())
                    if not row.verified:
                        title = _tr("⚠ Unverified warning claiming to be from {0}").format(
                            row.member.upper())
                    self.notifier.notify(title, text)
        self._refresh_counts()

    def _on_older(self, channel: str, rows: list[AlertRow], more: bool) -> None:
        self.feed.add_rows(rows)
        self._reshow()
        if channel == self.channel:
            self.more_button.setEnabled(more)
            self.more_button.setText(_tr("Load older alerts") if more
                                     else _tr("Beginning of the channel"))
        self._refresh_counts()

    def _mark_read(self) -> None:
        rows = self.feed.rows(self.channel)
        if rows and self.isVisible():
            self.bridge.mark_read(self.channel, max(r.offset for r in rows))

    def _refresh_counts(self) -> None:
        rows = self.feed.rows(self.channel) if self.channel else []
        counts = Counter(r.chain if r.verified else "signature" for r in rows
                         if not r.verified or r.chain_broken)
        self.integrity.show_alert_states(counts)
        self.counts.setText(_tr("{0} shown of {1}").format(self.proxy.rowCount(), len(rows)))
        self.action_view.setText(_tr("Needs action ({0})").format(self.needs_action_count()))

    def show_needs_action(self, on: bool = True) -> None:
        """Show only the rows that need the officer's action (or everything again)."""
        if self.action_view.isChecked() != on:
            self.action_view.setChecked(on)  # toggled() calls back here
            return
        self.proxy.set_filter(needs_action=on)
        self._refresh_counts()

    def needs_action_count(self) -> int:
        rows = self.feed.rows(self.channel) if self.channel else []
        return sum(1 for r in rows if self.feed.needs_action(r))

    # --- actions ---------------------------------------------------------------------------
    def load_older(self) -> None:
        if self.channel:
            self.bridge.load_older(self.channel)

    def _scrolled(self, value: int) -> None:
        bar = self.table.verticalScrollBar()
        at_old_end = value == bar.maximum() if self.proxy.newest_first else value == 0
        if at_old_end and bar.maximum() > 0 and self.more_button.isEnabled():
            self.load_older()

    def selected_row(self) -> AlertRow | None:
        indexes = self.table.selectionModel().selectedRows()
        return self.proxy.data(indexes[0], RowRole) if indexes else None

    def select_offset(self, offset: int) -> None:
        for i in range(self.proxy.rowCount()):
            if self.proxy.data(self.proxy.index(i, 0), RowRole).offset == offset:
                self.table.selectRow(i)
                return

    def _selection_changed(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        row = self.selected_row()
        self.detail.show_row(row, self.feed.linked(row) if row else [],
                             self.feed.state(row) if row else None)
        self.reply_action.setEnabled(row is not None and row.kind == "warning")
        own = row is not None and self.is_own_record(row)
        self.amend_action.setEnabled(own)
        self.withdraw_action.setEnabled(own)
        self.evidence_action.setEnabled(row is not None and row.verified)
        self.permit_action.setEnabled(own and row is not None and bool(
            RESTRICTED_HANDLING.intersection([row.body.get("handling")])))

    def is_own_record(self, row: AlertRow) -> bool:
        """A verified, live record sent by our administration (amendable, withdrawable)."""
        state = self.feed.state(row)
        return (row.verified and row.member == self.feed.own_member
                and row.kind not in ("amendment", "withdrawal")
                and not (state is not None and state.withdrawn)
                and any(c == row.channel for c, _ in self._writable_channels()))

    def _writable_channels(self) -> list[tuple[str, str]]:
        return [(c.channel, c.title) for c in self.channels.channel_rows()
                if c.role in _PUBLISHING_ROLES and c.state in ("open", "")]

    def open_compose(self, kind: str, prefill: dict[str, Any] | None = None,
                     channel: str | None = None, *, locked: tuple[str, ...] = (),
                     amends: tuple[str, dict[str, Any]] | None = None) -> ComposeDialog:
        channels = self._writable_channels()
        if channel is not None:
            channels = [c for c in channels if c[0] == channel]
        elif self.channel:
            channels.sort(key=lambda c: c[0] != self.channel)
        dialog = ComposeDialog(kind, channels, self._publish, prefill=prefill, locked=locked,
                               amends=amends, parent=self)
        self.composers.append(dialog)
        dialog.show()
        return dialog

    def reply_with_feedback(self) -> ComposeDialog | None:
        row = self.selected_row()
        if row is None or row.kind != "warning":
            return None
        prefill = {"ref": row.alert_id}
        for key in ("handling", "handling_text"):  # the warning's restrictions bind the reply
            if key in row.body:
                prefill[key] = row.body[key]
        return self.open_compose("feedback", prefill, channel=row.channel, locked=("ref",))

    def withdraw_selected(self) -> ComposeDialog | None:
        row = self.selected_row()
        if row is None or not self.is_own_record(row):
            return None
        prefill = {"ref": row.alert_id, "handling": row.body.get("handling")}
        return self.open_compose("withdrawal", prefill, channel=row.channel, locked=("ref",))

    def permit_selected(self) -> int | None:
        """Publish our administration's permission to use the selected record as evidence
        (a notice with ``permission: evidence`` linking it, PROTOCOL Appendix A.9), after
        asking; the publish token, or None."""
        row = self.selected_row()
        if row is None or not self.is_own_record(row):
            return None
        answer = QMessageBox.question(
            self, _tr("Permit as evidence"),
            _tr("Permit {0} ({1}) to be passed on and used as evidence? Anyone holding an "
                "evidence bundle of it can then show it in court.").format(
                row.alert_id, row.body.get("handling", "")),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return None
        token = self.bridge.publish(row.channel, "notice", permission_body([row.alert_id]))
        self.statusBar().showMessage(_tr("Permission for {0} sent").format(row.alert_id), 8000)
        return token

    def _export_evidence_clicked(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        out, _ = QFileDialog.getSaveFileName(
            self, _tr("Export evidence"), f"{row.channel}-{row.alert_id}.cordon-evidence",
            "Cordon evidence (*.cordon-evidence)")
        if out:
            self.export_evidence([row.alert_id], None, Path(out))

    def export_evidence(self, ids: list[str], crl: Path | None, out: Path) -> int:
        """Export an evidence bundle of ``ids`` of the current channel (see the bridge);
        the CRL is the hub's, checked against the CA, unless a ``crl`` file is given."""
        self.statusBar().showMessage(_tr("Exporting evidence…"))
        return self.bridge.export_evidence(self.channel, ids, crl, out)

    def _on_evidence(self, _token: int, path: str, message: str) -> None:
        if path:
            self.statusBar().showMessage(
                _tr("Evidence written to {0}: {1}").format(path, message), 15_000)
        else:
            self.statusBar().showMessage(_tr("Evidence not exported: {0}").format(message),
                                         30_000)

    def amend_selected(self) -> ComposeDialog | None:
        row = self.selected_row()
        if row is None or not self.is_own_record(row):
            return None
        record = dict(self.feed.current(row).body)
        return self.open_compose(row.kind, channel=row.channel, amends=(row.alert_id, record))

    def _publish(self, channel: str, kind: str, body: dict[str, Any], photos: list[bytes]) -> int:
        return self.bridge.publish(channel, kind, body, photos=photos)

    def _on_published(self, token: int, offset: int, dup: bool) -> None:
        for dialog in self.composers:
            dialog.acknowledged(token, offset, dup)

    def _on_publish_failed(self, token: int, message: str) -> None:
        for dialog in self.composers:
            dialog.failed(token, message)

    def _export_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, _tr("Export visible rows"),
                                              f"{self.channel or 'cordon'}.csv", "CSV (*.csv)")
        if name:
            self.export_csv(Path(name))

    def export_csv(self, path: Path) -> int:
        count = write_csv(path, self.proxy.visible_rows())
        self.statusBar().showMessage(_tr("{0} rows exported to {1}").format(count, path), 8000)
        return count

    def show_dashboard(self) -> DashboardDialog:
        """The operation's figures (``cordon report``'s) from the whole cached history."""
        if self.dashboard is None:
            self.dashboard = DashboardDialog(self)
        self._fill_dashboard(self.dashboard)
        self.dashboard.show()
        return self.dashboard

    def _fill_dashboard(self, dialog: DashboardDialog) -> None:
        rows = self.channels.channel_rows()
        title = next((c.title for c in rows if c.channel == self.channel), "")
        items = self.bridge.cached_items(self.channel) if self.channel else []
        figures = figures_for(items, channel=self.channel, title=title)
        dialog.show_figures(title or self.channel, figures)
        cached, total, complete = self.bridge.coverage(self.channel)
        dialog.show_coverage(cached, total, complete or not self.channel)
        dialog.coverage.setText(_tr("Computed on this machine from {0} verified-history "
                                    "alerts, as cordon report does.").format(len(items)))

    def _on_checkpoint(self, channel: str, row: CheckpointRow) -> None:
        if channel == self.channel:
            self.integrity.show_checkpoint(row)

    def show_states_help(self) -> HelpDialog:
        """What each verification state means for an officer (non-modal)."""
        if self.help is None:
            self.help = HelpDialog(self)
        self.help.show()
        return self.help

    def _on_coverage(self, channel: str) -> None:
        if channel != self.channel:
            return
        cached, total, complete = self.bridge.coverage(channel)
        if complete:
            self.statusBar().showMessage(
                _tr("Whole history on this machine: {0} alerts").format(cached), 8000)
        else:
            self.statusBar().showMessage(
                _tr("Fetching the history: {0} of {1} alerts").format(cached, total))
        if self.dashboard is not None and self.dashboard.isVisible():
            self._fill_dashboard(self.dashboard)

    def layout_state(self) -> str:
        """The window's geometry and panes, as text for the settings file."""
        geometry = bytes(self.saveGeometry().toHex().data()).decode("ascii")
        split = bytes(self.splitter.saveState().toHex().data()).decode("ascii")
        return f"{geometry}:{split}"

    def restore_layout(self, state: str) -> bool:
        """Restore what :meth:`layout_state` gave (False if it does not apply)."""
        geometry, _, split = state.partition(":")
        try:
            ok = self.restoreGeometry(QByteArray.fromHex(geometry.encode("ascii")))
            if split:
                ok = self.splitter.restoreState(QByteArray.fromHex(split.encode("ascii"))) and ok
        except (UnicodeEncodeError, ValueError):
            return False
        return bool(ok)

    def closeEvent(self, event: QCloseEvent) -> None:
        for dialog in self.composers:
            if not dialog.close():  # the officer kept a changed, unsent form
                event.ignore()
                return
        super().closeEvent(event)
