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
    "W0": ("acked_per_s", "broker_cpu_us_per_alert", "store_cpu_us_per_alert",
           "broker_store_cpu_us_per_alert", "publisher_cpu_us_per_alert", "broker_rss_mib",
           "store_rss_mib", "store_bytes_per_alert", "store_key_bytes_per_alert",
           "store_log_bytes_per_alert", "store_ids_bytes_per_alert", "alerts_per_commit",
           "commit_round_trip_ms"),
    "W1": ("acked_per_s", "deliveries_per_s", "broker_cpu_us_per_alert", "generator_cores",
           "broker_cpu_s", "store_cpu_s"),
    "W2": ("p50_ms", "p99_ms", "max_ms", "own_p50_ms", "own_p99_ms", "own_max_ms"),
    "W3": ("publish_per_s", "late_joiner_s", "verified_replay_per_s", "broker_mem_mib",
           "store_mem_mib"),
    "W4": ("held", "handshakes_per_s", "broker_kib_per_conn", "broker_mem_held_mib",
           "store_mem_mib"),
    "W5": ("acked_per_s", "broker_cpu_us_per_alert", "store_cpu_us_per_alert"),
    "W6": ("broker_rss_mib", "broker_anonymous_mib", "broker_file_backed_mib", "broker_threads",
           "modules", "gc_objects", "tracemalloc_mib", "store_rss_mib"),
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

    w0 = hub["workloads"]["W0"]["median"]
    assert w0["acked"] == w0["alerts"] and not w0["errors"]
    assert w0["stored"] == w0["acked"]  # every acked alert is in the channel's stream
    w6 = hub["workloads"]["W6"]["median"]
    assert {t["name"] for t in w6["threads"]} >= {"MainThread"}
    assert w6["modules_by_package"] and w6["tracemalloc_by_package"]

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
    assert "| W0 acked publishes/s, one connection, no subscribers |" in table
    assert "| W1 acked publishes/s |" in table
    assert "W5 acked alerts/s" in table


def test_quick_presigned_bench_still_runs(tmp_path: Path) -> None:
    """``--presigned``: the publisher of the bench before issue 17, for comparisons."""
    from bench.__main__ import main

    out = tmp_path / "results"
    assert main(["--quick", "--presigned", "--workers", "0", "--workloads", "W0,W1",
                 "--out", str(out)]) == 0
    doc = json.loads((out / "latest.json").read_text())
    assert doc["meta"]["params"]["member"] is False
    w1 = doc["systems"]["cordon"]["workloads"]["W1"]["median"]
    assert w1["in_order"] is True and w1["acked"] == w1["alerts"]


def test_quick_profile_splits_the_hub_cpu(tmp_path: Path) -> None:
    """``python -m bench profile --quick``: W0 under py-spy, every category row present,
    the shares adding up to the whole."""
    import shutil

    from bench import profile

    if profile._py_spy() is None and shutil.which("py-spy") is None:
        pytest.skip("py-spy not installed (the bench extra)")
    out = tmp_path / "profile.json"
    try:
        assert profile.main(["--quick", "--out", str(out)]) == 0
    except SystemExit as exc:  # py-spy present but not allowed to attach (ptrace)
        pytest.skip(str(exc))
    doc = json.loads(out.read_text())
    assert doc["workload"]["acked"] == 500
    assert [r["category"] for r in doc["rows"]] == list(profile.CATEGORIES)
    shares = [r["share"] for r in doc["rows"] if r["share"] is not None]
    assert shares and abs(sum(shares) - 1) < 0.01


def test_profile_categories_follow_the_documented_rules() -> None:
    """The mapping from frames to categories (bench/README.md), on hand-made stacks."""
    from bench.profile import categorize, parse_raw, parse_raw_threads, weighted

    loop = ("_run_module_as_main (<frozen runpy>:198);BaseEventLoop.run_forever "
            "(asyncio/base_events.py:607);BaseEventLoop._run_once (asyncio/base_events.py:1922);"
            "Handle._run (asyncio/events.py:80)")
    cases = {
        "Session._handle (hub/session.py:291);Session._dispatch (hub/session.py:315);"
        "Session._publish (hub/session.py:380);decode_envelope (hub/protocol/envelope.py:211)":
            "frame decode",
        "Session._handle (hub/session.py:283);decode_client (hub/protocol/codec.py:400)":
            "frame decode",
        "Session._publishes (hub/session.py:421);check_alert (hub/alertcheck.py:67);"
        "validate (hub/protocol/schema.py:464)": "schema",
        "Session._publishes (hub/session.py:418);Queue.get (asyncio/queues.py:158)":
            "publish pipeline (hub/session.py)",
        "Session._publish (hub/session.py:390);Semaphore.acquire (asyncio/locks.py:387)":
            "checks (access, rate, window, clock)",
        "Session._committed (hub/session.py:460);encode (hub/protocol/codec.py:100)":
            "ack encode/send",
        "GroupCommitter._commit (hub/committer.py:150);Pipeline.execute "
        "(redis/asyncio/client.py:2262)": "store script (hub side)",
        "SSLProtocol._do_read (asyncio/sslproto.py:700);SSLObject.read (ssl.py:921)":
            "TLS/websocket",
    }
    for stack, want in cases.items():
        (frames, _n), = parse_raw(f"{loop};{stack} 3\n")
        assert categorize(frames) == want, stack
    # outside any callback: the loop waiting or polling
    (frames, _n), = parse_raw(f"{loop.rsplit(';', 1)[0]};EpollSelector.select "
                              "(selectors.py:468) 5\n")
    assert categorize(frames) == "event-loop overhead"
    # a verifier thread: everything it does is the signature check
    thread = ("thread (7): cordon-verify-0;Thread._bootstrap (threading.py:1002);"
              "Verifier._run (hub/verifier.py:97);verify_alert (hub/protocol/envelope.py:280);"
              "crypto_sign_open (nacl/bindings/crypto_sign.py:103) 4\n"
              "thread (7): cordon-verify-0;Thread._bootstrap (threading.py:1002);"
              "Verifier._run (hub/verifier.py:85) 4\n")
    by = parse_raw_threads(thread + f"thread (1): MainThread;{loop};{list(cases)[2]} 1\n")
    assert set(by) == {1, 7}
    # each thread's CPU time (not its samples) is what gets split
    secs, _other, _threads = weighted(by, {1: ("python", 1.0), 7: ("python", 3.0),
                                           9: ("python", 0.5)})
    assert secs == {"signature verify": 3.0, "schema": 1.0, "other": 0.5}


def test_profile_reads_perf_and_callgrind_reports() -> None:
    """The native split's parsers, on the report formats of perf 6 and callgrind_annotate."""
    from bench.profile import dso_group, parse_callgrind_annotate, parse_perf_report

    perf = ("# Samples: 448  of event 'cpu-clock'\n"
            "    45.83%    22966:python3   libcrypto.so.3      \n"
            "     8.33%    22970:python3   [kernel.kallsyms]   \n")
    assert parse_perf_report(perf) == [(22966, "libcrypto.so.3", 45.83),
                                       (22970, "[kernel.kallsyms]", 8.33)]
    assert dso_group("[kernel.kallsyms]").startswith("kernel")
    assert dso_group("_sodium.abi3.so").startswith("libsodium")
    assert dso_group("libpython3.11.so.1.0") == "CPython interpreter"
    cg = ("--------------------------------------------------------------------------------\n"
          "4,195,038,283 (100.0%)  PROGRAM TOTALS\n"
          "--------------------------------------------------------------------------------\n"
          "Ir                      file:function\n"
          "1,876,000,000 (44.72%)  ???:fe25519_mul [/usr/lib/libsodium.so.23.3.0]\n"
          "  600,000,000 (14.30%)  ???:_PyEval_EvalFrameDefault [/usr/lib/libpython3.11.so]\n"
          "   10,000,000 ( 0.24%)  ???:0x0000000000012345 [/usr/lib/libsodium.so.23.3.0]\n")
    total, by_obj = parse_callgrind_annotate(cg)
    assert total == 4_195_038_283
    assert by_obj == {"/usr/lib/libsodium.so.23.3.0": 1_886_000_000,
                      "/usr/lib/libpython3.11.so": 600_000_000}


def test_quick_callgrind_counts_instructions_per_ack(tmp_path: Path) -> None:
    """``python -m bench profile --callgrind --quick``: the hub under valgrind, counted only
    around W0's publishes; libsodium's verify is among the objects named."""
    import shutil

    from bench import profile

    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        pytest.skip("valgrind not installed")
    out = tmp_path / "cg.json"
    assert profile.main(["--callgrind", "--quick", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["acked"] == doc["alerts"] == 200
    assert doc["instructions_per_ack"] > 0
    assert doc["by_object_per_ack"].get("libsodium (Ed25519 verify)", 0) > 0


def test_plain_signer_sends_unchained_alerts() -> None:
    """cordon-plain's publishers sign with the SDK's ``chained=False``: no ``seq``/``prev``;
    the default signer chains. Both pad the alert to the same size."""
    import tempfile

    from bench.common import ALERT_BYTES, MemberSigner, make_pki
    from hub.protocol.envelope import decode_envelope

    with tempfile.TemporaryDirectory() as tmp:
        creds = make_pki(Path(tmp), members=1).members[0]
        chained = [decode_envelope(MemberSigner(creds, "c").sign()[0]) for _ in range(1)]
        plain_alert, _sig = MemberSigner(creds, "c", chained=False).sign()
    assert chained[0].seq == 1
    plain = decode_envelope(plain_alert)
    assert plain.seq is None and plain.prev is None
    assert abs(len(plain_alert) - ALERT_BYTES) <= 8


def test_quick_plain_target_and_prover(tmp_path: Path) -> None:
    """``--plain --prover``: cordon-plain (no checkpoints, unchained alerts) runs W1/W3/W5
    (and W0)
    next to cordon, whose W1 has a reader asking ckpt + prove; the table gets the
    Cordon ÷ Cordon plain column. ``--no-pubs`` still runs (one pub frame per alert)."""
    from bench.__main__ import main

    out = tmp_path / "results"
    assert main(["--quick", "--plain", "--prover", "--workers", "0", "--workloads",
                 "W1,W3,W5", "--out", str(out)]) == 0
    doc = json.loads((out / "latest.json").read_text())
    assert doc["meta"]["params"]["pubs"] is True and doc["meta"]["params"]["prover"] is True
    plain = doc["systems"]["cordon-plain"]
    assert set(plain["workloads"]) == {"W1", "W3", "W5"}  # of those asked (W0 too)
    w1p = plain["workloads"]["W1"]["median"]
    assert w1p["in_order"] is True and w1p["acked"] == w1p["alerts"]
    assert "prover_answers" not in w1p
    w1 = doc["systems"]["cordon"]["workloads"]["W1"]["median"]
    assert w1["in_order"] is True
    answers = w1["prover_answers"]
    assert sum(answers.values()) >= 1
    # before the first checkpoint is signed the hub answers 406 (PROTOCOL §8); nothing else
    assert set(w1["prover_err_codes"]) <= {"406"}, w1["prover_err_codes"]
    w3 = plain["workloads"]["W3"]["median"]
    assert w3["late_joiner_complete_in_order"] is True
    assert "Cordon ÷ Cordon plain" in (out / "latest.md").read_text()

    assert main(["--quick", "--no-pubs", "--workers", "0", "--workloads", "W0", "--out",
                 str(out)]) == 0
    doc = json.loads((out / "latest.json").read_text())
    assert doc["meta"]["params"]["pubs"] is False
    w0 = doc["systems"]["cordon"]["workloads"]["W0"]["median"]
    assert w0["acked"] == w0["alerts"]

    # --pub-chunk: the member publisher signs and sends pubs of at most N (as the SDK's
    # pub_chunk); W0's 500 alerts in chunks of 7 are all acked
    assert main(["--quick", "--pub-chunk", "7", "--workers", "0", "--workloads", "W0",
                 "--out", str(out)]) == 0
    doc = json.loads((out / "latest.json").read_text())
    assert doc["meta"]["params"]["pub_chunk"] == 7
    w0 = doc["systems"]["cordon"]["workloads"]["W0"]["median"]
    assert w0["acked"] == w0["alerts"] and not w0["errors"]


async def test_store_append_measures_the_append_script() -> None:
    """bench.store_append appends chained alerts through the real script and reports the
    store's CPU per alert (a refused append would end it with SystemExit)."""
    from bench.store_append import run

    per_alert = await run(300, 64)
    assert per_alert >= 0


def test_sdk_publish_runs_the_member_path(capsys: pytest.CaptureFixture[str]) -> None:
    """bench.sdk_publish: a real hub per run, one SDK Client publishing concurrently; each
    pub_chunk value gets its runs, every publish is acked and stored (else SystemExit),
    and the summary has a median line per value."""
    from bench.sdk_publish import main

    results = main(["--alerts", "60", "--chunks", "7,128", "--runs", "1", "--in-flight", "16"])
    assert [r.chunk for r in results] == [7, 128]
    for r in results:
        assert r.acked_per_s > 0 and r.hub_us > 0 and r.sdk_us > 0 and r.store_us >= 0
    out = capsys.readouterr().out
    assert "pub_chunk 7, medians of 1:" in out and "pub_chunk 128, medians of 1:" in out


@pytest.mark.parametrize("argv", [["--chunks", "0"], ["--chunks", "a,b"], ["--alerts", "-1"],
                                  ["--runs", "x"]])
def test_sdk_publish_refuses_bad_arguments(argv: list[str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Bad arguments end with argparse's usage error (exit 2) before any hub starts."""
    from bench.sdk_publish import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err
