"""Layout: columns sized to their content, an empty Place column hidden, the window's
geometry and panes remembered in the settings (real hub)."""

from __future__ import annotations

from typing import Any

from client.desktop.models import COLUMNS
from client.desktop.settings import DeskSettings, load_settings, save_settings
from client.desktop.window import MainWindow
from tests.desktop import samples
from tests.desktop.conftest import CH, FAST, DeskFactory, open_window
from tests.harness import HubHarness
from tests.pki import Leaf

KEYS = [key for key, _ in COLUMNS]


async def test_columns_fit_their_content_and_layout_is_remembered(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any, tmp_path: Any
) -> None:
    body = samples.seizure(1, category="medical_devices", unit="pcs", qty=1_250_000)
    del body["place"], body["locode"]  # as in demo data: no place at all
    async with hub.client(members["de"], **FAST) as de:
        await de.publish(CH, "seizure", body)
        await de.publish(CH, "warning", samples.warning())
    window = await open_window(hub, desk(members["fr"]), qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 2)
    table = window.table
    assert table.isColumnHidden(KEYS.index("place"))  # nothing to show: no empty column
    assert table.columnWidth(KEYS.index("commodity")) >= 140  # never squeezed away
    for key in ("kind", "quantity", "time", "sender"):
        column = KEYS.index(key)
        needed = max(table.sizeHintForColumn(column),
                     table.horizontalHeader().sectionSizeFromContents(column).width())
        assert table.columnWidth(column) >= needed, key  # nothing truncated

    window.resize(760, 540)
    window.splitter.setSizes([150, 400, 210])
    state = window.layout_state()
    save_settings(DeskSettings(layout=state), tmp_path / "cfg")
    other = MainWindow(window.bridge)
    qtbot.addWidget(other)
    assert other.restore_layout(load_settings(tmp_path / "cfg").layout)
    assert other.height() == window.height() == 540  # not the default 800
    assert other.width() == window.width()
    assert other.splitter.sizes()[0] == window.splitter.sizes()[0]
    assert not other.restore_layout("zz:not-hex")
