"""W0 through the SDK itself: one :class:`client.sdk.Client`, ``--in-flight`` tasks each
awaiting :meth:`~client.sdk.Client.publish` in turn, ``--alerts`` chained 1 KiB notices,
against ``cordon serve`` on its embedded store (:class:`bench.targets.HubTarget`, a fresh
hub per run).

``python -m bench`` publishes with a lean connection around the SDK's ``Client.sign``
(bench/README.md); this is the whole member-side path — ``publish_turn``, the batching
of concurrent publishes into ``pubs`` frames, an answer per publish, the chain
bookkeeping — so it shows what a member system gets, and what ``pub_chunk`` does to it.
Each ``--chunks`` value gets ``--runs`` runs, the values taking turns::

    .venv/bin/python -m bench.sdk_publish [--alerts N] [--chunks 128,32] [--runs 3]

Prints one line per run and the medians: acked publishes/s, the hub's and the store's
CPU per acked publish (/proc), and this process's CPU per publish (the SDK's: signing,
encoding, the connection).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import _BODY, ProcSet, make_pki
from bench.targets import HubTarget
from client._conn import PUB_CHUNK
from client.sdk import Client

#: The notice's text: with the envelope around it, an alert of ~1 KiB (as in W0).
TEXT = "x" * 900


@dataclass(frozen=True)
class Run:
    chunk: int
    acked_per_s: float
    hub_us: float
    store_us: float
    sdk_us: float


async def publish_all(client: Client, channel: str, alerts: int, in_flight: int
                      ) -> tuple[float, float]:
    """Publish ``alerts`` notices with ``in_flight`` concurrent publishers; every one
    must be acked (not a duplicate). Returns (wall s, this process's CPU s)."""
    todo = iter(range(alerts))
    body = {**_BODY, "text": TEXT}
    acked = 0

    async def worker() -> None:
        nonlocal acked
        for _ in todo:
            published = await client.publish(channel, "notice", body)
            if published.dup or published.offset <= 0:
                raise SystemExit(f"publish not stored: {published}")
            acked += 1

    t0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if acked != alerts:
        raise SystemExit(f"{acked} of {alerts} acked")
    return wall, cpu


async def _one(target: HubTarget, channel: str, chunk: int, alerts: int, in_flight: int
               ) -> tuple[float, float]:
    creds = target.pki.members[0]
    async with Client(f"wss://{target.host}:{target.port}/", cert=Path(creds.cert),
                      key=Path(creds.key), ca=Path(creds.ca), pub_chunk=chunk) as client:
        # The connection is open and the sender chain known before the clock starts.
        await client.publish(channel, "notice", {**_BODY, "text": TEXT})
        return await publish_all(client, channel, alerts, in_flight)


def run(chunks: list[int], *, alerts: int, runs: int, in_flight: int,
        log: bool = True) -> list[Run]:
    root = Path(tempfile.mkdtemp(prefix="cordon-bench-sdk-"))
    pki = make_pki(root / "pki", members=1)
    out: list[Run] = []
    n = 0
    for _ in range(runs):
        for chunk in chunks:
            target = HubTarget(root, pki)
            target.start(n)
            try:
                channel = target.channel("sdk", n)
                hub, store = ProcSet(target.broker_pids()), ProcSet(target.store_pids())
                h0, s0 = hub.cpu_s(), store.cpu_s()
                wall, cpu = asyncio.run(_one(target, channel, chunk, alerts, in_flight))
                h1, s1 = hub.cpu_s(), store.cpu_s()
            finally:
                target.stop()
            n += 1
            result = Run(chunk=chunk, acked_per_s=alerts / wall,
                         hub_us=(h1 - h0) / alerts * 1e6, store_us=(s1 - s0) / alerts * 1e6,
                         sdk_us=cpu / alerts * 1e6)
            out.append(result)
            if log:
                print(f"pub_chunk {chunk}: {result.acked_per_s:,.0f} acked/s, hub "
                      f"{result.hub_us:.1f} + store {result.store_us:.1f} µs, SDK "
                      f"{result.sdk_us:.1f} µs per publish", flush=True)
    return out


def summary(results: list[Run]) -> list[str]:
    lines = []
    for chunk in dict.fromkeys(r.chunk for r in results):
        mine = [r for r in results if r.chunk == chunk]
        lines.append(
            f"pub_chunk {chunk}, medians of {len(mine)}: "
            f"{statistics.median(r.acked_per_s for r in mine):,.0f} acked/s, hub + store "
            f"{statistics.median(r.hub_us + r.store_us for r in mine):.1f} µs, SDK "
            f"{statistics.median(r.sdk_us for r in mine):.1f} µs per publish")
    return lines


def _chunks(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("pub_chunk values must be 1 or more")
    return values


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def main(argv: list[str] | None = None) -> list[Run]:
    parser = argparse.ArgumentParser(prog="python -m bench.sdk_publish",
                                     description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--alerts", type=_positive, default=20_000)
    parser.add_argument("--chunks", type=_chunks, default=[PUB_CHUNK],
                        help=f"comma-separated pub_chunk values (default {PUB_CHUNK}, the SDK's)")
    parser.add_argument("--runs", type=_positive, default=3)
    parser.add_argument("--in-flight", type=_positive, default=256)
    args = parser.parse_args(argv)
    results = run(args.chunks, alerts=args.alerts, runs=args.runs, in_flight=args.in_flight)
    for line in summary(results):
        print(line)
    return results


if __name__ == "__main__":
    main()
