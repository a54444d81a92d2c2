"""Durability under faults: an ack follows an fsync; subscribers see only what is durable;
a store that lost acked alerts starts a new epoch; a frozen store is reported in time.

Every test runs its own store (a private ``valkey-server`` from the embedded wheel), since
each one stops, freezes, reconfigures or cuts the files of its store.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from hub.cli import main as cli_main
from hub.embedded import EmbeddedValkey, valkey_binary
from hub.protocol import frames as f
from hub.protocol.errors import CloseCode, EpochMismatch, Unavailable
from hub.storage import AppendRequest, AppendResult, Store
from tests.harness import HubHarness
from tests.hub.wire import CH, Raw, Signer, cast, close_code, notice

pytestmark = pytest.mark.timeout(180)


def req(i: int, channel: str = CH) -> AppendRequest:
    return AppendRequest(channel=channel, alert_id=f"a-{i}", alert=f"alert {i} ".encode() * 8,
                         sig=b"s" * 64, kid="k" * 64, received=int(time.time() * 1000))


@pytest.fixture
async def hub_on(tmp_path: Path, private_valkey: EmbeddedValkey) -> AsyncIterator[HubHarness]:
    """A hub on the private store (an external store, from the hub's point of view)."""
    harness = HubHarness(tmp_path / "hub", private_valkey.url, store_timeout_s=2.0)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


# --- 1. an ack follows an fsync ---------------------------------------------------------

_FSYNC = re.compile(r"^\d+\s+(\d+\.\d+) f(?:data)?sync\(\d+\)\s+= 0 <(\d+\.\d+)>")


@pytest.mark.skipif(shutil.which("strace") is None,
                    reason="strace is not installed (.ci/run installs it with apt-get)")
async def test_every_ack_follows_an_fsync_of_the_embedded_store(tmp_path: Path) -> None:
    """The embedded store's own command line, run under ``strace -f -ttt -T -e
    trace=fsync,fdatasync``: for each of 20 alerts appended one after the other, an fsync
    of the server started after the append was sent and *completed* before the ack came
    back. Why this method: it watches the system call itself, on the real server with the
    real settings, and the two clocks are one (the same host's wall clock). Reading
    ``INFO persistence`` or the AOF file would show that the bytes were written, not that
    they were fsynced; and WAITAOF's own answer is what redis/redis#13793 showed to lie
    under ``appendfsync everysec`` (there the same 20 appends get one fsync in all)."""
    trace = tmp_path / "strace.out"
    wrapper = tmp_path / "traced-valkey"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"exec strace -f -qq -ttt -T -e trace=fsync,fdatasync -e signal=none -o {trace} "
        f"{valkey_binary()} \"$@\"\n")
    wrapper.chmod(0o755)
    server = EmbeddedValkey(tmp_path / "store", binary=wrapper, start_timeout_s=20,
                            stop_timeout_s=5)
    await server.start()
    windows: list[tuple[float, float]] = []
    try:
        store = await Store.connect(server.url)
        try:
            assert store.durability == "waitaof"
            await store.create_channel(CH)
            for i in range(20):
                sent = time.time()
                [result] = await store.append_batch([req(i)])
                acked = time.time()
                assert isinstance(result, AppendResult) and result.off == i + 1
                windows.append((sent, acked))
        finally:
            await store.close()
        admin: Any = aioredis.Redis.from_url(server.url)
        try:
            await admin.execute_command("SHUTDOWN", "NOSAVE")
        except Exception:  # the server closes the connection as it exits
            pass
        finally:
            await admin.aclose()
    finally:
        await server.stop()
    fsyncs = []
    for line in trace.read_text().splitlines():
        m = _FSYNC.match(line)
        if m:
            start, took = float(m.group(1)), float(m.group(2))
            fsyncs.append((start, start + took))
    assert len(fsyncs) >= 20, trace.read_text()[-2000:]
    for n, (sent, acked) in enumerate(windows):
        assert any(sent <= start and end <= acked for start, end in fsyncs), (
            f"ack {n} came without an fsync completed since its append was sent")
    # One fsync per batch: the watermark raise that follows each confirmed batch is kept
    # out of the AOF (README, Durability), so it does not cost a second fsync and a
    # second wait for it (it did until issue 17's fourth pass: 40 here).
    during = [s for s, _ in fsyncs if windows[0][0] <= s <= windows[-1][1]]
    assert len(during) <= 20 + 2, f"{len(during)} fsyncs for 20 batches"


async def test_the_hub_refuses_durable_against_an_everysec_store(tmp_path: Path) -> None:
    """``cordon serve --redis`` on a store with appendfsync everysec: exit 3 and the reason
    (an ack would not be an fsync); ``--no-durable`` on the same store starts."""
    async with EmbeddedValkey(tmp_path / "s", extra_args=["--appendfsync", "everysec"]) as s:
        harness = HubHarness(tmp_path / "h", s.url)
        hub_args = ["serve", "--redis", s.url, "--ca-dir", str(harness.pki.dir),
                    "--server-cert", str(harness.pki.server.cert),
                    "--server-key", str(harness.pki.server.key),
                    "--data-dir", str(tmp_path / "data"), "--port", "0"]
        code = await asyncio.to_thread(cli_main, hub_args)
        assert code == 3
        with pytest.raises(Unavailable, match="appendfsync always"):
            await harness.start()
        relaxed = HubHarness(tmp_path / "h2", s.url, durable=False)
        await relaxed.start()
        try:
            assert relaxed.store.durability == "none"
        finally:
            await relaxed.stop()


# --- 2. subscribers see only committed alerts --------------------------------------------


async def test_alerts_refused_with_503_reach_no_subscriber(
    hub_on: HubHarness, private_valkey: EmbeddedValkey
) -> None:
    """With the fsync wait failing (AOF switched off under the hub), the publishes are
    refused with 503 and stay above the durable watermark: the live subscriber receives
    none of them, and history, ``sub`` catch-up, ``subok.head`` and ``chanlist`` stop at
    the last acked offset. (Before the watermark, the feed read the stream as soon as the
    append ran: subscribers got the refused alerts.)"""
    h = hub_on
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    admin: Any = aioredis.Redis.from_url(private_valkey.url)
    try:
        async with Raw.open(h, leaves["it"]) as sub, Raw.open(h, leaves["fr"]) as pub:
            ok = await sub.request(f.Subscribe(rid=1, ch=CH, since=0))
            assert isinstance(ok, f.Subscribed)
            assert isinstance(await sub.recv(), f.Synced)
            for _ in range(3):
                assert isinstance(await pub.publish(CH, *signer.sign(CH)), f.Ack)
            assert [(await sub.recv()).off for _ in range(3)] == [1, 2, 3]  # type: ignore[union-attr]

            await admin.config_set("appendonly", "no")
            for _ in range(5):
                answer = await pub.publish(CH, *signer.sign(CH))
                assert isinstance(answer, f.ErrorFrame) and answer.code == 503, answer
            assert await admin.execute_command("XLEN", f"cordon:{{ch:{CH}}}:log") == 8
            with pytest.raises(TimeoutError):  # nothing of offsets 4..8, to anyone
                await sub.recv(timeout=1.0)

            page = await pub.request(f.HistoryRequest(rid=pub.rid(), ch=CH, limit=100))
            assert isinstance(page, f.HistoryPage)
            assert [item.off for item in page.items] == [1, 2, 3]
            async with Raw.open(h, leaves["de"]) as late:
                ok = await late.request(f.Subscribe(rid=1, ch=CH, since=0))
                assert isinstance(ok, f.Subscribed) and ok.head == 3
                got = [await late.recv() for _ in range(4)]
                assert [getattr(x, "off", None) for x in got] == [1, 2, 3, 3]
                assert isinstance(got[-1], f.Synced)
            chans = await pub.request(f.ChannelsRequest(rid=pub.rid()))
            assert isinstance(chans, f.ChannelsResult)
            assert [c.head for c in chans.chans if c.ch == CH] == [3]
    finally:
        await admin.aclose()


async def test_a_store_that_ran_out_of_file_space(tmp_path: Path) -> None:
    """Disk full, without root: the store runs under a file-size limit (``ulimit -f``),
    so its AOF write fails (under appendfsync always Valkey then stops rather than
    answer). Publishes get 503 and the live subscriber has received exactly the acked
    alerts, nothing more. Restarted without the limit, the store keeps every acked alert:
    same epoch, nobody closed, and publishing goes on after the last offset."""
    wrapper = tmp_path / "small-disk-valkey"
    wrapper.write_text(f"#!/bin/sh\nulimit -f 600\nexec {valkey_binary()} \"$@\"\n")
    wrapper.chmod(0o755)
    limited = EmbeddedValkey(tmp_path / "store", binary=wrapper, start_timeout_s=20,
                             stop_timeout_s=5)
    await limited.start()
    # No checkpoint signing: its once-a-second store write can be the one that hits the
    # limit and stops the store between an ack and the feed's read (the alert is then
    # delivered only after the restart, which this test does not wait for).
    h = HubHarness(tmp_path / "hub", limited.url, store_timeout_s=2.0,
                   checkpoint_interval_ms=0)
    try:
        await h.start()
        leaves = await cast(h)
        signer = Signer(leaves["fr"])
        acked: dict[int, bytes] = {}
        async with Raw.open(h, leaves["it"]) as live, Raw.open(h, leaves["fr"]) as pub:
            ok = await live.request(f.Subscribe(rid=1, ch=CH, since=0))
            assert isinstance(ok, f.Subscribed)
            epoch = ok.epoch
            assert isinstance(await live.recv(), f.Synced)
            for i in range(3000):
                alert, sig = signer.sign(CH, body=notice(f"{i:05d} " + "x" * 900))
                answer = await pub.publish(CH, alert, sig)
                if isinstance(answer, f.ErrorFrame):
                    assert answer.code == 503, answer
                    break
                assert isinstance(answer, f.Ack) and answer.epoch == epoch
                acked[answer.off] = alert
            else:
                pytest.fail("the file-size limit was never reached")
            assert acked and not limited.running
            got: dict[int, bytes] = {}
            while len(got) < len(acked):
                frame = await live.recv()
                assert isinstance(frame, f.AlertFrame)
                got[frame.off] = frame.alert
            assert got == acked
            with pytest.raises(TimeoutError):  # nothing that was not acked
                await live.recv(timeout=1.0)

            await limited.stop()
            async with EmbeddedValkey(tmp_path / "store", start_timeout_s=20) as roomy:
                async with asyncio.timeout(30):
                    while True:
                        answer = await pub.publish(CH, *signer.sign(CH, body=notice("on")))
                        if isinstance(answer, f.Ack):
                            break
                        await asyncio.sleep(0.2)
                assert answer.epoch == epoch and answer.off > max(acked)
                history = await h.store.read_after(CH, 0, 10_000)
                assert {a.off: a.alert for a in history if a.off in acked} == acked
                await h.stop()
                assert roomy.running
    finally:
        await h.stop()
        await limited.stop()


# --- 3. loss in the store is detected ----------------------------------------------------


def test_close_code_4012_is_documented() -> None:
    assert int(CloseCode.STORE_RECOVERED) == 4012
    text = (Path(__file__).parents[2] / "PROTOCOL.md").read_text()
    assert "| 4012 | store recovered / history changed" in text


def _cut_aof_before(data_dir: Path, marker: bytes) -> int:
    """Truncate the store's incremental AOF at the start of the transaction (the append
    script's effects) that carries ``marker``, as a lost tail would. Returns the bytes cut."""
    incr = sorted((data_dir / "appendonlydir").glob("*.incr.aof"))[-1]
    data = incr.read_bytes()
    at = data.rindex(b"*1\r\n$5\r\nMULTI\r\n", 0, data.index(marker))
    with incr.open("r+b") as fh:
        fh.truncate(at)
    return len(data) - at


async def test_a_store_that_lost_acked_alerts_starts_a_new_epoch(
    hub_on: HubHarness, private_valkey: EmbeddedValkey
) -> None:
    """Stop the store, cut the tail of its append-only file (alerts 7..10, all acked and
    delivered), restart it. The hub notices the restart (new run_id), finds the channel's
    head (6) below the watermark it saw (10) and gives the channel a new epoch: the live
    subscriber is closed with 4012, a resume with the old epoch gets 412 naming the new
    one, the SDK's auto-resuming subscription raises EpochMismatch, and new alerts take
    offsets 7.. under the new epoch only (no offset names two alerts within one epoch)."""
    h = hub_on
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    seen: dict[tuple[str, int], bytes] = {}  # (epoch, offset) -> alert bytes, from everyone

    def record(epoch: str, off: int, alert: bytes) -> None:
        assert seen.setdefault((epoch, off), alert) == alert, f"offset {off} reused in {epoch}"

    async with Raw.open(h, leaves["it"]) as live, h.client(leaves["de"]) as sdk:
        ok = await live.request(f.Subscribe(rid=1, ch=CH, since=0))
        assert isinstance(ok, f.Subscribed)
        old = ok.epoch
        assert isinstance(await live.recv(), f.Synced)
        sdk_sub = sdk.subscribe(CH, since=0)
        async with Raw.open(h, leaves["fr"]) as pub:
            for i in range(10):
                alert, sig = signer.sign(CH, body=notice(f"cut-marker-{i:02d}"))
                ack = await pub.publish(CH, alert, sig)
                assert isinstance(ack, f.Ack) and ack.off == i + 1 and ack.epoch == old
                record(old, ack.off, alert)
        for _ in range(10):
            frame = await live.recv()
            assert isinstance(frame, f.AlertFrame)
            record(old, frame.off, frame.alert)
        for _ in range(10):
            got = await sdk_sub.__anext__()
            record(old, got.offset, got.alert)

        await private_valkey.stop()
        assert _cut_aof_before(private_valkey.data_dir, b"cut-marker-06") > 0
        await private_valkey.start()

        closed = await live.closed()
        assert close_code(closed) == CloseCode.STORE_RECOVERED
        with pytest.raises(EpochMismatch) as mismatch:  # the SDK resumed with the old epoch
            async with asyncio.timeout(30):
                await sdk_sub.__anext__()
        new = str(mismatch.value.detail)
        assert new != old and len(new) == 32
        await sdk_sub.aclose()

    meta = await h.store.channel(CH)
    assert meta is not None and meta.epoch == new and meta.head == 6
    async with Raw.open(h, leaves["it"]) as again, Raw.open(h, leaves["fr"]) as pub:
        refused = await again.request(f.Subscribe(rid=1, ch=CH, since=10, epoch=old))
        assert isinstance(refused, f.ErrorFrame) and refused.code == 412
        assert refused.detail == new
        for i in range(10, 14):
            alert, sig = signer.sign(CH, body=notice(f"after-{i}"))
            ack = await pub.publish(CH, alert, sig)
            assert isinstance(ack, f.Ack) and ack.epoch == new and ack.off == i - 3
            record(new, ack.off, alert)
        ok = await again.request(f.Subscribe(rid=2, ch=CH, since=0, epoch=new))
        assert isinstance(ok, f.Subscribed) and ok.head == 10
        for _ in range(10):
            frame = await again.recv()
            assert isinstance(frame, f.AlertFrame)
            record(new, frame.off, frame.alert)
    assert sorted(off for epoch, off in seen if epoch == new) == list(range(1, 11))


async def test_a_hub_restarted_after_the_loss_still_notices_it(
    tmp_path: Path, private_valkey: EmbeddedValkey
) -> None:
    """The hub persists the watermarks it saw (data_dir/watermarks.json): stopped, the
    store's AOF cut, the store restarted, a new hub on the same data folder gives the
    channel a new epoch at start."""
    h = HubHarness(tmp_path / "hub", private_valkey.url)
    await h.start()
    try:
        leaves = await cast(h)
        signer = Signer(leaves["fr"])
        old = ""
        async with Raw.open(h, leaves["fr"]) as pub:
            for i in range(5):
                ack = await pub.publish(CH, *signer.sign(CH, body=notice(f"mark-{i}")))
                assert isinstance(ack, f.Ack)
                old = ack.epoch
        await h.stop()
        await private_valkey.stop()
        _cut_aof_before(private_valkey.data_dir, b"mark-3")
        await private_valkey.start()
        await h.start()
        meta = await h.store.channel(CH)
        assert meta is not None and meta.head == 3 and meta.epoch != old
    finally:
        await h.stop()


# --- 4. every store call has a deadline ----------------------------------------------------


async def test_a_frozen_store_gives_503_and_1011_within_the_store_timeout(
    hub_on: HubHarness, private_valkey: EmbeddedValkey
) -> None:
    """SIGSTOP the store (store_timeout_s = 2): a publish gets 503 and a new connection is
    closed with 1011, each within the timeout plus slack (before: retries, the pool's wait
    and WAITAOF multiplied the socket timeout: 80.9 s for a 10 s setting). After SIGCONT
    both work again."""
    h = hub_on
    leaves = await cast(h)
    signer = Signer(leaves["fr"])
    limit = h.settings.store_timeout_s + 1.5  # slack: the event loop, TLS, a busy machine
    pid = private_valkey.pid
    assert pid is not None
    async with Raw.open(h, leaves["fr"]) as pub:
        assert isinstance(await pub.publish(CH, *signer.sign(CH)), f.Ack)
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            answer = await pub.publish(CH, *signer.sign(CH))
            took = time.monotonic() - started
            assert isinstance(answer, f.ErrorFrame) and answer.code == 503, answer
            assert took < limit, f"503 after {took:.1f} s"
            started = time.monotonic()
            with pytest.raises(Exception) as refused:
                async with Raw.open(h, leaves["de"]):
                    pass
            took = time.monotonic() - started
            assert close_code(refused.value) == 1011, refused.value  # type: ignore[arg-type]
            assert took < limit, f"1011 after {took:.1f} s"
        finally:
            os.kill(pid, signal.SIGCONT)
        async with asyncio.timeout(30):
            while True:
                answer = await pub.publish(CH, *signer.sign(CH))
                if isinstance(answer, f.Ack):
                    break
                await asyncio.sleep(0.2)
    async with Raw.open(h, leaves["de"]) as fresh:
        assert fresh.welcome.principal == "de/zoll"
