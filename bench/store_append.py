"""Store CPU per appended alert, the append script alone.

30,000 chained 1 KiB alerts from 4 senders, in batches of 128, through
``Store.append_batch`` on a fresh embedded Valkey; the figure is valkey-server's CPU time
(from /proc) per alert. Run it on two builds in turn to compare append scripts::

    .venv/bin/python -m bench.store_append [--alerts N] [--batch N]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import tempfile
import time
from pathlib import Path

from hub.embedded import EmbeddedValkey
from hub.storage import Store
from hub.storage.records import AppendRequest

SENDERS = 4


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _requests(n: int) -> list[AppendRequest]:
    prev = {f"m{k}/ops": bytes(32) for k in range(SENDERS)}
    seqs = dict.fromkeys(prev, 0)
    out = []
    for i in range(n):
        alert = os.urandom(1024)
        sender = f"m{i % SENDERS}/ops"
        seqs[sender] += 1
        out.append(AppendRequest(channel="c1", alert_id=f"id{i:022d}", alert=alert,
                                 sig=b"s" * 64, kid="", received=1, sender=sender,
                                 seq=seqs[sender], prev=prev[sender]))
        prev[sender] = hashlib.sha256(alert).digest()
    return out


async def run(alerts: int, batch: int) -> float:
    """Store CPU µs per appended alert."""
    server = EmbeddedValkey(Path(tempfile.mkdtemp(prefix="cordon-bench-")))
    await server.start()
    try:
        store = await Store.connect(server.url)
        try:
            await store.create_channel("c1")
            pid = server.pid
            assert pid is not None
            reqs = _requests(alerts)
            before, t0 = _cpu_s(pid), time.monotonic()
            for start in range(0, alerts, batch):
                results = await store.append_batch(reqs[start:start + batch])
                if not all(getattr(r, "off", 0) for r in results):
                    raise SystemExit(f"append refused: {results[:2]}")
            per_alert = 1e6 * (_cpu_s(pid) - before) / alerts
            print(f"store CPU per alert {per_alert:.1f} us "
                  f"({alerts} alerts, batches of {batch}, {time.monotonic() - t0:.2f} s)")
            return per_alert
        finally:
            await store.close()
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.store_append")
    parser.add_argument("--alerts", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    asyncio.run(run(args.alerts, args.batch))


if __name__ == "__main__":
    main()
