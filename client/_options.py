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

__all__ = ["add_connection_options"]


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
