"""Shell completion: ``cordon completion bash|zsh`` and the candidates it asks ``cordon
--complete`` for, read from the commands' own parsers; the bash script run by real bash."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hub.cli import main


def complete(capsys: pytest.CaptureFixture[str], *words: str) -> list[str]:
    capsys.readouterr()
    assert main(["--complete", str(len(words) - 1), *words]) == 0
    return capsys.readouterr().out.split()


def test_candidates_come_from_the_parsers(capsys: pytest.CaptureFixture[str]) -> None:
    assert "admin" in complete(capsys, "cordon", "")
    assert complete(capsys, "cordon", "pu") == ["publish"]
    assert complete(capsys, "cordon", "admin", "") == ["apply", "audit", "cert", "channel",
                                                       "member", "principal", "role", "status"]
    assert complete(capsys, "cordon", "admin", "principal", "") == ["add", "issue", "list",
                                                                    "revoke", "show"]
    assert "keyCompromise" in complete(capsys, "cordon", "admin", "principal", "revoke",
                                       "fr/ops", "--reason", "")
    assert complete(capsys, "cordon", "export", "stop-iii", "--format", "s") == ["stix"]
    assert "--include-restricted" in complete(capsys, "cordon", "tail", "--")
    assert complete(capsys, "cordon", "tail", "--state", "") == []  # files: the shell's


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "complete -o default -F _cordon_complete cordon" in script
    assert ("bashcompinit" in script) is (shell == "zsh")


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completes_with_the_script(tmp_path: Path) -> None:
    script = subprocess.run([sys.executable, "-m", "hub.cli", "completion", "bash"],
                            capture_output=True, text=True, check=True).stdout
    cordon = Path(sys.executable).parent / "cordon"
    assert cordon.exists()
    test = (script + '\nCOMP_WORDS=(cordon admin ro); COMP_CWORD=2; _cordon_complete; '
            'printf "%s\\n" "${COMPREPLY[@]}"\n')
    env = {**os.environ, "PATH": f"{cordon.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "-c", test], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["role"]
