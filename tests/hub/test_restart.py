"""A real ``cordon serve`` process, killed with SIGKILL (and its embedded store with it) while
members publish and follow a channel, then started again on the same data folder.

Nothing acknowledged is lost, and an SDK subscriber that rode through the crash has every
alert exactly once, in order, with the bytes that were acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from client.sdk import Client, Received
from hub.storage import Store
from tests.hub.wire import CH, eventually, notice
from tests.pki import Leaf, Pki, make_pki

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")

ROOT = Path(__file__).parents[2]
RECONNECT = {"backoff": 0.05, "max_backoff": 0.5, "max_attempts": 400, "request_timeout": 20}


class HubProcess:
    """``cordon serve`` as a child process with its own embedded store in ``data_dir``."""

    def __init__(self, pki: Pki, data_dir: Path) -> None:
        self.pki = pki
        self.data_dir = data_dir
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.log: list[str] = []

    async def start(self) -> None:
        argv = [
            "serve", "--port", str(self.port), "--data-dir", str(self.data_dir),
            "--ca-dir", str(self.pki.dir), "--server-cert", str(self.pki.server.cert),
            "--server-key", str(self.pki.server.key),
        ]  # fmt: skip
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main())",
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self.proc.stdout is not None
        async with asyncio.timeout(60):
            while True:
                line = (await self.proc.stdout.readline()).decode()
                assert line, "cordon serve exited:\n" + "".join(self.log)
                self.log.append(line)
                found = re.search(r"listening on wss://127\.0\.0\.1:(\d+)", line)
                if found:
                    self.port = int(found.group(1))
                    break
        self._drain = asyncio.create_task(self._read_rest())

    async def _read_rest(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.log.append(line.decode())

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/"

    @property
    def store_url(self) -> str:
        return f"unix://{self.data_dir / 'store' / 'valkey.sock'}"

    def children(self) -> list[int]:
        assert self.proc is not None
        pid = self.proc.pid
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in text.split()]

    async def kill9(self) -> None:
        """SIGKILL the store first, then the hub: a crash, no graceful anything."""
        assert self.proc is not None
        for child in self.children():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        self.proc.kill()
        async with asyncio.timeout(30):
            await self.proc.wait()
            await self._drain
            # The store's folder lock is free once the killed store is gone.
            lock = self.data_dir / "store" / "cordon-store.lock"
            while True:
                with lock.open("a") as fh:
                    try:
                        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        pass
                    else:
                        fcntl.flock(fh, fcntl.LOCK_UN)
                        break
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
            await self._drain


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[HubProcess, Pki]]:
    pki = make_pki(tmp_path)
    hub = HubProcess(pki, tmp_path / "hub")
    try:
        yield hub, pki
    finally:
        await hub.stop()


def client(hub: HubProcess, pki: Pki, leaf: Leaf, **options: Any) -> Client:
    return Client(hub.url, cert=leaf.cert, key=leaf.key, ca=pki.ca,
                  server_hostname="localhost", **options)


async def test_kill_9_and_restart_loses_nothing_acked_and_the_subscriber_resumes(
    served: tuple[HubProcess, Pki],
) -> None:
    hub, pki = served
    alice, fr, it = pki.admin("alice"), pki.member("fr", "ops"), pki.member("it", "gdf")
    await hub.start()
    async with client(hub, pki, alice) as adm:
        await adm.admin("channel.create", {"name": CH, "title": "STOP III"})
        await adm.admin("role.grant", {"channel": CH, "member": "fr", "role": "contributor"})
        await adm.admin("role.grant", {"channel": CH, "member": "it", "role": "reader"})

    acked: dict[int, str] = {}
    received: list[Received] = []
    restarted = asyncio.Event()

    async def publish() -> None:
        async with client(hub, pki, fr, **RECONNECT) as c:
            i = 0
            while not (restarted.is_set() and len(acked) >= 400):
                results = await asyncio.gather(*(
                    c.publish(CH, "notice", notice(f"seizure report {i + k}"))
                    for k in range(10)))
                i += 10
                for ack in results:
                    if ack.offset in acked:
                        assert acked[ack.offset] == ack.alert_id
                    acked[ack.offset] = ack.alert_id

    async def follow() -> None:
        async with client(hub, pki, it, **RECONNECT) as c, c.subscribe(CH, since=0) as sub:
            async for alert in sub:
                received.append(alert)

    follower = asyncio.create_task(follow())
    publisher = asyncio.create_task(publish())
    await eventually(lambda: len(acked) >= 200, timeout=60)
    await hub.kill9()
    acked_before_crash = dict(acked)
    await hub.start()  # same port, same data folder
    restarted.set()
    try:
        async with asyncio.timeout(90):
            await publisher
            while not received or received[-1].offset < max(acked):
                assert not follower.done(), follower
                await asyncio.sleep(0.02)
    except TimeoutError:
        last = received[-1].offset if received else None
        raise AssertionError(f"acked up to {max(acked)}, subscriber at {last}; hub log:\n"
                             + "".join(hub.log[-40:])) from None
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower

    # Every acknowledged alert is stored, at its acknowledged offset.
    store = await Store.connect(hub.store_url)
    try:
        meta = await store.channel(CH)
        assert meta is not None
        stored = await store.read_after(CH, 0, 100_000)
    finally:
        await store.close()
    from hub.protocol.envelope import decode_envelope

    by_off = {s.off: decode_envelope(s.alert).id for s in stored}
    assert [s.off for s in stored] == list(range(1, meta.head + 1))
    for off, alert_id in acked.items():
        assert by_off[off] == alert_id
    assert all(by_off[off] == aid for off, aid in acked_before_crash.items())
    # The subscriber saw every alert once, in order, verified, with the stored bytes.
    assert [r.offset for r in received] == list(range(1, len(received) + 1))
    assert len(received) >= max(acked)
    assert all(r.verified for r in received)
    assert all(by_off[r.offset] == r.envelope.id for r in received if r.envelope)
