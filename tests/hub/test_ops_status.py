"""``cordon admin status`` (the ``status`` admin operation) end to end: the real CLI
against a real hub, from the same figures as /metrics; audited like every admin read."""

from __future__ import annotations

import asyncio

import pytest

from hub.protocol import frames as f
from tests.client.test_admin_cli import Cli, table
from tests.harness import HubHarness
from tests.hub.test_ops_metrics import scrape, value
from tests.hub.wire import CH, Raw, Signer, cast


@pytest.fixture
async def cli(h: HubHarness, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(h, await h.admin_leaf("alice"), capsys)


async def test_status_shows_nodes_store_connections_channels_and_refusals(
        h: HubHarness, cli: Cli):
    assert h.hub is not None
    leaves = await cast(h)
    fr, it = leaves["fr"], leaves["it"]
    async with Raw.open(h, fr) as writer, Raw.open(h, it) as reader:
        sub = await reader.request(f.Subscribe(rid=reader.rid(), ch=CH, since=0))
        assert isinstance(sub, f.Subscribed)
        for _ in range(2):
            ack = await writer.publish(CH, *Signer(fr).sign(CH))
            assert isinstance(ack, f.Ack)
        async with Raw.open(h, it) as other:
            refused = await other.publish(CH, *Signer(it).sign(CH))
            assert isinstance(refused, f.ErrorFrame) and refused.code == 403
        doc = await cli.json("status")
        metrics = await scrape(h)
        code, out, err = await cli("status")
    assert code == 0, err
    assert doc["node"] == h.hub.ops.node and doc["ready"] is True
    assert doc["nodes"][0]["node"] == h.hub.ops.node and doc["nodes"][0]["ready"] is True
    assert doc["store"]["durability"] == h.hub.store.durability
    assert (doc["store"]["kind"], doc["store"]["role"]) == ("external", "primary")
    assert "external primary, durability" in out
    # the same figures as the metrics: fr/ops and it/gdf open (and the admin's own)
    assert doc["connections"]["system"] == 2 == value(metrics, "cordon_connections",
                                                       kind="system")
    assert doc["connections"]["admin"] == 1
    assert doc["counters"]["publishes_acked"] == 2 == value(metrics,
                                                            "cordon_publishes_acked_total")
    assert doc["refused"]["publishes"] == {"403": 1}
    (channel,) = [ch for ch in doc["channels"] if ch["name"] == CH]
    assert (channel["head"], channel["subscribers"]) == (2, 1)
    assert doc["recent_refusals"][-1]["action"] == "pub"
    assert doc["recent_refusals"][-1]["code"] == "403"
    assert doc["recent_refusals"][-1]["principal"] == "it/gdf"
    assert set(doc["checks"]) == {"serving", "store", "durability", "crl", "registry"}
    # for people: the heading, the nodes table, the channels table, the refusals
    assert out.startswith(f"answered by {h.hub.ops.node}: ready")
    rows = table(out)
    assert ["CHANNEL", "STATE", "HEAD", "FIRST", "SUBSCRIBERS", "EPOCH"] in rows
    assert any(r[:5] == [CH, "open", "2", "1", "1"] for r in rows)
    assert any(r[1:3] == ["pub", "it/gdf"] for r in rows)
    audited = await h.store.audit_log(action="status")
    assert [(a["principal"], a["result"]) for a in audited] == [("admin/alice", "ok")] * 2


async def test_status_is_refused_to_members_and_audited(h: HubHarness):
    fr = (await cast(h))["fr"]
    async with Raw.open(h, fr) as c:
        answer = await c.request(f.AdminRequest(rid=c.rid(), op="status", args={}))
        assert isinstance(answer, f.ErrorFrame) and answer.code == 403
        bad = await c.request(f.AdminRequest(rid=c.rid(), op="status", args={"x": 1}))
        assert isinstance(bad, f.ErrorFrame) and bad.code == 403
    audited = await h.store.audit_log(action="status")
    assert [(a["principal"], a["result"], a["code"]) for a in audited] == [
        ("fr/ops", "refused", "403")] * 2


async def test_nodes_sharing_the_store_see_each_other(make_hub):
    """Two hub processes on one store: each lists the other after a heartbeat."""
    one = await make_hub()
    two = await make_hub()
    assert one.hub is not None and two.hub is not None
    await one.hub.ops.run_once()
    await two.hub.ops.run_once()
    for _ in range(100):
        if two.hub.ops.node in one.hub.ops.nodes and one.hub.ops.node in two.hub.ops.nodes:
            break
        await asyncio.sleep(0.05)
    assert one.hub.ops.node != two.hub.ops.node
    listed = [n["node"] for n in (await one.hub.ops.status())["nodes"]]
    assert listed == [one.hub.ops.node, two.hub.ops.node]
