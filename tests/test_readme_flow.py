"""The README's "Running a hub for real" commands, run as written (real processes).

The shell blocks are read from README.md itself, so the README cannot drift from
what works. Only two things are changed for a test: ``var/`` lives in a
temporary folder (the commands run there), and port 8443 becomes a free port.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(180)


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Running a hub for real", 1)[1].split("From Python:", 1)[0]
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line:
                commands.append(line)
    return commands


def readme_python() -> str:
    """The SDK example that follows the shell blocks ("From Python:")."""
    text = (ROOT / "README.md").read_text()
    after = text.split("### Running a hub for real", 1)[1].split("From Python", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_line(path: Path, needle: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while needle not in path.read_text():
        assert proc.poll() is None, path.read_text()
        assert time.monotonic() < deadline, path.read_text()
        time.sleep(0.05)


def test_readme_has_the_flow():
    commands = readme_commands()
    assert commands[0].startswith("cordon ca init")
    assert any(c.startswith("cordon serve") and c.endswith("&") for c in commands)
    assert any("cordon publish" in c for c in commands)
    assert commands[-1].startswith("cordon tail")
    # the recommended enrolment: the member's own key, certified from its request
    keygen = next(i for i, c in enumerate(commands) if c.startswith("cordon key new"))
    certify = next(i for i, c in enumerate(commands)
                   if c.startswith("cordon admin principal add"))
    assert keygen < certify and "--csr" in commands[certify]
    assert not any("--generate-key" in c for c in commands)


def test_readme_commands_work_as_written(tmp_path: Path):
    port = free_port()
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for key in [k for k in env if k.startswith("CORDON_")]:
        del env[key]
    hub: subprocess.Popen[str] | None = None
    outputs: list[str] = []
    stack = contextlib.ExitStack()
    try:
        for command in readme_commands():
            # the hub's default port is 8443; the test gives it a free one instead
            command = command.replace("8443", str(port))
            if command.startswith("cordon serve"):
                command = command.replace(" &", f" --port {port} &")
            if command.startswith("export "):
                for name, value in re.findall(r"(\w+)=(\S+)", command):
                    env[name] = value
                continue
            if command.endswith("&"):
                log = stack.enter_context((tmp_path / "hub.log").open("w"))
                hub = subprocess.Popen(
                    "exec " + command[:-1].strip(), shell=True, cwd=tmp_path, env=env, stdout=log,
                    stderr=subprocess.STDOUT, text=True, start_new_session=True,
                )
                wait_for_line(tmp_path / "hub.log", f"listening on wss://127.0.0.1:{port}", hub)
                continue
            done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, text=True,
                                  capture_output=True, timeout=60, check=False)
            assert done.returncode == 0, (command, done.stdout, done.stderr)
            outputs.append(done.stdout)
        # the SDK snippet, as written, against the same hub with the same credentials
        snippet = readme_python().replace("8443", str(port))
        sdk = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, env=env, text=True,
                             capture_output=True, timeout=60, check=False)
        assert sdk.returncode == 0, (sdk.stdout, sdk.stderr)
        assert sdk.stdout.splitlines() == ["1 fr/ops True", "2 fr/ops True"]
    finally:
        if hub is not None:
            os.killpg(hub.pid, signal.SIGTERM)
            try:
                hub.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(hub.pid, signal.SIGKILL)
                hub.wait()
        stack.close()
    assert hub is not None
    assert hub.returncode == 0  # SIGTERM stops the hub cleanly
    assert (tmp_path / "fr-creds" / "fr-ops.key").stat().st_mode & 0o777 == 0o600
    # the key the member made is the one certified: the hub never saw a private key
    creds = tmp_path / "fr-creds"
    cert = x509.load_pem_x509_certificate((creds / "fr-ops.pem").read_bytes())
    member_key = load_pem_private_key((creds / "fr-ops.key").read_bytes(), None)
    assert cert.public_key() == member_key.public_key()
    assert not list((tmp_path / "var" / "hub").rglob("*.key"))
    published = json.loads(outputs[-2])
    tailed = json.loads(outputs[-1])
    assert published["offset"] == 1 and published["dup"] is False
    assert tailed["offset"] == 1 and tailed["from"] == "fr/ops" and tailed["verified"] is True
    assert tailed["body"]["text"] == "Briefing at 10:00 UTC"
    state = json.loads((tmp_path / "fr-stop-iii.json").read_text())
    assert state["offset"] == 1 and state["epoch"] == published["epoch"]
