"""The conformance vectors (tests/vectors/) against the SDK: server frames through the
SDK's own decoder (a refused one is a ProtocolViolation), signed alerts through
``Client.verify`` with the vectors' CA and certificates (no hub needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from client._conn import _decode
from client.sdk import Client, ProtocolViolation, check_chains
from tests.vectors.make import HERE, _meaning

VECTORS: dict[str, Any] = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))
SERVER = [v for v in VECTORS["frames"] if v["direction"] == "server"]


@pytest.mark.parametrize("vector", SERVER, ids=lambda v: v["name"])
def test_server_frame_vector(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    if vector["valid"]:
        assert _meaning(_decode(data)) == vector["frame"]
    else:
        with pytest.raises(ProtocolViolation):
            _decode(data)


@pytest.mark.parametrize("vector", VECTORS["alerts"], ids=lambda v: v["name"])
async def test_alert_vector(vector: dict[str, Any]) -> None:
    client = Client("wss://127.0.0.1:9/", cert=HERE / "fr-ops.pem", key=HERE / "fr-ops.key",
                    ca=HERE / VECTORS["ca"], reconnect=False)
    for kid, name in VECTORS["certs"].items():  # as if fetched from the hub's directory
        client._certs[kid] = x509.load_pem_x509_certificate(
            (HERE / name).read_bytes()).public_bytes(Encoding.DER)
    received = await client.verify(vector["channel"], 1, bytes.fromhex(vector["alert_hex"]),
                                   bytes.fromhex(vector["sig_hex"]))
    assert received.verified is vector["valid"]
    if vector["valid"]:
        assert received.envelope is not None and received.envelope.id == vector["envelope"]["id"]
    else:
        assert received.error is not None
        assert (type(received.error).__name__, received.error.code) == (vector["error"],
                                                                        vector["code"])


@pytest.mark.parametrize("vector", VECTORS["chains"], ids=lambda v: v["name"])
async def test_chain_vector(vector: dict[str, Any]) -> None:
    """The SDK's readers (check_chains, as history and subscriptions use it)."""
    client = Client("wss://127.0.0.1:9/", cert=HERE / "fr-ops.pem", key=HERE / "fr-ops.key",
                    ca=HERE / VECTORS["ca"], reconnect=False)
    by_name = {a["name"]: a for a in VECTORS["alerts"]}
    items = []
    for offset, name in enumerate(vector["alerts"], 1):
        a = by_name[name]
        items.append(await client.verify(a["channel"], offset,
                                         bytes.fromhex(a["alert_hex"]),
                                         bytes.fromhex(a["sig_hex"])))
    assert all(r.verified for r in items)
    checked = check_chains(items, complete=vector["complete"])
    assert [r.chain for r in checked] == vector["states"]
    assert [r.chain_broken for r in checked] == [s != "ok" for s in vector["states"]]
