"""The setup dialog makes the officer's own key and certificate request (pytest-qt,
offscreen): the key is written 0600 and filled in, the request is ready to send."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from client.desktop.settings import DeskSettings
from client.desktop.setup import SetupDialog
from hub.protocol.enrol import check_request
from hub.protocol.identity import Identity


@pytest.fixture
def dialog(qtbot: Any) -> SetupDialog:
    d = SetupDialog(DeskSettings())
    qtbot.addWidget(d)
    return d


def test_create_key_and_request_button(dialog: SetupDialog, qtbot: Any, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "my-credentials"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(folder)))
    qtbot.keyClicks(dialog.principal, "fr/ops")
    qtbot.mouseClick(dialog.request_button, Qt.MouseButton.LeftButton)
    key, csr = folder / "fr-ops.key", folder / "fr-ops.csr"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert dialog.key.text() == str(key)
    note = dialog.request_note.text()
    assert str(csr) in note and "hub administrator" in note and dialog.error.text() == ""
    private = load_pem_private_key(key.read_bytes(), None)
    assert isinstance(private, Ed25519PrivateKey)
    # the request is what the hub's CA accepts for fr/ops, for exactly this key
    assert check_request(csr.read_bytes(), Identity.for_member("fr", "ops")) == \
        private.public_key()
    assert x509.load_pem_x509_csr(csr.read_bytes()).is_signature_valid

    # clicking again never replaces the key
    before = key.read_bytes()
    qtbot.mouseClick(dialog.request_button, Qt.MouseButton.LeftButton)
    assert key.read_bytes() == before
    assert "already exists" in dialog.error.text()


def test_bad_principal_and_cancelled_folder(dialog: SetupDialog, qtbot: Any, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert dialog.create_request("France/ops", tmp_path) is None
    assert "member/name" in dialog.error.text() and not list(tmp_path.iterdir())
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: ""))  # the officer cancelled
    qtbot.keyClicks(dialog.principal, "fr/ops")
    qtbot.mouseClick(dialog.request_button, Qt.MouseButton.LeftButton)
    assert dialog.key.text() == "" and not list(tmp_path.iterdir())
