"""First run: a broken saved setup opens the setup dialog with the error (no silent quit),
the dialog refuses credentials it cannot read, and missing system libraries are named with
the command that installs them instead of Qt aborting the process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from client.desktop import app, syslibs
from client.desktop.settings import DeskSettings, load_settings, save_settings
from client.desktop.setup import SetupDialog
from tests.harness import HubHarness
from tests.pki import Leaf


def answer_setup(seen: list[str], *, fix: DeskSettings | None = None) -> None:
    """When the modal setup dialog shows: record its error, then fix the settings or cancel."""
    dialog = QApplication.activeModalWidget()
    if not isinstance(dialog, SetupDialog):
        QTimer.singleShot(50, lambda: answer_setup(seen, fix=fix))
        return
    seen.append(dialog.error.text())
    if fix is None:
        dialog.reject()
        return
    dialog.key.edit.setText(fix.key)
    dialog._accept()
    if dialog.isVisible():  # refused: say why, then cancel
        seen.append(dialog.error.text())
        dialog.reject()


async def test_a_wrong_key_path_opens_the_setup_dialog_with_the_error(
    hub: HubHarness, members: dict[str, Leaf], tmp_path: Path, qapp: Any
) -> None:
    fr = members["fr"]
    config, data = tmp_path / "config", tmp_path / "data"
    broken = DeskSettings(hub_url=hub.url, ca=str(hub.pki.ca), cert=str(fr.cert),
                          key=str(tmp_path / "moved" / "fr-ops.key"))
    save_settings(broken, config)
    seen: list[str] = []
    QTimer.singleShot(0, lambda: answer_setup(seen))
    assert app.main(["--config-dir", str(config), "--data-dir", str(data)]) == 1  # cancelled
    assert len(seen) == 1
    assert "These settings did not work" in seen[0] and "moved/fr-ops.key" in seen[0]
    assert "cannot read the private key" in seen[0]
    # The dialog does not accept a key path it cannot read either (nothing is saved).
    seen.clear()
    QTimer.singleShot(0, lambda: answer_setup(seen, fix=broken))
    assert app.main(["--config-dir", str(config), "--data-dir", str(data)]) == 1
    assert len(seen) == 2 and "cannot read the private key" in seen[1]
    assert load_settings(config) == broken


def test_missing_system_libraries_are_named_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(syslibs, "XCB", {**syslibs.XCB,
                                         "libcordon-absent.so.7": "libcordon-absent7"})
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert "libcordon-absent7" in syslibs.missing_packages()
    assert app.main([]) == 2  # before Qt could abort
    err = capsys.readouterr().err
    assert "system libraries needed by Qt are missing" in err
    assert "sudo apt install" in err and "libcordon-absent7" in err
    # Offscreen (or Wayland) does not need the X11 libraries.
    assert "libcordon-absent7" not in syslibs.missing_packages({"QT_QPA_PLATFORM": "offscreen"})
    assert syslibs.platform_of({"WAYLAND_DISPLAY": "wayland-0",
                                "XDG_SESSION_TYPE": "wayland"}) == "wayland"
    assert syslibs.platform_of({}) == "xcb"


async def test_setup_dialog_tests_the_connection(
    hub: HubHarness, members: dict[str, Leaf], qtbot: Any
) -> None:
    fr = members["fr"]
    good = DeskSettings(hub_url=hub.url, ca=str(hub.pki.ca), cert=str(fr.cert), key=str(fr.key))
    dialog = SetupDialog(good)
    qtbot.addWidget(dialog)
    dialog.test_connection()
    assert not dialog.test_button.isEnabled() and "Connecting" in dialog.test_result.text()
    await hub.wait_for(dialog.poll_test, timeout=20)
    assert dialog.test_result.text() == "✔ Connected as fr/ops: 1 channel(s)"
    dialog.hub.setText("wss://127.0.0.1:1/")  # nothing listens there
    dialog.test_connection()
    await hub.wait_for(dialog.poll_test, timeout=20)
    assert dialog.test_result.text().startswith("✖ ") and dialog.test_button.isEnabled()
