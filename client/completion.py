"""Shell completion for ``cordon``, for bash and zsh, from the commands' own parsers.

``cordon completion bash`` (or ``zsh``) prints a script to source (e.g. from
``~/.bashrc``: ``eval "$(cordon completion bash)"``). The script asks
``cordon --complete INDEX WORD...`` for the candidates: the sub-commands, options and
option values (``choices``) the argparse parsers declare at that point, so completion
never drifts from the commands. Files are completed by the shell itself.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections.abc import Callable

__all__ = ["SCRIPTS", "candidates", "main"]

_BASH = r"""# cordon shell completion (bash): eval "$(cordon completion bash)"
_cordon_complete() {
    local IFS=$'\n'
    COMPREPLY=($(cordon --complete "$COMP_CWORD" "${COMP_WORDS[@]}" 2>/dev/null))
}
complete -o default -F _cordon_complete cordon
"""
_ZSH = "# cordon shell completion (zsh): eval \"$(cordon completion zsh)\"\n" \
       "autoload -U +X bashcompinit && bashcompinit\n" + _BASH.split("\n", 1)[1]
SCRIPTS = {"bash": _BASH, "zsh": _ZSH}


def _parser_of(entry: Callable[[list[str]], int]) -> argparse.ArgumentParser | None:
    """The parser a command builds, caught as it parses ``--help`` (nothing is run)."""
    seen: list[argparse.ArgumentParser] = []
    real = argparse.ArgumentParser.parse_args

    def spy(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> object:
        seen.append(self)
        raise SystemExit(0)

    argparse.ArgumentParser.parse_args = spy  # type: ignore[method-assign,assignment]
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(SystemExit):
            entry(["--help"])
    finally:
        argparse.ArgumentParser.parse_args = real  # type: ignore[method-assign]
    return seen[0] if seen else None


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def candidates(words: list[str], commands: dict[str, Callable[[list[str]], int]]) -> list[str]:
    """What may come at the last of ``words`` (the word being typed, maybe empty), after
    the others (``words[0]`` is ``cordon``)."""
    typed, before = words[-1], words[1:-1]
    if not before:
        return sorted(c for c in [*commands, "--help", "--version"] if c.startswith(typed))
    entry = commands.get(before[0])
    parser = _parser_of(entry) if entry is not None else None
    if parser is None:
        return []
    rest = before[1:]
    while True:
        subs = _subparsers(parser)
        positional = [w for w in rest if not w.startswith("-")]
        if subs and positional and positional[0] in subs:
            parser = subs[positional[0]]
            rest = rest[rest.index(positional[0]) + 1:]
            continue
        break
    options = {o: a for a in parser._actions for o in a.option_strings}
    if rest and rest[-1] in options:
        action = options[rest[-1]]
        if action.nargs != 0:  # the option's value: its choices, else the shell's files
            return sorted(str(c) for c in (action.choices or ()) if str(c).startswith(typed))
    if typed.startswith("-"):
        return sorted(o for o in options if o.startswith(typed) and o.startswith("--"))
    subs = _subparsers(parser)
    if subs:
        return sorted(s for s in subs if s.startswith(typed))
    return []


def main(argv: list[str] | None = None) -> int:
    """``cordon completion bash|zsh``: print the script to source."""
    parser = argparse.ArgumentParser(
        prog="cordon completion",
        description="Print the shell completion script for cordon (bash or zsh); load it "
        "with: eval \"$(cordon completion bash)\"",
        epilog="Exit codes: 0 printed, 2 usage.")
    parser.add_argument("shell", choices=sorted(SCRIPTS), help="bash or zsh")
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    sys.stdout.write(SCRIPTS[args.shell])
    return 0
