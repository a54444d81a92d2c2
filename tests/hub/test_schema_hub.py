"""The hub validates bodies before storing: the schema, then each reference rule."""

from __future__ import annotations

import time
from typing import Any

import pytest

from client.sdk import Client, SignedAlert
from hub.protocol.errors import InvalidAlert, SchemaError
from hub.protocol.schema import example
from tests.bodies import feedback, note, seizure
from tests.harness import HubHarness
from tests.pki import Leaf

CH = "stop-iii"


@pytest.fixture
async def leaves(hub: HubHarness) -> dict[str, Leaf]:
    out = {m: await hub.member(m, "ops") for m in ("fr", "de", "nl")}
    await hub.channel(CH, {"fr": "contributor", "de": "contributor", "nl": "coordinator"})
    await hub.channel("pangea", {"fr": "contributor"})
    return out


def unchecked(client: Client, kind: str, body: Any, monkeypatch: pytest.MonkeyPatch,
              **kw: Any) -> SignedAlert:
    """Sign without the SDK's own schema check (what a broken or hostile client sends)."""
    with monkeypatch.context() as m:
        m.setattr("hub.protocol.schema.validate", lambda kind, body: None)
        return client.sign(CH, kind, body, **kw)


async def test_hub_refuses_invalid_bodies_naming_each_field(
    hub: HubHarness, leaves: dict[str, Leaf], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with hub.client(leaves["fr"]) as fr:
        bad = example("seizure", country="XX", goods=[], surname="Doe")
        signed = unchecked(fr, "seizure", bad, monkeypatch)
        with pytest.raises(SchemaError) as caught:
            await fr.publish_signed(CH, signed.alert, signed.sig)
        assert set(caught.value.problems) == {
            ("/surname", "unknown field"),
            ("/country", "must be an ISO 3166-1 alpha-2 country code (upper case)"),
            ("/goods", "must have 1 to 100 items"),
        }
        for kind, body in [("notice", {}), ("warning", {"text": "free-form"}),
                           ("seizure", {"schema": 2})]:  # fmt: skip
            signed = unchecked(fr, kind, body, monkeypatch)
            with pytest.raises(InvalidAlert):
                await fr.publish_signed(CH, signed.alert, signed.sig)
        # the SDK refuses the same before signing
        with pytest.raises(SchemaError):
            fr.sign(CH, "seizure", bad)
        assert (await hub.store.channel(CH)).head == 0
        assert (await fr.publish(CH, "seizure", seizure())).offset == 1


async def test_feedback_must_reference_an_alert_of_the_same_channel(
    hub: HubHarness, leaves: dict[str, Leaf]
) -> None:
    async with hub.client(leaves["fr"]) as fr, hub.client(leaves["de"]) as de:
        warning = await fr.publish(CH, "warning", example("warning"), alert_id="FR-W-1")
        other = await fr.publish("pangea", "notice", note("elsewhere"), alert_id="FR-P-1")
        assert other.offset == 1
        with pytest.raises(SchemaError) as caught:
            await de.publish(CH, "feedback", feedback("FR-W-404"))
        assert caught.value.problems == (("/ref", "no alert with this id in the channel"),)
        with pytest.raises(SchemaError):
            await de.publish(CH, "feedback", feedback("FR-P-1"))  # another channel's alert
        ack = await de.publish(CH, "feedback", feedback(warning.alert_id))
        assert ack.offset == 2


async def test_links_must_resolve(hub: HubHarness, leaves: dict[str, Leaf]) -> None:
    async with hub.client(leaves["fr"]) as fr:
        await fr.publish(CH, "warning", example("warning"), alert_id="W-1")
        with pytest.raises(SchemaError) as caught:
            await fr.publish(CH, "seizure", seizure(links=["W-1", "W-2"]))
        assert caught.value.problems == (("/links/1", "no alert with this id in the channel"),)
        assert (await fr.publish(CH, "seizure", seizure(links=["W-1"]))).offset == 2


async def test_amendments_and_withdrawals(hub: HubHarness, leaves: dict[str, Leaf]) -> None:
    async with hub.client(leaves["fr"]) as fr, hub.client(leaves["de"]) as de:
        await fr.publish(CH, "seizure", seizure(), alert_id="FR-S-1")
        await fr.publish(CH, "notice", note(), alert_id="FR-N-1")

        def amend(ref: str, of: str = "seizure", **changes: Any) -> dict[str, Any]:
            return example("amendment", ref=ref, of=of, record=example(of, **changes))

        # only the sending administration corrects its alert
        with pytest.raises(SchemaError) as caught:
            await de.publish(CH, "amendment", amend("FR-S-1"))
        assert caught.value.problems == (
            ("/ref", "only the administration that sent an alert may amend or withdraw it"),
        )
        with pytest.raises(SchemaError):
            await de.publish(CH, "withdrawal", example("withdrawal", ref="FR-S-1"))
        # the record is of the referenced alert's kind
        with pytest.raises(SchemaError) as caught:
            await fr.publish(CH, "amendment", amend("FR-N-1"))
        assert caught.value.problems == (("/of", "the referenced alert is a notice"),)
        # and the record itself is checked, with paths under /record
        with pytest.raises(SchemaError) as caught:
            await fr.publish(CH, "amendment", amend("FR-S-1", country="XX"))
        assert caught.value.problems[0][0] == "/record/country"
        ok = await fr.publish(CH, "amendment", amend("FR-S-1", remarks="recounted"),
                              alert_id="FR-A-1")  # fmt: skip
        assert ok.offset == 3
        # an amendment or withdrawal is final: amend the original again instead
        with pytest.raises(SchemaError) as caught:
            await fr.publish(CH, "withdrawal", example("withdrawal", ref="FR-A-1"))
        assert caught.value.problems == (
            ("/ref", "an amendment cannot be amended or withdrawn"),
        )
        await fr.publish(CH, "withdrawal", example("withdrawal", ref="FR-S-1"), alert_id="FR-X-1")
        with pytest.raises(SchemaError):
            await fr.publish(CH, "withdrawal", example("withdrawal", ref="FR-X-1"))
        # a feedback may name an amended alert too
        assert (await de.publish(CH, "feedback", feedback("FR-S-1"))).offset == 5


async def test_references_to_trimmed_alerts_still_resolve(
    hub: HubHarness, leaves: dict[str, Leaf]
) -> None:
    from hub import admin

    await admin.create_channel(hub.store, "short", retention_ms=1)
    await admin.grant(hub.store, "short", "fr", "contributor")
    await admin.grant(hub.store, "short", "de", "contributor")
    async with hub.client(leaves["fr"]) as fr, hub.client(leaves["de"]) as de:
        await fr.publish("short", "seizure", seizure(), alert_id="OLD-1")
        assert await hub.store.trim("short", now_ms=int(time.time() * 1000) + 60_000) == 1
        assert await hub.store.alert_offset("short", "OLD-1") == 1
        withdrawal = example("withdrawal", ref="OLD-1")
        ack = await de.publish("short", "feedback", feedback("OLD-1"))
        assert ack.offset == 2
        # past retention the hub can only tell that the id exists
        assert (await de.publish("short", "withdrawal", withdrawal)).offset == 3


async def test_a_broken_stored_target_is_reported(
    hub: HubHarness, leaves: dict[str, Leaf]
) -> None:
    from hub.storage import AppendRequest

    await hub.store.append_batch([AppendRequest(
        channel=CH, alert_id="JUNK-1", alert=b"\xc1", sig=b"\0" * 64, kid="0" * 64,
        received=int(time.time() * 1000))])  # fmt: skip
    async with hub.client(leaves["fr"]) as fr:
        with pytest.raises(SchemaError) as caught:
            await fr.publish(CH, "withdrawal", example("withdrawal", ref="JUNK-1"))
        assert caught.value.problems == (("/ref", "the referenced alert cannot be read"),)
