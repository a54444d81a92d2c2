"""W0-W6 (issues #6 and #17), written once for every target: the target names the generator
module that speaks its protocol, the workloads decide who connects, sends and counts.

Every figure comes with the generator processes' own CPU share (CPU seconds per
wall second; 1.0 is one whole core) so a generator-bound figure is visible as such.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

from bench.common import ProcSet, percentile, rss_bytes, smaps
from bench.procs import Child, start_children
from bench.targets import Target
from client._conn import PUB_CHUNK

__all__ = ["FULL", "QUICK", "Params", "run_workload"]

#: A generator process at or above this share of one core is the bottleneck.
GENERATOR_BOUND = 0.9


@dataclass(frozen=True)
class Params:
    #: W0: alerts from one connection, no subscribers (issue 17's first row)
    w0_alerts: int = 100_000
    w1_alerts: int = 20_000
    w1_subs: int = 50
    window: int = 256
    w2_rate: int = 500
    w2_duration_s: float = 10.0
    w2_subs: int = 50
    w3_alerts: int = 100_000
    w4_conns: int = 10_000
    w5_alerts: int = 50_000
    w5_conns: int = 100
    w5_window: int = 32
    sub_procs: int = 2
    idle_procs: int = 2
    pub_procs: int = 2
    uvloop: bool = False
    deadline_s: float = 240.0
    #: Seconds subscribers may still take after the last publish was answered.
    grace_s: float = 30.0
    #: As a member system (issue 17): each alert signed by the SDK's sign (sender chain,
    #: schema check) when there is room for it and sent as a message of its own, and
    #: every subscriber decodes every alert's bytes. False (``--presigned``): the bench
    #: before issue 17 (alerts signed before the clock starts and written a window at a
    #: time, unchained; subscribers decode frames, not the alerts inside).
    member: bool = True
    #: Member publishers send the alerts signed in one loop step as one ``pubs`` frame, as
    #: the SDK does with concurrent publishes (the default since main 2b03725; ``--no-pubs``:
    #: one ``pub`` frame per alert, as a member awaiting each publish in turn).
    pubs: bool = True
    #: With ``pubs``: alerts a member publisher signs before it sends them and gives the
    #: loop a turn, as the SDK's ``Client(pub_chunk=...)`` (its default; ``--pub-chunk``;
    #: 256 or more: a whole window signed, then sent, as the SDK before it).
    pub_chunk: int = PUB_CHUNK
    #: Subscribers decode every alert's bytes (None: as ``member`` says; ``--no-decode``).
    decode_alerts: bool | None = None
    #: W1: one more reader asks ``ckpt`` and ``prove`` once a second (``--prover``; hub
    #: targets with checkpoints only).
    prover: bool = False
    #: W6: seconds the hub sits idle before it is measured.
    w6_settle_s: float = 3.0


FULL = Params()
QUICK = Params(w0_alerts=500, w6_settle_s=1.0, w1_alerts=300, w1_subs=4, w2_rate=100,
               w2_duration_s=1.0, w2_subs=3,
               w3_alerts=600, w4_conns=40, w5_alerts=400, w5_conns=4, deadline_s=60.0,
               grace_s=10.0)


def _split(items: list[Any], n: int) -> list[list[Any]]:
    return [part for part in (items[i::n] for i in range(max(1, n))) if part]


def _creds(target: Target, members: list[Any]) -> list[dict[str, str]]:
    return [dataclasses.asdict(c) for c in members]


#: Roles that run until told ``stop`` (after the senders are done).
_UNTIL_STOP = ("subscribers", "prover")


class Phase:
    """Children started, ``ready`` awaited, broker/store CPU measured around ``go``…``done``."""

    def __init__(self, target: Target, specs: list[tuple[str, dict[str, Any], str]],
                 params: Params) -> None:
        self.target = target
        self.timeout = params.deadline_s + 60
        base = {"host": target.host, "port": target.port, "uvloop": params.uvloop,
                "deadline_s": params.deadline_s, "member": params.member, "pubs": params.pubs,
                "pub_chunk": params.pub_chunk,
                "decode_alerts": params.member if params.decode_alerts is None
                else params.decode_alerts, **target.gen_spec()}
        self.grace_s = params.grace_s
        self.roles = {name: role for role, _spec, name in specs}
        self.children: list[Child] = start_children(
            [(target.gen, role, {**base, **spec}, name) for role, spec, name in specs])

    def __enter__(self) -> Phase:
        for c in self.children:
            c.expect("ready", self.timeout)
        self.broker = ProcSet(self.target.broker_pids())
        self.store = ProcSet(self.target.store_pids())
        self.b0, self.s0 = self.broker.cpu_s(), self.store.cpu_s()
        self.t0 = time.monotonic()
        return self

    def go(self, *names: str) -> None:
        for c in self.children:
            if not names or c.name in names:
                c.tell("go")

    def done(self) -> list[Any]:
        """Wait for the senders, then give the subscribers ``grace_s`` to receive the
        rest (they stop at once when they have everything)."""
        results: dict[str, Any] = {}
        for c in self.children:
            if self.roles[c.name] not in _UNTIL_STOP:
                results[c.name] = c.expect("done", self.timeout)
        for c in self.children:
            if self.roles[c.name] in _UNTIL_STOP:
                c.tell("stop", self.grace_s)
        for c in self.children:
            if self.roles[c.name] in _UNTIL_STOP:
                results[c.name] = c.expect("done", self.timeout)
        out = [results[c.name] for c in self.children]
        self.b1, self.s1 = self.broker.cpu_s(), self.store.cpu_s()
        self.wall = time.monotonic() - self.t0
        return out

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def __exit__(self, *exc: object) -> None:
        for c in self.children:
            c.stop()

    def gen_usage(self, results: dict[str, Any]) -> dict[str, Any]:
        shares = {name: round(r["cpu_s"] / r["wall_s"], 3) if r["wall_s"] > 0 else None
                  for name, r in results.items()}
        bound = sorted(n for n, s in shares.items() if s is not None and s >= GENERATOR_BOUND)
        return {"generator_cpu_share": shares,
                "generator_cores": round(sum(r["cpu_s"] for r in results.values())
                                         / max(self.wall, 1e-9), 3),
                "generator_bound": bound,
                "broker_cpu_s": round(self.b1 - self.b0, 3),
                "store_cpu_s": round(self.s1 - self.s0, 3) if self.store.pids else None,
                "broker_cores": round((self.b1 - self.b0) / max(self.wall, 1e-9), 3),
                "store_cores": round((self.s1 - self.s0) / max(self.wall, 1e-9), 3)
                if self.store.pids else None}


def _mib(n: int) -> float:
    return round(n / 2**20, 1)


def w0(target: Target, run: int, p: Params) -> dict[str, Any]:
    """One connection publishing ``w0_alerts`` with ``window`` in flight, nobody
    subscribed: acked/s, broker and store CPU per acked publish, the publisher's own CPU
    share, the group commits (hub /metrics), then memory with everything stored."""
    ch = target.channel("W0", run)
    members = list(target.pki.members)
    store_before = _store_memory(target, ch)
    specs = [("publisher", {"creds": _creds(target, members[:1]), "channel": ch,
                            "count": p.w0_alerts, "window": p.window, "tag": f"w0r{run}"},
              "pub")]
    m0 = _metrics(target)
    with Phase(target, specs, p) as ph:
        ph.go()
        (pub,) = ph.done()
    m1 = _metrics(target)
    acked = pub["acked"]
    secs = pub["t_last_ack"] - pub["t_go"]
    per = max(acked, 1)
    out: dict[str, Any] = {
        "alerts": p.w0_alerts, "window": p.window, "acked": acked, "errors": pub["errors"],
        "acked_per_s": round(acked / secs) if secs > 0 else None,
        "broker_cpu_us_per_alert": round((ph.b1 - ph.b0) / per * 1e6, 1),
        "store_cpu_us_per_alert": round((ph.s1 - ph.s0) / per * 1e6, 1)
        if ph.store.pids else None,
        "broker_store_cpu_us_per_alert": round(((ph.b1 - ph.b0) + (ph.s1 - ph.s0))
                                               / per * 1e6, 1),
        "publisher_cpu_us_per_alert": round(pub["cpu_s"] / per * 1e6, 1),
        **ph.gen_usage({"pub": pub}),
    }
    if m0 and m1 and m1.get("commits", 0) > m0.get("commits", 0):
        commits = m1["commits"] - m0["commits"]
        commit_s = m1["commit_s"] - m0["commit_s"]
        out.update({"commits": int(commits),
                    "alerts_per_commit": round((m1["committed_alerts"]
                                                - m0["committed_alerts"]) / commits, 1),
                    "commit_round_trip_ms": round(commit_s / commits * 1e3, 3),
                    # wall time a batch waits for its writes and fsync, over its alerts
                    "commit_wait_us_per_alert": round(commit_s / per * 1e6, 1)})
    time.sleep(0.5)
    out["broker_rss_mib"] = _mib(rss_bytes(target.broker_pids()))
    out["broker_mem_mib"] = _mib(ProcSet(target.broker_pids()).mem_bytes())
    if target.store_pids():
        out["store_rss_mib"] = _mib(rss_bytes(target.store_pids()))
        out["store_mem_mib"] = _mib(ProcSet(target.store_pids()).mem_bytes())
    after = _store_memory(target, ch)
    if after and store_before and after.get("stream_entries"):
        n = after["stream_entries"]
        keys = {k[4:]: v for k, v in after.items() if k.startswith("key_")}
        out.update({
            "stored": n,
            "store_used_mib": _mib(after["used_memory"]),
            # INFO used_memory grown by storing them (stream, dedup index, chains, and
            # whatever else the store allocated meanwhile), per alert
            "store_bytes_per_alert": round((after["used_memory"]
                                            - store_before["used_memory"]) / n),
            # MEMORY USAGE (SAMPLES 0) of the channel's keys, per alert
            "store_key_bytes_per_alert": round(sum(keys.values()) / n),
            **{f"store_{k}_bytes_per_alert": round(v / n, 1) for k, v in keys.items()
               if k in ("log", "ids", "chain")},
        })
    return out


def _metrics(target: Target) -> dict[str, float]:
    fetch = getattr(target, "metrics", None)
    if fetch is None:
        return {}
    try:
        result: dict[str, float] = fetch()
    except OSError:
        return {}
    return result


def _store_memory(target: Target, channel: str) -> dict[str, int]:
    fetch = getattr(target, "store_memory", None)
    if fetch is None:
        return {}
    result: dict[str, int] = fetch(channel)
    return result


def w6(target: Target, run: int, p: Params) -> dict[str, Any]:
    """The idle hub (fresh, nobody connected): its RSS and what it is made of (the
    process's own account through bench.hubboot: modules, threads, objects), then
    started again under tracemalloc for where Python's allocations come from."""
    time.sleep(p.w6_settle_s)
    out: dict[str, Any] = {}
    for name, pid in (("broker", target.broker_pids()[0]),
                      *(("store", pid) for pid in target.store_pids()[:1])):
        for k, v in smaps(pid).items():
            out[f"{name}_{k}" if k == "threads" else f"{name}_{k}_mib"] = (
                v if k == "threads" else _mib(v))
    describe = getattr(target, "describe", None)
    if describe is None:
        return out
    doc = describe()
    out.update({"modules": doc["modules"], "gc_objects": doc["gc_objects"],
                "modules_by_package": doc["modules_by_package"][:12],
                "threads": doc["threads"], "gc_top_types": doc["gc_top_types"][:10]})
    target.stop()
    target.start(run, tracemalloc=True)  # type: ignore[call-arg]
    time.sleep(p.w6_settle_s)
    traced = describe().get("tracemalloc") or {}
    out["tracemalloc_mib"] = _mib(traced.get("traced_bytes", 0))
    out["tracemalloc_by_package"] = [(k, _mib(v)) for k, v in traced.get("by_package", [])]
    out["tracemalloc_top_files"] = traced.get("top_files", [])[:10]
    out["broker_rss_traced_mib"] = _mib(rss_bytes(target.broker_pids()[:1]))
    return out


def w1(target: Target, run: int, p: Params) -> dict[str, Any]:
    ch = target.channel("W1", run)
    members = list(target.pki.members)
    subs = members[1:1 + p.w1_subs]
    specs = [("subscribers", {"creds": _creds(target, part), "channel": ch, "since": 0,
                              "expect": p.w1_alerts}, f"sub{i}")
             for i, part in enumerate(_split(subs, p.sub_procs))]
    specs.append(("publisher", {"creds": _creds(target, members[:1]), "channel": ch,
                                "count": p.w1_alerts, "window": p.window, "tag": f"w1r{run}"},
                  "pub"))
    proving = p.prover and target.gen == "bench.gen_hub" and not getattr(target, "plain", False)
    if proving:
        specs.append(("prover", {"creds": _creds(target, members[1 + p.w1_subs:2 + p.w1_subs]),
                                 "channel": ch, "interval_s": 1.0}, "prover"))
    with Phase(target, specs, p) as ph:
        ph.go()
        results = dict(zip([c.name for c in ph.children], ph.done(), strict=True))
    pub = results.pop("pub")
    prover = results.pop("prover", None)
    extra: dict[str, Any] = {}
    if prover is not None:
        extra = {"prover_answers": prover["answers"], "prover_err_codes": prover["err_codes"],
                 "prover_checkpoint_sizes": prover["sizes"],
                 "prover_rtt_ms_median": prover["rtt_ms_median"],
                 "prover_rtt_ms_max": prover["rtt_ms_max"],
                 "prover_cpu_s": prover["cpu_s"]}
    subs_r = list(results.values())
    counts = [n for r in subs_r for n in r["counts"]]
    t_end = max(t for r in subs_r for t in r["t_done"])
    pub_s = pub["t_last_ack"] - pub["t_go"]
    complete = all(n == p.w1_alerts for n in counts) and len(counts) == len(subs)
    return {
        "alerts": p.w1_alerts, "subscribers": len(subs), "window": p.window,
        "acked": pub["acked"], "errors": pub["errors"],
        "acked_per_s": round(pub["acked"] / pub_s) if pub_s > 0 else None,
        "deliveries": sum(counts),
        "deliveries_per_s": round(sum(counts) / (t_end - pub["t_go"]))
        if complete and t_end > pub["t_go"] else None,
        "every_subscriber_got_every_alert": complete,
        "in_order": complete and all(r["in_order"] for r in subs_r),
        "broker_cpu_us_per_alert": round((ph.b1 - ph.b0) / max(pub["acked"], 1) * 1e6, 1),
        "store_cpu_us_per_alert": round((ph.s1 - ph.s0) / max(pub["acked"], 1) * 1e6, 1)
        if ph.store.pids else None,
        **ph.gen_usage({**results, "pub": pub}), **target.run_info([pub]), **extra,
    }


def w2(target: Target, run: int, p: Params, variant: dict[str, Any]) -> dict[str, Any]:
    ch = target.channel("W2", run) if not variant else target.channel(
        "W2" + variant.get("suffix", ""), run)
    members = list(target.pki.members)
    subs = members[1:1 + p.w2_subs]
    own, rest = subs[:1], subs[1:]
    sub_spec = {"channel": ch, "since": 0, "latency": True,
                "expect": int(p.w2_rate * p.w2_duration_s), **variant.get("spec", {})}
    specs = [("subscribers", {**sub_spec, "creds": _creds(target, own)}, "own")]
    specs += [("subscribers", {**sub_spec, "creds": _creds(target, part)}, f"sub{i}")
              for i, part in enumerate(_split(rest, p.sub_procs))]
    specs.append(("publisher", {"creds": _creds(target, members[:1]), "channel": ch,
                                "rate": p.w2_rate, "duration_s": p.w2_duration_s,
                                "tag": f"w2r{run}{variant.get('suffix', '')}"}, "pub"))
    with Phase(target, specs, p) as ph:
        ph.go()
        results = dict(zip([c.name for c in ph.children], ph.done(), strict=True))
    pub = results.pop("pub")
    lat = [v / 1e6 for r in results.values() for v in r["lat_ns"]]
    own_lat = [v / 1e6 for v in results["own"]["lat_first_ns"]]
    expected = sub_spec["expect"] * len(subs)
    return {
        "rate": p.w2_rate, "duration_s": p.w2_duration_s, "subscribers": len(subs),
        "acked": pub["acked"], "errors": pub["errors"],
        "deliveries": len(lat), "expected_deliveries": expected,
        "in_order": all(r["in_order"] for r in results.values()),
        "p50_ms": round(percentile(lat, 50), 3), "p99_ms": round(percentile(lat, 99), 3),
        "max_ms": round(max(lat), 3) if lat else None,
        "over_50ms": sum(1 for v in lat if v > 50),
        "own_p50_ms": round(percentile(own_lat, 50), 3),
        "own_p99_ms": round(percentile(own_lat, 99), 3),
        "own_max_ms": round(max(own_lat), 3) if own_lat else None,
        **ph.gen_usage({**results, "pub": pub}),
    }


def w3(target: Target, run: int, p: Params, *, verified: bool) -> dict[str, Any]:
    ch = target.channel("W3", run)
    members = list(target.pki.members)
    n = p.w3_alerts
    parts = _split(list(range(p.pub_procs)), p.pub_procs)
    per = n // len(parts)
    specs = [("publisher", {"creds": _creds(target, [members[i]]), "channel": ch,
                            "count": per + (n - per * len(parts) if i == 0 else 0),
                            "window": p.window, "tag": f"w3r{run}p{i}"}, f"pub{i}")
             for i in range(len(parts))]
    with Phase(target, specs, p) as ph:
        ph.go()
        pubs = ph.done()
    acked = sum(r["acked"] for r in pubs)
    pub_s = max(r["t_last_ack"] for r in pubs) - min(r["t_go"] for r in pubs)
    out: dict[str, Any] = {
        "alerts": n, "acked": acked, "publish_errors": [r["errors"] for r in pubs],
        "publish_per_s": round(acked / pub_s) if pub_s > 0 else None,
        "publish_broker_cpu_us_per_alert": round((ph.b1 - ph.b0) / max(acked, 1) * 1e6, 1),
        "publish_store_cpu_us_per_alert": round((ph.s1 - ph.s0) / max(acked, 1) * 1e6, 1)
        if ph.store.pids else None,
        "publish_generator_cpu_share": ph.gen_usage(
            {f"pub{i}": r for i, r in enumerate(pubs)})["generator_cpu_share"],
    }
    joiner = {"creds": _creds(target, members[p.pub_procs:p.pub_procs + 1]), "channel": ch,
              "since": 0, "expect": acked, "subscribe_on_go": True}
    with Phase(target, [("subscribers", joiner, "late")], p) as ph:
        ph.go()
        (late,) = ph.done()
    complete = late["counts"] == [acked] and late["in_order"]
    out.update({
        "late_joiner_s": round(late["t_done"][0] - late["t_sub"], 3) if complete else None,
        "late_joiner_complete_in_order": complete,
        "late_joiner_per_s": round(acked / (late["t_done"][0] - late["t_sub"]))
        if complete else None,
        **{f"late_{k}": v for k, v in ph.gen_usage({"late": late}).items()},
    })
    time.sleep(0.5)
    out["broker_mem_mib"] = _mib(ProcSet(target.broker_pids()).mem_bytes())
    out["store_mem_mib"] = _mib(ProcSet(target.store_pids()).mem_bytes()) \
        if target.store_pids() else None
    if verified:
        spec = {**joiner, "verify_certs": [members[i].cert for i in range(len(parts))],
                "creds": _creds(target, members[p.pub_procs + 1:p.pub_procs + 2])}
        with Phase(target, [("subscribers", spec, "verified")], p) as ph:
            ph.go()
            (ver,) = ph.done()
        ok = ver["counts"] == [acked]
        secs = ver["t_done"][0] - ver["t_sub"]
        out["verified_replay_per_s"] = round(ver["verified"] / secs) if ok and secs else None
        out["verified_replay_alerts"] = ver["verified"]
    return out


def w4(target: Target, run: int, p: Params) -> dict[str, Any]:
    members = list(target.pki.members)
    per = [p.w4_conns // p.idle_procs + (1 if i < p.w4_conns % p.idle_procs else 0)
           for i in range(p.idle_procs)]
    specs = [("idle", {"creds": _creds(target, members), "count": n,
                       "tag": f"w4r{run}i{i}"}, f"idle{i}") for i, n in enumerate(per)]
    time.sleep(0.5)
    mem0 = ProcSet(target.broker_pids()).mem_bytes()
    with Phase(target, specs, p) as ph:
        ph.go()
        opened = [c.expect("opened", ph.timeout) for c in ph.children]
        time.sleep(1.0)
        mem1 = ProcSet(target.broker_pids()).mem_bytes()
        store_mem = ProcSet(target.store_pids()).mem_bytes()
        for c in ph.children:
            c.tell("close")
        ph.done()
    total = sum(o["opened"] for o in opened)
    secs = max(o["wall_s"] for o in opened)
    failures: dict[str, int] = {}
    for o in opened:
        for k, v in o["failures"].items():
            failures[k] = failures.get(k, 0) + v
    shares = {f"idle{i}": round(o["cpu_s"] / o["wall_s"], 3) for i, o in enumerate(opened)}
    return {
        "asked": p.w4_conns, "held": total, "failures": failures,
        "handshakes_per_s": round(total / secs) if secs > 0 else None,
        "broker_mem_before_mib": _mib(mem0), "broker_mem_held_mib": _mib(mem1),
        "store_mem_mib": _mib(store_mem) if target.store_pids() else None,
        # None when the growth is lost in the noise (few connections, memory freed meanwhile)
        "broker_kib_per_conn": (round((mem1 - mem0) / 1024 / total, 1)
                                if total and mem1 > mem0 else None),
        "generator_cpu_share": shares,
        "generator_bound": sorted(n for n, s in shares.items() if s >= GENERATOR_BOUND),
    }


def w5(target: Target, run: int, p: Params) -> dict[str, Any]:
    ch = target.channel("W5", run)
    members = list(target.pki.members)
    conns = (members * (p.w5_conns // len(members) + 1))[:p.w5_conns]
    per_conn = max(1, p.w5_alerts // p.w5_conns)
    specs = [("publisher", {"creds": _creds(target, part), "channel": ch, "count": per_conn,
                            "window": p.w5_window, "tag": f"w5r{run}g{i}"}, f"pub{i}")
             for i, part in enumerate(_split(conns, p.pub_procs))]
    with Phase(target, specs, p) as ph:
        ph.go()
        results = dict(zip([c.name for c in ph.children], ph.done(), strict=True))
    acked = sum(r["acked"] for r in results.values())
    errors: dict[str, int] = {}
    for r in results.values():
        for k, v in r["errors"].items():
            errors[str(k)] = errors.get(str(k), 0) + v
    secs = max(r["t_last_ack"] for r in results.values()) - min(
        r["t_go"] for r in results.values())
    return {
        "connections": len(conns), "alerts": per_conn * len(conns), "window": p.w5_window,
        "acked": acked, "errors": errors,
        "acked_per_s": round(acked / secs) if secs > 0 else None,
        "broker_cpu_us_per_alert": round((ph.b1 - ph.b0) / max(acked, 1) * 1e6, 1),
        "store_cpu_us_per_alert": round((ph.s1 - ph.s0) / max(acked, 1) * 1e6, 1)
        if ph.store.pids else None,
        **ph.gen_usage(results), **target.run_info(list(results.values())),
    }


def run_workload(name: str, target: Target, run: int, p: Params) -> dict[str, Any]:
    if name == "W0":
        return w0(target, run, p)
    if name == "W6":
        return w6(target, run, p)
    if name == "W1":
        return w1(target, run, p)
    if name == "W2":
        out: dict[str, Any] = {}
        variants: tuple[dict[str, Any], ...] = getattr(target, "w2_variants", ({},))
        for variant in variants:
            res = w2(target, run, p, variant)
            suffix = variant.get("suffix", "")
            out.update({f"{k}{suffix}": v for k, v in res.items()})
        return out
    if name == "W3":
        return w3(target, run, p, verified=run == 0 and target.gen == "bench.gen_hub")
    if name == "W4":
        return w4(target, run, p)
    if name == "W5":
        return w5(target, run, p)
    raise ValueError(name)
