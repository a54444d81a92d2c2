"""``cordon ca list | head``: a reader that goes away ends the command quietly (exit 0, no
"Broken pipe" message, no traceback), like ``cordon tail``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from certs.cli import main


def run_into_closed_pipe(*argv: str) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m certs.cli ARGV`` with stdout a pipe nobody reads any more."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "certs.cli", *argv], stdout=write_end,
                              stderr=subprocess.PIPE, timeout=60, check=False)
    finally:
        os.close(write_end)


def test_list_into_a_closed_pipe_exits_0_quietly(tmp_path: Path) -> None:
    d = tmp_path / "ca"
    assert main(["init", "--dir", str(d), "--name", "Test CA"]) == 0
    for i in range(3):
        assert main(["issue", "--dir", str(d), "--member", "fr", "--name", f"p{i}"]) == 0
    for extra in ([], ["--json"]):
        done = run_into_closed_pipe("list", "--dir", str(d), *extra)
        assert done.returncode == 0, done.stderr
        assert done.stderr == b""
