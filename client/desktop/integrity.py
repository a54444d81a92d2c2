"""What the desk says about the integrity of a channel: the hub-signed checkpoint of its
log, and one banner per verification state that needs the officer (no network here).

Alert states come from the rows (a failed signature; a sender chain's ``gap``,
``reorder``, ``duplicate`` or ``fork``, PROTOCOL.md §4); log states from the bridge's
:class:`CheckpointRow` (Appendix C): ``verified`` (the hub signed this log and your copy
agrees with it), ``failed`` (its checkpoint does not verify), ``inconsistent`` (it signed
two different histories: equivocation), ``mismatch`` (your copy differs from what it
signed), ``unavailable`` (the hub serves no checkpoint). :data:`MEANINGS` says, in one
line each, what happened and what to do; the help dialog shows them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialog, QLabel, QTextBrowser, QVBoxLayout, QWidget

__all__ = ["ALERT_STATES", "LOG_STATES", "CheckpointRow", "HelpDialog", "IntegrityPanel",
           "meanings"]

#: Alert-level states with a banner, in the order the banners are stacked.
ALERT_STATES = ("signature", "gap", "reorder", "duplicate", "fork")
#: Log-level states with a banner.
LOG_STATES = ("failed", "inconsistent", "mismatch")
_RED = "background:#c5221f;color:white;font-weight:bold;padding:6px;border-radius:3px;"
_AMBER = "background:#f9ab00;color:black;padding:4px;border-radius:3px;"


def _tr(text: str) -> str:
    return QCoreApplication.translate("Integrity", text)


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    """The channel's log as the desk last checked it (plain data from the bridge)."""

    channel: str
    state: str  # verified, failed, inconsistent, mismatch, unavailable
    fingerprint: str = ""
    size: int = 0
    time_ms: int = 0
    detail: str = ""
    #: How many of the log's alerts your own copy was compared with (0: none yet).
    compared: int = 0


def meanings() -> dict[str, tuple[str, str]]:
    """Every verification state: (its name, one line: what happened, what to do)."""
    return {
        "verified": (_tr("Log verified"), _tr(
            "The hub signed this channel's log and your copy agrees with it. Read the "
            "fingerprint to another member by phone to be sure you were both shown the same.")),
        "signature": (_tr("Signature failed"), _tr(
            "An alert's bytes or signer do not verify: it may be forged. Do not act on it; "
            "report it to the hub's administrator.")),
        "unchained": (_tr("Unchained"), _tr(
            "Signed, but without a sender chain: its withholding could not be detected. "
            "Nothing to do unless the sender should be chaining.")),
        "gap": (_tr("Chain gap"), _tr(
            "Alerts of this sender were withheld from you. Ask the sender what you "
            "missed; report it to the hub's administrator.")),
        "reorder": (_tr("Chain reorder"), _tr(
            "An alert of this sender was held back and shown late. Check what it "
            "changes; report it.")),
        "duplicate": (_tr("Chain duplicate"), _tr(
            "The history shows an alert twice. Count it once; report it.")),
        "fork": (_tr("Chain fork"), _tr(
            "This sender has two different histories: the hub shows members different "
            "things, or the sender signed twice. Call the sender; report it.")),
        "failed": (_tr("Checkpoint failed"), _tr(
            "The hub's signed checkpoint does not verify (signature, log key, certificate): "
            "this log is not proven. Report it to the hub's administrator.")),
        "inconsistent": (_tr("Log inconsistent (equivocation)"), _tr(
            "The hub signed two different histories of this channel. Compare fingerprints "
            "with another member by phone and report it at once; keep your copy.")),
        "mismatch": (_tr("Your copy differs"), _tr(
            "What the hub showed you is not the log it signed. Report it at once; do not "
            "rely on the channel until it is explained.")),
        "unavailable": (_tr("Log not signed"), _tr(
            "The hub has no signed checkpoint of this channel (yet, or it signs none): "
            "withholding or equivocation cannot be detected beyond the sender chains.")),
    }


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _banner(name: str, style: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(style)
    label.hide()
    return label


class IntegrityPanel(QWidget):
    """The checkpoint line and the banners, above the feed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        self.checkpoint = QLabel()
        self.checkpoint.setObjectName("checkpoint")
        self.checkpoint.setTextInteractionFlags(
            self.checkpoint.textInteractionFlags().TextSelectableByMouse)
        column.addWidget(self.checkpoint)
        self.banners: dict[str, QLabel] = {}
        for state in (*LOG_STATES, *ALERT_STATES):
            self.banners[state] = _banner(f"banner:{state}", _RED)
            column.addWidget(self.banners[state])
        self.banners["unavailable"] = _banner("banner:unavailable", _AMBER)
        column.addWidget(self.banners["unavailable"])
        self.show_checkpoint(None)

    def show_alert_states(self, counts: Mapping[str, int]) -> None:
        """One banner per alert state with a count: how many alerts, what it means."""
        texts = meanings()
        for state in ALERT_STATES:
            n = counts.get(state, 0)
            banner = self.banners[state]
            banner.setVisible(n > 0)
            if n:
                name, meaning = texts[state]
                if state == "signature":
                    head = _tr("⚠ {0} alert(s) in this channel FAILED the signature check: "
                               "they may be forged. Rows in red.").format(n)
                else:
                    head = _tr("⚠ {0} alert(s) in this channel show a BROKEN SENDER CHAIN "
                               "({1}). Rows in red.").format(n, name)
                banner.setText(f"{head}\n{meaning}")

    def show_checkpoint(self, row: CheckpointRow | None) -> None:
        """The channel's signed log: its fingerprint, size and time, or what is wrong."""
        texts = meanings()
        for state in (*LOG_STATES, "unavailable"):
            self.banners[state].hide()
        if row is None:
            self.checkpoint.setText(_tr("Signed log: not checked yet"))
            return
        if row.state == "verified":
            mine = (_tr("your copy agrees") if row.compared else
                    _tr("your copy not compared yet"))
            self.checkpoint.setText(_tr(
                "Signed log: {0} alerts, fingerprint {1}, signed {2} — {3}").format(
                row.size, row.fingerprint, _when(row.time_ms), mine))
            self.checkpoint.setToolTip(texts["verified"][1])
            return
        self.checkpoint.setText(_tr("Signed log: {0}").format(texts[row.state][0]))
        banner = self.banners[row.state]
        name, meaning = texts[row.state]
        banner.setText(f"⚠ {name}: {meaning}" + (f"\n{row.detail}" if row.detail else ""))
        banner.show()


class HelpDialog(QDialog):
    """What each verification state means for an officer (non-modal)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_tr("What the warnings mean"))
        self.resize(620, 520)
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setObjectName("help")
        rows = "".join(f"<p><b>{name}</b> — {meaning}</p>"
                       for name, meaning in meanings().values())
        self.browser.setHtml(f"<h3>{_tr('Verification states')}</h3>{rows}")
        layout.addWidget(self.browser)
