"""``cordon serve --workers 2``: each worker serves its own /metrics and /readyz on the
ops port + its index (real processes, real HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.hub.test_ops_http import request
from tests.hub.test_workers import workers  # noqa: F401  (the fixture)
from tests.serve import Serve


def _free_pair() -> int:
    """A port p such that p and p + 1 are free now (bounded tries)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            base = a.getsockname()[1]
            if base >= 65535:
                continue
            with socket.socket() as b, contextlib.suppress(OSError):
                b.bind(("127.0.0.1", base + 1))
                return int(base)
    raise AssertionError("no two free consecutive ports")


async def test_each_worker_serves_its_own_metrics_on_base_port_plus_index(
        workers: Serve, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    base = _free_pair()
    monkeypatch.setenv("CORDON_HTTP_LISTEN", f"127.0.0.1:{base}")
    await workers.start()
    nodes = set()
    for index in (0, 1):
        port = base + index
        for _ in range(100):  # ready once its first heartbeat and probe ran
            status, _, body = await request(port, b"GET /readyz HTTP/1.1\r\n\r\n")
            if status == 200:
                break
            await asyncio.sleep(0.1)
        assert status == 200, body
        status, _, body = await request(port, b"GET /metrics HTTP/1.1\r\n\r\n")
        assert status == 200
        info = [s for fam in text_string_to_metric_families(body.decode())
                for s in fam.samples if s.name == "cordon_info"]
        assert len(info) == 1
        node = info[0].labels["node"]
        assert node.endswith(f"/w{index}")
        assert int(node.split(":")[1].split("/")[0]) in workers.pids
        nodes.add(node)
        doc = json.loads((await request(port, b"GET /healthz HTTP/1.1\r\n\r\n"))[2])
        assert doc["node"] == node
    assert len(nodes) == 2
