"""``cordon desk``: start the desktop client (PySide6 on a qasync event loop).

::

    cordon desk [--config-dir DIR] [--data-dir DIR] [--lang en|fr] [--setup]

First run (or ``--setup``) asks for the hub address and the officer's
credentials and saves them (paths only, never a passphrase) in the user's
config directory; saved settings that cannot open a session (a key moved, a
wrong path) open the same dialog with the error. The local cache lives in the
user's data directory. Missing system libraries are named, with the command
to install them (exit 2), before Qt could abort.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

__all__ = ["main"]

log = logging.getLogger("cordon.desk")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cordon desk", description="The Cordon desktop client.")
    p.add_argument("--config-dir", type=Path, help="where desk.json is kept")
    p.add_argument("--data-dir", type=Path, help="where the local cache is kept")
    p.add_argument("--lang", choices=("en", "fr"), help="interface language")
    p.add_argument("--setup", action="store_true", help="show the connection settings first")
    p.add_argument("--quit-after", type=float, metavar="SECONDS",
                   help=argparse.SUPPRESS)  # for smoke tests: close the window after a while
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    from client.desktop.syslibs import apt_command, missing_packages

    missing = missing_packages()
    if missing:
        print("cordon desk: system libraries needed by Qt are missing; on Debian or Ubuntu "
              f"install them with:\n  {apt_command(missing)}", file=sys.stderr)
        return 2
    try:
        import qasync
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        print(f"cordon desk: the desktop extras are missing ({exc}); "
              "install with: pip install 'cordon[desktop]'", file=sys.stderr)
        return 2
    import client.desktop.i18n as i18n
    from client.desktop.settings import config_dir, data_dir, load_settings, save_settings

    if args.config_dir:
        os.environ["CORDON_DESK_CONFIG"] = str(args.config_dir)
    if args.data_dir:
        os.environ["CORDON_DESK_DATA"] = str(args.data_dir)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Cordon desk")
    app.setOrganizationName("Cordon")
    settings = load_settings(config_dir())
    i18n.install(app, args.lang or settings.language)
    from client.desktop.session import SessionError, open_session
    from client.desktop.setup import SetupDialog

    problem = ""
    ask = args.setup or not settings.complete
    while True:
        if ask or problem:
            dialog = SetupDialog(settings)
            dialog.show_problem(problem)
            if dialog.exec() != SetupDialog.DialogCode.Accepted:
                return 1
            settings = dialog.settings()
            save_settings(settings, config_dir())
            i18n.install(app, args.lang or settings.language)
        try:
            bridge = open_session(settings, data_dir())
        except SessionError as exc:  # the saved setup is broken: show it and ask again
            problem = str(exc)
            continue
        if bridge is None:
            return 1
        break
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    from client.desktop.window import MainWindow

    window = MainWindow(bridge, newest_first=settings.newest_first)
    if settings.layout:
        window.restore_layout(settings.layout)
    window.show()
    bridge.load_cached()
    bridge.start()
    closing = asyncio.Event()
    app.aboutToQuit.connect(closing.set)
    if args.quit_after:
        loop.call_later(args.quit_after, window.close)
        loop.call_later(args.quit_after, closing.set)
    with loop:
        loop.run_until_complete(closing.wait())
        loop.run_until_complete(bridge.stop())
    save_settings(settings.replace(newest_first=window.proxy.newest_first,
                                   layout=window.layout_state()), config_dir())
    bridge.cache.close()
    return 0
