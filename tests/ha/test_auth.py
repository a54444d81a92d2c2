"""A Sentinel deployment with passwords: the data nodes' (requirepass, masterauth) and the
sentinels' own. The store connects only with both, checks the replicas' configuration
with the data nodes' password, and acknowledges with ack_replicas = 1.

(TLS to the store, with these passwords, is tested in tests/ha/test_store_tls.py against
a TLS-capable server: the embedded wheel's valkey-server is built without TLS.)
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hub.hastore import LocalSentinelStore
from hub.protocol.errors import Unavailable
from hub.storage import AppendRequest, Store

pytestmark = pytest.mark.timeout(90)


async def test_a_deployment_with_passwords(tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    async with LocalSentinelStore(tmp_path / "ha", password="data-secret",
                                  sentinel_password="sentinel-secret") as deployment:
        sentinels = deployment.sentinel_addresses
        with pytest.raises(Unavailable):  # the sentinels refuse to name the primary
            await Store.connect(None, sentinels=sentinels, password="data-secret",
                                timeout_s=2.0)
        with pytest.raises(Unavailable):  # the primary refuses the connection
            await Store.connect(None, sentinels=sentinels, sentinel_password="sentinel-secret",
                                timeout_s=2.0)
        caplog.set_level(logging.WARNING, "cordon.storage")
        store = await Store.connect(None, sentinels=sentinels, password="data-secret",
                                    sentinel_password="sentinel-secret", ack_replicas=1)
        try:
            assert store.durability == "waitaof" and "WAITAOF 1 1" in store.durability_detail
            assert "cannot check replica" not in caplog.text  # asked with the password
            await store.create_channel("c")
            [ok] = await store.append_batch([AppendRequest("c", "a", b"x", b"s" * 64, "k", 1)])
            assert not isinstance(ok, Exception) and ok.off == 1
        finally:
            await store.close()
