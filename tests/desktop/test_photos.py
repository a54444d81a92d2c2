"""Photos: attached in the compose form, uploaded then referenced by the signed alert,
shown to another member as a thumbnail and opened full size (cached for offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QImage

from client.desktop.window import MainWindow
from client.sdk import Client
from tests.desktop.conftest import CH, DeskFactory, open_window
from tests.desktop.test_window import fill
from tests.harness import HubHarness
from tests.pki import Leaf

pytestmark = pytest.mark.skipif(not hasattr(Client, "put_attachment"),
                                reason="the SDK has no attachments")


def png(width: int = 320, height: int = 200) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#1a73e8"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")  # type: ignore[call-overload]
    return bytes(data.data())


async def test_photo_goes_from_compose_to_another_members_thumbnail(
    hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any, tmp_path: Path
) -> None:
    sender = await open_window(hub, desk(members["fr"], cache_name="fr"), qtbot)
    photo = tmp_path / "pens.png"
    photo.write_bytes(png())
    dialog = sender.open_compose("warning")
    fill(dialog, "summary", "Insulin pens in toy parcels")
    fill(dialog, "category", "medicines")
    fill(dialog, "handling", "H0")
    dialog.attach_photo(photo)
    assert dialog.send.isEnabled()
    qtbot.mouseClick(dialog.send, Qt.MouseButton.LeftButton)
    await hub.wait_for(lambda: "offset 1" in dialog.status.text())

    receiver: MainWindow = await open_window(hub, desk(members["de"], cache_name="de"), qtbot)
    await hub.wait_for(lambda: receiver.proxy.rowCount() == 1)
    row = receiver.proxy.visible_rows()[0]
    assert row.verified and len(row.body["attachments"]) == 1
    sha = row.body["attachments"][0]["sha256"]
    receiver.select_offset(1)
    button = receiver.detail._buttons[sha]
    await hub.wait_for(lambda: not button.icon().isNull())
    full = receiver.detail.open_full(sha)
    assert full is not None and full.isVisible()
    assert receiver.bridge.cache.attachment(sha) is not None  # opens offline next time
    assert row.channel == CH
