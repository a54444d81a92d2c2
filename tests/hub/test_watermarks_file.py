"""data_dir/watermarks.json: round trip, merge, and a corrupt file said out loud."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from hub.storage.watermarks import load_watermarks, save_watermarks


def test_round_trip_and_merge_keep_the_highest_per_epoch(tmp_path: Path) -> None:
    path = tmp_path / "watermarks.json"
    assert load_watermarks(path) == {}
    save_watermarks(path, {"a": ("e1", 5), "b": ("e2", 3)})
    save_watermarks(path, {"a": ("e1", 4)})  # another worker saw less: the file keeps 5
    assert load_watermarks(path) == {"a": ("e1", 5), "b": ("e2", 3)}
    save_watermarks(path, {"a": ("e9", 1)})  # a new epoch replaces the old one
    assert load_watermarks(path)["a"] == ("e9", 1)


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b"[1, 2]"])
def test_a_corrupt_file_is_logged_and_changes_nothing(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes) -> None:
    path = tmp_path / "watermarks.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="cordon.store"):
        assert load_watermarks(path) == {}
    assert str(path) in caplog.text
    assert path.read_bytes() == content  # left for the operator to look at


def test_bad_entries_are_passed_over_by_name(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "watermarks.json"
    path.write_text(json.dumps({"good": ["e", 3], "bad": ["e", "x"], "short": [1]}))
    with caplog.at_level(logging.WARNING, logger="cordon.store"):
        assert load_watermarks(path) == {"good": ("e", 3)}
    assert "'bad'" in caplog.text and "'short'" in caplog.text
