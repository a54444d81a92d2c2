"""Fixtures several tests/client files use (a file may still define its own of the same
name, which then wins for that file):

- ``pki``: a throwaway CA, the hub's server certificate (tests/pki.py);
- ``fake_hub``: a :class:`~tests.client.fakehub.FakeHub` on that PKI with the channel
  ``CH`` (the SDK and CLI tests call it ``hub``; ``hub`` elsewhere is tests/conftest.py's
  real hub);
- ``h``: a real hub (:class:`~tests.harness.HubHarness`) on the session's Valkey, wiped;
- ``clean_env``: no ``CORDON_HUB``/``CERT``/``KEY``/``CA``/``SERVER_NAME`` from the
  developer's shell (``pytestmark = pytest.mark.usefixtures("clean_env")`` in CLI tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.client.common import CH
from tests.client.fakehub import FakeHub
from tests.harness import HubHarness
from tests.pki import Pki, make_pki


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CORDON_HUB", "CORDON_CERT", "CORDON_KEY", "CORDON_CA", "CORDON_SERVER_NAME"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path)


@pytest.fixture
async def fake_hub(pki: Pki) -> AsyncIterator[FakeHub]:
    async with FakeHub(pki) as fake:
        fake.add_channel(CH)
        yield fake


@pytest.fixture
def hub_options() -> dict[str, Any]:
    """Settings of the ``h`` hub; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
async def h(tmp_path: Path, valkey_url: str, raw: Any,
            hub_options: dict[str, Any]) -> AsyncIterator[HubHarness]:
    await raw.flushdb()
    async with HubHarness(tmp_path, valkey_url, **hub_options) as harness:
        yield harness
