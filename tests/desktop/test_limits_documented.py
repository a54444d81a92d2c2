"""The desk's own limits have rows in the README's limits table, with their values."""

from __future__ import annotations

from pathlib import Path

from client.desktop import bridge, setup

README = (Path(__file__).parents[2] / "README.md").read_text()


def _row(name: str) -> str:
    rows = [line for line in README.splitlines() if line.startswith("| desk:") and name in line]
    assert len(rows) == 1, f"no (or several) README limits rows for {name}"
    return rows[0]


def test_the_desk_limits_have_readme_rows_with_their_values() -> None:
    assert f"| {setup._PROBE_TIMEOUT_S:g} s," in _row("_PROBE_TIMEOUT_S")
    assert f"| {bridge.PAGE} alerts; catch-up stores and shows {bridge._BATCH} at a time" \
        in _row("`PAGE`")
    delays = ", ".join(f"{d:g}" for d in bridge._RETRY_S[:-1])
    assert f"| {delays}, then every {bridge._RETRY_S[-1]:g} s;" in _row("_RETRY_S")
