"""``cordon demo`` — Cordon's main job, end to end, on the embedded store.

Creates a throwaway CA and hub (embedded Valkey), enrols 111 member
administrations (real ISO 3166-1 country codes as member ids), opens the
operation's channel and replays an operation shaped like STOP III across its
twelve days (4-15 December 2023): 48 administrations reporting 894 seizure
cases, 634 of them e-commerce, 45 million items of which 43.5 million
medicines and medical devices and 1.1 million IPR-infringing goods, with
warnings, feedback, notices, photos, amendments and withdrawals among them.
Every alert is signed by its own administration's principal and sent through
the hub concurrently, one connection per sending administration.

The operation's coordinator follows the channel live (alerts as they arrive,
a progress bar and throughput; plain lines when stdout is not a terminal),
then reads the channel's history back, verifies every signature and prints the
operation report (``client.report``), checked figure by figure against the
ground truth the generator planted (``client.opgen``). Exit 1 if any differs.

Everything lives in one folder: a temporary one, removed at the end unless
``--keep``, or ``--dir`` (which must be empty or new, and is kept).

``--ha``: the same replay, highly available on one machine: two hub nodes (the
senders split between them, the coordinator on the second) on a three-node Valkey
store with Sentinel (a primary, two replicas, three sentinels on loopback ports,
``appendfsync always`` everywhere, :mod:`hub.hastore`), every ack waiting for one
replica's fsync too (``ack_replicas = 1``). Halfway through, the primary is killed
(kill -9); the sentinels promote a replica and both hubs move to it. At the end the
demo prints how many acknowledged alerts are missing from the history or not at
their acknowledged offset (0), and the failover pause (the longest time without an
ack around the kill).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from client.opgen import Operation, PlannedAlert, Truth
    from client.report import OperationReport
    from client.sdk import Client, Received
    from hub.hastore import LocalSentinelStore

__all__ = ["compare", "main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cordon demo", description=__doc__.split("\n\n")[0]
                                .replace("``", ""), epilog="Exit codes: 0 every figure "
                                "checked, 1 a figure differs or the run failed, 2 usage.")
    p.add_argument("--cases", type=int, default=894,
                   help="seizure cases to report (default 894, as in STOP III)")
    p.add_argument("--members", type=int, default=111,
                   help="member administrations enrolled (default 111, at most 111)")
    p.add_argument("--rate", type=float, default=250.0,
                   help="alerts per second sent, over all members (default 250; 0 = as fast "
                   "as the hub acknowledges)")
    p.add_argument("--seed", type=int, default=3, help="the plan's random seed (default 3)")
    p.add_argument("--dir", type=Path, help="folder for the CA, hub data and store "
                   "(default: a temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep the folder afterwards")
    p.add_argument("--quiet", action="store_true", help="no line per alert in the live view")
    p.add_argument("--ha", action="store_true",
                   help="two hub nodes on a three-node store with Sentinel (ack_replicas = 1); "
                   "the primary is killed halfway through")
    return p  # fmt: skip


# --- ground truth ----------------------------------------------------------------------------


def compare(report: OperationReport, truth: Truth) -> list[tuple[str, Any, Any]]:
    """``(figure, planted, reported)`` for every figure the report states."""

    def kg(values: Any) -> dict[str, float]:
        return {k: round(v, 3) for k, v in values.items() if v}

    planted_days = dict(sorted(truth.timeline.items()))
    reported_days = {d: n for d, n in report.timeline.items() if n}
    return [
        ("cases", truth.cases, report.cases),
        ("reporting administrations", truth.reporting, report.reporting),
        ("e-commerce cases", truth.ecommerce, report.ecommerce),
        ("items seized", truth.items, report.items),
        ("items by category", dict(truth.items_by_category), dict(report.items_by_category)),
        ("kg by category", kg(truth.kg_by_category), kg(report.kg_by_category)),
        ("routes", dict(truth.routes), dict(report.routes)),
        ("detection methods", dict(truth.detection), dict(report.detection)),
        ("transport modes", dict(truth.transport), dict(report.transport)),
        ("types of location", dict(truth.locations), dict(report.locations)),
        ("timeline", planted_days, reported_days),
        ("alerts by kind", dict(truth.kinds), dict(report.kinds)),
        ("warnings", truth.kinds["warning"], report.warnings),
        ("feedback outcomes", dict(truth.feedback), dict(report.feedback)),
        ("amendments applied", truth.amendments, report.amendments),
        ("withdrawals applied", truth.withdrawals, report.withdrawals),
        ("photos attached", truth.attachments, report.attachments),
        ("alerts failing verification", 0, report.unverified),
        ("alerts failing the schema", 0, report.invalid),
    ]


# --- live view -------------------------------------------------------------------------------


def _summary(item: Received) -> str:
    env = item.envelope
    if env is None:
        return f"#{item.offset:05d} (undecodable) NOT VERIFIED"
    body: dict[str, Any] = dict(env.body)
    mark = "" if item.verified else f"  NOT VERIFIED: {item.reason}"
    head = f"#{item.offset:05d} {env.sender:<10} {env.kind:<10} {env.id:<11}"
    if env.kind == "seizure":
        from hub.protocol import codes

        items = sum(g["quantity"] for g in body["goods"] if g["unit"] in codes.COUNTABLE_UNITS)
        route = body.get("route", {})
        extra = " e-commerce" if body["ecommerce"] else ""
        extra += " +photo" if body.get("attachments") else ""
        text = (f"{body['date']} {items:>10,} items {body['goods'][0]['category']:<15} "
                f"{route.get('origin', '??')}→{route.get('destination', '??')}{extra}")
    elif env.kind == "warning":
        text = f"{body['category']}: {body['summary'][:60]}"
    elif env.kind == "feedback":
        text = f"{body['outcome']} on {body['ref']}"
    elif env.kind == "notice":
        text = body.get("title", body["text"][:60])
    else:
        text = f"{body['ref']}: {body['reason']}"
    return f"{head} {text}{mark}"


class LiveView:
    """The coordinator's screen: alert lines, a progress bar and throughput."""

    def __init__(self, total: int, out: TextIO, *, tty: bool, quiet: bool) -> None:
        self.total, self.out, self.tty, self.quiet = total, out, tty, quiet
        self.received = 0
        self.unverified = 0
        self.started = time.perf_counter()
        self._next_line = 0.1

    def _bar(self) -> str:
        done = self.received / self.total if self.total else 1.0
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        bar = "█" * int(30 * done) + "░" * (30 - int(30 * done))
        return (f"[{bar}] {self.received:>5}/{self.total} {done:4.0%}  "
                f"{self.received / elapsed:6.0f} alerts/s  {elapsed:5.1f} s")

    def add(self, item: Received) -> None:
        self.received += 1
        self.unverified += not item.verified
        if self.tty:
            line = "" if self.quiet else "\r\x1b[K" + _summary(item) + "\n"
            self.out.write(line + "\r\x1b[K" + self._bar())
        else:
            if not self.quiet:
                self.out.write(_summary(item) + "\n")
            if self.received / self.total >= self._next_line or self.received == self.total:
                self.out.write(self._bar().replace("█", "#").replace("░", ".") + "\n")
                self._next_line += 0.1
        self.out.flush()

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")
            self.out.flush()


# --- the run ---------------------------------------------------------------------------------


def _say(text: str = "") -> None:
    print(text, flush=True)


async def _send_all(op: Operation, clients: dict[str, Client], rate: float,
                    acked: dict[str, tuple[int, float]] | None = None,
                    halfway: asyncio.Event | None = None) -> int:
    """Every sending principal publishes its alerts in schedule order, concurrently with the
    others; an alert waits for the alerts it refers to, and for its slot when ``rate`` > 0.
    ``acked`` (if given) gets alert id -> (acknowledged offset, time of the ack);
    ``halfway`` is set once half the alerts are acknowledged."""
    stored = {a.alert_id: asyncio.Event() for a in op.alerts}
    start = time.perf_counter()
    by_principal: dict[str, list[PlannedAlert]] = {}
    for alert in op.alerts:
        by_principal.setdefault(alert.principal, []).append(alert)

    async def sender(principal: str, alerts: list[PlannedAlert]) -> int:
        client = clients[principal]
        for alert in alerts:
            if rate > 0:
                delay = start + alert.seq / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            for dep in alert.deps:
                await stored[dep].wait()
            for photo in alert.photos:
                await client.put_attachment(op.channel, photo)
            ack = await client.publish(op.channel, alert.kind, alert.body,
                                       alert_id=alert.alert_id)
            if acked is not None:
                acked[alert.alert_id] = (ack.offset, time.perf_counter())
                if halfway is not None and len(acked) >= len(op.alerts) // 2:
                    halfway.set()
            stored[alert.alert_id].set()
        return len(alerts)

    sent = await asyncio.gather(*(sender(p, a) for p, a in by_principal.items()))
    return sum(sent)


async def _follow(client: Client, channel: str, view: LiveView, total: int) -> None:
    async with client.subscribe(channel, since=0) as sub:
        async for item in sub:
            view.add(item)
            if view.received >= total:
                return


async def _run(root: Path, args: argparse.Namespace) -> int:
    from certs.ca import init_ca, issue_member, issue_server
    from client.opgen import generate
    from client.report import build_report, collect, render_text
    from client.sdk import Client
    from hub.config import Settings
    from hub.protocol.codes import COUNTRIES
    from hub.server import Hub

    t0 = time.perf_counter()
    op = generate(cases=args.cases, members=args.members, seed=args.seed)
    ca_dir = root / "ca"
    init_ca(ca_dir, name="Cordon Demo CA")
    server = issue_server(ca_dir, dns_names=["localhost"], ip_addresses=["127.0.0.1"])
    # The ops listener on a free port: a real hub on this machine may hold 9090.
    settings = Settings(host="127.0.0.1", port=0, data_dir=root / "hub", ca_dir=ca_dir,
                        server_cert=server.cert, server_key=server.key,
                        http_listen="127.0.0.1:0")  # fmt: skip
    deployment: LocalSentinelStore | None = None
    hubs: list[Hub] = []
    clients: dict[str, Client] = {}
    try:
        if args.ha:
            from hub.hastore import LocalSentinelStore

            deployment = LocalSentinelStore(root / "store")
            await deployment.start()
            settings = settings.replace(sentinels=tuple(deployment.sentinel_addresses),
                                        ack_replicas=1)
            for name in ("a", "b"):
                hubs.append(Hub(settings.replace(data_dir=root / f"hub-{name}")))
        else:
            hubs.append(Hub(settings))
        for one in hubs:
            await one.start()
        hub = hubs[0]
        urls = [f"wss://127.0.0.1:{one.port}/" for one in hubs]
        url = urls[0]
        if deployment is None:
            _say(f"1. Hub listening on {url}: throwaway CA in {ca_dir}, embedded Valkey "
                 f"(durability: {hub.store.durability}), mutual TLS 1.3, Ed25519 "
                 "certificates.")
        else:
            ports = ", ".join(str(n.port) for n in deployment.data)
            _say(f"1. Two hub nodes listening on {' and '.join(urls)}: throwaway CA in "
                 f"{ca_dir}, a three-node Valkey store with Sentinel (ports {ports}, "
                 f"sentinels {', '.join(deployment.sentinel_addresses)}; appendfsync always "
                 "on every node), every ack waiting for the primary's and one replica's "
                 "fsync (ack_replicas = 1); mutual TLS 1.3, Ed25519 certificates.")
        store = hub.store
        for member in op.members:
            await store.add_member(member, name=f"Customs of {COUNTRIES[member.upper()]}",
                                   country=member.upper())  # fmt: skip
        creds = {f"{m}/ops": issue_member(ca_dir, member=m, name="ops") for m in op.members}
        coordinator_member, _, coordinator_name = op.coordinator.partition("/")
        creds[op.coordinator] = issue_member(ca_dir, member=coordinator_member,
                                             name=coordinator_name, kind="officer")
        for one in hubs:
            await one.casync.sync_once()
        _say(f"2. Enrolled {len(op.members)} member administrations "
             f"({', '.join(op.members[:8])}, ...), one principal each, plus the coordinator "
             f"{op.coordinator}.")
        await store.create_channel(op.channel, title=op.title, starts="2023-12-04",
                                   ends="2023-12-15")  # fmt: skip
        for member in op.members:
            role = "coordinator" if member == coordinator_member else "contributor"
            await store.set_role(op.channel, member, role)
        plural = {"seizure": "seizure reports", "feedback": "feedback", "warning": "warnings",
                  "notice": "notices", "amendment": "amendments", "withdrawal": "withdrawals"}
        kinds = ", ".join(f"{n} {plural[k]}" for k, n in op.truth.kinds.most_common())
        _say(f"3. Channel {op.channel} opened ({op.title}); {len(op.members)} members may "
             f"contribute. Plan (seed {op.seed}): {len(op.alerts)} alerts — {kinds}.")

        # HA: retry quickly through the failover (503s and lost connections), without the
        # default back-off's long waits inflating the pause.
        ha_retry: dict[str, Any] = ({"backoff": 0.05, "max_backoff": 0.5, "max_attempts": 400}
                                    if deployment is not None else {})

        def client(principal: str, n: int) -> Client:
            c = creds[principal]
            return Client(urls[n % len(urls)], cert=c.cert, key=c.key, ca=c.ca,
                          request_timeout=60, **ha_retry)

        # The coordinator on the last node; the senders spread over all of them.
        clients[op.coordinator] = client(op.coordinator, len(urls) - 1)
        for n, principal in enumerate(op.senders):
            clients.setdefault(principal, client(principal, n))
        await asyncio.gather(*(c.connect() for c in clients.values()))
        rate = "as fast as acknowledged" if args.rate <= 0 else f"paced at {args.rate:g}/s"
        where = "" if deployment is None else ", spread over the two hub nodes"
        _say(f"4. {len(op.senders)} administrations send concurrently, one connection each "
             f"({rate}{where}); the coordinator {op.coordinator} follows the channel live"
             + (" on the second node" if deployment is not None else "") + ":\n")
        tty = sys.stdout.isatty()
        view = LiveView(len(op.alerts), sys.stdout, tty=tty, quiet=args.quiet)
        coordinator = clients[op.coordinator]
        follower = asyncio.create_task(_follow(coordinator, op.channel, view, len(op.alerts)))
        acks: dict[str, tuple[int, float]] = {}
        halfway = asyncio.Event()
        killer = (None if deployment is None
                  else asyncio.create_task(_kill_midway(deployment, halfway)))
        t1 = time.perf_counter()
        sent = await _send_all(op, clients, args.rate, acks, halfway)
        acked = time.perf_counter() - t1
        await asyncio.wait_for(follower, timeout=60)
        view.close()
        _say(f"\n5. {sent} alerts signed, sent and acknowledged (each durable before its ack) "
             f"in {acked:.1f} s ({sent / acked:,.0f} alerts/s); the coordinator received "
             f"all {view.received}, {view.unverified} failing verification.")
        items = await collect(coordinator, op.channel)
        lost = -1
        if killer is not None:
            killed, promoted, old, new = await killer
            held: dict[str, int] = {str(item.envelope.id): item.offset for item in items
                                    if item.envelope is not None}
            lost = sum(1 for alert_id, (off, _) in acks.items() if held.get(alert_id) != off)
            before = max((t for _, t in acks.values() if t <= killed), default=killed)
            after = min((t for _, t in acks.values() if t > killed), default=killed)
            _say(f"   Failover: the primary ({old}) was killed (kill -9) after "
                 f"{sum(1 for _, t in acks.values() if t <= killed)} acks; the sentinels "
                 f"promoted {new} {promoted - killed:.1f} s later; publish pause (longest "
                 f"time without an ack, around the kill) {after - before:.1f} s. Acked "
                 f"alerts lost: {lost} (every acknowledged alert is in the new primary's "
                 "history at its acknowledged offset).")
        report = build_report(items, channel=op.channel, title=op.title)
        _say(f"6. Operation report, computed from the hub's history ({len(items)} alerts read "
             "back, every signature verified against the CA):\n")
        _say(render_text(report))
        checks = compare(report, op.truth)
        wrong = [(name, planted, got) for name, planted, got in checks if planted != got]
        if wrong:
            _say(f"Ground truth check: {len(wrong)} of {len(checks)} figures differ:")
            for name, planted, got in wrong:
                _say(f"  {name}: planted {planted!r}, reported {got!r}")
        else:
            _say(f"Ground truth check: all {len(checks)} figures equal what the generator "
                 "planted (cases, administrations, e-commerce, items by category, routes, "
                 "detection, transport, locations, timeline, kinds, feedback, amendments, "
                 "withdrawals, photos).")
        _say(f"Done in {time.perf_counter() - t0:.1f} s.")
        return 1 if wrong or lost > 0 else 0
    finally:
        for c in clients.values():
            with contextlib.suppress(Exception):
                await c.close()
        for one in hubs:
            await one.stop()
        if deployment is not None:
            await deployment.stop()


async def _kill_midway(deployment: LocalSentinelStore, halfway: asyncio.Event
                       ) -> tuple[float, float, str, str]:
    """Once half the alerts are acknowledged, kill -9 the store's primary and wait for the
    sentinels to promote a replica: (time of the kill, time of the promotion, old and new
    primary's names)."""
    await halfway.wait()
    old = await deployment.primary()
    deployment.kill(old)
    killed = time.perf_counter()
    new = await deployment.wait_failover(old)
    return killed, time.perf_counter(), f"{old.name}, port {old.port}", \
        f"{new.name}, port {new.port}"


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    problems = []
    if not 1 <= args.cases <= 100_000:
        problems.append("--cases must be 1..100000")
    if not 1 <= args.members <= 111:
        problems.append("--members must be 1..111")
    if not 0 <= args.rate <= 1_000_000:
        problems.append("--rate must be 0..1000000 (0: unpaced)")
    if problems:
        for problem in problems:
            print(f"cordon demo: error: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cordon_log = logging.getLogger("cordon")
    level = cordon_log.level
    if args.ha:  # the failover's expected warnings (503s, reconnects) would drown the view
        cordon_log.setLevel(logging.ERROR)
    if args.dir is not None and args.dir.exists() and any(args.dir.iterdir()):
        print(f"cordon demo: error: {args.dir} is not empty", file=sys.stderr)
        return 2
    root = args.dir or Path(tempfile.mkdtemp(prefix="cordon-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(_run(root, args))
    finally:
        cordon_log.setLevel(level)
        if not args.keep and args.dir is None:
            shutil.rmtree(root, ignore_errors=True)
