"""/metrics over real HTTP after real traffic over mutual TLS, parsed with
prometheus_client's own parser: each counter moved by exactly what was done."""

from __future__ import annotations

import asyncio
import timeit
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed

from hub.metrics import Metrics, close_label, error_label, tls_reason
from hub.protocol import frames as f
from hub.protocol.errors import CloseCode
from tests.harness import HubHarness, client_context
from tests.hub.test_ops_http import request
from tests.hub.wire import (
    CH,
    FAT,
    WAIT,
    Raw,
    Signer,
    cast,
    close_code,
    connect_raw,
    eventually,
    pipeline,
    tls_refusal,
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(h: HubHarness) -> Samples:
    assert h.hub is not None
    status, headers, body = await request(h.hub.ops.port, b"GET /metrics HTTP/1.1\r\n\r\n")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    out: Samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_counters_move_by_what_was_done(h: HubHarness):
    """3 publishes acked, 1 duplicate, 1 refused (403: a reader), 1 TLS refusal (a
    certificate of another CA); a subscriber gets the 3 live: deliveries +3; connection
    gauges by kind; channel head and subscribers; group-commit and signature histograms."""
    assert h.hub is not None
    leaves = await cast(h)
    fr, it = leaves["fr"], leaves["it"]  # fr contributes, it reads
    before = await scrape(h)
    signer = Signer(fr)
    signed = [signer.sign(CH) for _ in range(3)]
    async with Raw.open(h, it) as reader, Raw.open(h, fr) as writer:
        sub = await reader.request(f.Subscribe(rid=reader.rid(), ch=CH, since=0))
        assert isinstance(sub, f.Subscribed)
        synced = await reader.recv()
        assert isinstance(synced, f.Synced)
        during = await scrape(h)
        assert delta(before, during, "cordon_connections", kind="system") == 2
        assert value(during, "cordon_channel_subscribers", channel=CH) == 1
        for alert, sig in signed:
            ack = await writer.publish(CH, alert, sig)
            assert isinstance(ack, f.Ack) and not ack.dup
        dup = await writer.publish(CH, *signed[0])
        assert isinstance(dup, f.Ack) and dup.dup
        got = 0
        while got < 3:
            frame = await reader.recv()
            assert isinstance(frame, f.AlertBatch | f.AlertFrame)
            got += len(frame.items) if isinstance(frame, f.AlertBatch) else 1
        async with Raw.open(h, it) as other:  # a reader may not publish: 403
            refused = await other.publish(CH, *Signer(it).sign(CH))
            assert isinstance(refused, f.ErrorFrame) and refused.code == 403
        assert h.hub.metrics.delivered_live - int(
            value(before, "cordon_deliveries_total", path="live")) == 3
    foreign = h.pki.foreign_ca_member()
    tls_before = value(await scrape(h), "cordon_tls_refusals_total", reason="unknown_ca")
    assert await asyncio.to_thread(tls_refusal, h, foreign, ssl_context=client_context(
        h.pki, foreign)) is not None

    async def counted() -> bool:
        got = value(await scrape(h), "cordon_tls_refusals_total", reason="unknown_ca")
        return got == tls_before + 1

    await eventually(counted)
    await h.hub.ops.run_once()  # the channel heads, as the heartbeat loop refreshes them
    after = await scrape(h)
    assert delta(before, after, "cordon_publishes_acked_total") == 3
    assert delta(before, after, "cordon_publishes_duplicate_total") == 1
    assert delta(before, after, "cordon_publishes_refused_total", code="403") == 1
    assert sum(v for (name, _), v in after.items()
               if name == "cordon_publishes_refused_total") - sum(
        v for (name, _), v in before.items() if name == "cordon_publishes_refused_total") == 1
    assert delta(before, after, "cordon_deliveries_total", path="live") == 3
    assert delta(before, after, "cordon_connections_opened_total", kind="system") == 3
    assert delta(before, after, "cordon_connections_closed_total", code="1000") == 3
    assert value(after, "cordon_connections", kind="system") == 0
    assert value(after, "cordon_channel_head", channel=CH) == 3
    assert value(after, "cordon_channel_subscribers", channel=CH) == 0
    # 4 alerts went to the store (3 new + 1 dup), in 1 to 4 group commits
    commits = delta(before, after, "cordon_commit_batch_size_count")
    assert 1 <= commits <= 4
    assert delta(before, after, "cordon_commit_batch_size_sum") == 4
    assert delta(before, after, "cordon_commit_fsync_wait_seconds_count") == commits
    assert delta(before, after, "cordon_store_seconds_count", op="append_batch") == commits
    # this hub's own publishes reach its subscribers from the committer (hub.feeds): the
    # feed reads the store only for other processes' alerts
    assert delta(before, after, "cordon_store_seconds_count", op="feed_read") == 0
    assert delta(before, after, "cordon_store_seconds_count", op="authenticate") == 3
    # 4 signatures checked: 3 + the dup (a reader's publish is refused, 403, before)
    checks = delta(before, after, "cordon_signature_check_seconds_count")
    assert checks == 4
    assert value(after, 'cordon_signature_check_seconds_bucket', le="+Inf") == value(
        after, "cordon_signature_check_seconds_count")
    assert value(after, "cordon_ready") == 1
    assert value(after, "process_resident_memory_bytes") > 0  # the standard collectors
    assert value(after, "cordon_info", node=h.hub.ops.node,
                 durability=h.hub.store.durability) == 1


async def test_connection_refusals_and_slow_consumer_closes_are_counted(h: HubHarness):
    """A registered certificate refused after the handshake (member suspended: 4010) is
    counted by close code; the refusal is among the recent ones ``status`` shows."""
    assert h.hub is not None
    leaves = await cast(h)
    await h.store.set_member_status("nl", "suspended")
    before = await scrape(h)
    async with connect_raw(h, leaves["nl"]) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), WAIT)
    assert close_code(info.value) == CloseCode.REVOKED
    after = await scrape(h)
    assert delta(before, after, "cordon_connections_refused_total", code="4010") == 1
    assert h.hub.ops.refusals[-1]["code"] == "4010"
    assert h.hub.ops.refusals[-1]["principal"] == "nl/fiod"


def test_labels_are_bounded():
    assert close_label(4008) == "4008" and close_label(4999) == "other"
    assert close_label(None) == "none" and close_label(1000) == "1000"
    assert error_label(403) == "403" and error_label(999) == "other"
    assert tls_reason("certificate revoked") == "revoked"
    assert tls_reason("certificate has expired") == "expired"
    assert tls_reason("unable to get local issuer certificate") == "unknown_ca"
    assert tls_reason("peer did not return a certificate") == "no_certificate"
    assert tls_reason("wrong version number") == "protocol"
    assert tls_reason("something new and unexpected") == "other"


def test_per_publish_overhead_is_measured():
    """Not a timed test: prints what the hooks cost per publish (the report quotes it)."""
    m = Metrics()

    def hooks() -> None:  # what one acked publish costs in metrics, beyond its batch
        m.acked += 1
        m.delivered_live += 1

    def batch() -> None:  # per group commit
        m.commit_batch.observe(64)
        m.commit_seconds.observe(0.001)
        m.store_seconds["append_batch"].observe(0.001)

    n = 100_000
    per_publish = timeit.timeit(hooks, number=n) / n
    per_batch = timeit.timeit(batch, number=n) / n
    per_check = timeit.timeit(lambda: m.signature_seconds.observe_many((3.9e-5,)),
                              number=n) / n
    print(f"metrics per publish {per_publish * 1e9:.0f} ns, per batch {per_batch * 1e9:.0f} "
          f"ns, per signature check {per_check * 1e9:.0f} ns")
    samples: Any = list(m.registry.collect())
    assert samples


async def test_slow_consumer_and_revocation_closes_are_counted(make_hub):
    """A subscriber that stops reading is closed 4008: slow-consumer closes +1, closes
    {code=4008} +1; a revoked live session: revocations +1, closes {code=4010} +1."""
    h = await make_hub(send_queue_frames=8)
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    assert h.hub is not None
    before = await scrape(h)
    most = 0
    async with Raw.open(h, leaves["it"], max_queue=1) as slow, \
            Raw.open(h, leaves["fr"]) as pub:
        ok = await slow.request(f.Subscribe(rid=slow.rid(), ch=CH, since=0))
        assert isinstance(ok, f.Subscribed)
        session = next(iter(h.hub.sessions["it/gdf"]))
        published = 0
        while not session.closing:
            assert published < 2000, "the hub never gave up on the slow consumer"
            await pipeline(pub, CH, [signer.sign(CH, body=FAT) for _ in range(10)])
            published += 10
            most = max(most, h.hub.metrics.send_queues()[1])
        await slow.until_closed()
        await h.wait_for(lambda: "it/gdf" not in h.hub.sessions if h.hub else False)
        mid = await scrape(h)
        assert delta(before, mid, "cordon_slow_consumer_closes_total") == 1
        assert delta(before, mid, "cordon_connections_closed_total", code="4008") == 1
        assert most <= 8  # the gauge reads the live queues: never past the bound
        await h.revoke(leaves["fr"])
        await pub.closed()
    await h.wait_for(lambda: "fr/ops" not in h.hub.sessions if h.hub else False)
    after = await scrape(h)
    assert delta(mid, after, "cordon_revocations_total") == 1
    assert delta(mid, after, "cordon_connections_closed_total", code="4010") == 1
