"""The ops listener over real HTTP on 127.0.0.1: /healthz, /readyz (and its failing
checks), strict answers to bad requests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from hub import http as ops_http
from hub.config import ConfigError, load_settings
from hub.http import MAX_REQUEST_BYTES, parse_listen
from tests.harness import HubHarness
from tests.hub.conftest import MakeHub


async def request(port: int, raw: bytes, *, timeout: float = 10.0) -> tuple[int, dict[str, str],
                                                                            bytes]:
    """Send ``raw`` as is; return (status, headers, body); status 0 if the connection was
    closed without an answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        async with asyncio.timeout(timeout):
            data = await reader.read()
    finally:
        writer.close()
    if not data:
        return 0, {}, b""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body


async def get(port: int, path: str) -> tuple[int, dict[str, Any]]:
    status, _, body = await request(
        port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return status, json.loads(body)


async def test_healthz_and_readyz_of_a_ready_hub(h: HubHarness):
    assert h.hub is not None
    port = h.hub.ops.port
    assert port
    status, doc = await get(port, "/healthz")
    assert (status, doc["status"]) == (200, "ok")
    status, doc = await get(port, "/readyz")
    assert status == 200, doc
    assert doc["status"] == "ready"
    assert set(doc["checks"]) == {"serving", "store", "durability", "crl", "registry"}
    assert all(c["ok"] for c in doc["checks"].values())
    assert doc["checks"]["durability"]["detail"] == h.hub.store.durability
    status, headers, body = await request(port, b"HEAD /readyz HTTP/1.1\r\n\r\n")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0
    status, _doc = await get(port, "/readyz?verbose=1")  # a query string is ignored
    assert status == 200


@pytest.mark.parametrize(("sent", "status"), [
    (b"GET /nope HTTP/1.1\r\n\r\n", 404),
    (b"GET / HTTP/1.1\r\n\r\n", 404),
    (b"POST /readyz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
    (b"DELETE /metrics HTTP/1.1\r\n\r\n", 405),
    (b"GET /readyz HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 413),
    (b"GET /readyz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 413),
    (b"GET /readyz HTTP/2.0\r\n\r\n", 505),
    (b"GET /readyz\r\n\r\n", 400),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),  # a TLS hello
    (b"GET /readyz HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    (b"GET /readyz HTTP/1.1\r\nX: " + b"a" * MAX_REQUEST_BYTES + b"\r\n\r\n", 431),
    (b"GET /readyz HTTP/1.1\r\nX: " + b"a" * (4 * MAX_REQUEST_BYTES), 431),  # never ends
])
async def test_bad_requests_get_clear_statuses(h: HubHarness, sent: bytes, status: int):
    assert h.hub is not None
    got, headers, body = await request(h.hub.ops.port, sent)
    assert got == status
    assert headers["connection"] == "close"
    assert "error" in json.loads(body)
    if status == 405:
        assert headers["allow"] == "GET, HEAD"


async def test_a_silent_client_is_dropped(h: HubHarness, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(ops_http, "REQUEST_TIMEOUT_S", 0.3)
    assert h.hub is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", h.hub.ops.port)
    writer.write(b"GET /readyz HTTP/1.1\r\n")  # and nothing more
    async with asyncio.timeout(5):
        assert await reader.read() == b""  # closed, without an answer
    writer.close()


async def test_connections_beyond_the_bound_are_closed(h: HubHarness,
                                                        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(ops_http, "MAX_CONNECTIONS", 2)
    assert h.hub is not None
    port = h.hub.ops.port
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
    await asyncio.sleep(0.1)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    async with asyncio.timeout(5):
        assert await reader.read() == b""
    writer.close()
    for _r, w in held:
        w.close()
    await asyncio.sleep(0.1)
    status, _ = await get(port, "/healthz")  # served again once they are gone
    assert status == 200


async def test_http_listen_off_and_parse(make_hub: MakeHub):
    h = await make_hub(http_listen=None)
    assert h.hub is not None and h.hub.ops.server is None and h.hub.ops.port == 0
    assert parse_listen("") is None and parse_listen("off") is None
    assert parse_listen("[::1]:9090") == ("::1", 9090)
    assert parse_listen("0.0.0.0:0") == ("0.0.0.0", 0)
    for bad in ("9090", "host:", "host:port", "h:70000", "[::1:9"):
        with pytest.raises(ValueError):
            parse_listen(bad)
    assert load_settings(env={"CORDON_HTTP_LISTEN": "off"}).http_listen is None
    assert load_settings(env={"CORDON_HTTP_LISTEN": ""}).http_listen is None
    assert load_settings(env={}).http_listen == "127.0.0.1:9090"
    with pytest.raises(ConfigError, match="http_listen"):
        load_settings(env={"CORDON_HTTP_LISTEN": "nonsense"})


async def test_a_taken_port_does_not_stop_the_hub(make_hub: MakeHub):
    first = await make_hub()
    assert first.hub is not None
    second = await make_hub(http_listen=f"127.0.0.1:{first.hub.ops.port}")
    assert second.hub is not None and second.hub.ops.server is None and second.hub.ready


async def _wait_status(port: int, want: int, *, timeout: float = 30.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status, doc = await get(port, "/readyz")
        if status == want:
            return doc
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"/readyz stayed {status}: {doc}")
        await asyncio.sleep(0.2)


async def test_readyz_fails_while_the_store_is_frozen_or_dead_and_recovers(tmp_path: Path):
    """A private embedded store (supervised by the hub): SIGSTOP it -> /readyz 503 naming
    the store check within the probe's deadline; SIGCONT -> 200. Then kill -9 it: 503 until
    supervision restarted it, then 200 again."""
    async with HubHarness(tmp_path, None) as h:
        assert h.hub is not None and h.hub.embedded is not None
        port = h.hub.ops.port
        await _wait_status(port, 200)
        pid = h.hub.embedded.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            doc = await _wait_status(port, 503, timeout=15)
            assert doc["failed"] == "store"
            assert doc["checks"]["store"]["ok"] is False
            assert doc["checks"]["store"]["detail"] == "store did not answer in time"
            assert doc["checks"]["crl"]["ok"] is True  # the others are still judged
        finally:
            os.kill(pid, signal.SIGCONT)
        await _wait_status(port, 200)
        os.kill(pid, signal.SIGKILL)
        doc = await _wait_status(port, 503, timeout=15)
        assert doc["failed"] in ("serving", "store")
        await _wait_status(port, 200, timeout=60)
        assert h.hub.embedded.pid != pid  # supervision started a new store


async def test_readyz_names_a_crl_past_its_next_update(h: HubHarness):
    """The CRL file TLS runs with, replaced by one (signed by the CA) whose nextUpdate has
    passed: /readyz 503 naming the crl check."""
    assert h.hub is not None
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key

    ca = x509.load_pem_x509_certificate(h.pki.ca.read_bytes())
    key: Any = load_pem_private_key((h.pki.dir / "ca.key").read_bytes(), None)
    now = datetime.now(UTC)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
           .last_update(now - timedelta(days=8)).next_update(now - timedelta(days=1))
           .sign(key, None))
    h.hub.tls.crl_path.write_bytes(crl.public_bytes(Encoding.PEM))
    status, doc = await get(h.hub.ops.port, "/readyz")
    assert status == 503
    assert doc["failed"] == "crl" and doc["checks"]["crl"]["detail"] == "CRL past its nextUpdate"


async def test_readyz_names_a_stale_registry_sync(h: HubHarness):
    assert h.hub is not None
    h.hub.casync.synced_at = None
    status, doc = await get(h.hub.ops.port, "/readyz")
    assert (status, doc["failed"]) == (503, "registry")
    assert doc["checks"]["registry"]["detail"] == "never synced"
    await h.sync()
    status, doc = await get(h.hub.ops.port, "/readyz")
    assert status == 200, doc
