"""``python -m bench`` (``make bench``): W0-W6 against the hub, and with ``--peers`` against
NATS JetStream and Mosquitto in the same run; ``python -m bench profile``: the hub's CPU
per acked publish by category (bench.profile). See bench/README.md."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench.common import machine, make_pki
from bench.report import markdown, medians
from bench.targets import (
    HubTarget,
    MosquittoTarget,
    NatsClusterTarget,
    NatsTarget,
    Skipped,
    Target,
)
from bench.workloads import FULL, QUICK, run_workload

RESULTS = Path(__file__).resolve().parent / "results"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="smoke mode: tiny workloads, one run (seconds, not minutes)")
    p.add_argument("--peers", action="store_true",
                   help="also run NATS JetStream and Mosquitto (skipped if not installed); "
                        "with --ha also a three-node NATS cluster with R3 streams (nats-r3)")
    p.add_argument("--no-decode", action="store_true",
                   help="subscribers do not decode the alerts inside frames (to tell the two "
                        "halves of the member mode apart)")
    p.add_argument("--pubs", action="store_true",
                   help="(the default now) member publishers send the alerts signed in one "
                        "loop step as one 'pubs' frame, as the SDK does with concurrent "
                        "publishes")
    p.add_argument("--pub-chunk", type=int, default=None, metavar="N",
                   help="with pubs: alerts a member publisher signs before it sends them "
                        "(default: the SDK's, 128; 256: a whole window, then send)")
    p.add_argument("--no-pubs", action="store_true",
                   help="member publishers send one 'pub' frame per alert (a member that "
                        "awaits each publish, or the SDK before pubs)")
    p.add_argument("--plain", action="store_true",
                   help="also run W1, W3 and W5 on cordon-plain: no signed checkpoints "
                        "(--checkpoint-interval-ms 0), unchained alerts (issue 16's cost)")
    p.add_argument("--prover", action="store_true",
                   help="W1: one more reader asks the channel's signed checkpoint and proofs "
                        "(ckpt + prove) once a second (hub targets with checkpoints)")
    p.add_argument("--runs", type=int, help="runs per workload (default 3; 1 with --quick)")
    p.add_argument("--workloads", default="W0,W1,W2,W3,W4,W5,W6",
                   help="comma-separated subset (default all)")
    p.add_argument("--presigned", action="store_true",
                   help="publish as the bench did before issue 17: alerts signed before the "
                        "clock starts, a window written at once, subscribers not decoding "
                        "the alerts (default: as a member system, bench/README.md)")
    p.add_argument("--workers", type=int, default=2,
                   help="also run W1 and W5 on 'cordon serve --workers N' (0: don't)")
    p.add_argument("--ha", action="store_true",
                   help="also run W1 and W5 with ack_replicas = 1 on a three-node Valkey store "
                        "with Sentinel (target cordon-ha)")
    p.add_argument("--only", help="comma-separated targets to run, whatever --peers and --ha "
                                  "say: cordon, cordon-Nw, cordon-plain, cordon-ha, nats, "
                                  "nats-r3, mosquitto")
    p.add_argument("--uvloop", action="store_true", help="generators use uvloop")
    p.add_argument("--out", type=Path, default=RESULTS,
                   help="folder for latest.json and latest.md")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return p


def _run_targets(targets: list[Target], workloads: list[str], runs: int, params: Any,
                 log: Any) -> dict[str, dict[str, Any]]:
    """Every target's workloads, ``runs`` times, the targets taking turns within each run
    (run 0 of every target, then run 1 ...), so that load from other work on the machine
    falls on all of them alike and ratios between targets of one run hold."""
    docs: dict[str, dict[str, Any]] = {}
    per: dict[str, dict[str, list[dict[str, Any]]]] = {}
    live: list[Target] = []
    for target in targets:
        doc: dict[str, Any] = {"label": target.label, "workloads": {}}
        docs[target.name] = doc
        try:
            if hasattr(target, "check"):
                target.check()
            doc["versions"] = target.versions()
        except Skipped as exc:
            log(f"{target.label}: skipped ({exc})")
            doc["skipped"] = str(exc)
            continue
        per[target.name] = {w: [] for w in workloads if w in target.workloads}
        live.append(target)
    # Each workload on a freshly started broker (fresh data folder): a workload must not
    # pay for the previous one's aftermath (after W4's 10,000 connections the hub spent
    # ~25% more CPU per alert in W5; bench/README.md).
    for run in range(runs):
        for target in list(live):
            doc = docs[target.name]
            log(f"--- {target.label}, run {run}")
            for wl in per[target.name]:
                try:
                    target.start(run)
                except Skipped as exc:
                    doc["skipped"] = str(exc)
                    live.remove(target)
                    break
                except Exception as exc:
                    log(f"{target.label}: could not start: {exc}")
                    doc["failed"] = f"could not start: {exc}"
                    live.remove(target)
                    break
                t0 = time.monotonic()
                try:
                    res = run_workload(wl, target, run, params)
                except Exception as exc:
                    log(f"{target.label} {wl} run {run}: ERROR {exc}")
                    traceback.print_exc()
                    doc["workloads"].setdefault(wl, {})["error"] = str(exc)[:500]
                    continue
                finally:
                    target.stop()
                res["elapsed_s"] = round(time.monotonic() - t0, 1)
                res["loadavg_after"] = _loadavg()
                per[target.name][wl].append(res)
                log(f"{target.label} {wl} run {run}: " + _summary(wl, res))
    for name, by_wl in per.items():
        if docs[name].get("skipped"):
            continue
        for wl, results in by_wl.items():
            entry = docs[name]["workloads"].setdefault(wl, {})
            entry["runs"] = results
            entry["median"] = medians(results) if results else None
    return docs


_SUMMARY = {"W0": ("acked_per_s", "broker_cpu_us_per_alert", "store_cpu_us_per_alert",
                   "publisher_cpu_us_per_alert", "generator_bound", "alerts_per_commit",
                   "commit_round_trip_ms", "broker_rss_mib", "store_rss_mib",
                   "store_bytes_per_alert", "store_key_bytes_per_alert"),
            "W6": ("broker_rss_mib", "broker_anonymous_mib", "broker_file_backed_mib",
                   "broker_threads", "modules", "gc_objects", "tracemalloc_mib"),
            "W1": ("acked_per_s", "deliveries_per_s", "in_order", "generator_bound",
                   "stream_leader", "publishers_on_leader"),
            "W2": ("p50_ms", "p99_ms", "max_ms", "own_p99_ms", "p99_ms_acks"),
            "W3": ("publish_per_s", "late_joiner_s", "verified_replay_per_s",
                   "broker_mem_mib", "store_mem_mib"),
            "W4": ("held", "handshakes_per_s", "broker_kib_per_conn", "failures"),
            "W5": ("acked_per_s", "broker_cpu_us_per_alert", "errors", "generator_bound",
                   "stream_leader", "publishers_on_leader")}


def _summary(wl: str, res: dict[str, Any]) -> str:
    return ", ".join(f"{k}={res.get(k)}" for k in _SUMMARY[wl] if k in res) + \
        f" ({res.get('elapsed_s')} s)"


def _loadavg() -> list[float] | None:
    try:
        return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["profile"]:  # python -m bench profile: the hub's CPU by category
        from bench.profile import main as profile_main

        return profile_main(argv[1:])
    args = _parser().parse_args(argv)
    params = QUICK if args.quick else FULL
    if args.uvloop:
        params = dataclasses.replace(params, uvloop=True)
    if args.presigned:
        params = dataclasses.replace(params, member=False)
    if args.no_pubs:
        params = dataclasses.replace(params, pubs=False)
    if args.pub_chunk is not None:
        params = dataclasses.replace(params, pub_chunk=max(1, args.pub_chunk))
    if args.prover:
        params = dataclasses.replace(params, prover=True)
    if args.no_decode:
        params = dataclasses.replace(params, decode_alerts=False)
    runs = args.runs or (1 if args.quick else 3)
    workloads = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    started = time.monotonic()

    def log(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {text}", flush=True)

    load_start = _loadavg()
    root = Path(tempfile.mkdtemp(prefix="cordon-bench-"))
    try:
        log(f"throwaway CA and {100} member certificates in {root}")
        pki = make_pki(root)
        targets: list[Target] = [HubTarget(root, pki)]
        if args.workers and args.workers > 1:
            targets.append(HubTarget(root, pki, workers=args.workers))
        if args.plain or args.only:
            targets.append(HubTarget(root, pki, plain=True))
        if args.ha or args.only:
            targets.append(HubTarget(root, pki, ha=True))
        if args.peers or args.only:
            targets += [NatsTarget(root, pki), MosquittoTarget(root, pki)]
        if (args.peers and args.ha) or args.only:
            # The counterpart of cordon-ha: W1 and W5 on an R3 stream of a 3-node cluster.
            targets.append(NatsClusterTarget(root, pki))
        if args.only:
            wanted = {n.strip() for n in args.only.split(",")}
            unknown = wanted - {t.name for t in targets}
            if unknown:
                log(f"unknown targets in --only: {', '.join(sorted(unknown))}")
                return 2
            targets = [t for t in targets if t.name in wanted]
        systems = _run_targets(targets, workloads, runs, params, log)
        doc = {
            "meta": {"mode": "quick" if args.quick else "full", "runs": runs,
                     "workloads": workloads, "params": dataclasses.asdict(params),
                     "machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                     "duration_s": round(time.monotonic() - started, 1),
                     # other work on the machine: the 1/5/15-minute load averages
                     "loadavg_start": load_start, "loadavg_end": _loadavg(),
                     "versions": {k: v for s in systems.values()
                                  for k, v in s.get("versions", {}).items()}},
            "systems": systems,
        }
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "latest.json").write_text(json.dumps(doc, indent=1) + "\n")
        (args.out / "latest.md").write_text(markdown(doc))
        log(f"results: {args.out / 'latest.json'}, {args.out / 'latest.md'}")
        print(markdown(doc))
        failed = [n for n, s in systems.items() if s.get("failed") or any(
            w.get("error") for w in s.get("workloads", {}).values())]
        return 1 if failed else 0
    finally:
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
