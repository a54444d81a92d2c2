"""Attachments on a real hub: upload before the alert, fetch by hash, content checks, access."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from client.sdk import Client, ProtocolViolation
from hub.protocol import frames as f
from hub.protocol.errors import (
    AccessDenied,
    ChannelClosed,
    Conflict,
    FrameTooLarge,
    InvalidFrame,
    NoSuchChannel,
    NotFound,
    SchemaError,
)
from hub.protocol.limits import MAX_ATTACHMENT_BYTES
from hub.protocol.schema import example
from tests.harness import HubHarness
from tests.images import GIF, JPEG, chunk, png
from tests.pki import Leaf

CH = "stop-iii"


@pytest.fixture
async def leaves(hub: HubHarness) -> dict[str, Leaf]:
    out = {m: await hub.member(m, "ops") for m in ("fr", "de", "it", "es")}
    await hub.channel(CH, {"fr": "contributor", "de": "coordinator", "it": "reader"})
    await hub.channel("pangea", {"es": "contributor"})
    return out


async def test_upload_jpeg_and_png_then_reference_and_fetch(
    hub: HubHarness, leaves: dict[str, Leaf]
) -> None:
    photo = png(64, 48)
    async with hub.client(leaves["fr"]) as fr, hub.client(leaves["it"]) as it:
        ref_jpeg = await fr.put_attachment(CH, JPEG)
        ref_png = await fr.put_attachment(CH, photo, media="image/png")
        assert ref_jpeg == {
            "sha256": hashlib.sha256(JPEG).hexdigest(), "size": len(JPEG), "media": "image/jpeg"
        }  # fmt: skip
        assert ref_png["media"] == "image/png" and ref_png["size"] == len(photo)
        assert await fr.put_attachment(CH, JPEG) == ref_jpeg  # idempotent
        body = example("seizure", attachments=[{**ref_jpeg, "caption": "goods"}, ref_png])
        ack = await fr.publish(CH, "seizure", body)
        assert ack.offset == 1
        # any reader of the channel fetches by hash
        assert await it.get_attachment(CH, ref_jpeg["sha256"]) == ("image/jpeg", JPEG)
        assert await it.get_attachment(CH, ref_png["sha256"]) == ("image/png", photo)
        with pytest.raises(NotFound):
            await it.get_attachment(CH, "0" * 64)
    admin = await hub.admin_leaf()
    async with hub.client(admin) as adm:
        assert await adm.get_attachment(CH, ref_png["sha256"]) == ("image/png", photo)


async def test_non_members_cannot_fetch_or_upload(hub: HubHarness, leaves: dict[str, Leaf]) -> None:
    async with hub.client(leaves["fr"]) as fr, hub.client(leaves["es"]) as es:
        ref = await fr.put_attachment(CH, JPEG)
        with pytest.raises(NoSuchChannel):  # same answer as for a channel that does not exist
            await es.get_attachment(CH, ref["sha256"])
        with pytest.raises(NoSuchChannel):
            await es.put_attachment(CH, JPEG)
        # attachments are per channel: the same bytes in another channel are another upload
        with pytest.raises(NotFound):
            await es.get_attachment("pangea", ref["sha256"])


async def test_readers_cannot_upload_and_closed_channels_refuse(
    hub: HubHarness, leaves: dict[str, Leaf]
) -> None:
    async with hub.client(leaves["it"]) as it:
        with pytest.raises(AccessDenied):
            await it.put_attachment(CH, JPEG)
    await hub.store.set_channel_state(CH, "closed")
    await hub.hub.access.channel_meta(CH, fresh=True)  # type: ignore[union-attr]
    async with hub.client(leaves["fr"]) as fr:
        with pytest.raises(ChannelClosed):
            await fr.put_attachment(CH, JPEG)


async def test_type_is_checked_by_content_not_by_declared_media(
    hub: HubHarness, leaves: dict[str, Leaf]
) -> None:
    async with hub.client(leaves["fr"]) as fr:
        conn = await fr._connection()

        async def put(**fields: Any) -> f.ServerFrame:
            frame = f.AttachmentUpload(**{"rid": 1, "ch": CH, "media": "image/png", **fields})
            return await conn.request(frame, answer_within=5)

        for data, media in [(JPEG, "image/png"), (png(), "image/jpeg"), (GIF, "image/png"),
                            (b"MZ\x90\x00 a renamed executable", "image/jpeg")]:  # fmt: skip
            answer = await put(data=data, media=media)
            assert isinstance(answer, f.ErrorFrame) and answer.code == InvalidFrame.code, media
        # the hash the sender expects must be the hash of the bytes it sent
        answer = await put(data=png(), sha256="0" * 64)
        assert isinstance(answer, f.ErrorFrame) and answer.code == InvalidFrame.code
        assert "sha256" in answer.detail
        ok = await put(data=png(), sha256=hashlib.sha256(png()).hexdigest())
        assert isinstance(ok, f.AttachmentStored) and not ok.dup
        # the SDK refuses the same things before sending
        with pytest.raises(InvalidFrame):
            await fr.put_attachment(CH, GIF)
        with pytest.raises(InvalidFrame):
            await fr.put_attachment(CH, JPEG, media="image/png")


async def test_oversize_is_refused(hub: HubHarness, leaves: dict[str, Leaf]) -> None:
    big = png(4, 4)
    big = big[:-12] + chunk(b"tEXt", b"c\0" + b"x" * MAX_ATTACHMENT_BYTES) + big[-12:]
    async with hub.client(leaves["fr"]) as fr:
        with pytest.raises(FrameTooLarge):
            await fr.put_attachment(CH, big)
        conn = await fr._connection()
        frame = f.AttachmentUpload(rid=9, ch=CH, media="image/png", data=big)
        answer = await conn.request(frame, answer_within=5)
        assert isinstance(answer, f.ErrorFrame) and answer.code == FrameTooLarge.code
        assert (await fr.put_attachment(CH, png(4, 4)))["size"] == len(png(4, 4))


async def test_alerts_must_reference_uploaded_attachments(
    hub: HubHarness, leaves: dict[str, Leaf]
) -> None:
    async with hub.client(leaves["fr"]) as fr:
        ref = await fr.put_attachment(CH, JPEG)
        missing = {"sha256": "1" * 64, "size": 10, "media": "image/png"}
        wrong = {**ref, "size": ref["size"] + 1}
        with pytest.raises(SchemaError) as caught:
            await fr.publish(CH, "seizure", example("seizure", attachments=[missing, wrong]))
        assert SchemaError.parse(caught.value.detail) == [
            ("/attachments/0/sha256", "no such attachment in the channel (upload it first)"),
            ("/attachments/1", "size or media type differs from the uploaded attachment"),
        ]
        relabelled = {**ref, "media": "image/png"}
        with pytest.raises(SchemaError):
            await fr.publish(CH, "warning", example("warning", attachments=[relabelled]))


async def test_channel_attachment_limit(hub: HubHarness, leaves: dict[str, Leaf],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hub.session.MAX_ATTACHMENTS_PER_CHANNEL", 2)
    async with hub.client(leaves["fr"]) as fr:
        await fr.put_attachment(CH, png(1, 1))
        await fr.put_attachment(CH, png(2, 1))
        await fr.put_attachment(CH, png(1, 1))  # already there: not counted twice
        with pytest.raises(Conflict):
            await fr.put_attachment(CH, png(3, 1))


async def test_store_level_attachment_api(hub: HubHarness, leaves: dict[str, Leaf]) -> None:
    store = hub.store
    assert await store.attachment("Bad Name", "0" * 64) is None
    assert await store.attachment_info("Bad Name", "0" * 64) is None
    assert await store.alert_offset("Bad Name", "x") is None
    with pytest.raises(NoSuchChannel):
        await store.put_attachment("nochannel", "0" * 64, "image/png", b"x", max_count=5)
    with pytest.raises(NoSuchChannel):
        await store.put_attachment("Bad Name", "0" * 64, "image/png", b"x", max_count=5)
    assert await store.put_attachment(CH, "0" * 64, "image/png", b"x", max_count=5)
    assert await store.attachment_info(CH, "0" * 64) == ("image/png", 1)
    # deleting the channel deletes its attachments; a re-created channel starts empty
    await store.delete_channel(CH)
    await store.create_channel(CH)
    assert await store.attachment(CH, "0" * 64) is None


async def test_client_detects_corrupted_attachment_bytes(
    hub: HubHarness, leaves: dict[str, Leaf], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with hub.client(leaves["fr"]) as fr:
        ref = await fr.put_attachment(CH, JPEG)
        original = hub.store.attachment

        async def tampered(channel: str, sha256: str) -> tuple[str, bytes] | None:
            found = await original(channel, sha256)
            return None if found is None else (found[0], found[1] + b"!")

        monkeypatch.setattr(hub.store, "attachment", tampered)
        with pytest.raises(ProtocolViolation):
            await fr.get_attachment(CH, ref["sha256"])


def test_client_type_annotation_smoke() -> None:
    assert callable(Client.put_attachment) and callable(Client.get_attachment)
