"""``cordon evidence verify FILE`` offline, on bundles made by test code (tests.evidence_kit),
and the export's choice of alerts by handling code (``client.evidence.select``)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import msgpack
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from client.evidence import EXIT_CODES, ExportRefused, headline, main, select
from client.sdk import Received
from hub.protocol.envelope import decode_envelope
from tests.evidence_kit import Kit, notice

DAY = timedelta(days=1)
SEIZURE = {"schema": 1, "handling": "H0", "date": "2023-12-06", "country": "FR",
           "place": "Roissy CDG", "location_type": "postal_centre", "transport_mode": 4,
           "detection": "xray_scanner", "ecommerce": True, "status": "seized",
           "goods": [{"category": "medicines", "hs_code": "300490", "quantity": 12000,
                      "unit": "tablets", "description": "sildenafil 100 mg, falsified"}]}


@pytest.fixture
def kit() -> Kit:
    k = Kit()
    fr, de = k.member("fr", "ops"), k.member("de", "zoll")
    k.publish(fr, "seizure", SEIZURE, alert_id="FR-S-1")
    k.publish(de, "warning", {"schema": 1, "handling": "H2", "summary": "parcels from HK",
                              "category": "medicines"}, alert_id="DE-W-1")
    k.publish(fr, "notice", notice("briefing"), alert_id="FR-N-1")
    k.fr, k.de = fr, de  # type: ignore[attr-defined]
    return k


def write(tmp_path: Path, data: bytes, name: str = "b.cordon-evidence") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["verify", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_verify_reports_who_said_what_when(kit: Kit, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, kit.bundle([1, 3]))
    code, out, err = run(capsys, path)
    assert code == 0, err
    assert out.startswith(f"VERIFIED: {path}")
    assert "1. alert FR-S-1: seizure, handling H0" in out
    assert "who:  fr/ops (administration fr)" in out
    assert "goods: 12000 tablets medicines (sildenafil 100 mg, falsified)" in out
    assert "country: FR" in out and "status: seized" in out
    assert "the log of 3 alerts with fingerprint" in out
    assert "offset 1 of the channel's log at size 3" in out
    assert "in the log by" in out and "(the hub's checkpoint)" in out
    code, out, _ = run(capsys, path, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["verified"] is True and doc["size"] == 3
    assert [a["id"] for a in doc["alerts"]] == ["FR-S-1", "FR-N-1"]
    assert doc["alerts"][1]["headline"] == {"text": "briefing"}
    assert doc["alerts"][0]["in_log"]["fingerprint"] == doc["fingerprint"]


def test_pinned_ca(kit: Kit, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, kit.bundle([1]))
    ours = tmp_path / "ca.pem"
    ours.write_bytes(kit.ca.public_bytes(serialization.Encoding.PEM))
    assert run(capsys, path, "--ca", ours)[0] == 0
    other = tmp_path / "other.pem"
    other.write_bytes(Kit().ca.public_bytes(serialization.Encoding.PEM))
    code, _, err = run(capsys, path, "--ca", other)
    assert code == 6 and "UNVERIFIABLE" in err and "not the CA you trust" in err
    code, _, err = run(capsys, path, "--ca", tmp_path / "missing.pem")
    assert code == 2 and "cannot read the CA certificate" in err


def _recode(data: bytes, change: object) -> bytes:
    obj = msgpack.unpackb(data, raw=False)
    change(obj)  # type: ignore[operator]
    packed: bytes = msgpack.packb(obj, use_bin_type=True)
    return packed


def test_every_corrupt_variant_has_its_exit_code_and_a_clear_line(
        kit: Kit, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = kit.bundle([1, 3])
    items = kit.items([1, 3])
    swapped = [dataclasses.replace(items[0], alert=items[1].alert, sig=items[1].sig),
               dataclasses.replace(items[1], alert=items[0].alert, sig=items[0].sig)]
    forged = dataclasses.replace(kit.checkpoint(), sig=Ed25519PrivateKey.generate().sign(b"x"))
    cases: list[tuple[str, bytes, int, str]] = [
        ("truncated", good[:-40], 4, "UNREADABLE"),
        ("empty", b"", 4, "truncated"),
        ("wrong version", _recode(good, lambda o: o.update(v=9)), 4,
         "bundle version 9 is not supported"),
        ("not a bundle", b"PK\x03\x04 a zip", 4, "not a Cordon evidence bundle"),
        ("swapped alert bytes", kit.bundle([], items=swapped), 5, "TAMPERED"),
        ("forged checkpoint signature", kit.bundle([1], checkpoint=forged), 5,
         "checkpoint does not verify"),
        ("proof of another alert", kit.bundle([], items=[
            dataclasses.replace(items[0], proof=items[1].proof)]), 5, "inclusion proof"),
        ("expired CRL", kit.bundle([1], crl=kit.crl(last_update=kit.now - 9 * DAY,
                                                   next_update=kit.now - 2 * DAY)), 6,
         "CRL had expired"),
        ("restricted without permission", kit.bundle([2]), 7, "RESTRICTED"),
    ]
    for name, data, code, words in cases:
        got, out, err = run(capsys, write(tmp_path, data, name.replace(" ", "-")))
        assert (got, out) == (code, ""), (name, err)
        assert words in err and err.count("\n") == 1, (name, err)
    kit.revoke(kit.fr.cert, kit.now - 2 * DAY)  # type: ignore[attr-defined]
    got, _, err = run(capsys, write(tmp_path, kit.bundle([1]), "revoked"))
    assert got == 6 and "revoked (keyCompromise)" in err and "before the alert was signed" in err
    got, _, err = run(capsys, tmp_path / "nothing-here")
    assert got == 4 and "cannot read" in err
    assert set(EXIT_CODES.values()) == {4, 5, 6, 7}


def test_a_sender_revoked_after_signing_is_noted(kit: Kit, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    kit.revoke(kit.fr.cert, kit.now - timedelta(hours=3))  # type: ignore[attr-defined]
    code, out, _ = run(capsys, write(tmp_path, kit.bundle([1])))
    assert code == 0 and "NOTE: the sender's certificate was revoked on" in out


def test_a_permitted_alert_and_its_permission(kit: Kit, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    chief = kit.member("de", "chief")
    kit.publish(chief, "notice", notice("ok", permission="evidence", links=["DE-W-1"]),
                alert_id="DE-P-1")
    code, out, err = run(capsys, write(tmp_path, kit.bundle([2, 4])))
    assert code == 0, err
    assert "2. alert DE-P-1: notice, handling H0 — the sender's permission" in out
    assert "permitted: the sender's administration permitted its use as evidence in alert " \
           "DE-P-1" in out


def _received(kit: Kit, verified: bool = True) -> list[Received]:
    out = []
    for n, (alert, sig, _) in enumerate(kit.log, 1):
        out.append(Received(kit.channel, n, decode_envelope(alert), alert, sig,
                            verified=verified))
    return out


def test_export_selects_and_refuses_by_handling_code(kit: Kit) -> None:
    items = _received(kit)
    assert [r.offset for r in select(items, ["FR-N-1", "FR-S-1"])] == [1, 3]
    with pytest.raises(ExportRefused) as refused:
        select(items, ["DE-W-1"])
    assert refused.value.code == 7
    assert "cordon evidence permit stop-iii --ids DE-W-1" in str(refused.value)
    with pytest.raises(ExportRefused) as unknown:
        select(items, ["NOPE"])
    assert unknown.value.code == 4
    # another administration's "permission" does not count; the sender's does, and goes in
    kit.publish(kit.fr, "notice", notice("x", permission="evidence", links=["DE-W-1"]),  # type: ignore[attr-defined]
                alert_id="FR-P")
    with pytest.raises(ExportRefused):
        select(_received(kit), ["DE-W-1"])
    kit.publish(kit.de, "notice", notice("y", permission="evidence", links=["DE-W-1"]),  # type: ignore[attr-defined]
                alert_id="DE-P")
    assert [r.offset for r in select(_received(kit), ["DE-W-1"])] == [2, 5]
    with pytest.raises(ExportRefused) as bad:
        select(_received(kit, verified=False), ["FR-S-1"])
    assert bad.value.code == 5


def test_headlines() -> None:
    kit = Kit()
    fr = kit.member("fr", "ops")
    env = decode_envelope(kit.sign(fr, "withdrawal", {"schema": 1, "handling": "H0",
                                                      "ref": "A", "reason": "dup"},
                                   alert_id="W")[0])
    assert headline(env) == {"ref": "A", "reason": "dup"}


def test_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["export", "stop-iii"]) == 2  # --ids required
    assert "--ids" in capsys.readouterr().err
    assert main(["export", "stop-iii", "--ids", "bad id!", "--hub", "wss://h/", "--cert", "c",
                 "--key", "k", "--ca", "a"]) == 2
    assert "not an alert id" in capsys.readouterr().err
    assert main(["export", "--ids", "A"]) == 2
    assert main(["verify", "--help"]) == 0
    assert "Exit codes: 0 verified" in capsys.readouterr().out


def test_cordon_lists_the_command() -> None:
    from hub.cli import COMMANDS

    assert "evidence" in COMMANDS
