"""First-run setup: hub address and the officer's credentials; and the passphrase prompt.

An officer without credentials yet creates them here: "Create my key and request…"
writes an Ed25519 private key (mode 0600, it never leaves this computer) and a
certificate request (``.csr``) into a folder of their choice (:mod:`client.keys`, as
``cordon key new`` does), fills in the key, and says to send the request to the hub
administrator, who returns the certificate to choose above it.

"Test connection" opens a session with the settings as entered (in a worker
thread, bounded) and says who the hub sees and how many channels they have,
or why not.

The passphrase is asked for at every start when the key needs one and is
never written anywhere.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from client.desktop.credentials import (
    CredentialError,
    load_credentials,
    materialized,
    needs_passphrase,
)
from client.desktop.settings import DeskSettings
from client.desktop.wheel import guard_wheel
from client.keys import KeyRequest, new_key_and_request
from client.sdk import Client, ClientError
from hub.protocol.errors import CordonError, InvalidFrame

_PROBE_TIMEOUT_S = 15.0  # a connection test never hangs the dialog longer


def probe(settings: DeskSettings, passphrase: str | None = None) -> tuple[bool, str]:
    """Open a session with ``settings`` (blocking; run it off the GUI thread):
    ``(True, principal and channel count)`` or ``(False, why not)``."""

    async def run() -> tuple[bool, str]:
        creds = load_credentials(settings, passphrase)
        with materialized(creds) as (cert, key, ca):
            client = Client(settings.hub_url, cert=cert, key=key, ca=ca,
                            server_hostname=settings.server_name or None, max_attempts=1,
                            request_timeout=_PROBE_TIMEOUT_S)
        async with client:
            channels = await asyncio.wait_for(client.channels(), _PROBE_TIMEOUT_S)
        return True, _tr("Connected as {0}: {1} channel(s)").format(
            client.identity.principal, len(channels))

    try:
        return asyncio.run(asyncio.wait_for(run(), _PROBE_TIMEOUT_S))
    except CordonError as exc:
        return False, f"{exc.code} {exc.phrase}"
    except (CredentialError, ClientError, OSError, ValueError, TimeoutError) as exc:
        return False, str(exc) or type(exc).__name__

__all__ = ["SetupDialog", "ask_passphrase"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("SetupDialog", text)


class _PathEdit(QWidget):
    def __init__(self, name: str, filter_: str, value: str = "") -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(value)
        self.edit.setObjectName(name)
        browse = QPushButton(_tr("Browse…"))
        browse.clicked.connect(lambda: self._browse(filter_))
        row.addWidget(self.edit, 1)
        row.addWidget(browse)

    def _browse(self, filter_: str) -> None:
        name, _ = QFileDialog.getOpenFileName(self, _tr("Choose a file"), "", filter_)
        if name:
            self.edit.setText(name)

    def text(self) -> str:
        return self.edit.text().strip()


class SetupDialog(QDialog):
    """Asks the hub address, CA, and PEM key + certificate or a PKCS#12 file."""

    def __init__(self, settings: DeskSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_tr("Connect to a Cordon hub"))
        self.resize(600, 420)
        layout = QVBoxLayout(self)
        intro = QLabel(_tr("Enter the hub address given by your secretariat and choose your "
                           "credentials. Passphrases are never stored."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.hub = QLineEdit(settings.hub_url or "wss://")
        self.hub.setObjectName("hub_url")
        form.addRow(_tr("Hub address"), self.hub)
        pem = "PEM (*.pem *.crt *.key);;*"
        self.ca = _PathEdit("ca", pem, settings.ca)
        form.addRow(_tr("Hub CA certificate"), self.ca)
        self.language = QComboBox()
        self.language.addItem(_tr("System language"), "")
        self.language.addItem("English", "en")
        self.language.addItem("Français", "fr")
        self.language.setCurrentIndex(max(0, self.language.findData(settings.language)))
        form.addRow(_tr("Language"), self.language)
        layout.addLayout(form)
        self.tabs = QTabWidget()
        pem_tab, p12_tab = QWidget(), QWidget()
        pem_form, p12_form = QFormLayout(pem_tab), QFormLayout(p12_tab)
        self.cert = _PathEdit("cert", pem, settings.cert)
        self.key = _PathEdit("key", pem, settings.key)
        pem_form.addRow(_tr("Certificate"), self.cert)
        pem_form.addRow(_tr("Private key"), self.key)
        self.principal = QLineEdit()
        self.principal.setObjectName("principal")
        self.principal.setPlaceholderText(_tr("member/name, e.g. fr/ops"))
        self.request_button = QPushButton(_tr("Create my key and request…"))
        self.request_button.setObjectName("create_request")
        self.request_button.clicked.connect(self._create_clicked)
        request_row = QHBoxLayout()
        request_row.addWidget(self.principal, 1)
        request_row.addWidget(self.request_button)
        pem_form.addRow(_tr("No credentials yet?"), request_row)
        self.request_note = QLabel()
        self.request_note.setObjectName("request_note")
        self.request_note.setWordWrap(True)
        pem_form.addRow(self.request_note)
        self.p12 = _PathEdit("p12", "PKCS#12 (*.p12 *.pfx);;*", settings.p12)
        p12_form.addRow(_tr("PKCS#12 file"), self.p12)
        self.tabs.addTab(pem_tab, _tr("PEM key and certificate"))
        self.tabs.addTab(p12_tab, _tr("PKCS#12 file"))
        self.tabs.setCurrentIndex(1 if settings.p12 else 0)
        layout.addWidget(self.tabs)
        test_row = QHBoxLayout()
        self.test_button = QPushButton(_tr("Test connection"))
        self.test_button.setObjectName("test_connection")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel()
        self.test_result.setObjectName("test_result")
        self.test_result.setWordWrap(True)
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        layout.addLayout(test_row)
        self._probe: Future[tuple[bool, str]] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color:#a50e0e;font-weight:bold;")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._base = settings
        guard_wheel(self)

    def test_connection(self) -> None:
        """Try the settings as entered, in the background; :meth:`poll_test` shows the result."""
        if self._probe is not None and not self._probe.done():
            return
        chosen = self.settings()
        passphrase = None
        if needs_passphrase(chosen):
            passphrase = ask_passphrase(self, Path(chosen.p12 or chosen.key).name)
            if passphrase is None:
                return
        self.test_button.setEnabled(False)
        self.test_result.setStyleSheet("color:#5f6368;")
        self.test_result.setText(_tr("Connecting…"))
        self._probe = self._pool.submit(probe, chosen, passphrase)
        QTimer.singleShot(100, self._poll_later)

    def _poll_later(self) -> None:
        if not self.poll_test():
            QTimer.singleShot(100, self._poll_later)

    def poll_test(self) -> bool:
        """Show the connection test's result once there is one; True when shown."""
        if self._probe is None or not self._probe.done():
            return False
        ok, text = self._probe.result()
        self._probe = None
        self.test_button.setEnabled(True)
        self.test_result.setStyleSheet("color:#1e7b34;font-weight:bold;" if ok
                                       else "color:#a50e0e;font-weight:bold;")
        self.test_result.setText(("✔ " if ok else "✖ ") + text)
        return True

    def show_problem(self, problem: str) -> None:
        """Say why the saved settings did not work (empty: nothing to say)."""
        self.error.setText(_tr("These settings did not work: {0}").format(problem)
                           if problem else "")

    def _create_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, _tr("Where to keep your key and request"), str(Path.home()))
        if folder:
            self.create_request(self.principal.text().strip(), Path(folder))

    def create_request(self, principal: str, folder: Path) -> KeyRequest | None:
        """Write a new key (0600) and certificate request for ``principal`` into
        ``folder``; fill in the key; say what to do with the request. Never replaces a key."""
        try:
            made = new_key_and_request(principal, folder)
        except InvalidFrame:
            self.error.setText(_tr("Enter who you are as member/name, e.g. fr/ops."))
            return None
        except OSError as exc:
            self.error.setText(_tr("Cannot create the key: {0}").format(
                exc.strerror or str(exc)))
            return None
        self.error.setText("")
        self.key.edit.setText(str(made.key))
        self.request_note.setText(_tr(
            "Your private key is {0}: it stays on this computer, readable only by you. "
            "Send the request {1} to your hub administrator; choose the certificate they "
            "send back above, with the hub's CA certificate.").format(made.key, made.csr))
        return made

    def settings(self) -> DeskSettings:
        p12 = self.tabs.currentIndex() == 1
        return self._base.replace(
            hub_url=self.hub.text().strip(),
            ca=self.ca.text(),
            cert="" if p12 else self.cert.text(),
            key="" if p12 else self.key.text(),
            p12=self.p12.text() if p12 else "",
            language=self.language.currentData() or "",
        )

    def _accept(self) -> None:
        chosen = self.settings()
        if not chosen.hub_url.startswith("wss://") or len(chosen.hub_url) <= len("wss://"):
            self.error.setText(_tr("The hub address starts with wss://"))
        elif not chosen.complete:
            self.error.setText(_tr("Choose the CA certificate and your credentials."))
        else:
            if not needs_passphrase(chosen):  # a passphrase is asked for at start
                try:
                    load_credentials(chosen)
                except CredentialError as exc:
                    self.error.setText(str(exc))
                    return
            self.accept()


def ask_passphrase(parent: QWidget | None, what: str) -> str | None:
    text, ok = QInputDialog.getText(
        parent, _tr("Passphrase"), _tr("Passphrase for {0}:").format(what),
        QLineEdit.EchoMode.Password)
    return text if ok else None
