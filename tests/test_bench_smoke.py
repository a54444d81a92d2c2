"""The bench in its smallest mode, end to end: a real hub (and 2 workers) on a throwaway
CA, real generator processes. No timed assertions: only that it runs, that the results
are well formed, and that W1's subscribers got every alert in order."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the bench reads /proc"),
    pytest.mark.timeout(300),
]

NUMBERS = {
    "W1": ("acked_per_s", "deliveries_per_s", "broker_cpu_us_per_alert", "generator_cores",
           "broker_cpu_s", "store_cpu_s"),
    "W2": ("p50_ms", "p99_ms", "max_ms", "own_p50_ms", "own_p99_ms", "own_max_ms"),
    "W3": ("publish_per_s", "late_joiner_s", "verified_replay_per_s", "broker_mem_mib",
           "store_mem_mib"),
    "W4": ("held", "handshakes_per_s", "broker_kib_per_conn", "broker_mem_held_mib",
           "store_mem_mib"),
    "W5": ("acked_per_s", "broker_cpu_us_per_alert", "store_cpu_us_per_alert"),
}


def test_quick_bench_writes_well_formed_results(tmp_path: Path) -> None:
    from bench.__main__ import main

    out = tmp_path / "results"
    assert main(["--quick", "--workers", "2", "--out", str(out)]) == 0
    doc = json.loads((out / "latest.json").read_text())
    assert doc["meta"]["mode"] == "quick"
    assert doc["meta"]["machine"]["cores"] >= 1
    hub = doc["systems"]["cordon"]
    assert set(hub["workloads"]) == set(NUMBERS)
    for wl, keys in NUMBERS.items():
        entry = hub["workloads"][wl]
        assert "error" not in entry, entry.get("error")
        assert len(entry["runs"]) == 1
        for key in keys:
            value = entry["median"][key]
            if (wl, key) == ("W4", "broker_kib_per_conn") and value is None:
                continue  # 40 connections: growth can be lost in the noise; never negative
            assert isinstance(value, int | float) and value >= 0, (wl, key, value)
        if "generator_cpu_share" in entry["median"]:
            assert all(v >= 0 for v in entry["median"]["generator_cpu_share"].values())

    w1 = hub["workloads"]["W1"]["median"]
    assert w1["acked"] == w1["alerts"] and not w1["errors"]
    assert w1["deliveries"] == w1["alerts"] * w1["subscribers"]
    assert w1["every_subscriber_got_every_alert"] is True
    assert w1["in_order"] is True
    assert hub["workloads"]["W3"]["median"]["late_joiner_complete_in_order"] is True
    assert hub["workloads"]["W4"]["median"]["held"] == doc["meta"]["params"]["w4_conns"]

    workers = doc["systems"]["cordon-2w"]
    assert set(workers["workloads"]) == {"W1", "W5"}
    w1w = workers["workloads"]["W1"]["median"]
    assert w1w["in_order"] is True, w1w  # names counts and errors if a subscriber fell short

    table = (out / "latest.md").read_text()
    assert "| W1 acked publishes/s |" in table
    assert "W5 acked alerts/s" in table
