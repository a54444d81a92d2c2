"""Group commit on a real Valkey: batching, per-item errors, shutdown, store failures."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Collection

import pytest

from hub.committer import GroupCommitter
from hub.embedded import EmbeddedValkey
from hub.protocol.errors import AlertIdConflict, ChannelClosed, NoSuchChannel, Unavailable
from hub.storage import AppendRequest, AppendResult, Store, StoredAlert

CH = "op-stop-3"


def req(alert_id: str, alert: bytes | None = None, *, channel: str = CH) -> AppendRequest:
    body = alert if alert is not None else f"alert {alert_id}".encode()
    return AppendRequest(channel=channel, alert_id=alert_id, alert=body, sig=b"s", kid="k",
                         received=1)  # fmt: skip


@pytest.fixture
async def committer(store: Store) -> AsyncIterator[GroupCommitter]:
    await store.create_channel(CH)
    gc = GroupCommitter(store)
    await gc.start()
    try:
        yield gc
    finally:
        await gc.stop()


async def test_concurrent_submits_are_group_committed(
    committer: GroupCommitter, store: Store
) -> None:
    results = await asyncio.gather(*(committer.submit(req(f"a{i}")) for i in range(1000)))
    assert sorted(r.off for r in results) == list(range(1, 1001))
    assert not any(r.dup for r in results)
    assert committer.committed == 1000
    assert committer.largest_batch > 1
    assert committer.batches <= 10  # 1000 concurrent submits: a handful of round trips/fsyncs
    assert committer.largest_batch <= committer.max_batch
    assert len(await store.read_after(CH, 0, 2000)) == 1000


async def test_max_batch_is_respected(store: Store) -> None:
    await store.create_channel(CH)
    gc = GroupCommitter(store, max_batch=10)
    await gc.start()
    try:
        await asyncio.gather(*(gc.submit(req(f"a{i}")) for i in range(100)))
    finally:
        await gc.stop()
    assert gc.largest_batch == 10
    assert gc.batches >= 10


async def test_sequential_submits_each_commit(committer: GroupCommitter) -> None:
    for i in range(1, 4):
        assert await committer.submit(req(f"a{i}")) == AppendResult(i, False)
    assert committer.batches == 3


async def test_per_item_errors_reach_their_submitter_only(
    committer: GroupCommitter, store: Store
) -> None:
    await committer.submit(req("taken"))
    await store.create_channel("closed-ch")
    await store.set_channel_state("closed-ch", "closed")
    outcomes = await asyncio.gather(
        committer.submit(req("ok-1")),
        committer.submit(req("taken", b"other bytes")),
        committer.submit(req("x", channel="closed-ch")),
        committer.submit(req("y", channel="nope")),
        committer.submit(req("taken")),
        committer.submit(req("ok-2")),
        return_exceptions=True,
    )
    assert outcomes[0] == AppendResult(2, False)
    assert isinstance(outcomes[1], AlertIdConflict)
    assert "offset 1" in outcomes[1].detail
    assert isinstance(outcomes[2], ChannelClosed)
    assert isinstance(outcomes[3], NoSuchChannel)
    assert outcomes[4] == AppendResult(1, True)
    assert outcomes[5] == AppendResult(3, False)


async def test_mixed_batch_across_channels(committer: GroupCommitter, store: Store) -> None:
    """One batch with several channels, dups within it, a conflict in the middle and a
    closed channel: every submitter gets its own result."""
    await store.create_channel("other-ch")
    await store.create_channel("closed-ch")
    await store.set_channel_state("closed-ch", "closed")
    reqs = [req("m1"), req("o1", channel="other-ch"), req("m1"), req("m1", b"changed"),
            req("c1", channel="closed-ch"), req("m2"), req("o1", channel="other-ch"),
            req("o2", channel="other-ch")]
    outcomes = await asyncio.gather(*(committer.submit(r) for r in reqs),
                                    return_exceptions=True)
    assert committer.batches == 1
    assert outcomes[0] == AppendResult(1, False)
    assert outcomes[1] == AppendResult(1, False)
    assert outcomes[2] == AppendResult(1, True)
    assert isinstance(outcomes[3], AlertIdConflict) and "offset 1" in outcomes[3].detail
    assert isinstance(outcomes[4], ChannelClosed)
    assert outcomes[5] == AppendResult(2, False)
    assert outcomes[6] == AppendResult(1, True)
    assert outcomes[7] == AppendResult(2, False)


async def test_cancelled_submitter_does_not_disturb_others(committer: GroupCommitter) -> None:
    tasks = [asyncio.create_task(committer.submit(req(f"a{i}"))) for i in range(20)]
    await asyncio.sleep(0)  # all queued
    tasks[3].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[3], asyncio.CancelledError)
    offs = [r.off for r in done if isinstance(r, AppendResult)]
    assert len(offs) == 19
    assert len(set(offs)) == 19
    assert (await committer.submit(req("after"))).off == max(offs) + 1


async def test_enqueue_returns_futures_committed_in_queue_order(
    committer: GroupCommitter, store: Store
) -> None:
    futures = [await committer.enqueue(req(f"q{i}")) for i in range(30)]
    futures[4].cancel()  # before its batch was sent: withdrawn
    results = await asyncio.gather(*(f for i, f in enumerate(futures) if i != 4))
    assert [r.off for r in results] == list(range(1, 30))
    stored = await store.read_after(CH, 0, 100)
    assert [s.alert for s in stored] == [f"alert q{i}".encode() for i in range(30) if i != 4]


async def test_stop_drains_what_is_queued(store: Store) -> None:
    await store.create_channel(CH)
    gc = GroupCommitter(store, max_batch=16)
    await gc.start()
    tasks = [asyncio.create_task(gc.submit(req(f"a{i}"))) for i in range(200)]
    await asyncio.sleep(0)  # queued, mostly not yet committed
    await gc.stop()
    results = await asyncio.gather(*tasks)
    assert sorted(r.off for r in results) == list(range(1, 201))
    with pytest.raises(Unavailable):
        await gc.submit(req("late"))
    await gc.stop()  # twice is fine


async def test_submit_before_start_is_refused(store: Store) -> None:
    with pytest.raises(Unavailable):
        await GroupCommitter(store).submit(req("a"))
    with pytest.raises(ValueError, match="positive"):
        GroupCommitter(store, max_batch=0)


async def test_start_twice_is_an_error(committer: GroupCommitter) -> None:
    with pytest.raises(RuntimeError, match="already started"):
        await committer.start()


async def test_store_failure_fails_the_batch_and_the_worker_survives(
    private_valkey: EmbeddedValkey,
) -> None:
    store = await Store.connect(private_valkey.url)
    gc = GroupCommitter(store)
    try:
        await store.create_channel(CH)
        await gc.start()
        assert (await gc.submit(req("a"))).off == 1
        await private_valkey.kill()
        outcomes = await asyncio.gather(
            *(gc.submit(req(f"b{i}")) for i in range(5)), return_exceptions=True
        )
        assert all(isinstance(o, Unavailable) for o in outcomes)
        assert len({id(o) for o in outcomes}) == 5  # one exception object per caller
        await private_valkey.start()
        assert await gc.submit(req("b0")) == AppendResult(2, False)
    finally:
        await gc.stop()
        await store.close()


async def test_stop_timeout_fails_what_cannot_be_committed(
    private_valkey: EmbeddedValkey,
) -> None:
    store = await Store.connect(private_valkey.url)
    gc = GroupCommitter(store, max_batch=4)
    pid = private_valkey.pid
    assert pid is not None
    try:
        await store.create_channel(CH)
        await gc.start()
        os.kill(pid, signal.SIGSTOP)  # the store hangs: batches never complete
        tasks = [asyncio.create_task(gc.submit(req(f"a{i}"))) for i in range(10)]
        await asyncio.sleep(0.05)
        await gc.stop(timeout_s=0.2)
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(o, Unavailable) for o in outcomes), outcomes
        assert gc.pending == 0
    finally:
        os.kill(pid, signal.SIGCONT)
        await store.close()


async def test_a_batch_refused_for_the_store_fails_what_queued_behind_it(
    private_valkey: EmbeddedValkey,
) -> None:
    """A frozen store: the batch in flight fails after the store deadline, and so do the
    alerts that queued up meanwhile, without a second store attempt (each publisher gets
    its 503 within one deadline, not one per batch ahead of it)."""
    store = await Store.connect(private_valkey.url, timeout_s=1.0)
    gc = GroupCommitter(store, max_batch=4)
    pid = private_valkey.pid
    assert pid is not None
    try:
        await store.create_channel(CH)
        await gc.start()
        os.kill(pid, signal.SIGSTOP)
        first = asyncio.create_task(gc.submit(req("first")))
        await asyncio.sleep(0.1)  # in flight now
        behind = [asyncio.create_task(gc.submit(req(f"b{i}"))) for i in range(10)]
        outcomes = await asyncio.gather(first, *behind, return_exceptions=True)
        assert all(isinstance(o, Unavailable) for o in outcomes), outcomes
        assert gc.batches == 1
    finally:
        os.kill(pid, signal.SIGCONT)
        await gc.stop(timeout_s=1)
        await store.close()


async def test_acked_alerts_survive_kill_9(private_valkey: EmbeddedValkey) -> None:
    """Acknowledged through group commit means durable: all there after SIGKILL + replay."""
    store = await Store.connect(private_valkey.url)
    gc = GroupCommitter(store, max_batch=128)
    acked: dict[int, bytes] = {}
    try:
        await store.create_channel(CH)
        await gc.start()

        async def publish(i: int) -> None:
            r = req(f"crash-{i}", f"seizure report {i} ".encode() * 20)
            acked[(await gc.submit(r)).off] = r.alert

        await asyncio.gather(*(publish(i) for i in range(3000)))
        assert gc.batches < 3000
        await private_valkey.kill()
    finally:
        await gc.stop(timeout_s=1)
        await store.close()
    await private_valkey.start()
    store = await Store.connect(private_valkey.url)
    try:
        stored = {a.off: a.alert for a in await store.read_after(CH, 0, 10_000)}
        assert len(acked) == 3000
        assert stored == acked
    finally:
        await store.close()


class _Recorder:
    """A committer listener that keeps what it is told (hub.committer.Listener)."""

    def __init__(self, gc: GroupCommitter) -> None:
        self.gc = gc
        self.sent: list[set[str]] = []
        self.durable_calls: list[tuple[object, dict[str, list[int]], int]] = []

    def before_commit(self, channels: Collection[str]) -> object:
        self.sent.append(set(channels))
        return len(self.sent)

    def durable(self, token: object, stored: dict[str, list[StoredAlert]]) -> None:
        # called before the submitters' futures are settled (the acks come after)
        self.durable_calls.append((token, {ch: [a.off for a in items]
                                           for ch, items in stored.items()},
                                   self.gc.committed))


async def test_the_listener_gets_each_batch_once_durable(
    committer: GroupCommitter, store: Store
) -> None:
    seen = _Recorder(committer)
    committer.listener = seen
    first = await asyncio.gather(*(committer.submit(req(f"a{i}")) for i in range(5)))
    assert [r.off for r in first] == [1, 2, 3, 4, 5]
    assert seen.sent and all(chs == {CH} for chs in seen.sent)
    # one call per batch (5 concurrent submits make one batch or a few), in order
    assert len(seen.durable_calls) == len(seen.sent) == committer.batches
    assert [o for _, offs, _ in seen.durable_calls for o in offs[CH]] == [1, 2, 3, 4, 5]
    assert [token for token, _, _ in seen.durable_calls] == list(range(1, len(seen.sent) + 1))
    # a retry answered dup and a conflict are not stored again: the listener gets none
    seen.durable_calls.clear()
    dup = await committer.submit(req("a0"))
    assert dup.dup
    with pytest.raises(AlertIdConflict):
        await committer.submit(req("a1", b"other bytes"))
    assert [offs for _, offs, _ in seen.durable_calls] == [{}, {}]
    stored = (await store.read_after(CH, 0, 10))
    assert [(a.off, a.alert) for a in stored] == [(r.off, f"alert a{i}".encode())
                                                  for i, r in enumerate(first)]


async def test_a_listener_that_wants_nothing_of_a_batch_is_not_told_of_it(
    committer: GroupCommitter, store: Store
) -> None:
    class _Nothing(_Recorder):
        def before_commit(self, channels: Collection[str]) -> object:
            super().before_commit(channels)
            return None  # no feed of these channels (hub.feeds.Feeds.before_commit)

    seen = _Nothing(committer)
    committer.listener = seen
    done = await asyncio.gather(*(committer.submit(req(f"n{i}")) for i in range(5)))
    assert [r.off for r in done] == [1, 2, 3, 4, 5] and not any(r.dup for r in done)
    assert seen.sent and seen.durable_calls == []


async def test_the_listener_is_not_told_of_a_batch_that_is_not_durable(
    private_valkey: EmbeddedValkey,
) -> None:
    store = await Store.connect(private_valkey.url, timeout_s=1.0)
    gc = GroupCommitter(store)
    seen = _Recorder(gc)
    gc.listener = seen
    try:
        await store.create_channel(CH)
        await gc.start()
        await gc.submit(req("ok"))
        assert len(seen.durable_calls) == 1
        admin = await Store.connect(private_valkey.url)
        try:
            await admin._r.config_set("appendonly", "no")
            with pytest.raises(Unavailable):
                await gc.submit(req("not durable"))
        finally:
            await admin._r.config_set("appendonly", "yes")
            await admin.close()
        assert len(seen.durable_calls) == 1 and len(seen.sent) == 2
    finally:
        await gc.stop()
        await store.close()

