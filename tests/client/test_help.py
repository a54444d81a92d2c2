"""CLI conventions, checked on every parser of every ``cordon`` command: every option and
argument has help, every command's help states the exit codes, revocation reasons are
listed wherever a revocation is made, no reStructuredText leaks into help, and
``--version`` is listed. (``cordon desk`` is the desktop client's own.)"""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Iterator

import pytest

from hub.cli import COMMANDS, main

CHECKED = [name for name in COMMANDS if name != "desk"]
REASONS = ("unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
           "cessationOfOperation", "privilegeWithdrawn")


def _parser_of(command: str, monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    seen: list[argparse.ArgumentParser] = []
    real = argparse.ArgumentParser.parse_args

    def spy(self: argparse.ArgumentParser, *a: object, **k: object) -> object:
        seen.append(self)
        return real(self, *a, **k)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", spy)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main([command, "--help"]) == 0
    monkeypatch.undo()
    assert seen, command
    return seen[0]


def _walk(parser: argparse.ArgumentParser, path: str
          ) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, f"{path} {name}")


@pytest.mark.parametrize("command", CHECKED)
def test_every_option_has_help_and_every_help_has_exit_codes(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path, parser in _walk(_parser_of(command, monkeypatch), f"cordon {command}"):
        helpless = [a.option_strings or [a.dest] for a in parser._actions
                    if a.help is None
                    and not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)]
        assert helpless == [], path
        text = parser.format_help()
        assert "Exit codes" in text, path
        assert "``" not in text and ":class:" not in text and ":func:" not in text, path
        if path.endswith("revoke"):
            for reason in REASONS:
                assert reason in text, (path, reason)


def test_version_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--version" in capsys.readouterr().out
