"""First-run setup: hub address and the officer's credentials; and the passphrase prompt.

The passphrase is asked for at every start when the key needs one and is
never written anywhere.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
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

from client.desktop.settings import DeskSettings

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
        self.resize(560, 320)
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
        self.p12 = _PathEdit("p12", "PKCS#12 (*.p12 *.pfx);;*", settings.p12)
        p12_form.addRow(_tr("PKCS#12 file"), self.p12)
        self.tabs.addTab(pem_tab, _tr("PEM key and certificate"))
        self.tabs.addTab(p12_tab, _tr("PKCS#12 file"))
        self.tabs.setCurrentIndex(1 if settings.p12 else 0)
        layout.addWidget(self.tabs)
        self.error = QLabel()
        self.error.setStyleSheet("color:#a50e0e;")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._base = settings

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
            self.accept()


def ask_passphrase(parent: QWidget | None, what: str) -> str | None:
    text, ok = QInputDialog.getText(
        parent, _tr("Passphrase"), _tr("Passphrase for {0}:").format(what),
        QLineEdit.EchoMode.Password)
    return text if ok else None
