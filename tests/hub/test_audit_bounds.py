"""The audit log stays bounded: a capped stream, and a per-connection refusal budget."""

from __future__ import annotations

from typing import Any

from hub.protocol import frames as f
from hub.refusals import SUPPRESSED_ACTION, RefusalAudit
from hub.storage import AUDIT_KEY, Store
from tests.hub.conftest import MakeHub
from tests.hub.wire import Raw, cast


async def test_audit_stream_is_capped(valkey_url: str, raw: Any) -> None:
    await raw.flushdb()
    store = await Store.connect(valkey_url, audit_max_entries=100)
    try:
        for i in range(1000):
            await store.audit({"action": "x", "n": str(i)})
        length = await raw.xlen(AUDIT_KEY)
        assert 100 <= length <= 300  # MAXLEN ~: trimmed in whole stream nodes
        newest = (await store.audit_log(limit=10_000))[-1]
        assert newest["n"] == "999"
    finally:
        await store.close()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def rec(action: str = "sub") -> dict[str, str]:
    return {"action": action, "principal": "fr/ops", "peer": "p", "result": "refused"}


async def test_refusals_beyond_the_budget_become_one_summary(store: Store) -> None:
    clock = Clock()
    audit = RefusalAudit(store, per_s=3, clock=clock)
    for _ in range(8):
        await audit.record("conn-a", rec())
    await audit.record("conn-a", rec("pub"))
    await audit.record("conn-b", rec("frame"))  # another connection has its own budget
    assert len(await store.audit_log()) == 4
    clock.now += 1.5  # next window: the summary of the last one, then a record
    await audit.record("conn-a", rec())
    records = await store.audit_log()
    assert len(records) == 6
    summary = records[4]
    assert summary["action"] == SUPPRESSED_ACTION and summary["count"] == "6"
    assert summary["actions"] == "pub,sub" and summary["principal"] == "fr/ops"
    for _ in range(5):
        await audit.record("conn-a", rec())
    await audit.flush("conn-a")
    await audit.flush("conn-b")  # nothing suppressed there: no summary
    await audit.flush("conn-a")  # idempotent
    records = await store.audit_log()
    assert [r["action"] for r in records].count(SUPPRESSED_ACTION) == 2
    assert records[-1]["count"] == "3"


async def test_a_connection_flooding_refusals_writes_a_bounded_number(
    make_hub: MakeHub,
) -> None:
    h = await make_hub(audit_refusals_per_s=5)
    leaves = await cast(h)
    async with Raw.open(h, leaves["nl"]) as c:
        for _ in range(40):
            answer = await c.request(f.Subscribe(rid=c.rid(), ch="stop-iii", since=0))
            assert isinstance(answer, f.ErrorFrame)
    assert h.hub is not None
    await h.wait_for(lambda: not h.hub.sessions)
    records = await h.store.audit_log(principal="nl/fiod")
    refusals = [r for r in records if r["action"] == "sub"]
    summaries = [r for r in records if r["action"] == SUPPRESSED_ACTION]
    assert summaries and len(refusals) < 40
    assert len(refusals) + sum(int(s["count"]) for s in summaries) == 40
    assert len(refusals) <= 5 * len(summaries) + 5
