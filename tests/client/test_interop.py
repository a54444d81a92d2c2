"""``cordon export --format stix|misp``: a channel's verified alerts as a STIX 2.1 bundle
(parsed by ``stix2``, strict: no custom content) and a MISP event (loaded by ``pymisp``'s
MISPEvent); handling H2/H3 left out unless asked for, and the export says how many."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from client.export import main as export_main
from client.sdk import Client
from hub.protocol.schema import example
from tests.client.common import CH
from tests.client.fakehub import FakeHub
from tests.pki import Pki

stix2 = pytest.importorskip("stix2")
pymisp = pytest.importorskip("pymisp")

ALERTS = [  # (id, kind, handling)
    ("FR-2023-W-0001", "warning", "H1"),
    ("FR-2023-S-0001", "seizure", "H0"),
    ("FR-2023-S-0002", "seizure", "H2"),
    ("DE-FB-1", "feedback", "H1"),
    ("FR-N-1", "notice", "H0"),
    ("FR-A-1", "amendment", "H0"),
    ("FR-X-1", "withdrawal", "H3"),
]


@pytest.fixture
async def hub(pki: Pki) -> AsyncIterator[FakeHub]:
    async with FakeHub(pki) as fake:
        fake.add_channel(CH)
        fr = Client(fake.url, cert=(ops := pki.member("fr", "ops")).cert, key=ops.key, ca=pki.ca)
        de_leaf = pki.member("de", "zoll")
        fake.register(de_leaf)  # its certificate in the hub's directory
        de = Client(fake.url, cert=de_leaf.cert, key=de_leaf.key, ca=pki.ca)
        for alert_id, kind, handling in ALERTS:
            signer = de if kind == "feedback" else fr
            extra = {"handling_text": "only for the operation's partners"} if handling == "H3" \
                else {}
            body = example(kind, handling=handling, **extra)
            signed = signer.sign(CH, kind, body, alert_id=alert_id)
            fake.append(CH, signed.alert, signed.sig)
        fake.leaf = ops  # type: ignore[attr-defined]
        yield fake


async def export(hub: FakeHub, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                 *extra: str) -> tuple[Any, str]:
    out = tmp_path / "out.json"
    leaf = hub.leaf  # type: ignore[attr-defined]
    argv = [CH, "--hub", hub.url, "--cert", str(leaf.cert), "--key", str(leaf.key), "--ca",
            str(pki.ca), "--output", str(out), *extra]
    capsys.readouterr()
    assert await asyncio.to_thread(export_main, argv) == 0
    return out.read_text(encoding="utf-8"), capsys.readouterr().err


async def test_stix_bundle_parses_strictly_and_leaves_out_restricted(
    hub: FakeHub, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, err = await export(hub, pki, tmp_path, capsys, "--format", "stix")
    bundle = stix2.parse(text, allow_custom=False)  # the STIX 2.1 parser, no custom content
    by_type: dict[str, list[Any]] = {}
    for obj in bundle.objects:
        by_type.setdefault(obj.type, []).append(obj)
    assert len(by_type["indicator"]) == 1 and len(by_type["sighting"]) == 1
    assert len(by_type["incident"]) == 1 and len(by_type["observed-data"]) == 1
    assert len(by_type["note"]) == 2  # notice, amendment (the H3 withdrawal is left out)
    assert {o.name for o in by_type["identity"]} == {"fr", "de"}
    indicator, sighting = by_type["indicator"][0], by_type["sighting"][0]
    assert sighting.sighting_of_ref == indicator.id  # feedback on the warning
    assert indicator.object_marking_refs == [stix2.TLP_AMBER.id]
    assert by_type["incident"][0].object_marking_refs == [stix2.TLP_GREEN.id]
    ids = [ref.external_id for o in bundle.objects if o.type != "identity"
           and o.type != "location" for ref in o.external_references]
    assert "FR-2023-S-0002" not in ids and "FR-X-1" not in ids
    assert "5 alerts exported; left out: 2 with handling H2/H3" in err
    assert "--include-restricted" in err

    text, err = await export(hub, pki, tmp_path, capsys, "--format", "stix",
                             "--include-restricted")
    bundle = stix2.parse(text, allow_custom=False)
    markings = {m for o in bundle.objects for m in getattr(o, "object_marking_refs", [])}
    assert stix2.TLP_RED.id in markings
    assert "7 alerts exported" in err and "left out" not in err
    again, _ = await export(hub, pki, tmp_path, capsys, "--format", "stix",
                            "--include-restricted")
    assert json.loads(again) == json.loads(text)  # stable ids: a re-export names the same


async def test_misp_event_loads_in_pymisp(
    hub: FakeHub, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, err = await export(hub, pki, tmp_path, capsys, "--format", "misp")
    event = pymisp.MISPEvent()
    event.load(text)
    assert event.info == f"Cordon channel {CH}: 5 verified alerts"
    assert len(event.objects) == 5
    assert {o.name for o in event.objects} == {"cordon-warning", "cordon-seizure",
                                               "cordon-feedback", "cordon-notice",
                                               "cordon-amendment"}
    tags = {t.name for o in event.objects for a in o.attributes for t in a.tags}
    assert {"tlp:green", "tlp:amber"} <= tags and "tlp:red" not in tags
    assert "left out: 2 with handling H2/H3" in err


async def test_unverified_alerts_are_never_exported(
    hub: FakeHub, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ops = hub.leaf  # type: ignore[attr-defined]
    signed = Client(hub.url, cert=ops.cert, key=ops.key, ca=pki.ca).sign(
        CH, "notice", example("notice"), alert_id="FR-N-FORGED")
    hub.append(CH, signed.alert, bytes(64))  # a forged signature
    text, err = await export(hub, pki, tmp_path, capsys, "--format", "stix")
    assert "FR-N-FORGED" not in text
    assert "1 whose signature did not verify" in err


async def test_tail_as_a_continuous_stix_and_misp_feed(
    hub: FakeHub, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from client.cli import tail_main

    leaf = hub.leaf  # type: ignore[attr-defined]
    base = [CH, "--hub", hub.url, "--cert", str(leaf.cert), "--key", str(leaf.key), "--ca",
            str(pki.ca), "--since", "0", "--limit", str(len(ALERTS))]
    capsys.readouterr()
    assert await asyncio.to_thread(tail_main, [*base, "--format", "stix"]) == 0
    out, err = capsys.readouterr()
    bundles = [stix2.parse(line, allow_custom=False) for line in out.splitlines()]
    assert len(bundles) == 5
    assert "offset 3 left out: handling H2/H3" in err and "offset 7 left out" in err
    assert await asyncio.to_thread(tail_main, [*base, "--format", "misp",
                                               "--include-restricted"]) == 0
    out, err = capsys.readouterr()
    events = []
    for line in out.splitlines():
        event = pymisp.MISPEvent()
        event.load(line)
        events.append(event)
    assert len(events) == 7 and "left out" not in err
    assert await asyncio.to_thread(tail_main, [*base, "--format", "stix", "--no-verify"]) == 2
