"""Starts ``cordon serve`` (:func:`hub.cli.main`) for the bench, with two additions that
change nothing in the hub: ``BENCH_HUB_UVLOOP=1`` runs it on uvloop, and with
``BENCH_HUB_DUMP=PATH`` a ``SIGUSR1`` writes what the process is made of to PATH (JSON):
imported modules, threads and their stacks, live objects by type, and, when the hub was
started with ``PYTHONTRACEMALLOC=1``, the top of a tracemalloc snapshot. Used by W6 (the
idle hub, bench/README.md)."""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import threading
import traceback
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["describe", "main"]


def _package(name: str) -> str:
    return name.split(".", 1)[0]


def _alloc_group(filename: str) -> str:
    """The package (or stdlib module) a tracemalloc filename belongs to."""
    parts = Path(filename).parts
    if "site-packages" in parts:
        i = parts.index("site-packages")
        return parts[i + 1] if i + 1 < len(parts) else filename
    for top in ("hub", "client", "certs", "bench"):
        if top in parts:
            return top
    if filename.startswith("<frozen"):
        return filename  # importlib: mostly module code objects
    return "stdlib " + Path(filename).stem


def describe(top: int = 15) -> dict[str, Any]:
    mods = list(sys.modules)
    frames = sys._current_frames()
    threads = []
    for t in threading.enumerate():
        f = frames.get(t.ident or -1)
        stack = traceback.format_stack(f, limit=6) if f is not None else []
        threads.append({"name": t.name, "daemon": t.daemon,
                        "stack": [s.strip().splitlines()[0] for s in stack]})
    types = Counter(type(o).__name__ for o in gc.get_objects())
    out: dict[str, Any] = {
        "modules": len(mods),
        "modules_by_package": Counter(_package(m) for m in mods).most_common(top),
        "threads": threads,
        "gc_objects": sum(types.values()),
        "gc_top_types": types.most_common(top),
    }
    if tracemalloc.is_tracing():
        snap = tracemalloc.take_snapshot()
        stats = snap.statistics("filename")
        traced, peak = tracemalloc.get_traced_memory()
        groups: Counter[str] = Counter()
        for s in stats:
            groups[_alloc_group(str(s.traceback[0].filename))] += s.size
        out["tracemalloc"] = {
            "traced_bytes": traced, "peak_bytes": peak,
            "by_package": groups.most_common(top),
            "top_files": [(str(s.traceback[0].filename), s.size, s.count)
                          for s in stats[:top]],
        }
    return out


def _dump(_signum: int, _frame: FrameType | None) -> None:
    path = Path(os.environ["BENCH_HUB_DUMP"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(describe()))
    tmp.replace(path)


def main() -> int:
    if os.environ.get("BENCH_HUB_UVLOOP"):
        import uvloop

        uvloop.install()
    if os.environ.get("BENCH_HUB_DUMP"):
        signal.signal(signal.SIGUSR1, _dump)
    from hub.cli import main as hub_main

    return hub_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
