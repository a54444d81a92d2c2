"""Desktop tests run headless: the offscreen Qt platform, set before Qt is imported.

Fixtures: ``members`` (fr/ops and de/zoll contribute to ``stop-iii``, it/gdf
reads it) on the real ``hub``; ``desk`` builds a :class:`HubBridge` for a
member with a cache in the test's tmp dir; ``Recorder`` collects signals.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from client.desktop.bridge import ONLINE, PAGE, HubBridge
from client.desktop.cache import Cache
from client.desktop.verify import LocalVerifier
from client.desktop.window import MainWindow
from tests.harness import HubHarness
from tests.pki import Leaf

CH = "stop-iii"
FAST = {"backoff": 0.02, "max_backoff": 0.2, "request_timeout": 10}


@pytest.fixture(autouse=True)
def _user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real user's config or data directories."""
    monkeypatch.setenv("CORDON_DESK_CONFIG", str(tmp_path / "config"))
    monkeypatch.setenv("CORDON_DESK_DATA", str(tmp_path / "data"))


@pytest.fixture(autouse=True)
def _discard_on_teardown(monkeypatch: pytest.MonkeyPatch) -> None:
    """A compose form left changed by a test is closed by pytest-qt after the test: answer
    its "Discard?" question (a real modal box would wait forever offscreen)."""
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question",
                        lambda *_a, **_k: QMessageBox.StandardButton.Discard)


@pytest.fixture
async def members(hub: HubHarness) -> dict[str, Leaf]:
    leaves = {m: await hub.member(m, n) for m, n in (("fr", "ops"), ("de", "zoll"), ("it", "gdf"))}
    await hub.channel(
        CH, {"fr": "contributor", "de": "contributor", "it": "reader"}, title="Operation STOP III"
    )
    return leaves


class Recorder:
    """Collects a bridge's signals as tuples, by signal name."""

    def __init__(self, bridge: HubBridge) -> None:
        self.events: dict[str, list[tuple[Any, ...]]] = {}
        for name in ("statusChanged", "channelsChanged", "alertsAdded", "olderLoaded",
                     "published", "publishFailed", "notice"):
            getattr(bridge, name).connect(self._recorder(name))

    def _recorder(self, name: str) -> Callable[..., None]:
        def record(*args: Any) -> None:
            self.events.setdefault(name, []).append(args)
        return record

    def get(self, name: str) -> list[tuple[Any, ...]]:
        return self.events.get(name, [])

    def offsets(self, channel: str = CH) -> list[int]:
        return [row.offset for ch, rows, _ in self.get("alertsAdded") if ch == channel
                for row in rows]


DeskFactory = Callable[..., HubBridge]


@pytest.fixture
async def desk(hub: HubHarness, tmp_path: Path, qapp: Any) -> AsyncIterator[DeskFactory]:
    """``desk(leaf, cache_name="x")`` -> a HubBridge (stopped after the test)."""
    made: list[HubBridge] = []

    def make(leaf: Leaf, cache_name: str = "cache", page: int = PAGE,
             **options: Any) -> HubBridge:
        cache = Cache(tmp_path / f"{cache_name}.sqlite3")
        cas = x509.load_pem_x509_certificates(Path(hub.pki.ca).read_bytes())
        client = hub.client(leaf, **{**FAST, **options})
        bridge = HubBridge(client, cache, LocalVerifier(cas, cache.certs()), page=page)
        made.append(bridge)
        return bridge

    yield make
    for bridge in made:
        await bridge.stop()
        bridge.cache.close()


async def publish_operation(hub: HubHarness, op: Any) -> dict[str, Leaf]:
    """Enrol ``op``'s members (its coordinator's member as coordinator), open its channel and
    publish every planned alert through the real hub as ``cordon demo`` does. Returns the
    leaf of each sending principal."""
    from hub.demo import _send_all

    coordinator_member = op.coordinator.partition("/")[0]
    roles = {m: ("coordinator" if m == coordinator_member else "contributor")
             for m in op.members}
    leaves: dict[str, Leaf] = {}
    for principal in dict.fromkeys([op.coordinator, *op.senders]):
        member, _, name = principal.partition("/")
        leaves[principal] = hub.pki.member(member, name)
    await hub.sync()
    await hub.channel(op.channel, roles, title=op.title)
    clients = {p: hub.client(leaf, **FAST) for p, leaf in leaves.items()}
    try:
        await _send_all(op, clients, 0)
    finally:
        for client in clients.values():
            await client.close()
    return leaves


async def open_window(hub: HubHarness, bridge: HubBridge, qtbot: Any, *, channel: str = CH,
                      timeout: float = 10) -> MainWindow:
    """The desk's main window on ``bridge``, shown, started, once online on ``channel``."""
    window = MainWindow(bridge)
    qtbot.addWidget(window)
    window.show()
    bridge.load_cached()
    bridge.start()
    await hub.wait_for(lambda: bridge.state == ONLINE and window.channel == channel,
                       timeout=timeout)
    return window
