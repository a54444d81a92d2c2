"""``cordon evidence export`` → ``verify`` against a real hub (real Valkey, real mutual TLS,
hub-signed checkpoints), the handling-code refusal and the sender's permission, and the
corrupt variants of a real bundle."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import msgpack
import pytest

from client.evidence import main
from hub.protocol.evidence import (
    BundleAlert,
    SignedCheckpointParts,
    encode_bundle,
    verify_bundle,
)
from hub.protocol.merkle import verify_consistency
from tests.bodies import note, seizure
from tests.client.common import CH, FAST
from tests.harness import HubHarness
from tests.pki import Leaf


@pytest.fixture
def hub_options() -> dict[str, Any]:
    return {"checkpoint_interval_ms": 100}


@pytest.fixture
async def members(h: HubHarness) -> dict[str, Leaf]:
    leaves = {"fr": await h.member("fr", "ops"), "de": await h.member("de", "zoll"),
              "chief": await h.member("de", "chief")}
    await h.channel(CH, {"fr": "contributor", "de": "contributor"})
    return leaves


def cli(h: HubHarness, who: Leaf, *args: str | Path) -> list[str]:
    return [*map(str, args), "--hub", h.url, "--cert", str(who.cert), "--key", str(who.key),
            "--ca", str(h.pki.ca)]


async def run(argv: list[str]) -> int:
    """The command as a user runs it: its own event loop (a thread), the hub on ours."""
    return await asyncio.to_thread(main, argv)


async def test_export_then_verify_offline(h: HubHarness, members: dict[str, Leaf],
                                          tmp_path: Path, capsys: Any) -> None:
    async with h.client(members["fr"], **FAST) as fr, h.client(members["de"], **FAST) as de:
        await fr.publish(CH, "notice", note("Briefing at 10:00 UTC"), alert_id="FR-N-1")
        await fr.publish(CH, "seizure", seizure("12,000 tablets"), alert_id="FR-S-1")
        await de.publish(CH, "warning", {"schema": 1, "handling": "H2", "summary":
                                         "parcels from HK", "category": "medicines"},
                         alert_id="DE-W-1")
        await fr.publish(CH, "notice", note("Day 2"), alert_id="FR-N-2")
    out = tmp_path / "stop-iii.cordon-evidence"
    code = await run(cli(h, members["fr"], "export", CH, "--ids", "FR-S-1,FR-N-1",
                         "--out", out, "--crl", h.pki.crl))
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"wrote {out}" in err and "2 alert(s)" in err
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    # offline: nothing but the file
    code = await run(["verify", str(out), "--ca", str(h.pki.ca)])
    text = capsys.readouterr().out
    assert code == 0
    assert "1. alert FR-N-1: notice, handling H0" in text
    assert "2. alert FR-S-1: seizure, handling H0" in text
    assert "who:  fr/ops (administration fr)" in text
    report = verify_bundle(out.read_bytes())
    async with h.client(members["de"], **FAST) as de:  # another member sees the same log
        signed = await de.checkpoint(CH)
        assert signed.checkpoint.size >= report.checkpoint.size >= 2
        proof = await de.prove_consistency(CH, signed.checkpoint.epoch,
                                           report.checkpoint.size, signed.checkpoint.size)
        assert verify_consistency(report.checkpoint.size, signed.checkpoint.size,
                                  report.checkpoint.root, signed.checkpoint.root, proof)
    assert f"fingerprint {report.fingerprint}" in text
    assert [a.offset for a in report.alerts] == [1, 2]

    # the H2 warning: refused without de's permission, exported with it
    refused = tmp_path / "refused.cordon-evidence"
    code = await run(cli(h, members["fr"], "export", CH, "--ids", "DE-W-1", "--out", refused,
                         "--crl", h.pki.crl))
    err = capsys.readouterr().err
    assert code == 7 and not refused.exists()
    assert "handling H2" in err and "cordon evidence permit stop-iii --ids DE-W-1" in err
    code = await run(cli(h, members["fr"], "permit", CH, "--ids", "DE-W-1"))
    capsys.readouterr()
    assert code == 0  # fr may publish a "permission" for de's alert, but it counts for nothing
    code = await run(cli(h, members["fr"], "export", CH, "--ids", "DE-W-1", "--out", refused,
                         "--crl", h.pki.crl))
    assert code == 7, capsys.readouterr().err
    code = await run(cli(h, members["chief"], "permit", CH, "--ids", "DE-W-1"))
    ack = json.loads(capsys.readouterr().out)
    assert code == 0 and ack["permits"] == ["DE-W-1"]
    permitted = tmp_path / "permitted.cordon-evidence"
    code = await run(cli(h, members["fr"], "export", CH, "--ids", "DE-W-1", "--out",
                         permitted, "--crl", h.pki.crl))
    assert code == 0, capsys.readouterr().err
    code = await run(["verify", str(permitted)])
    text = capsys.readouterr().out
    assert code == 0
    assert "alert DE-W-1: warning, handling H2" in text
    assert "— the sender's permission" in text and "who:  de/chief" in text

    # unknown ids and a missing CRL
    code = await run(cli(h, members["fr"], "export", CH, "--ids", "NOPE", "--out",
                         tmp_path / "x", "--crl", h.pki.crl))
    assert code == 4 and "not in the channel's history" in capsys.readouterr().err
    code = await run(cli(h, members["fr"], "export", CH, "--ids", "FR-N-1", "--out",
                         tmp_path / "x", "--crl", tmp_path / "nothing.pem"))
    assert code == 4 and "cannot read" in capsys.readouterr().err

    # the corrupt variants of the real bundle
    data = out.read_bytes()
    obj = msgpack.unpackb(data, raw=False)
    items = [BundleAlert(alert=a["alert"], sig=a["sig"], cert=a["cert"], offset=a["off"],
                         proof=a["proof"]) for a in obj["alerts"]]
    parts = SignedCheckpointParts(data=obj["checkpoint"]["data"],
                                  sig=obj["checkpoint"]["sig"], cert=obj["checkpoint"]["cert"])

    def remake(alerts: list[BundleAlert], cp: SignedCheckpointParts = parts) -> bytes:
        return encode_bundle(alerts=alerts, checkpoint=cp, ca=obj["ca"], crl=obj["crl"],
                             created=obj["created"], exporter=obj["exporter"])

    assert remake(items) == data
    swapped = [dataclasses.replace(items[0], alert=items[1].alert, sig=items[1].sig),
               dataclasses.replace(items[1], alert=items[0].alert, sig=items[0].sig)]
    variants = {
        "truncated": (data[:-7], 4),
        "wrong-version": (data[:-1] + b"\x02", 4),
        "swapped-bytes": (remake(swapped), 5),
        "flipped-byte": (remake([dataclasses.replace(
            items[0], alert=items[0].alert.replace(b"10:00", b"11:00"))]), 5),
        "forged-checkpoint-sig": (remake(items, dataclasses.replace(parts, sig=bytes(64))), 5),
        "proof-of-another-alert": (remake([dataclasses.replace(items[0],
                                                               proof=items[1].proof)]), 5),
    }
    for name, (bad, expected) in variants.items():
        path = tmp_path / f"{name}.cordon-evidence"
        path.write_bytes(bad)
        code = await run(["verify", str(path)])
        _, err = capsys.readouterr()
        assert code == expected, (name, err)
        assert err.startswith("cordon evidence verify: ") and err.count("\n") == 1, err


async def test_a_sender_revoked_after_signing(h: HubHarness, members: dict[str, Leaf],
                                              tmp_path: Path, capsys: Any) -> None:
    async with h.client(members["fr"], **FAST) as fr:
        await fr.publish(CH, "notice", note("signed before"), alert_id="FR-N-1")
    await h.revoke(members["fr"])  # rewrites the CRL
    out = tmp_path / "b.cordon-evidence"
    code = await run(cli(h, members["de"], "export", CH, "--ids", "FR-N-1", "--out", out,
                         "--crl", h.pki.crl))
    assert code == 0, capsys.readouterr().err
    code = await run(["verify", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "NOTE: the sender's certificate was revoked on" in text


async def test_a_hub_that_signs_no_checkpoints(tmp_path: Path, valkey_url: str, raw: Any,
                                               capsys: Any) -> None:
    """checkpoint_interval_ms = 0: nothing can be proved, so no file is written (exit 3)."""
    await raw.flushdb()
    async with HubHarness(tmp_path, valkey_url, checkpoint_interval_ms=0) as h:
        fr = await h.member("fr", "ops")
        await h.channel(CH, {"fr": "contributor"})
        async with h.client(fr, **FAST) as client:
            await client.publish(CH, "notice", note("x"), alert_id="FR-N-1")
        out = tmp_path / "none.cordon-evidence"
        code = await run(cli(h, fr, "export", CH, "--ids", "FR-N-1", "--out", out,
                             "--crl", h.pki.crl))
        err = capsys.readouterr().err
        assert code == 3 and not out.exists()
        assert "hub refused" in err, err
