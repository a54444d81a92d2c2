"""For the fault tests: ``cordon serve`` as a child process (:class:`tests.serve.Serve`,
re-exported here), and which worker holds which client connection (from /proc)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from client.sdk import Client
from tests.serve import ROOT, Serve

__all__ = ["ROOT", "Serve", "client_port", "worker_of_client_ports"]


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        for fd in os.listdir(fd_dir):
            with contextlib.suppress(OSError):
                target = os.readlink(fd_dir / fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


def worker_of_client_ports(pids: list[int], server_port: int) -> dict[int, int]:
    """Client port -> pid of the worker holding the server end of that connection."""
    owner = {inode: pid for pid in pids for inode in _socket_inodes(pid)}
    out: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            next(fh)
            for line in fh:
                cols = line.split()
                local_port = int(cols[1].rsplit(":", 1)[1], 16)
                remote_port = int(cols[2].rsplit(":", 1)[1], 16)
                inode = int(cols[9])
                if local_port == server_port and inode in owner:
                    out[remote_port] = owner[inode]
    return out


def client_port(client: Client) -> int:
    """The local port of an open SDK client's connection."""
    conn: Any = client._conn
    return int(conn.ws.local_address[1])
