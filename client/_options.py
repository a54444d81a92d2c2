"""The hub connection options every client command takes, in one place.

``--hub``, ``--cert``, ``--key``, ``--ca`` and ``--server-name``, each defaulting to
its environment variable (``CORDON_HUB``, ``CORDON_CERT``, ``CORDON_KEY``,
``CORDON_CA``, ``CORDON_SERVER_NAME``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["EXIT_CODES_EPILOG", "add_channel_argument", "add_connection_options",
           "connection_problem"]

#: The exit codes every client command shares, for its ``--help``.
EXIT_CODES_EPILOG = (
    "Exit codes: 0 ok; 1 unexpected failure; 2 usage (bad options, unreadable or "
    "mismatched credentials); 3 the hub refused or is unreachable, or your certificate "
    "has expired; 4 bad input data; 130 interrupted."
)


def add_channel_argument(p: argparse.ArgumentParser) -> None:
    """``CHANNEL`` (first argument) and its older spelling ``--channel C``: every client
    command names its channel the same way (resolve with ``client.cli.resolve_channel``)."""
    p.add_argument("channel", nargs="?", metavar="CHANNEL", help="the operation's channel")
    p.add_argument("--channel", dest="channel_option", metavar="CHANNEL",
                   help="the same, older form")


def add_connection_options(
    p: argparse.ArgumentParser,
    *,
    default: Callable[[Any], Any] = lambda value: value,
    cert_help: str = "your certificate",
    key_help: str = "your Ed25519 private key",
    server_name_help: str = "host name expected in the hub's certificate",
) -> None:
    """Add the connection options to ``p``; ``default`` wraps each default (a sub-parser
    passes ``argparse.SUPPRESS`` so values given before the sub-command survive)."""
    env = os.environ.get
    p.add_argument("--hub", default=default(env("CORDON_HUB")), metavar="URL",
                   help="hub URL, wss://host:port/ (env CORDON_HUB)")
    p.add_argument("--cert", type=Path, default=default(env("CORDON_CERT")), metavar="PEM",
                   help=f"{cert_help} (env CORDON_CERT)")
    p.add_argument("--key", type=Path, default=default(env("CORDON_KEY")), metavar="PEM",
                   help=f"{key_help} (env CORDON_KEY)")
    p.add_argument("--ca", type=Path, default=default(env("CORDON_CA")), metavar="PEM",
                   help="the hub's CA certificate (env CORDON_CA)")
    p.add_argument("--server-name", default=default(env("CORDON_SERVER_NAME")),
                   metavar="NAME", help=server_name_help)


def connection_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the parsed connection options, as a usage error's text (a
    missing ``--hub``/``--cert``/``--key``/``--ca``, a hub that is not ``wss://``); None
    when they are usable."""
    missing = [f"--{n}" for n in ("hub", "cert", "key", "ca") if not getattr(args, n, None)]
    if missing:
        return f"missing {', '.join(missing)} (option or environment)"
    if not str(args.hub).startswith("wss://"):
        return "--hub must be a wss:// URL"
    return None
