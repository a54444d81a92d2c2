"""Local data is private: the cache (every handling-coded record), its SQLite side files,
the settings and the desk's exports are 0600, their folders 0700 — whatever the umask."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from client.desktop.cache import Cache
from client.desktop.settings import DeskSettings, save_settings
from tests.desktop import samples
from tests.desktop.conftest import CH, FAST, DeskFactory, Recorder
from tests.harness import HubHarness
from tests.pki import Leaf


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """A permissive umask, as on many desktops: the desk must not rely on it."""
    old = os.umask(0o002)
    yield
    os.umask(old)


async def test_cache_files_and_folder_are_private(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, tmp_path: Path, qapp: Any
) -> None:
    async with hub.client(members["de"], **FAST) as de:
        await de.publish(CH, "seizure", samples.seizure(1))
    data = tmp_path / "data" / "cordon"
    bridge = desk(members["fr"], cache_name="unused")
    bridge.cache.close()
    bridge.cache = Cache(data / "cache.sqlite3")
    rec = Recorder(bridge)
    bridge.start()
    await hub.wait_for(lambda: rec.offsets() == [1])
    bridge.cache.add_attachment("ab" * 32, "image/png", b"photo")
    files = [data / "cache.sqlite3", data / "cache.sqlite3-wal", data / "cache.sqlite3-shm"]
    assert all(f.exists() for f in files)
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    assert mode(data) == 0o700


def test_an_older_open_cache_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir(mode=0o755)
    path = folder / "cache.sqlite3"
    Cache(path).close()
    for f in (folder, path):
        os.chmod(f, 0o755 if f.is_dir() else 0o644)
    Cache(path).close()
    assert mode(path) == 0o600 and mode(folder) == 0o700


def test_settings_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "config" / "cordon"
    path = save_settings(DeskSettings(hub_url="wss://hub.example:8443/"), folder)
    assert mode(path) == 0o600 and mode(folder) == 0o700
