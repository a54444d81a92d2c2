"""Medians over runs, and the Markdown table with ratios and the issue's targets."""

from __future__ import annotations

from typing import Any

from bench.common import median

__all__ = ["markdown", "medians"]


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per key: the median of the numeric values over the runs; other values from run 0
    (flags are all()-ed, so one failed check shows)."""
    out: dict[str, Any] = {}
    keys: list[str] = []
    for r in runs:
        keys += [k for k in r if k not in keys]
    for k in keys:
        vals = [r.get(k) for r in runs]
        if all(isinstance(v, bool) or v is None for v in vals):
            present = [v for v in vals if v is not None]
            out[k] = all(present) if present else None
        elif all(isinstance(v, int | float) or v is None for v in vals):
            m = median(vals)
            out[k] = None if m is None else (round(m, 3) if isinstance(m, float) else m)
        else:
            out[k] = next((v for v in vals if v is not None), None)
    return out


# (label, workload, key, unit, higher_is_better, target text)
ROWS: list[tuple[str, str, str, str, bool, str]] = [
    ("W0 acked publishes/s, one connection, no subscribers", "W0", "acked_per_s", "", True,
     "≥ 15,000"),
    ("W0 broker CPU per acked publish (hub; NATS: the server)", "W0",
     "broker_cpu_us_per_alert", "µs", False, ""),
    ("W0 store CPU per acked publish", "W0", "store_cpu_us_per_alert", "µs", False, ""),
    ("W0 broker + store CPU per acked publish", "W0", "broker_store_cpu_us_per_alert", "µs",
     False, "≤ 75 µs"),
    ("W0 publisher CPU per alert (signing at publish time)", "W0",
     "publisher_cpu_us_per_alert", "µs", False, ""),
    ("W0 alerts per group commit", "W0", "alerts_per_commit", "", True, ""),
    ("W0 group commit round trip (writes + fsync)", "W0", "commit_round_trip_ms", "ms",
     False, ""),
    ("W0 broker RSS after W0's alerts", "W0", "broker_rss_mib", "MiB", False, ""),
    ("W0 store RSS after W0's alerts", "W0", "store_rss_mib", "MiB", False, ""),
    ("W0 store memory per stored alert (INFO used_memory growth)", "W0",
     "store_bytes_per_alert", "B", False, "≤ 1.2 KiB (1,228.8 B)"),
    ("W0 store MEMORY USAGE of the channel's keys per alert", "W0",
     "store_key_bytes_per_alert", "B", False, ""),
    ("W0 of which the stream (log)", "W0", "store_log_bytes_per_alert", "B", False, ""),
    ("W0 of which the dedup index (ids)", "W0", "store_ids_bytes_per_alert", "B", False, ""),
    ("W1 acked publishes/s", "W1", "acked_per_s", "", True, "≥ NATS"),
    ("W1 deliveries/s (50 subscribers)", "W1", "deliveries_per_s", "", True, "≥ NATS"),
    ("W1 every subscriber got every alert, in order", "W1", "in_order", "", True, "yes"),
    ("W1 broker CPU per alert published", "W1", "broker_cpu_us_per_alert", "µs", False, ""),
    ("W1 store CPU per alert published", "W1", "store_cpu_us_per_alert", "µs", False, ""),
    ("W2 p50 latency, all deliveries", "W2", "p50_ms", "ms", False, ""),
    ("W2 p99 latency, all deliveries", "W2", "p99_ms", "ms", False,
     "≤ NATS with per-subscriber acks"),
    ("W2 p99, NATS with per-subscriber acks", "W2", "p99_ms_acks", "ms", False, ""),
    ("W2 max latency", "W2", "max_ms", "ms", False, "≤ 50 ms"),
    ("W2 p99 latency, own-process subscriber", "W2", "own_p99_ms", "ms", False, ""),
    ("W2 own-process p99, NATS with acks", "W2", "own_p99_ms_acks", "ms", False, ""),
    ("W3 publish throughput while storing", "W3", "publish_per_s", "/s", True, ""),
    ("W3 broker CPU per alert while storing", "W3", "publish_broker_cpu_us_per_alert", "µs",
     False, ""),
    ("W3 store CPU per alert while storing", "W3", "publish_store_cpu_us_per_alert", "µs",
     False, ""),
    ("W3 late joiner, all alerts in order", "W3", "late_joiner_s", "s", False, "≤ NATS"),
    ("W3 verified replay", "W3", "verified_replay_per_s", "/s", True, ""),
    ("W3 broker memory after W3", "W3", "broker_mem_mib", "MiB", False, ""),
    ("W3 store memory after W3", "W3", "store_mem_mib", "MiB", False, ""),
    ("W4 idle mTLS connections held", "W4", "held", "", True, "10,000"),
    ("W4 broker memory per connection", "W4", "broker_kib_per_conn", "KiB", False, "≤ 30 KiB"),
    ("W4 TLS handshakes/s", "W4", "handshakes_per_s", "/s", True, ""),
    ("W5 acked alerts/s (100 connections)", "W5", "acked_per_s", "/s", True, "≥ 10,000"),
    ("W5 broker CPU per alert", "W5", "broker_cpu_us_per_alert", "µs", False, ""),
    ("W5 store CPU per alert", "W5", "store_cpu_us_per_alert", "µs", False, ""),
    ("W6 idle hub RSS", "W6", "broker_rss_mib", "MiB", False, ""),
    ("W6 of which anonymous (heaps, stacks)", "W6", "broker_anonymous_mib", "MiB", False, ""),
    ("W6 of which file-backed (interpreter, libraries)", "W6", "broker_file_backed_mib",
     "MiB", False, ""),
    ("W6 idle hub: modules imported", "W6", "modules", "", False, ""),
    ("W6 idle hub: threads", "W6", "broker_threads", "", False, ""),
    ("W6 idle hub: Python allocations (tracemalloc)", "W6", "tracemalloc_mib", "MiB", False,
     ""),
    ("W6 idle store RSS", "W6", "store_rss_mib", "MiB", False, ""),
]


def _fmt(v: Any, unit: str) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "**no**"
    if isinstance(v, float) and abs(v) < 100:
        text = f"{v:,.2f}" if abs(v) < 10 else f"{v:,.1f}"
    else:
        text = f"{round(v):,}"
    return f"{text} {unit}".strip() if unit in ("ms", "s", "µs", "MiB", "KiB", "B") else text


def _ratio(a: Any, b: Any, higher: bool) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or isinstance(
            a, bool) or not a or not b:
        return "—"
    r = a / b
    better = r >= 1 if higher else r <= 1
    text = f"{r:.2f}x"
    return text if better else f"{text} (worse)"


def _gen_note(res: dict[str, Any]) -> str:
    bound = res.get("generator_bound") or []
    return ", ".join(bound)


def markdown(doc: dict[str, Any]) -> str:
    systems = doc["systems"]
    hub = systems.get("cordon", {})
    nats = systems.get("nats", {})
    mosq = systems.get("mosquitto", {})
    cols = [(name, s) for name, s in systems.items()]
    # With cordon-ha: its ratio to the single-node hub and to the NATS R3 cluster.
    ha_ratios = [(title, systems[other]) for title, other in
                 (("Cordon HA ÷ Cordon", "cordon"), ("Cordon HA ÷ NATS R3", "nats-r3"))
                 if "cordon-ha" in systems and other in systems]
    # With cordon-plain (no sender chains, no checkpoints): what they cost (issue 16).
    plain = systems.get("cordon-plain") if "cordon" in systems else None
    head = ["figure (median of runs)"] + [s.get("label", n) for n, s in cols]
    head += ["Cordon ÷ NATS", "Cordon ÷ Mosquitto", *(t for t, _ in ha_ratios)]
    head += ["Cordon ÷ Cordon plain"] if plain is not None else []
    head += ["target"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for label, wl, key, unit, higher, target in ROWS:
        cells = []
        for _n, s in cols:
            res = s.get("workloads", {}).get(wl, {}).get("median")
            cells.append(_fmt(res.get(key), unit) if res else
                         ("skipped" if s.get("skipped") else "—"))
        if all(c in ("—", "skipped") for c in cells):
            continue

        def med(sysdoc: dict[str, Any], wl: str = wl, key: str = key) -> Any:
            return (sysdoc.get("workloads", {}).get(wl, {}).get("median") or {}).get(key)

        hv = med(hub)
        nkey = "p99_ms_acks" if key == "p99_ms" else (
            "own_p99_ms_acks" if key == "own_p99_ms" else key)
        ratio_n = _ratio(hv, med(nats, key=nkey), higher) if key not in (
            "in_order", "p99_ms_acks", "own_p99_ms_acks") else "—"
        ratio_m = _ratio(hv, med(mosq), higher) if key not in (
            "in_order", "p99_ms_acks", "own_p99_ms_acks") else "—"
        ratio_ha = [_ratio(med(systems["cordon-ha"]), med(other), higher)
                    if key != "in_order" else "—"
                    for _t, other in ha_ratios]
        ratio_p = ([_ratio(hv, med(plain), higher) if key != "in_order" else "—"]
                   if plain is not None else [])
        lines.append("| " + " | ".join([label, *cells, ratio_n, ratio_m, *ratio_ha, *ratio_p,
                                        target]) + " |")
    out = ["# Cordon benchmark", ""]
    m = doc["meta"]
    out.append(f"Machine: {m['machine']['cpu']}, {m['machine']['cores']} cores, "
               f"{m['machine']['memory_gib']} GiB, Linux {m['machine']['kernel']}, "
               f"Python {m['machine']['python']}. Mode: {m['mode']}, {m['runs']} run(s), "
               f"{m['duration_s']:.0f} s in all. Versions: "
               + ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items()) + ".")
    if m.get("loadavg_start") or m.get("loadavg_end"):
        out[-1] += (f" Load average (1/5/15 min) at the start {m.get('loadavg_start')}, at "
                    f"the end {m.get('loadavg_end')} (2 cores: above 2, other work competed).")
    out += ["", *lines, ""]
    out.append("Ratios are Cordon (single process) over the peer: above 1x is better for "
               "rates, below 1x for times, latencies and memory. W2 p99 is compared "
               "with NATS's per-subscriber-ack run.")
    if ha_ratios:
        out.append("Cordon HA is one hub with ack_replicas = 1 on a three-node Valkey store "
                   "with Sentinel (an ack waits for the primary's and one replica's fsync); "
                   "NATS R3 is a three-server cluster, R3 streams (an ack once two of the "
                   "three stored it, without fsync).")
    if plain is not None:
        out.append("Cordon plain: the same hub with --checkpoint-interval-ms 0 (no signed "
                   "checkpoints) and publishers signing unchained alerts (no seq/prev); "
                   "issue 16's bar: Cordon's acked publishes/s at least 0.90x Cordon "
                   "plain's.")
    notes = []
    for name, s in cols:
        if s.get("skipped"):
            notes.append(f"- {s.get('label', name)}: skipped ({s['skipped']})")
        if s.get("failed"):
            notes.append(f"- {s.get('label', name)}: failed ({s['failed']})")
        for wl, w in s.get("workloads", {}).items():
            med_ = w.get("median") or {}
            note = _gen_note(med_)
            if note:
                notes.append(f"- {s.get('label', name)} {wl}: generator-bound "
                             f"(processes at ≥90% of a core: {note}; generator total "
                             f"{med_.get('generator_cores', '?')} cores)")
            if w.get("error"):
                notes.append(f"- {s.get('label', name)} {wl}: error: {w['error']}")
    if notes:
        out += ["", "Notes:", *notes]
    return "\n".join(out) + "\n"
