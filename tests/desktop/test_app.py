"""``cordon desk`` end to end: a real process on qasync, saved settings, a real hub."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

from client.desktop.settings import DeskSettings, save_settings
from tests.desktop import samples
from tests.desktop.conftest import CH, FAST
from tests.harness import HubHarness
from tests.pki import Leaf


async def test_cordon_desk_process_follows_the_channel_into_its_cache(
    hub: HubHarness, members: dict[str, Leaf], tmp_path: Path
) -> None:
    async with hub.client(members["de"], **FAST) as de:
        for i in range(3):
            await de.publish(CH, "seizure", samples.seizure(i))
    fr = members["fr"]
    config, data = tmp_path / "desk-config", tmp_path / "desk-data"
    save_settings(DeskSettings(hub_url=hub.url, ca=str(hub.pki.ca), cert=str(fr.cert),
                               key=str(fr.key), language="fr"), config)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = "from hub.cli import main; raise SystemExit(main())"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", run, "desk", "--config-dir", str(config),
        "--data-dir", str(data), "--quit-after", "4", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    caches = list(data.glob("cache-*.sqlite3"))
    assert len(caches) == 1
    with sqlite3.connect(caches[0]) as db:
        assert db.execute("SELECT off FROM alerts ORDER BY off").fetchall() == [(1,), (2,), (3,)]
        assert db.execute("SELECT cursor FROM channels").fetchone() == (3,)
