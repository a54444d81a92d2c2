"""The desk's settings: where they live, what they hold, how they are saved.

Settings are one JSON file, ``desk.json``, in the user's config directory
(``$XDG_CONFIG_HOME/cordon``, ``~/Library/Application Support/Cordon``,
``%APPDATA%\\Cordon``; ``CORDON_DESK_CONFIG`` overrides). The cache lives in
the user's data directory (``$XDG_DATA_HOME/cordon`` ...; ``CORDON_DESK_DATA``
overrides). Paths to credentials are stored, never their content, and never a
passphrase: it is asked for at each start when the key needs one.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from certs.files import write_atomic

__all__ = ["DeskSettings", "config_dir", "data_dir", "load_settings", "save_settings"]

_APP = "cordon"
_FILE = "desk.json"


def _home() -> Path:
    return Path.home()


def config_dir() -> Path:
    """The user's config directory for Cordon (platform convention, env override)."""
    override = os.environ.get("CORDON_DESK_CONFIG")
    if override:
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or _home() / "AppData" / "Roaming") / "Cordon"
    if sys.platform == "darwin":
        return _home() / "Library" / "Application Support" / "Cordon"
    return Path(os.environ.get("XDG_CONFIG_HOME") or _home() / ".config") / _APP


def data_dir() -> Path:
    """The user's data directory for Cordon (the cache lives here)."""
    override = os.environ.get("CORDON_DESK_DATA")
    if override:
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or _home() / "AppData" / "Local") / "Cordon"
    if sys.platform == "darwin":
        return _home() / "Library" / "Application Support" / "Cordon"
    return Path(os.environ.get("XDG_DATA_HOME") or _home() / ".local" / "share") / _APP


@dataclass(frozen=True, slots=True)
class DeskSettings:
    """What the first-run dialog asks. Either ``cert`` + ``key`` (PEM) or ``p12``."""

    hub_url: str = ""
    ca: str = ""  # the hub's CA certificate (PEM); optional with a PKCS#12 that carries it
    cert: str = ""
    key: str = ""
    p12: str = ""
    server_name: str = ""
    language: str = ""  # "en", "fr", or "" for the system's
    newest_first: bool = True
    layout: str = ""  # the main window's geometry and panes (MainWindow.layout_state)

    @property
    def complete(self) -> bool:
        has_creds = bool(self.p12) or bool(self.cert and self.key)
        return bool(self.hub_url) and has_creds and bool(self.ca or self.p12)

    def replace(self, **changes: Any) -> DeskSettings:
        return replace(self, **changes)


def load_settings(directory: Path | None = None) -> DeskSettings:
    """The saved settings (defaults when there are none or the file is unreadable)."""
    path = (directory or config_dir()) / _FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return DeskSettings()
    if not isinstance(data, dict):
        return DeskSettings()
    known = {f.name: f.type for f in fields(DeskSettings)}
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if key in known and isinstance(value, bool if key == "newest_first" else str):
            clean[key] = value
    return DeskSettings(**clean)


def save_settings(settings: DeskSettings, directory: Path | None = None) -> Path:
    """Write the settings atomically, readable by the user only (file 0600, folder 0700).
    Returns the file."""
    folder = directory or config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    path = folder / _FILE
    write_atomic(path, json.dumps(asdict(settings), indent=2, sort_keys=True).encode(),
                 mode=0o600)
    return path
