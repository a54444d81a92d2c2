"""The system libraries the desk needs on Linux, checked before Qt is loaded.

PySide6's wheels bundle Qt but not the X11/OpenGL/font libraries it links
against. Without them Qt cannot load its ``xcb`` platform plugin and aborts the
process (exit 134, "Could not load the Qt platform plugin"), or the import of
``PySide6.QtWidgets`` fails. :func:`missing_packages` tries each library the
way the dynamic loader will and names the Debian/Ubuntu packages to install;
``cordon desk`` prints them and exits 2 instead. The lists were read from the
``NEEDED`` entries of PySide6 6.12's ``libQt6Gui``, ``libQt6Widgets``,
``libQt6DBus``, ``libQt6XcbQpa`` and ``plugins/platforms/libqxcb.so``
(ICU is bundled in the wheel).
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping

__all__ = ["BASE", "XCB", "apt_command", "missing_packages", "platform_of"]

#: Needed whatever the platform plugin (soname -> Debian package).
BASE: dict[str, str] = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libxkbcommon.so.0": "libxkbcommon0",
}
#: Needed by the X11 (xcb) platform plugin, the default on an X11 desktop.
XCB: dict[str, str] = {
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def platform_of(env: Mapping[str, str]) -> str:
    """The Qt platform plugin Qt will pick (``xcb`` unless told or on Wayland)."""
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if chosen:
        return chosen
    if env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_packages(env: Mapping[str, str] | None = None) -> list[str]:
    """Debian packages to install for the libraries that cannot be loaded ([] when none,
    and always on other systems than Linux)."""
    if not sys.platform.startswith("linux"):
        return []
    needed = dict(BASE)
    if platform_of(os.environ if env is None else env) == "xcb":
        needed.update(XCB)
    return list(dict.fromkeys(pkg for lib, pkg in needed.items() if not _loads(lib)))


def apt_command(packages: list[str]) -> str:
    return "sudo apt install " + " ".join(packages)
