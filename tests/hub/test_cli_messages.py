"""``cordon`` itself: ``--version`` from the package metadata, listed in help; and
``cordon serve --redis`` to a dead store names the store's address, never its password."""

from __future__ import annotations

import socket
from importlib.metadata import version
from pathlib import Path

import pytest

from hub.cli import EXIT_OK, EXIT_REFUSED, main, serve_main
from tests.pki import make_pki


def test_version_from_package_metadata_and_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    for flag in ("--version", "-V"):
        assert main([flag]) == EXIT_OK
        assert capsys.readouterr().out.strip() == f"cordon {version('cordon')}"
    assert main(["--help"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "--version" in out and "Exit codes" in out


def test_serve_dead_store_names_its_address_not_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = make_pki(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"redis://:hunter2secret@127.0.0.1:{port}/0"
    argv = ["--ca-dir", str(pki.dir), "--server-cert", str(pki.server.cert),
            "--server-key", str(pki.server.key), "--data-dir", str(tmp_path / "hub"),
            "--port", "0", "--redis", url]
    assert serve_main(argv) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "hunter2secret" not in err
    assert "is it running" in err
