"""Screenshots of the desk on a generated operation (as ``cordon demo`` makes), in English
and French: feed with an amended record's detail, the "Needs action" view, the dashboard and
a compose form. Regenerate the ones in docs/ with one command::

    CORDON_UPDATE_SCREENSHOT=1 .venv/bin/pytest tests/desktop/test_screenshots.py

Without the variable they are written to the test's tmp dir, so a test run leaves the work
tree clean."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from client.desktop import i18n
from client.desktop.bridge import ONLINE
from client.desktop.window import MainWindow
from client.opgen import generate
from tests.desktop.conftest import DeskFactory, publish_operation
from tests.harness import HubHarness

DOCS = Path(__file__).resolve().parents[2] / "docs"


def save(widget: QWidget, folder: Path, name: str) -> None:
    widget.repaint()
    assert widget.grab().save(str(folder / name)), name


async def test_screenshots_of_a_generated_operation_in_english_and_french(
    hub: HubHarness, desk: DeskFactory, qtbot: Any, qapp: Any, tmp_path: Path
) -> None:
    folder = DOCS if os.environ.get("CORDON_UPDATE_SCREENSHOT") == "1" else tmp_path
    folder.mkdir(exist_ok=True)
    op = generate(cases=120, members=20, seed=3)
    await publish_operation(hub, op)
    officer = hub.pki.member("fr", "ops", kind="officer")
    await hub.sync()
    try:
        for lang in ("en", "fr"):
            i18n.install(qapp, lang)
            bridge = desk(officer, cache_name=f"shots-{lang}")
            window = MainWindow(bridge)
            qtbot.addWidget(window)
            window.resize(1360, 800)
            window.show()
            bridge.load_cached()
            bridge.start()
            await hub.wait_for(lambda b=bridge, w=window: b.state == ONLINE
                               and w.channel == op.channel, timeout=20)
            await hub.wait_for(lambda b=bridge: b.coverage(op.channel)[2], timeout=30)
            for _ in range(100):  # the signed log shown verified (the hub signs every 1 s)
                row = await bridge.check_log(op.channel)
                if row is not None and row.state == "verified" and \
                        row.compared == row.size == bridge.coverage(op.channel)[0]:
                    break
                qtbot.wait(100)
            rows = window.feed.rows(op.channel)
            amended = next(r for r in rows if (s := window.feed.state(r)) and s.amended)
            window.fit_columns()
            window.select_offset(amended.offset)
            window.statusBar().clearMessage()
            qtbot.wait(50)
            save(window, folder, f"desk-feed-{lang}.png")
            window.show_needs_action()
            assert window.proxy.rowCount() > 0
            save(window, folder, f"desk-needs-action-{lang}.png")
            window.show_needs_action(False)
            dashboard = window.show_dashboard()
            assert not dashboard.incomplete.isVisible()
            dashboard.resize(720, 560)
            save(dashboard, folder, f"desk-dashboard-{lang}.png")
            dashboard.close()
            compose = window.open_compose("seizure")
            compose.resize(compose.width(), 760)
            save(compose, folder, f"desk-compose-{lang}.png")
            compose.delivered = True  # untouched form: close without asking
            compose.close()
            window.close()
            await bridge.stop()
    finally:
        i18n.install(qapp, "en")
    assert len(list(folder.glob("desk-*.png"))) == 8
