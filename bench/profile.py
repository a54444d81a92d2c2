"""``python -m bench profile``: where the hub's CPU goes per acked publish (issue 17).

Runs the no-subscriber workload (W0: one connection, 256 in flight, alerts signed by the
publisher as a member system does) against a fresh ``cordon serve`` while py-spy samples
the hub process (every thread, idle samples left out, ``--nonblocking`` so the hub is
never paused), then splits the hub's CPU time per acked publish (utime + stime from
/proc) by category in proportion to the samples, and adds the store's CPU (its own
process, from /proc) and the group commit's wall-time wait (hub /metrics).

Each sample is one stack; it is given to a category by its frames, read from the
innermost outwards up to the event loop's callback boundary (``Handle._run``): the first
frame a rule of :data:`RULES` matches decides. Frames of asyncio's own machinery
(futures, tasks, queues) are read through, so a queue ``get`` inside the publish
pipeline counts for the pipeline; a stack with no match is the event loop's own
(``_run_once``, selectors) when its innermost frame is in asyncio or selectors, else
*other* (its innermost frames are listed). The mapping is in bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["CATEGORIES", "RULES", "categorize", "main", "parse_raw", "parse_raw_threads",
           "weighted"]

#: Categories in the order they are printed.
CATEGORIES = (
    "frame decode",
    "canonical check",
    "checks (access, rate, window, clock)",
    "schema",
    "signature verify",
    "chain",
    "transparency log (leaf hashes, Merkle tree, checkpoints)",
    "store script (hub side)",
    "ack encode/send",
    "TLS/websocket",
    "publish pipeline (hub/session.py)",
    "delivery (feeds)",
    "metrics",
    "event-loop overhead",
    "other",
)

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*):(?P<line>\d+)\)$")

Frame = tuple[str, str, int]  # function, file, line
Rule = tuple[str, Callable[[str, str, int], bool]]


def _in(*parts: str) -> Callable[[str, str, int], bool]:
    return lambda _fn, file, _ln: any(p in file for p in parts)


def _fn(*names: str, file: str = "") -> Callable[[str, str, int], bool]:
    return lambda fn, f, _ln: fn.rsplit(".", 1)[-1] in names and file in f


def _canonical_lines() -> set[int]:
    """Lines of hub.protocol.envelope.decode_envelope that re-encode and compare (the
    canonical-form check); the rest of that function is decoding."""
    try:
        from hub.protocol import envelope

        path = Path(envelope.__file__)
        lines = path.read_text().splitlines()
    except (ImportError, OSError):
        return set()
    return {i + 1 for i, text in enumerate(lines)
            if ("packb(" in text or "_repack(" in text) and "== data" in text}


_CANONICAL_LINES = _canonical_lines()


def _canonical(fn: str, file: str, line: int) -> bool:
    if "hub/protocol/envelope.py" not in file:
        return False
    name = fn.rsplit(".", 1)[-1]
    return name in ("_ordered", "_sorted_map", "_why_not_canonical", "_no_timestamp",
                    "_no_timestamps", "_no_ext") or (
        name == "decode_envelope" and line in _CANONICAL_LINES)


#: (category, rule): the first rule that matches a frame, innermost frame first, wins.
RULES: tuple[Rule, ...] = (
    ("signature verify", _fn("crypto_sign_open", "verify_alert")),
    ("signature verify", _in("nacl/", "hub/verifier.py")),
    ("canonical check", _canonical),
    ("schema", _in("hub/protocol/schema.py", "hub/alertcheck.py")),
    ("chain", _in("hub/protocol/chain.py")),
    ("chain", _fn("alert_hash", "_chain_args", "_chain_broken")),
    ("transparency log (leaf hashes, Merkle tree, checkpoints)",
     _in("hub/translog.py", "hub/protocol/merkle.py", "hub/protocol/checkpoint.py")),
    ("frame decode", _fn("decode_envelope", "decode_client", "decode", "_decode",
                         file="hub/protocol/")),
    ("frame decode", _in("hub/protocol/frames.py", "hub/protocol/identity.py",
                         "hub/protocol/envelope.py")),
    ("checks (access, rate, window, clock)", _in("hub/access.py", "hub/ratelimit.py",
                                                 "asyncio/locks.py")),
    ("checks (access, rate, window, clock)", _fn("_may_publish", "_still_allowed",
                                                 "now_ms", file="hub/session.py")),
    ("store script (hub side)", _in("hub/storage/", "hub/committer.py", "redis/",
                                    "hiredis")),
    ("ack encode/send", _fn("_committed", "send", "send_error", "offer",
                            file="hub/session.py")),
    ("ack encode/send", _fn("encode", "_encode", file="hub/protocol/codec.py")),
    ("ack encode/send", _in("hub/protocol/codec.py")),
    ("ack encode/send", _fn("_write_loop", file="hub/session.py")),
    ("TLS/websocket", _in("asyncio/sslproto.py", "/ssl.py", "websockets/", "hub/wsconn.py",
                          "hub/tlstransport.py", "asyncio/selector_events.py",
                          "asyncio/transports.py")),
    ("delivery (feeds)", _in("hub/feeds.py")),
    ("metrics", _in("hub/metrics.py", "prometheus_client/")),
    ("publish pipeline (hub/session.py)", _in("hub/session.py")),
)

#: Frames read through (asyncio's machinery): the caller decides.
_THROUGH = ("asyncio/futures.py", "asyncio/tasks.py", "asyncio/queues.py",
            "asyncio/events.py", "asyncio/base_events.py", "contextlib.py",
            "functools.py", "selectors.py", "threading.py", "queue.py", "<frozen")
#: The innermost of these frames is the event loop's callback boundary.
_BOUNDARY = (("_run", "asyncio/events.py"),)


def parse_frame(text: str) -> Frame | None:
    m = _FRAME.match(text.strip())
    if not m:
        return None
    return m["func"], m["file"], int(m["line"])


def parse_raw(text: str) -> list[tuple[list[Frame], int]]:
    """py-spy's ``--format raw`` (collapsed stacks, outermost frame first, a count)."""
    out: list[tuple[list[Frame], int]] = []
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in (parse_frame(p) for p in stack.split(";")) if f is not None]
        out.append((frames, int(count)))
    return out


def categorize(frames: list[Frame]) -> str:
    """The category of one stack (outermost frame first)."""
    inner = frames
    for i in range(len(frames) - 1, -1, -1):
        fn, file, _ln = frames[i]
        if any(fn.rsplit(".", 1)[-1] == f and p in file for f, p in _BOUNDARY):
            inner = frames[i + 1:]
            break
    for fn, file, line in reversed(inner):
        for category, rule in RULES:
            if rule(fn, file, line):
                return category
    leaf = frames[-1][1] if frames else ""
    if not inner or any(p in leaf for p in _THROUGH) or "asyncio/" in leaf:
        return "event-loop overhead"
    return "other"


_THREAD = re.compile(r"^thread \((?P<tid>\d+)\)(?::\s*(?P<name>.*))?$")


def parse_raw_threads(text: str) -> dict[int, tuple[str, list[tuple[list[Frame], int]]]]:
    """Collapsed stacks by native thread id (``--threads`` puts ``thread (TID): NAME``
    outermost)."""
    out: dict[int, tuple[str, list[tuple[list[Frame], int]]]] = {}
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        parts = stack.split(";")
        m = _THREAD.match(parts[0].strip())
        tid, name = (int(m["tid"]), m["name"] or "") if m else (0, "")
        frames = [f for f in (parse_frame(p) for p in parts) if f is not None]
        out.setdefault(tid, (name, []))[1].append((frames, int(count)))
    return out


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds (utime + stime) of each thread of a process, by native id (/proc)."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[str, float]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            out[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / tick)
        except (OSError, IndexError, ValueError):
            continue
    return out


def breakdown(stacks: list[tuple[list[Frame], int]]) -> tuple[Counter[str], Counter[str]]:
    cats: Counter[str] = Counter()
    other: Counter[str] = Counter()
    for frames, n in stacks:
        cat = categorize(frames)
        cats[cat] += n
        if cat == "other" and frames:
            fn, file, _ln = frames[-1]
            other[f"{fn} ({Path(file).name})"] += n
    return cats, other


def weighted(by_thread: dict[int, tuple[str, list[tuple[list[Frame], int]]]],
             cpu: dict[int, tuple[str, float]]) -> tuple[dict[str, float], Counter[str],
                                                          list[dict[str, Any]]]:
    """CPU seconds by category: each thread's own CPU time (/proc, exact) split in
    proportion to that thread's samples (a runnable thread waiting for a core is sampled
    as busy, so samples alone overweight threads that wait on a loaded machine). A
    thread with CPU time and no samples counts as *other*."""
    secs: dict[str, float] = {}
    other: Counter[str] = Counter()
    threads = []
    for tid, (name, used) in sorted(cpu.items(), key=lambda kv: -kv[1][1]):
        stacks = by_thread.get(tid, ("", []))[1]
        cats, oth = breakdown(stacks)
        other += oth
        n = sum(cats.values())
        threads.append({"tid": tid, "name": name, "cpu_s": round(used, 3), "samples": n})
        if not n:
            secs["other"] = secs.get("other", 0.0) + used
            continue
        for cat, k in cats.items():
            secs[cat] = secs.get(cat, 0.0) + used * k / n
    return secs, other, threads


#: Shared objects grouped for the native split (perf): substring of the DSO -> group.
DSO_GROUPS = (
    ("[kernel", "kernel (syscalls, loopback TCP, futex, epoll)"),
    ("libsodium", "libsodium (Ed25519 verify)"),
    ("_sodium", "libsodium (Ed25519 verify)"),
    ("libssl", "OpenSSL (TLS records, AES-GCM)"),
    ("libcrypto", "OpenSSL (TLS records, AES-GCM)"),
    ("_ssl", "OpenSSL (TLS records, AES-GCM)"),
    ("msgpack", "msgpack (C)"),
    ("hiredis", "hiredis (C)"),
    ("python", "CPython interpreter"),
    ("libc", "libc (malloc, memcpy)"),
)


def dso_group(dso: str) -> str:
    for part, group in DSO_GROUPS:
        if part in dso:
            return group
    return "other native"


def parse_perf_report(text: str) -> list[tuple[int, str, float]]:
    """``perf report --stdio --sort pid,dso`` (perf's pid is the thread): (thread id, DSO,
    percent) rows."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"^\s*([\d.]+)%\s+(\d+):\S*\s+(.+?)\s*$", line)
        if m:
            rows.append((int(m[2]), m[3], float(m[1])))
    return rows


def _perf() -> str | None:
    return shutil.which("perf")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench profile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--alerts", type=int, default=30_000,
                   help="alerts published (default 30,000; 500 with --quick)")
    p.add_argument("--quick", action="store_true", help="smoke mode (500 alerts)")
    p.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    p.add_argument("--presigned", action="store_true",
                   help="the publisher of the bench before issue 17 (see python -m bench)")
    p.add_argument("--pubs", action="store_true",
                   help="(the default now) several alerts per 'pubs' frame, as the SDK sends "
                        "concurrent publishes")
    p.add_argument("--plain", action="store_true",
                   help="the hub without signed checkpoints (--checkpoint-interval-ms 0) and "
                        "a publisher signing unchained alerts (target cordon-plain)")
    p.add_argument("--no-pubs", action="store_true",
                   help="one 'pub' frame per alert (python -m bench --no-pubs)")
    p.add_argument("--pub-chunk", type=int, default=None, metavar="N",
                   help="alerts signed before they are sent (python -m bench --pub-chunk)")
    p.add_argument("--out", type=Path, help="write the breakdown as JSON here")
    p.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    p.add_argument("--callgrind", action="store_true",
                   help="instead: count the hub's instructions per acked publish under "
                        "valgrind --tool=callgrind (robust to load; 50-100x slower, so use "
                        "--alerts 2000 or so), grouped by shared object")
    p.add_argument("--no-perf", action="store_true",
                   help="skip the native split (perf record -e cpu-clock, on-CPU samples only)")
    return p


def _py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


_CG_LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*?)(?:\s+\[(.*)\])?\s*$")


def parse_callgrind_annotate(text: str) -> tuple[int, dict[str, int]]:
    """``callgrind_annotate`` output: the program's total Ir and Ir by shared object."""
    total = 0
    by_obj: dict[str, int] = {}
    for line in text.splitlines():
        m = _CG_LINE.match(line)
        if not m:
            continue
        n = int(m[1].replace(",", ""))
        if "PROGRAM TOTALS" in m[2]:
            total = n
        elif m[3]:
            by_obj[m[3]] = by_obj.get(m[3], 0) + n
    return total, by_obj


def run_callgrind(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    """The hub under callgrind, instrumentation switched on only around W0's publishes
    (``callgrind_control -i on/off``), then dumped: user-space instructions per acked
    publish, by shared object. Kernel work (syscalls, loopback TCP) is not counted."""
    from bench.common import make_pki
    from bench.targets import HubTarget
    from bench.workloads import FULL, w0

    for tool in ("valgrind", "callgrind_control", "callgrind_annotate"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not installed (apt-get install valgrind)")
    count = 200 if args.quick else args.alerts
    params = dataclasses.replace(FULL, w0_alerts=count, member=not args.presigned,
                                 pubs=not args.no_pubs, deadline_s=1800.0,
                                 pub_chunk=args.pub_chunk or FULL.pub_chunk)
    root = Path(tempfile.mkdtemp(prefix="cordon-callgrind-"))
    try:
        pki = make_pki(root, members=2)
        target = HubTarget(root, pki, plain=args.plain)
        out = root / "cg.out"
        target.wrap = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                       f"--callgrind-out-file={out}"]
        target.prepare_s = 600.0
        log("starting the hub under callgrind (slow)")
        target.start(0)
        try:
            assert target.proc is not None
            pid = str(target.proc.pid)
            subprocess.run(["callgrind_control", "-i", "on", pid], check=True,
                           capture_output=True)
            log(f"W0, {count:,} alerts, instrumented")
            res = w0(target, 0, params)
            subprocess.run(["callgrind_control", "-i", "off", pid], check=True,
                           capture_output=True)
            subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
            time.sleep(2)
        finally:
            target.stop()
        dumps = sorted(root.glob("cg.out*"), key=lambda p: p.stat().st_size, reverse=True)
        if not dumps:
            raise SystemExit("callgrind wrote no profile")
        annotated = subprocess.run(["callgrind_annotate", "--threshold=100", str(dumps[0])],
                                   capture_output=True, text=True, check=False).stdout
    finally:
        shutil.rmtree(root, ignore_errors=True)
    total, by_obj = parse_callgrind_annotate(annotated)
    acked = max(res["acked"], 1)
    groups: dict[str, float] = {}
    for obj, n in by_obj.items():
        key = dso_group(Path(obj).name) if obj != "???" else "other native"
        groups[key] = groups.get(key, 0.0) + n / acked
    return {"acked": res["acked"], "alerts": count, "instructions_per_ack": round(total / acked),
            "by_object_per_ack": {k: round(v) for k, v in
                                  sorted(groups.items(), key=lambda kv: -kv[1])}}


def run(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    from bench.common import make_pki
    from bench.targets import HubTarget
    from bench.workloads import FULL, w0

    spy = _py_spy()
    if spy is None:
        raise SystemExit("py-spy not installed (pip install -e '.[bench]')")
    count = 500 if args.quick else args.alerts
    params = dataclasses.replace(FULL, w0_alerts=count, member=not args.presigned,
                                 pubs=not args.no_pubs,
                                 pub_chunk=args.pub_chunk or FULL.pub_chunk)
    root = Path(tempfile.mkdtemp(prefix="cordon-profile-"))
    try:
        pki = make_pki(root, members=2)
        target = HubTarget(root, pki, plain=args.plain)
        target.start(0)
        raw = root / "pyspy.txt"
        try:
            assert target.proc is not None
            spy_proc = subprocess.Popen(
                [spy, "record", "--pid", str(target.proc.pid), "--rate", str(args.rate),
                 "--format", "raw", "--threads", "--nonblocking", "--output", str(raw)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(1.0)  # py-spy attached
            if spy_proc.poll() is not None:
                err = spy_proc.stderr.read().decode() if spy_proc.stderr else ""
                raise SystemExit(f"py-spy could not attach: {err.strip()}")
            perf_data = root / "perf.data"
            perf = _perf() if not args.no_perf else None
            perf_proc = subprocess.Popen(
                [perf, "record", "-e", "cpu-clock", "-F", "499", "-p", str(target.proc.pid),
                 "-o", str(perf_data)], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL) if perf else None
            log(f"W0, {count:,} alerts, hub pid {target.proc.pid} under py-spy"
                + (" and perf" if perf_proc else ""))
            cpu0 = thread_cpu(target.proc.pid)
            res = w0(target, 0, params)
            cpu1 = thread_cpu(target.proc.pid)
            spy_proc.send_signal(signal.SIGINT)
            spy_proc.wait(60)
            perf_rows: list[tuple[int, str, float]] = []
            if perf_proc is not None and perf:
                perf_proc.send_signal(signal.SIGINT)
                perf_proc.wait(60)
                report = subprocess.run(
                    [perf, "report", "-i", str(perf_data), "--stdio", "--no-children",
                     "--sort", "pid,dso"], capture_output=True, text=True, check=False)
                perf_rows = parse_perf_report(report.stdout)
        finally:
            target.stop()
        text = raw.read_text() if raw.exists() else ""
        if args.raw:
            args.raw.write_text(text)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    cpu = {tid: (name, used - cpu0.get(tid, (name, 0.0))[1])
           for tid, (name, used) in cpu1.items()}
    by_thread = parse_raw_threads(text)
    secs, other, threads = weighted(by_thread, cpu)
    cats, _ = breakdown([s for _n, st in by_thread.values() for s in st])
    samples = sum(cats.values())
    total = sum(secs.values())
    hub_us = res["broker_cpu_us_per_alert"]
    rows = [{"category": c, "samples": cats.get(c, 0),
             "share": round(secs.get(c, 0.0) / total, 4) if total else None,
             "us_per_ack": round(hub_us * secs.get(c, 0.0) / total, 1) if total else None}
            for c in CATEGORIES]
    names = {tid: name for tid, (name, _st) in by_thread.items()}
    native: dict[str, dict[str, float]] = {}
    for tid, dso, pct in perf_rows:
        name = names.get(tid, "other threads")
        who = "verifier threads" if name.startswith("cordon-verify") else (
            "event loop (MainThread)" if name == "MainThread" else "other threads")
        group = native.setdefault(who, {})
        key = dso_group(dso)
        group[key] = round(group.get(key, 0.0) + pct * hub_us / 100, 1)
    return {"workload": {k: res.get(k) for k in (
                "alerts", "acked", "acked_per_s", "broker_cpu_us_per_alert",
                "store_cpu_us_per_alert", "broker_store_cpu_us_per_alert",
                "publisher_cpu_us_per_alert", "generator_cpu_share", "alerts_per_commit",
                "commit_round_trip_ms", "commit_wait_us_per_alert")},
            "member": not args.presigned, "pubs": not args.no_pubs, "plain": args.plain,
            "samples": samples, "rate_hz": args.rate,
            "threads": threads, "rows": rows, "other_leaves": other.most_common(8),
            "native_us_per_ack": native}


def markdown(doc: dict[str, Any]) -> str:
    w = doc["workload"]
    lines = [f"W0 profile: {w['acked']:,} acked of {w['alerts']:,} at {w['acked_per_s']:,}/s; "
             f"{doc['samples']:,} py-spy samples of the hub's busy threads at "
             f"{doc['rate_hz']} Hz; each thread's CPU time (/proc) split by its samples.", "",
             "| category | share of hub CPU | µs per acked publish |",
             "| --- | --- | --- |"]
    for r in doc["rows"]:
        if r["share"]:
            lines.append(f"| {r['category']} | {r['share'] * 100:.1f} % | {r['us_per_ack']} |")
    lines.append(f"| **hub CPU (utime + stime, /proc)** | 100 % | "
                 f"**{w['broker_cpu_us_per_alert']}** |")
    lines.append(f"| store CPU (valkey-server, /proc: append script, chain, AOF write, "
                 f"fsync) | | {w['store_cpu_us_per_alert']} |")
    lines.append(f"| **hub + store CPU** | | **{w['broker_store_cpu_us_per_alert']}** |")
    if w.get("commit_round_trip_ms") is not None:
        lines.append(f"| group commit wait (wall, not CPU: writes + fsync, "
                     f"{w['alerts_per_commit']} alerts per commit, "
                     f"{w['commit_round_trip_ms']} ms each) | | "
                     f"{w['commit_wait_us_per_alert']} (wall) |")
    lines.append(f"| publisher (generator) CPU | | {w['publisher_cpu_us_per_alert']} |")
    lines += ["", "Hub threads (CPU seconds during the run, samples): " + ", ".join(
        f"{t['name']} {t['cpu_s']} s ({t['samples']})" for t in doc["threads"]
        if t["cpu_s"] > 0 or t["samples"])]
    if doc.get("native_us_per_ack"):
        lines += ["", "Native split (perf record -e cpu-clock: on-CPU samples only), µs per "
                  "acked publish:", "", "| thread | where | µs |", "| --- | --- | --- |"]
        for who, groups in doc["native_us_per_ack"].items():
            for key, us in sorted(groups.items(), key=lambda kv: -kv[1]):
                if us >= 0.5:
                    lines.append(f"| {who} | {key} | {us} |")
    if doc["other_leaves"]:
        lines += ["", "*other*, innermost frames: " + ", ".join(
            f"{name} {n}" for name, n in doc["other_leaves"])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()

    def log(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {text}", flush=True)

    if args.callgrind:
        cg = run_callgrind(args, log)
        if args.out:
            args.out.write_text(json.dumps(cg, indent=1) + "\n")
        print(f"W0 under callgrind: {cg['acked']:,} acked; hub user-space instructions per "
              f"acked publish: {cg['instructions_per_ack']:,}")
        for key, n in cg["by_object_per_ack"].items():
            print(f"  {key}: {n:,}")
        return 0
    doc = run(args, log)
    if args.out:
        args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(markdown(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
