"""The desk's integrity panel: the signed log's fingerprint, size and time, one banner per
verification state with what it means for an officer, and the help that lists them all."""

from __future__ import annotations

from typing import Any

from client.desktop.integrity import (
    ALERT_STATES,
    LOG_STATES,
    CheckpointRow,
    HelpDialog,
    IntegrityPanel,
    meanings,
)


def test_every_state_has_one_short_line_what_happened_and_what_to_do(qapp: Any) -> None:
    lines = meanings()
    assert set(ALERT_STATES) | set(LOG_STATES) | {"verified", "unchained", "unavailable"} \
        == set(lines)
    for name, line in lines.values():
        assert name and line.count(".") <= 3 and len(line) < 200, line


def test_alert_state_banners(qtbot: Any) -> None:
    panel = IntegrityPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_alert_states({"signature": 2, "fork": 1})
    visible = {s for s, b in panel.banners.items() if b.isVisible()}
    assert visible == {"signature", "fork"}
    assert "2 alert(s)" in panel.banners["signature"].text()
    assert "may be forged" in panel.banners["signature"].text()
    assert "(Chain fork)" in panel.banners["fork"].text()
    assert "two different histories" in panel.banners["fork"].text()
    panel.show_alert_states({})
    assert not any(b.isVisible() for b in panel.banners.values())


def test_checkpoint_line_and_log_state_banners(qtbot: Any) -> None:
    panel = IntegrityPanel()
    qtbot.addWidget(panel)
    panel.show()
    assert panel.checkpoint.text() == "Signed log: not checked yet"
    row = CheckpointRow("stop-iii", "verified", fingerprint="7K3M-AB12-CD34-EF56", size=42,
                        time_ms=1_772_359_200_000, compared=42)
    panel.show_checkpoint(row)
    text = panel.checkpoint.text()
    assert "42 alerts" in text and "7K3M-AB12-CD34-EF56" in text
    assert "2026-03-01 10:00 UTC" in text and "your copy agrees" in text
    panel.show_checkpoint(CheckpointRow("stop-iii", "verified", fingerprint="X", size=1))
    assert "not compared yet" in panel.checkpoint.text()
    for state in (*LOG_STATES, "unavailable"):
        panel.show_checkpoint(CheckpointRow("stop-iii", state, detail="why it failed"))
        shown = [s for s, b in panel.banners.items() if b.isVisible()]
        assert shown == [state]
        assert meanings()[state][1] in panel.banners[state].text()
        assert "why it failed" in panel.banners[state].text()
    assert "equivocation" in panel.banners["inconsistent"].text()


def test_help_lists_every_state(qtbot: Any) -> None:
    dialog = HelpDialog()
    qtbot.addWidget(dialog)
    text = dialog.browser.toPlainText()
    for name, line in meanings().values():
        assert name in text and line in text
