"""The desk and the hub-signed log, on a real hub: the selected channel's checkpoint is
shown verified with its fingerprint; a hub that shows the officer a history other than
the one it signed (your copy differs), and one that signs two histories (equivocation),
each get their banner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.protocol.checkpoint import Checkpoint, encode_checkpoint, sign_checkpoint
from hub.protocol.errors import CordonError
from hub.protocol.identity import ChannelName
from hub.protocol.merkle import leaf_hash, root
from tests.desktop import samples
from tests.desktop.conftest import CH, FAST, DeskFactory, open_window
from tests.harness import HubHarness
from tests.pki import Leaf

LOG = f"cordon:{{ch:{CH}}}:log"
CKPT = f"cordon:{{ch:{CH}}}:ckpt"


async def signed_size(hub: HubHarness, n: int) -> None:
    """Wait until the hub has signed a checkpoint of the channel covering ``n`` alerts."""
    assert hub.hub is not None
    async with hub.client(await hub.member("it", "probe"), **FAST) as probe:
        for _ in range(100):
            try:
                if (await probe.checkpoint(CH)).checkpoint.size >= n:
                    return
            except CordonError:  # none signed yet
                pass
            await hub.hub.translog.sign_due()
    raise AssertionError(f"no checkpoint of {n} alerts")


async def test_the_verified_log_is_shown_with_its_fingerprint(
        hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any) -> None:
    async with hub.client(members["de"], **FAST) as de:
        for n in (1, 2, 3):
            await de.publish(CH, "seizure", samples.seizure(n))
    await signed_size(hub, 3)
    window = await open_window(hub, desk(members["fr"]), qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 3)
    row = await window.bridge.check_log(CH)
    assert row is not None and row.state == "verified", row
    assert row.size == 3 and row.compared == 3
    text = window.integrity.checkpoint.text()
    assert "3 alerts" in text and row.fingerprint in text and "your copy agrees" in text
    assert not any(b.isVisible() for b in window.integrity.banners.values())
    help_dialog = window.show_states_help()
    assert "equivocation" in help_dialog.browser.toPlainText()


async def test_a_history_other_than_the_signed_one_is_flagged(
        hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any,
        raw: Any) -> None:
    """The store swaps two senders' alerts after the hub signed the log (each sender's chain
    stays intact, every signature verifies): the desk's copy is not the signed log."""
    async with hub.client(members["de"], **FAST) as de, \
            hub.client(members["fr"], **FAST) as fr:
        await de.publish(CH, "seizure", samples.seizure(1))
        await fr.publish(CH, "seizure", samples.seizure(2))
        await de.publish(CH, "seizure", samples.seizure(3))
    await signed_size(hub, 3)
    entries = await raw.xrange(LOG)
    await raw.delete(LOG)
    for n, (_, fields) in enumerate([entries[1], entries[0], entries[2]], 1):
        await raw.xadd(LOG, fields, id=f"0-{n}")
    window = await open_window(hub, desk(members["it"]), qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 3)
    assert not window.integrity.banners["gap"].isVisible()  # the chains do not show it
    row = await window.bridge.check_log(CH)
    assert row is not None and row.state == "mismatch", row
    banner = window.integrity.banners["mismatch"]
    assert banner.isVisible() and "not the log it signed" in banner.text()


async def test_equivocation_is_flagged(hub: HubHarness, members: dict[str, Leaf],
                                       desk: DeskFactory, qtbot: Any, raw: Any,
                                       tmp_path: Path) -> None:
    """After the desk verified the log at size 2, the hub (holding its log key) signs
    another root for the same size."""
    async with hub.client(members["de"], **FAST) as de:
        for n in (1, 2):
            await de.publish(CH, "seizure", samples.seizure(n))
    await signed_size(hub, 2)
    window = await open_window(hub, desk(members["fr"]), qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 2)
    first = await window.bridge.check_log(CH)
    assert first is not None and first.state == "verified" and first.size == 2
    honest = window.bridge.client.checkpoints[CH]
    key = serialization.load_pem_private_key(
        (hub.pki.dir / "out" / "log.key").read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    cp = honest.checkpoint
    other = Checkpoint(ChannelName(CH), cp.epoch, 2, root([leaf_hash(b"a"), leaf_hash(b"b")]),
                       cp.time + 1)
    data = encode_checkpoint(other)
    await raw.hset(CKPT, mapping={"epoch": cp.epoch, "size": 2, "cp": data,
                                  "sig": sign_checkpoint(key, data), "kid": honest.kid})
    row = await window.bridge.check_log(CH)
    assert row is not None and row.state == "inconsistent", row
    banner = window.integrity.banners["inconsistent"]
    assert banner.isVisible() and "two different histories" in banner.text()
    assert "Log inconsistent" in window.integrity.checkpoint.text()


async def test_permit_as_evidence_from_the_desk(
        hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any,
        monkeypatch: Any) -> None:
    """Our administration's restricted record: the desk publishes the permission notice
    that `cordon evidence export` needs (after asking). Others' and H0 records: no."""
    from PySide6.QtWidgets import QMessageBox

    from hub.protocol.envelope import decode_envelope
    from hub.protocol.evidence import permits

    async with hub.client(members["fr"], **FAST) as fr, \
            hub.client(members["de"], **FAST) as de:
        await fr.publish(CH, "notice", {"schema": 1, "handling": "H2", "text": "restricted"},
                         alert_id="FR-H2")
        await fr.publish(CH, "notice", {"schema": 1, "handling": "H0", "text": "open"},
                         alert_id="FR-H0")
        await de.publish(CH, "notice", {"schema": 1, "handling": "H2", "text": "theirs"},
                         alert_id="DE-H2")
    window = await open_window(hub, desk(members["fr"]), qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 3)
    for offset, allowed in ((2, False), (3, False), (1, True)):
        window.select_offset(offset)
        assert window.permit_action.isEnabled() is allowed, offset
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.No)
    assert window.permit_selected() is None
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *_a, **_k: QMessageBox.StandardButton.Yes)
    assert window.permit_selected() is not None
    await hub.wait_for(lambda: window.proxy.rowCount() == 4, timeout=10)
    async with hub.client(members["de"], **FAST) as de:
        page = await de.history(CH, limit=10)
    restricted = decode_envelope(page.items[0].alert)
    permission = page.items[-1].envelope
    assert permission is not None and permission.sender == "fr/ops"
    assert permission.body["permission"] == "evidence" and permission.body["links"] == ["FR-H2"]
    assert permits(permission, restricted)


async def test_the_signed_log_keeps_up_with_live_alerts(
        hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any) -> None:
    """An empty channel's log is signed at size 0; live alerts make the desk check it again
    within seconds (not after the 30 s re-check), so the line shown keeps up with the feed."""
    bridge = desk(members["fr"])
    window = await open_window(hub, bridge, qtbot)
    await hub.wait_for(lambda: CH in bridge.checkpoints, timeout=10)
    assert bridge.checkpoints[CH].state == "verified" and bridge.checkpoints[CH].size == 0
    async with hub.client(members["de"], **FAST) as de:
        await de.publish(CH, "seizure", samples.seizure(1))
        await de.publish(CH, "seizure", samples.seizure(2))
    await hub.wait_for(lambda: bridge.checkpoints[CH].size == 2
                       and bridge.checkpoints[CH].compared == 2, timeout=15)
    assert "2 alerts" in window.integrity.checkpoint.text()
    assert "your copy agrees" in window.integrity.checkpoint.text()


async def test_export_evidence_from_the_desk(
        hub: HubHarness, members: dict[str, Leaf], desk: DeskFactory, qtbot: Any,
        tmp_path: Path) -> None:
    """The selected alert to one evidence file that verifies offline; a restricted alert of
    another administration is refused, nothing written."""
    from hub.protocol.evidence import verify_bundle

    async with hub.client(members["de"], **FAST) as de:
        await de.publish(CH, "seizure", {**samples.seizure(1), "handling": "H0"},
                         alert_id="DE-S-1")
        await de.publish(CH, "notice", {"schema": 1, "handling": "H2", "text": "restricted"},
                         alert_id="DE-H2")
    await signed_size(hub, 2)
    bridge = desk(members["fr"])
    done: list[tuple[str, str]] = []
    bridge.evidenceExported.connect(lambda _t, path, msg: done.append((path, msg)))
    window = await open_window(hub, bridge, qtbot)
    await hub.wait_for(lambda: window.proxy.rowCount() == 2)
    window.select_offset(1)
    assert window.evidence_action.isEnabled()
    out = tmp_path / "de-s-1.cordon-evidence"
    window.export_evidence(["DE-S-1"], hub.pki.crl, out)
    await hub.wait_for(lambda: bool(done), timeout=15)
    assert done[0][0] == str(out), done
    report = verify_bundle(out.read_bytes())
    assert [a.envelope.id for a in report.alerts] == ["DE-S-1"]
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert "Evidence written to" in window.statusBar().currentMessage()
    refused = tmp_path / "de-h2.cordon-evidence"
    window.export_evidence(["DE-H2"], hub.pki.crl, refused)
    await hub.wait_for(lambda: len(done) == 2, timeout=15)
    assert done[1][0] == "" and "handling H2" in done[1][1] and not refused.exists()
    assert "Evidence not exported" in window.statusBar().currentMessage()
    window.export_evidence(["DE-S-1"], tmp_path / "no-crl.pem", out)
    await hub.wait_for(lambda: len(done) == 3, timeout=15)
    assert done[2][0] == "" and "cannot read the CRL" in done[2][1]
    # What the officer's button does: no CRL file; the hub's CRL, checked against the CA.
    from_hub = tmp_path / "from-hub.cordon-evidence"
    window.export_evidence(["DE-S-1"], None, from_hub)
    await hub.wait_for(lambda: len(done) == 4, timeout=15)
    assert done[3][0] == str(from_hub), done
    report = verify_bundle(from_hub.read_bytes())
    assert [a.envelope.id for a in report.alerts] == ["DE-S-1"]
    assert report.crl_number is not None
