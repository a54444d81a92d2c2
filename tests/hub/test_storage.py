"""hub.storage against a real Valkey (the session server, or a private one for crashes)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import msgpack
import pytest
import redis.asyncio as aioredis

from hub.embedded import EmbeddedValkey
from hub.protocol.errors import (
    AlertIdConflict,
    ChannelClosed,
    Conflict,
    InvalidFrame,
    NoSuchChannel,
    NotFound,
    Unavailable,
)
from hub.storage import (
    AppendRequest,
    AppendResult,
    CertRecord,
    ChannelMeta,
    EventStream,
    Store,
    StoredAlert,
)
from hub.storage.events import RESYNC

CH = "op-stop-3"
LOG = "cordon:{ch:op-stop-3}:log"
IDS = "cordon:{ch:op-stop-3}:ids"
META = "cordon:{ch:op-stop-3}:meta"


def req(
    alert_id: str, alert: bytes | None = None, *, channel: str = CH, received: int = 0
) -> AppendRequest:
    body = alert if alert is not None else f"alert {alert_id}".encode()
    return AppendRequest(channel=channel, alert_id=alert_id, alert=body,
                         sig=b"sig-" + body, kid="k1", received=received or 1)  # fmt: skip


async def append_ok(store: Store, *reqs: AppendRequest) -> list[AppendResult]:
    results = await store.append_batch(reqs)
    out = []
    for r in results:
        assert isinstance(r, AppendResult), r
        out.append(r)
    return out


async def blocked_clients(raw: Any) -> int:
    return int((await raw.info("clients"))["blocked_clients"])


async def until(pred: Any, within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if await pred():
                return
            await asyncio.sleep(0.01)


# --- connection and durability ----------------------------------------------------------


async def test_connect_detects_waitaof(store: Store, external_store: bool) -> None:
    if external_store:
        pytest.skip("depends on the external server's version and configuration")
    assert store.durability == "waitaof"
    assert "WAITAOF" in store.durability_detail
    await store.ping()


async def test_durable_false_never_waits(valkey_url: str, raw: Any) -> None:
    await raw.flushdb()
    store = await Store.connect(valkey_url, durable=False)
    try:
        assert store.durability == "none"
        await store.create_channel(CH)
        assert [r.off for r in await append_ok(store, req("a"), req("b"))] == [1, 2]
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--rename-command", "WAITAOF", ""], "appendfsync-always"),
        (["--rename-command", "CONFIG", ""], "waitaof-unverified"),
        (["--rename-command", "INFO", ""], "waitaof"),  # no restart detection, still works
    ],
    ids=["no-waitaof-always", "no-config", "no-info"],
)
async def test_durability_fallbacks(tmp_path: Any, extra: list[str], expected: str) -> None:
    """Redis 7.0 (no WAITAOF) is simulated by renaming the command away; a managed
    service without CONFIG likewise."""
    async with EmbeddedValkey(tmp_path / "s", extra_args=extra) as server:
        store = await Store.connect(server.url)
        try:
            assert store.durability == expected
            if expected == "waitaof-unverified":  # says exactly what an ack means
                assert "redis/redis#13793" in store.durability_detail
                assert "fsynced within about a second" in store.durability_detail
            await store.create_channel(CH)
            assert [r.off for r in await append_ok(store, req("a"))] == [1]
            meta = await store.channel(CH)  # readers see it: the watermark rose with it
            assert meta is not None and meta.head == 1
        finally:
            await store.close()


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--appendfsync", "everysec"], "appendfsync everysec"),
        (["--appendfsync", "no"], "appendfsync no"),
        (["--appendonly", "no"], "appendonly no"),
        (["--rename-command", "WAITAOF", "", "--appendfsync", "everysec"], "everysec"),
        (["--rename-command", "WAITAOF", "", "--rename-command", "CONFIG", ""], "CONFIG"),
    ],
    ids=["everysec", "fsync-no", "no-aof", "no-waitaof-everysec", "nothing-to-check"],
)
async def test_durable_refuses_a_store_whose_ack_is_not_an_fsync(
    tmp_path: Any, extra: list[str], reason: str
) -> None:
    """durable=True against a store on which an ack would not follow an fsync (WAITAOF
    under everysec answers without fsyncing, redis/redis#13793) is refused at connect,
    with the reason; durable=False still connects."""
    async with EmbeddedValkey(tmp_path / "s", extra_args=extra) as server:
        with pytest.raises(Unavailable, match=reason):
            await Store.connect(server.url)
        store = await Store.connect(server.url, durable=False)
        try:
            assert store.durability == "none"
            await store.create_channel(CH)
            await append_ok(store, req("a"))
            meta = await store.channel(CH)
            assert meta is not None and meta.head == 1
        finally:
            await store.close()


async def test_connect_to_nothing_is_unavailable(tmp_path: Any) -> None:
    with pytest.raises(Unavailable):
        await Store.connect(f"unix://{tmp_path}/nothing.sock")


async def test_connect_rejects_bad_timeouts(valkey_url: str) -> None:
    with pytest.raises(ValueError, match="fsync_timeout_ms"):
        await Store.connect(valkey_url, timeout_s=1.0, fsync_timeout_ms=5000)


# --- channels -----------------------------------------------------------------------------


async def test_create_channel(store: Store, raw: Any) -> None:
    before = int(time.time() * 1000)
    meta = await store.create_channel(CH, title="STOP III", starts="2024-05-01",
                                      ends="2024-05-12", retention_ms=3600_000)  # fmt: skip
    assert meta == ChannelMeta(
        name=CH, title="STOP III", epoch=meta.epoch, state="open", created=meta.created,
        starts="2024-05-01", ends="2024-05-12", retention_ms=3600_000, head=0, first=1,
    )  # fmt: skip
    assert len(meta.epoch) == 32
    int(meta.epoch, 16)
    assert before <= meta.created <= int(time.time() * 1000)
    assert await store.channel(CH) == meta
    assert await raw.smembers("cordon:channels") == {CH.encode()}
    assert await raw.hget(META, "state") == b"open"


async def test_create_existing_channel_conflicts(store: Store) -> None:
    meta = await store.create_channel(CH)
    with pytest.raises(Conflict):
        await store.create_channel(CH, title="other")
    assert await store.channel(CH) == meta


@pytest.mark.parametrize("name", ["", "UPPER", "a}b", "-x", "x" * 65, "a b"])
async def test_create_channel_validates_name(store: Store, name: str) -> None:
    with pytest.raises(InvalidFrame):
        await store.create_channel(name)
    assert await store.channel(name) is None


async def test_create_channel_validates_retention(store: Store) -> None:
    with pytest.raises(ValueError, match="retention"):
        await store.create_channel(CH, retention_ms=-1)


async def test_channels_lists_by_name(store: Store) -> None:
    for name in ("zeta", "alpha", "mid"):
        await store.create_channel(name)
    assert [m.name for m in await store.channels()] == ["alpha", "mid", "zeta"]
    assert await store.channel("nope") is None


async def test_set_channel_state(store: Store) -> None:
    await store.create_channel(CH)
    for state in ("closed", "archived", "open"):
        meta = await store.set_channel_state(CH, state)
        assert meta.state == state
        assert (await store.channel(CH)) == meta
    with pytest.raises(ValueError, match="channel state"):
        await store.set_channel_state(CH, "frozen")
    with pytest.raises(NoSuchChannel):
        await store.set_channel_state("nope", "closed")


async def test_delete_then_create_gives_new_epoch_and_fresh_history(store: Store, raw: Any) -> None:
    first = await store.create_channel(CH)
    await append_ok(store, req("a"), req("b"))
    await store.add_member("fr", name="France", country="FR")
    await store.set_role(CH, "fr", "reader")
    await store.delete_channel(CH)
    assert await store.channel(CH) is None
    assert await raw.exists(LOG, IDS, META, "cordon:{ch:op-stop-3}:roles") == 0
    assert await store.channels() == []
    second = await store.create_channel(CH)
    assert second.epoch != first.epoch
    assert second.head == 0
    # the old ids are forgotten: "a" is new again, at offset 1
    assert await append_ok(store, req("a", b"new bytes")) == [AppendResult(1, False)]
    assert await store.roles(CH) == {}
    with pytest.raises(NoSuchChannel):
        await store.delete_channel(CH + "x")


async def test_roles(store: Store) -> None:
    await store.create_channel(CH)
    await store.add_member("fr", name="France", country="FR")
    await store.add_member("nl", name="Netherlands", country="NL")
    await store.set_role(CH, "fr", "reader")
    await store.set_role(CH, "nl", "coordinator")
    await store.set_role(CH, "fr", "contributor")
    assert await store.role(CH, "fr") == "contributor"
    assert await store.roles(CH) == {"fr": "contributor", "nl": "coordinator"}
    await store.set_role(CH, "fr", None)
    assert await store.role(CH, "fr") is None
    assert await store.roles(CH) == {"nl": "coordinator"}
    await store.set_role(CH, "fr", None)  # removing twice is fine
    assert await store.roles("nope") == {}
    assert await store.role("nope", "fr") is None


async def test_set_role_errors(store: Store) -> None:
    await store.create_channel(CH)
    await store.add_member("fr", name="France", country="FR")
    with pytest.raises(ValueError, match="role"):
        await store.set_role(CH, "fr", "owner")
    with pytest.raises(NoSuchChannel):
        await store.set_role("nope", "fr", "reader")
    with pytest.raises(NotFound):
        await store.set_role(CH, "xx", "reader")
    with pytest.raises(InvalidFrame):
        await store.set_role(CH, "Bad Member", "reader")
    assert await store.roles(CH) == {}


# --- appends ------------------------------------------------------------------------------


async def test_offsets_start_at_1_and_follow_order(store: Store, raw: Any) -> None:
    await store.create_channel(CH)
    first = await append_ok(store, *(req(f"a{i}") for i in range(1, 6)))
    assert first == [AppendResult(i, False) for i in range(1, 6)]
    second = await append_ok(store, req("a6"), req("a7"))
    assert [r.off for r in second] == [6, 7]
    assert await raw.xlen(LOG) == 7
    assert (await store.channel(CH)).head == 7  # type: ignore[union-attr]
    entries = await raw.xrange(LOG)
    assert [e[0] for e in entries] == [f"0-{i}".encode() for i in range(1, 8)]
    # no kid: the signed alert carries it (64 bytes an alert saved)
    assert entries[0][1] == {b"a": b"alert a1", b"s": b"sig-alert a1", b"r": b"1"}
    # the dedup index: the offset alone (the leaf hash at that offset tells a repeat's bytes)
    assert await raw.hget(IDS, "a1") == b"1"


async def test_concurrent_batches_get_distinct_contiguous_offsets(store: Store) -> None:
    await store.create_channel(CH)
    batches = [[req(f"b{b}-{i}") for i in range(50)] for b in range(8)]
    results = await asyncio.gather(*(store.append_batch(b) for b in batches))
    offs = sorted(r.off for rs in results for r in rs if isinstance(r, AppendResult))
    assert offs == list(range(1, 401))
    # each batch's own alerts are in submission order
    for rs in results:
        own = [r.off for r in rs if isinstance(r, AppendResult)]
        assert own == sorted(own)
    stored = await store.read_after(CH, 0, 1000)
    assert [a.off for a in stored] == list(range(1, 401))


async def test_duplicate_same_bytes_returns_original_offset(store: Store, raw: Any) -> None:
    await store.create_channel(CH)
    await append_ok(store, req("a"), req("b"))
    xlen, ids = await raw.xlen(LOG), await raw.hgetall(IDS)
    again = await store.append_batch([req("b"), req("a")])
    assert again == [AppendResult(2, True), AppendResult(1, True)]
    assert await raw.xlen(LOG) == xlen
    assert await raw.hgetall(IDS) == ids
    assert (await store.channel(CH)).head == 2  # type: ignore[union-attr]
    # each duplicate writes a counter, so that WAITAOF on its connection covers the original
    assert await raw.hget(META, "dups") == b"2"
    # a duplicate within one batch is answered by the first occurrence
    assert await store.append_batch([req("c"), req("c")]) == [
        AppendResult(3, False), AppendResult(3, True),
    ]  # fmt: skip


async def test_same_id_other_bytes_conflicts(store: Store, raw: Any) -> None:
    await store.create_channel(CH)
    await append_ok(store, req("a"), req("b"))
    results = await store.append_batch([req("b", b"tampered"), req("c")])
    assert isinstance(results[0], AlertIdConflict)
    assert "offset 2" in results[0].detail
    assert results[1] == AppendResult(3, False)
    assert await raw.xlen(LOG) == 3
    stored = await store.read_after(CH, 1, 1)
    assert stored[0].alert == b"alert b"


async def test_dedup_holds_across_a_store_restart(private_valkey: EmbeddedValkey) -> None:
    """The compact dedup index survives a restart (AOF replay): same id and bytes give the
    original offset, other bytes 409 naming it, for offsets past what one digit holds."""
    store = await Store.connect(private_valkey.url)
    try:
        await store.create_channel(CH)
        await append_ok(store, *(req(f"r{i}") for i in range(1, 13)))
    finally:
        await store.close()
    await private_valkey.stop()
    await private_valkey.start()
    store = await Store.connect(private_valkey.url)
    try:
        again = await store.append_batch([req("r12"), req("r3"), req("r12", b"other bytes")])
        assert again[:2] == [AppendResult(12, True), AppendResult(3, True)]
        assert isinstance(again[2], AlertIdConflict) and "offset 12" in again[2].detail
        assert await store.alert_offset(CH, "r12") == 12
        assert await append_ok(store, req("r13")) == [AppendResult(13, False)]
    finally:
        await store.close()


async def test_a_store_written_in_the_old_layout_keeps_working(store: Store, raw: Any) -> None:
    """Channels written before the compact layout (dedup values "<offset>:<hex SHA-1>",
    stream entries with k=<kid>): their alerts are still read, their ids still deduplicate
    (same bytes: the original offset; other bytes: 409 naming it), and new alerts go on
    from their head in the compact layout, next to the old values."""
    await store.create_channel(CH)
    old = {1: b"alert o1", 2: b"alert o2"}
    for off, body in old.items():  # what the old append script wrote
        await raw.xadd(LOG, {"a": body, "s": b"sig-" + body, "k": "k1", "r": "1"},
                       id=f"0-{off}")
        await raw.hset(IDS, f"o{off}", f"{off}:{hashlib.sha1(body).hexdigest()}")
    await raw.hset(META, mapping={"head": "2", "durable": "2"})
    results = await store.append_batch([req("o2"), req("o1", b"tampered"), req("n3"),
                                        req("o1")])
    assert results[0] == AppendResult(2, True)
    assert isinstance(results[1], AlertIdConflict) and "offset 1" in results[1].detail
    assert results[2:] == [AppendResult(3, False), AppendResult(1, True)]
    assert await store.alert_offset(CH, "o1") == 1
    assert await store.alert_offset(CH, "n3") == 3
    stored = await store.read_after(CH, 0, 10)
    assert [(a.off, a.alert, a.kid) for a in stored] == [
        (1, b"alert o1", "k1"), (2, b"alert o2", "k1"), (3, b"alert n3", "")]
    assert await store.read_items(CH, 0, 3, 10) == [(a.off, a.alert, a.sig) for a in stored]
    assert await raw.hget(IDS, "o1") == b"1:" + hashlib.sha1(b"alert o1").hexdigest().encode()


async def test_read_items_are_read_range_as_frame_items(store: Store, raw: Any) -> None:
    """The catch-up's read: (off, alert, sig) of exactly read_range's alerts, bounded
    by ``upto`` and ``count``, whatever order an entry's fields were written in."""
    await store.create_channel(CH)
    await append_ok(store, req("a"), req("b"), req("c"))
    await raw.xadd(LOG, {"r": "1", "s": b"sig-d", "a": b"alert d"}, id="0-4")
    await raw.hset(META, mapping={"head": "4", "durable": "4"})
    want = [(a.off, a.alert, a.sig) for a in await store.read_range(CH, 0, 4, 10)]
    assert [w[0] for w in want] == [1, 2, 3, 4] and want[3] == (4, b"alert d", b"sig-d")
    assert await store.read_items(CH, 0, 4, 10) == want
    assert await store.read_items(CH, 1, 3, 10) == want[1:3]
    assert await store.read_items(CH, 0, 4, 2) == want[:2]
    assert await store.read_items(CH, 0, 4, 0) == []
    assert await store.read_items("no such/channel", 0, 4, 10) == []


async def test_dedup_values_of_the_digest_layout_keep_working(store: Store, raw: Any) -> None:
    """Dedup values "<16-byte digest><offset>", as stored before offsets alone, in a channel
    with leaves: same bytes give the original offset, other bytes 409 naming it; new ids
    get the offset alone. A channel without leaves goes on storing the digest."""
    await store.create_channel(CH)
    await append_ok(store, req("d1"), req("d2"))
    for off in (1, 2):  # what the previous append script wrote
        digest = hashlib.sha1(f"alert d{off}".encode()).digest()[:16]
        await raw.hset(IDS, f"d{off}", digest + str(off).encode())
    results = await store.append_batch([req("d2"), req("d1", b"tampered"), req("n3"),
                                        req("d1")])
    assert results[0] == AppendResult(2, True)
    assert isinstance(results[1], AlertIdConflict) and "offset 1" in results[1].detail
    assert results[2:] == [AppendResult(3, False), AppendResult(1, True)]
    assert await store.alert_offset(CH, "d1") == 1
    assert await raw.hget(IDS, "n3") == b"3"
    await raw.delete("cordon:{ch:op-stop-3}:leaves")  # as a channel stored before logs
    assert await append_ok(store, req("n4")) == [AppendResult(4, False)]
    digest = hashlib.sha1(b"alert n4").digest()[:16]
    assert await raw.hget(IDS, "n4") == digest + b"4"
    results = await store.append_batch([req("n4"), req("n4", b"tampered")])
    assert results[0] == AppendResult(4, True)
    assert isinstance(results[1], AlertIdConflict) and "offset 4" in results[1].detail
    # an offset alone whose leaf is gone: not confirmable as the same alert, so 409
    results = await store.append_batch([req("n3")])
    assert isinstance(results[0], AlertIdConflict) and "offset 3" in results[0].detail


async def test_closed_and_archived_channels_refuse(store: Store, raw: Any) -> None:
    await store.create_channel(CH)
    await append_ok(store, req("a"))
    for state in ("closed", "archived"):
        await store.set_channel_state(CH, state)
        results = await store.append_batch([req("new")])
        assert isinstance(results[0], ChannelClosed)
    assert await raw.xlen(LOG) == 1
    # dedup is checked first: a retry of an acked alert still gets its offset
    assert await store.append_batch([req("a")]) == [AppendResult(1, True)]
    await store.set_channel_state(CH, "open")
    assert await append_ok(store, req("new")) == [AppendResult(2, False)]


async def test_unknown_or_invalid_channel(store: Store, raw: Any) -> None:
    await store.create_channel(CH)
    results = await store.append_batch(
        [req("a", channel="nope"), req("b"), req("c", channel="in}valid"), req("d")]
    )
    assert isinstance(results[0], NoSuchChannel)
    assert results[1] == AppendResult(1, False)
    assert isinstance(results[2], NoSuchChannel)
    assert results[3] == AppendResult(2, False)
    assert await raw.exists("cordon:{ch:nope}:log", "cordon:{ch:nope}:meta") == 0
    assert await store.append_batch([]) == []
    only_bad = await store.append_batch([req("x", channel="in}valid")])
    assert isinstance(only_bad[0], NoSuchChannel)


async def test_append_survives_script_cache_flush(store: Store, raw: Any) -> None:
    await store.create_channel(CH)
    await raw.script_flush()
    assert await append_ok(store, req("a")) == [AppendResult(1, False)]
    await raw.script_flush()
    await store.set_channel_state(CH, "closed")  # Script objects reload themselves too


CH2, CH3 = "op-stop-4", "op-stop-5"


async def test_mixed_batch_one_script_call_per_channel(store: Store, raw: Any) -> None:
    """Several channels interleaved, duplicates and a conflict in the middle of the batch,
    a closed channel and an unknown one: each item answered exactly as on its own."""
    for ch in (CH, CH2, CH3):
        await store.create_channel(ch)
    await append_ok(store, req("old"), req("old2", channel=CH2))
    await store.set_channel_state(CH3, "closed")
    before = int((await raw.info("commandstats")).get("cmdstat_evalsha", {}).get("calls", 0))
    results = await store.append_batch([
        req("a"),                                 # 0  CH new -> 2
        req("x", channel=CH2),                    # 1  CH2 new -> 2
        req("old", b"other bytes"),               # 2  CH conflict with 1
        req("c", channel=CH3),                    # 3  CH3 closed
        req("a"),                                 # 4  CH dup within the batch -> 2
        req("x", b"tampered", channel=CH2),       # 5  CH2 conflict within the batch (2)
        req("gone", channel="no-such-ch"),        # 6  unknown channel
        req("b"),                                 # 7  CH new after a conflict -> 3
        req("old2", channel=CH2),                 # 8  CH2 dup of an earlier batch -> 1
        req("bad", channel="in}valid"),           # 9  invalid name: never sent
        req("old"),                               # 10 CH dup of an earlier batch -> 1
        req("y", channel=CH2),                    # 11 CH2 new -> 3
    ])  # fmt: skip
    after = int((await raw.info("commandstats"))["cmdstat_evalsha"]["calls"])
    # CH, CH2, CH3, no-such-ch: one append call each; then, once the fsync is confirmed,
    # one watermark raise for each channel with offsets (CH, CH2)
    assert after - before == 4 + 2
    assert results[0] == AppendResult(2, False)
    assert results[1] == AppendResult(2, False)
    assert isinstance(results[2], AlertIdConflict) and "offset 1" in results[2].detail
    assert isinstance(results[3], ChannelClosed)
    assert results[4] == AppendResult(2, True)
    assert isinstance(results[5], AlertIdConflict) and "offset 2" in results[5].detail
    assert isinstance(results[6], NoSuchChannel)
    assert results[7] == AppendResult(3, False)
    assert results[8] == AppendResult(1, True)
    assert isinstance(results[9], NoSuchChannel)
    assert results[10] == AppendResult(1, True)
    assert results[11] == AppendResult(3, False)
    # stored with explicit 0-<offset> ids, head moved once per channel, dups counted
    assert [e[0] for e in await raw.xrange(LOG)] == [b"0-1", b"0-2", b"0-3"]
    assert [a.alert for a in await store.read_after(CH, 1, 10)] == [b"alert a", b"alert b"]
    assert [a.alert for a in await store.read_after(CH2, 1, 10)] == [b"alert x", b"alert y"]
    assert (await store.channel(CH)).head == 3  # type: ignore[union-attr]
    assert (await store.channel(CH2)).head == 3  # type: ignore[union-attr]
    assert (await store.channel(CH3)).head == 0  # type: ignore[union-attr]
    assert await raw.hget(META, "dups") == b"2"
    assert await raw.hget("cordon:{ch:op-stop-4}:meta", "dups") == b"1"
    assert await raw.exists("cordon:{ch:op-stop-5}:log", "cordon:{ch:no-such-ch}:meta") == 0


async def test_batch_of_only_refusals_writes_nothing(store: Store, raw: Any) -> None:
    await store.create_channel(CH)
    await append_ok(store, req("a"))
    await store.set_channel_state(CH, "closed")
    results = await store.append_batch([req("b"), req("a", b"other"), req("c")])
    assert isinstance(results[0], ChannelClosed)
    assert isinstance(results[1], AlertIdConflict)
    assert isinstance(results[2], ChannelClosed)
    assert await raw.hget(META, "dups") is None
    assert (await store.channel(CH)).head == 1  # type: ignore[union-attr]


async def test_large_batch_in_one_channel(store: Store) -> None:
    await store.create_channel(CH)
    batch = [req(f"n{i}", f"seizure {i} ".encode() * 100) for i in range(512)]
    assert await append_ok(store, *batch) == [AppendResult(i, False) for i in range(1, 513)]
    stored = await store.read_after(CH, 0, 1000)
    assert [a.alert for a in stored] == [r.alert for r in batch]
    assert await append_ok(store, *batch[:3]) == [AppendResult(i, True) for i in (1, 2, 3)]


# --- reads --------------------------------------------------------------------------------


async def test_read_after_paging(store: Store) -> None:
    await store.create_channel(CH)
    await append_ok(store, *(req(f"a{i}") for i in range(1, 11)))
    page = await store.read_after(CH, 0, 4)
    assert [a.off for a in page] == [1, 2, 3, 4]
    assert page[0] == StoredAlert(off=1, alert=b"alert a1", sig=b"sig-alert a1", kid="",
                                  received=1)  # fmt: skip
    assert [a.off for a in await store.read_after(CH, 4, 4)] == [5, 6, 7, 8]
    assert [a.off for a in await store.read_after(CH, 8, 4)] == [9, 10]
    assert await store.read_after(CH, 10, 4) == []
    assert await store.read_after(CH, 99, 4) == []
    assert [a.off for a in await store.read_after(CH, -5, 2)] == [1, 2]
    assert await store.read_after(CH, 0, 0) == []
    assert await store.read_after("nope", 0, 10) == []
    assert await store.read_after("in}valid", 0, 10) == []


async def test_read_before_paging(store: Store) -> None:
    await store.create_channel(CH)
    assert await store.read_before(CH, None, 10) == []
    await append_ok(store, *(req(f"a{i}") for i in range(1, 11)))
    assert [a.off for a in await store.read_before(CH, None, 3)] == [8, 9, 10]
    assert [a.off for a in await store.read_before(CH, 8, 3)] == [5, 6, 7]
    assert [a.off for a in await store.read_before(CH, 3, 5)] == [1, 2]
    assert await store.read_before(CH, 1, 5) == []
    assert await store.read_before(CH, 0, 5) == []
    assert [a.off for a in await store.read_before(CH, 11, 2)] == [9, 10]
    assert [a.off for a in await store.read_before(CH, 500, 2)] == [9, 10]
    assert len(await store.read_before(CH, None, 100)) == 10
    assert await store.read_before(CH, None, 0) == []
    assert await store.read_before("nope", None, 5) == []


async def test_wait_after_returns_at_once_when_behind(store: Store) -> None:
    await store.create_channel(CH)
    await append_ok(store, req("a"), req("b"), req("c"))
    got = await store.wait_after(CH, 1, count=10, block_ms=5000)
    assert [a.off for a in got] == [2, 3]
    assert [a.off for a in await store.wait_after(CH, 0, count=2, block_ms=5000)] == [1, 2]


async def test_wait_after_wakes_on_append(store: Store, raw: Any) -> None:
    await store.create_channel(CH)
    waiter = asyncio.create_task(store.wait_after(CH, 0, count=10, block_ms=10_000))
    await until(lambda: _blocked(raw, 1))
    assert not waiter.done()
    await append_ok(store, req("a"))
    got = await asyncio.wait_for(waiter, 5)
    assert [(a.off, a.alert) for a in got] == [(1, b"alert a")]


async def _blocked(raw: Any, n: int) -> bool:
    return await blocked_clients(raw) >= n


async def test_wait_after_times_out_with_empty_list(store: Store) -> None:
    await store.create_channel(CH)
    start = time.monotonic()
    assert await store.wait_after(CH, 0, count=10, block_ms=150) == []
    assert time.monotonic() - start >= 0.1
    assert await store.wait_after("nope", 0, count=10, block_ms=100) == []
    with pytest.raises(ValueError, match="block_ms"):
        await store.wait_after(CH, 0, count=10, block_ms=0)


async def test_cancelled_wait_does_not_poison_the_pool(store: Store, raw: Any) -> None:
    """A cancelled XREAD BLOCK must not leave its reply for the next user of the connection."""
    await store.create_channel(CH)
    await store.create_channel("other")
    for _ in range(5):
        waiter = asyncio.create_task(store.wait_after(CH, 0, count=10, block_ms=30_000))
        await until(lambda: _blocked(raw, 1))
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        # the server sees the connection go, so nobody stays blocked on it
        await until(lambda: _not_blocked(raw))
    await append_ok(store, req("a"))  # would have answered a stale XREAD
    assert await store.wait_after("other", 0, count=10, block_ms=100) == []
    assert [a.off for a in await store.wait_after(CH, 0, count=10, block_ms=100)] == [1]
    assert await store.read_after("other", 0, 10) == []


async def _not_blocked(raw: Any) -> bool:
    return await blocked_clients(raw) == 0


async def test_many_concurrent_waiters(store: Store) -> None:
    await store.create_channel(CH)
    waiters = [
        asyncio.create_task(store.wait_after(CH, 0, count=10, block_ms=10_000)) for _ in range(20)
    ]
    await asyncio.sleep(0.05)
    await append_ok(store, req("a"))
    results = await asyncio.wait_for(asyncio.gather(*waiters), 10)
    assert all([a.off for a in r] == [1] for r in results)


# --- retention --------------------------------------------------------------------------


async def test_trim_drops_old_alerts_and_moves_first(store: Store, raw: Any) -> None:
    await store.create_channel(CH, retention_ms=1000)
    await append_ok(store, *(req(f"a{i}", received=i * 1000) for i in range(1, 6)))
    # cutoff 3500 - 1000 = 2500: alerts received at 1000 and 2000 go
    assert await store.trim(CH, now_ms=3500) == 2
    meta = await store.channel(CH)
    assert meta is not None
    assert (meta.first, meta.head) == (3, 5)
    assert [a.off for a in await store.read_after(CH, 0, 10)] == [3, 4, 5]
    assert [a.off for a in await store.read_before(CH, None, 10)] == [3, 4, 5]
    assert await raw.xlen(LOG) == 3
    assert await store.trim(CH, now_ms=3500) == 0  # idempotent
    # dedup outlives trimming: the id is still known for the channel's life
    assert await store.append_batch([req("a1", received=9000)]) == [AppendResult(1, True)]


async def test_trim_everything_then_append_continues(store: Store) -> None:
    await store.create_channel(CH, retention_ms=10)
    await append_ok(store, *(req(f"a{i}", received=100) for i in range(1, 4)))
    assert await store.trim(CH, now_ms=10_000) == 3
    meta = await store.channel(CH)
    assert meta is not None
    assert (meta.first, meta.head) == (4, 3)
    assert await store.read_after(CH, 0, 10) == []
    assert await append_ok(store, req("a4", received=10_000)) == [AppendResult(4, False)]
    assert [a.off for a in await store.read_after(CH, 0, 10)] == [4]


async def test_trim_in_chunks(store: Store) -> None:
    await store.create_channel(CH, retention_ms=1000)
    await append_ok(store, *(req(f"o{i}", received=5) for i in range(450)))
    await append_ok(store, *(req(f"n{i}", received=50_000) for i in range(3)))
    assert await store.trim(CH, now_ms=50_500) == 450
    meta = await store.channel(CH)
    assert meta is not None
    assert meta.first == 451
    assert [a.off for a in await store.read_after(CH, 0, 10)] == [451, 452, 453]


async def test_trim_drops_only_a_prefix(store: Store) -> None:
    """Out-of-order receive times (several hub clocks) never punch holes in the history."""
    await store.create_channel(CH, retention_ms=1000)
    await append_ok(store, req("a", received=100), req("b", received=9000),
                    req("c", received=200))  # fmt: skip
    assert await store.trim(CH, now_ms=9500) == 1
    assert [a.off for a in await store.read_after(CH, 0, 10)] == [2, 3]


async def test_trim_without_retention_or_channel(store: Store) -> None:
    await store.create_channel(CH)
    await append_ok(store, req("a", received=1))
    assert await store.trim(CH, now_ms=10**13) == 0
    assert await store.trim("nope", now_ms=10**13) == 0


# --- members and certificates -------------------------------------------------------------


async def test_members(store: Store) -> None:
    fr = await store.add_member("fr", name="France", country="FR")
    assert (fr.id, fr.name, fr.country, fr.status) == ("fr", "France", "FR", "active")
    await store.add_member("be", name="Belgium", country="BE")
    assert await store.member("fr") == fr
    assert [m.id for m in await store.members()] == ["be", "fr"]
    with pytest.raises(Conflict):
        await store.add_member("fr", name="again", country="FR")
    suspended = await store.set_member_status("fr", "suspended")
    assert suspended.status == "suspended"
    assert suspended.created == fr.created
    assert (await store.member("fr")) == suspended
    with pytest.raises(ValueError, match="member status"):
        await store.set_member_status("fr", "gone")
    with pytest.raises(NotFound):
        await store.set_member_status("xx", "active")
    with pytest.raises(InvalidFrame):
        await store.add_member("Not Valid", name="x", country="")
    assert await store.member("xx") is None


def _cert(kid: str, principal: str = "fr/ops", **kw: Any) -> CertRecord:
    fields: dict[str, Any] = {
        "kid": kid, "principal": principal, "member": principal.split("/")[0], "admin": False,
        "der": b"\x30\x82" + kid.encode(), "serial": 0x1234, "not_after": 1_900_000_000_000,
        "status": "active",
    }  # fmt: skip
    fields.update(kw)
    return CertRecord(**fields)


async def test_certificate_registry(store: Store) -> None:
    one, two = _cert("aa" * 32), _cert("bb" * 32)
    admin = _cert("cc" * 32, "admin/alice", member=None, admin=True)
    for rec in (one, two, admin):
        await store.register_cert(rec)
    await store.register_cert(one)  # idempotent
    assert await store.cert(one.kid) == one
    assert await store.cert(admin.kid) == admin
    assert await store.cert("dd" * 32) is None
    assert await store.certs_of("fr/ops") == [one, two]
    assert await store.certs_of("admin/alice") == [admin]
    assert await store.certs_of("fr/nobody") == []
    assert await store.cert_ders([one.kid, "dd" * 32, admin.kid, one.kid]) == {
        one.kid: one.der, admin.kid: admin.der,
    }  # fmt: skip
    assert await store.cert_ders([]) == {}
    await store.set_cert_status(two.kid, "revoked")
    assert (await store.cert(two.kid)).status == "revoked"  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        await store.set_cert_status("dd" * 32, "revoked")
    with pytest.raises(ValueError, match="certificate status"):
        await store.set_cert_status(one.kid, "lost")
    with pytest.raises(ValueError, match="certificate status"):
        await store.register_cert(_cert("ee" * 32, status="weird"))
    # replace: register again with another status
    await store.register_cert(_cert(two.kid, status="active"))
    assert (await store.cert(two.kid)).status == "active"  # type: ignore[union-attr]


# --- events and audit -----------------------------------------------------------------------


async def test_events_round_trip_between_two_stores(store: Store, valkey_url: str) -> None:
    other = await Store.connect(valkey_url)
    try:
        async with other.events() as events:
            assert isinstance(events, EventStream)
            await store.publish_event({"type": "revoke", "kid": "aa", "principal": "fr/ops"})
            await store.publish_event({"type": "role", "ch": CH, "member": "fr", "role": None})
            first = await asyncio.wait_for(anext(events), 5)
            second = await asyncio.wait_for(anext(events), 5)
        assert first == {"type": "revoke", "kid": "aa", "principal": "fr/ops"}
        assert second == {"type": "role", "ch": CH, "member": "fr", "role": None}
        async for _ in events:  # closed: iteration ends
            pytest.fail("closed stream yielded")
    finally:
        await other.close()


async def test_events_skip_garbage(store: Store, raw: Any) -> None:
    async with store.events() as events:
        await raw.publish("cordon:events", b"\xc1")  # not msgpack
        await raw.publish("cordon:events", msgpack.packb([1, 2]))  # not a map
        await store.publish_event({"type": "member", "member": "fr", "status": "suspended"})
        event = await asyncio.wait_for(anext(events), 5)
    assert event == {"type": "member", "member": "fr", "status": "suspended"}


async def test_events_plain_async_for_and_cancel(store: Store, raw: Any) -> None:
    got: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in store.events():
            got.append(event)

    task = asyncio.create_task(consume())
    await until(lambda: _subscribers(raw, 1))
    await store.publish_event({"n": 1})
    await until(lambda: _has(got))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert got == [{"n": 1}]
    await until(lambda: _subscribers(raw, 0, exact=True))  # the connection was released


async def _subscribers(raw: Any, n: int, *, exact: bool = False) -> bool:
    count = dict(await raw.pubsub_numsub("cordon:events")).get(b"cordon:events", 0)
    return bool(count == n if exact else count >= n)


async def _has(items: list[Any]) -> bool:
    return bool(items)


async def test_publish_event_limits(store: Store) -> None:
    with pytest.raises(ValueError, match="too large"):
        await store.publish_event({"x": "y" * 70_000})


async def test_audit_log_filters(store: Store) -> None:
    await store.audit({"action": "connect", "principal": "fr/ops", "peer": "1.2.3.4"})
    await store.audit({"action": "pub", "principal": "fr/ops", "result": "refused"})
    await asyncio.sleep(0.01)  # the next records get a later stream timestamp
    await store.audit({"action": "connect", "principal": "nl/ops"})
    await store.audit({"action": "channel.create", "principal": "admin/alice", "channel": CH})
    everything = await store.audit_log()
    assert [r["action"] for r in everything] == ["connect", "pub", "connect", "channel.create"]
    assert everything[0] == {"action": "connect", "principal": "fr/ops", "peer": "1.2.3.4",
                             "id": everything[0]["id"]}  # fmt: skip
    assert [r["principal"] for r in await store.audit_log(action="connect")] == [
        "fr/ops", "nl/ops",
    ]  # fmt: skip
    assert [r["action"] for r in await store.audit_log(principal="fr/ops")] == ["connect", "pub"]
    assert await store.audit_log(principal="fr/ops", action="pub") == [everything[1]]
    since = int(everything[2]["id"].split("-")[0])
    assert [r["principal"] for r in await store.audit_log(since_ms=since)] == [
        "nl/ops", "admin/alice",
    ]  # fmt: skip
    assert len(await store.audit_log(limit=3)) == 3
    assert await store.audit_log(limit=0) == []
    assert await store.audit_log(since_ms=int(time.time() * 1000) + 60_000) == []
    with pytest.raises(ValueError, match="empty"):
        await store.audit({})
    with pytest.raises(ValueError, match="reserved"):
        await store.audit({"id": "1", "action": "x"})


async def test_audit_log_pages_through_many_records(store: Store) -> None:
    for i in range(2500):
        await store.audit({"action": "pub" if i % 2 else "connect", "principal": "fr/ops",
                           "n": str(i)})  # fmt: skip
    pubs = await store.audit_log(action="pub", limit=5000)
    assert len(pubs) == 1250
    assert [int(r["n"]) for r in pubs] == list(range(1, 2500, 2))
    assert len(await store.audit_log(limit=1200)) == 1200


# --- failures and crashes -------------------------------------------------------------------


async def test_unavailable_when_the_server_is_gone(private_valkey: EmbeddedValkey) -> None:
    store = await Store.connect(private_valkey.url)
    try:
        await store.create_channel(CH)
        await append_ok(store, req("a"))
        await private_valkey.kill()
        with pytest.raises(Unavailable):
            await store.channel(CH)
        with pytest.raises(Unavailable):
            await store.append_batch([req("b")])
        with pytest.raises(Unavailable):
            await store.wait_after(CH, 0, count=1, block_ms=100)
        with pytest.raises(Unavailable):
            await store.audit({"action": "x"})
        with pytest.raises(Unavailable):
            async with store.events():
                pass
        # the same Store recovers when the server is back (AOF replayed, scripts reloaded)
        await private_valkey.start()
        assert await store.append_batch([req("a"), req("b")]) == [
            AppendResult(1, True), AppendResult(2, False),
        ]  # fmt: skip
        await store.set_channel_state(CH, "closed")
    finally:
        await store.close()


async def test_event_stream_reports_lost_connection(private_valkey: EmbeddedValkey) -> None:
    store = await Store.connect(private_valkey.url)
    try:
        async with store.events() as events:
            pending = asyncio.ensure_future(anext(events))
            await asyncio.sleep(0.05)
            await private_valkey.kill()
            with pytest.raises(Unavailable):
                await asyncio.wait_for(pending, 10)
    finally:
        await store.close()


async def test_event_stream_says_resync_after_a_silent_reconnect(
        store: Store, raw: Any) -> None:
    """The client library re-establishes a killed pub/sub connection by itself; events
    published meanwhile are lost, so the stream yields RESYNC, then events again."""
    async with store.events() as events:
        pending = asyncio.ensure_future(anext(events))
        await until(lambda: _subscribers(raw, 1))
        assert await raw.client_kill_filter(_type="pubsub") >= 1
        assert await asyncio.wait_for(pending, 10) == RESYNC
        await until(lambda: _subscribers(raw, 1))
        await store.publish_event({"n": 2})
        assert await asyncio.wait_for(anext(events), 5) == {"n": 2}


async def test_fsync_not_confirmed_is_unavailable(private_valkey: EmbeddedValkey) -> None:
    store = await Store.connect(private_valkey.url)
    try:
        assert store.durability == "waitaof"
        await store.create_channel(CH)
        admin: Any = aioredis.Redis.from_url(private_valkey.url)
        await admin.config_set("appendonly", "no")
        with pytest.raises(Unavailable, match="fsync"):
            await store.append_batch([req("a")])
        meta = await store.channel(CH)  # appended, but above the durable watermark
        assert meta is not None and (meta.assigned, meta.head) == (1, 0)
        assert await store.read_before(CH, meta.head + 1, 10) == []
        await admin.config_set("appendonly", "yes")
        await admin.aclose()
        # not acknowledged, but stored: the retry is answered from dedup, and now durable
        assert await store.append_batch([req("a")]) == [AppendResult(1, True)]
    finally:
        await store.close()


async def test_acked_alerts_survive_kill_9(private_valkey: EmbeddedValkey) -> None:
    """Every alert acknowledged with WAITAOF is there after SIGKILL and an AOF replay."""
    store = await Store.connect(private_valkey.url)
    acked: dict[int, bytes] = {}
    try:
        await store.create_channel(CH)

        async def publish(b: int) -> None:
            batch = [req(f"crash-{b}-{i}", f"seizure {b}/{i} ".encode() * 20) for i in range(100)]
            for r, result in zip(batch, await store.append_batch(batch), strict=True):
                assert isinstance(result, AppendResult)
                acked[result.off] = r.alert

        await asyncio.gather(*(publish(b) for b in range(30)))
        await private_valkey.kill()  # no clean shutdown, no final fsync
    finally:
        await store.close()
    await private_valkey.start()
    store = await Store.connect(private_valkey.url)
    try:
        stored = {a.off: a.alert for a in await store.read_after(CH, 0, 10_000)}
        assert len(acked) == 3000
        assert stored == acked
        assert (await store.channel(CH)).head == 3000  # type: ignore[union-attr]
    finally:
        await store.close()


# --- durable watermark and continuity ----------------------------------------------------


async def test_watermark_follows_confirmed_appends(store: Store) -> None:
    await store.create_channel(CH)
    meta = await store.channel(CH)
    assert meta is not None and (meta.head, meta.assigned, meta.first) == (0, 0, 1)
    results = await append_ok(store, req("a"), req("b"))
    assert {r.epoch for r in results} == {meta.epoch}
    after = await store.channel(CH)
    assert after is not None and (after.head, after.assigned) == (2, 2)
    assert [a.off for a in await store.read_range(CH, 0, 2, 10)] == [1, 2]
    assert [a.off for a in await store.read_range(CH, 1, 2, 10)] == [2]
    assert await store.read_range(CH, 2, 2, 10) == []
    assert [i[0] for i in await store.read_items(CH, 0, 2, 10)] == [1, 2]
    assert [i[0] for i in await store.read_items(CH, 1, 2, 10)] == [2]
    assert await store.read_items(CH, 2, 2, 10) == []
    assert await store.wait_watermark(CH, 0, block_ms=100) == 2
    assert await store.wait_watermark(CH, 2, block_ms=100) == 2  # timed out: unchanged
    waiter = asyncio.create_task(store.wait_watermark(CH, 2, block_ms=10_000))
    await asyncio.sleep(0.05)
    await append_ok(store, req("c"))
    assert await asyncio.wait_for(waiter, 5) == 3


async def test_watermark_is_shared_and_never_lowered(valkey_url: str, store: Store) -> None:
    """Two hub processes' stores raise one watermark; a raise below it changes nothing
    (a later fsync covers every earlier write of the sequential AOF, so the highest
    confirmed offset wins, whoever confirmed it)."""
    await store.create_channel(CH)
    other = await Store.connect(valkey_url)
    try:
        await append_ok(store, req("a"))
        await append_ok(other, req("b"), req("c"))
        meta = await store.channel(CH)
        assert meta is not None and meta.head == 3
        await store.raise_watermarks({CH: 1})
        meta = await other.channel(CH)
        assert meta is not None and meta.head == 3
    finally:
        await other.close()


async def test_continuity_bumps_the_epoch_below_a_remembered_watermark(
    valkey_url: str, store: Store
) -> None:
    await store.create_channel(CH)
    await append_ok(store, req("a"), req("b"))
    meta = await store.channel(CH)
    assert meta is not None
    assert await store.check_continuity() == {}  # nothing lost
    assert await store.check_continuity({CH: ("other-epoch", 99)}) == {}  # another epoch
    changed = await store.check_continuity({CH: (meta.epoch, 5)})  # 5 were durable
    assert set(changed) == {CH} and changed[CH] != meta.epoch
    after = await store.channel(CH)
    assert after is not None and after.epoch == changed[CH] and after.head == 2
    assert store.seen[CH] == (changed[CH], 2)
    results = await append_ok(store, req("c"))
    assert results[0].off == 3 and results[0].epoch == changed[CH]
    assert await store.check_continuity() == {}  # idempotent


async def test_writes_wait_for_the_continuity_check_after_a_store_restart(
    private_valkey: EmbeddedValkey,
) -> None:
    """A restarted store (new run_id) is noticed on the next connection: writes are
    refused (503) until the continuity check ran; nothing was lost, so the epoch stays."""
    store = await Store.connect(private_valkey.url)
    try:
        meta = await store.create_channel(CH)
        await append_ok(store, req("a"))
        await private_valkey.stop()
        await private_valkey.start()
        async with asyncio.timeout(20):
            while True:
                try:
                    results = await append_ok(store, req("b"))
                    break
                except Unavailable:
                    await asyncio.sleep(0.05)
        assert results[0].off == 2 and results[0].epoch == meta.epoch
        assert await store.check_continuity() == {}
    finally:
        await store.close()
