"""hub.protocol.attachments (type by content, never by name) and the attachment frames."""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import Any

import pytest

from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.attachments import JPEG, PNG, check_attachment, digest, image_type
from hub.protocol.errors import FrameTooLarge, InvalidFrame
from hub.protocol.limits import MAX_ATTACHMENT_BYTES
from tests.images import GIF, chunk, png
from tests.images import JPEG as JPEG_BYTES

SIG = b"\x89PNG\r\n\x1a\n"


def test_real_images_are_recognised() -> None:
    assert image_type(JPEG_BYTES) == JPEG
    assert image_type(png()) == PNG
    assert image_type(png(1, 1)) == PNG


def test_check_attachment_returns_the_digest() -> None:
    data = png(8, 8)
    assert check_attachment(data, PNG) == hashlib.sha256(data).hexdigest() == digest(data)
    assert check_attachment(data, PNG, digest(data)) == digest(data)


@pytest.mark.parametrize(
    ("data", "media", "match"),
    [
        (JPEG_BYTES, PNG, "not image/png"),  # declared type differs from the content
        (png(), JPEG, "not image/jpeg"),
        (GIF, PNG, "not a JPEG or PNG"),
        (b"", PNG, "empty"),
        (b"%PDF-1.7 renamed to photo.jpg", JPEG, "not a JPEG or PNG"),
    ],
)
def test_type_is_judged_by_content(data: bytes, media: str, match: str) -> None:
    with pytest.raises(InvalidFrame, match=match):
        check_attachment(data, media)


def test_oversize_and_hash_mismatch() -> None:
    with pytest.raises(FrameTooLarge):
        check_attachment(b"\xff\xd8\xff" + b"\0" * MAX_ATTACHMENT_BYTES, JPEG)
    with pytest.raises(InvalidFrame, match="sha256 does not match"):
        check_attachment(png(), PNG, "0" * 64)


# --- JPEG structure ---------------------------------------------------------------------------


def seg(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


SOF = seg(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00")  # 8-bit, 1x1, one component
SOS = seg(0xDA, b"\x01\x01\x00\x00\x3f\x00")


def jpeg(*segments: bytes, scan: bytes = b"\x12\x34", end: bytes = b"\xff\xd9") -> bytes:
    return b"\xff\xd8" + b"".join(segments) + scan + end


def test_minimal_jpeg_structures() -> None:
    assert image_type(jpeg(seg(0xE0, b"JFIF\0"), SOF, SOS)) == JPEG
    assert image_type(jpeg(b"\xff\xff" + SOF, SOS)) == JPEG  # fill bytes before a marker
    assert image_type(jpeg(b"\xff\x01" + SOF, SOS)) == JPEG  # standalone TEM marker


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (jpeg(SOF, SOS, end=b""), "does not end with EOI"),
        (jpeg(SOS), "no frame header"),
        (jpeg(seg(0xC0, b"\x08\x00\x01\x00\x00\x01\x01\x11\x00"), SOS), "frame header"),
        (jpeg(seg(0xC0, b"\x08\x00"), SOS), "frame header"),
        (b"\xff\xd8" + b"\xff\xe0\x00\x01" + b"\xff\xd9", "length is out of bounds"),
        (b"\xff\xd8" + b"\xff\xe0\x40\x00" + b"\xff\xd9", "length is out of bounds"),
        (b"\xff\xd8\xff\xd9", "ends before its image data"),
        (b"\xff\xd8" + SOF + b"\x00\x00\xff\xd9", "malformed"),
        (b"\xff\xd8\xff\xe0\xff\xd9", "length is out of bounds"),
    ],
)
def test_broken_jpegs(data: bytes, match: str) -> None:
    with pytest.raises(InvalidFrame, match=match):
        image_type(data)


# --- PNG structure ----------------------------------------------------------------------------


IHDR = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
IDAT = chunk(b"IDAT", zlib.compress(b"\0\0\0\0"))
IEND = chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (SIG + IHDR, "truncated"),
        (SIG + IHDR[:-1] + b"\0" + IDAT + IEND, "CRC"),
        (SIG + IDAT + IHDR + IEND, "IHDR"),
        (SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 1, 8, 2, 0, 0, 0)) + IDAT + IEND, "IHDR"),
        (SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 0, 8, 2, 0, 0, 0)) + IDAT + IEND, "IHDR"),
        (SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 5, 0, 0, 0)) + IDAT + IEND, "IHDR"),
        (SIG + chunk(b"IHDR", b"\0" * 12) + IDAT + IEND, "IHDR"),
        (SIG + IHDR + IEND, "no image data"),
        (SIG + IHDR + IDAT + IEND + b"trailing", "after IEND"),
        (SIG + IHDR + b"\x00\x00\x00\x01\x00\x00\x00\x00" + b"\0" * 8, "malformed"),
        (SIG + IHDR + struct.pack(">I", 10**6) + b"IDAT" + b"\0" * 8, "malformed"),
    ],
)
def test_broken_pngs(data: bytes, match: str) -> None:
    with pytest.raises(InvalidFrame, match=match):
        image_type(data)


def test_png_with_ancillary_chunks() -> None:
    text = chunk(b"tEXt", b"Comment\0seized goods")
    assert image_type(SIG + IHDR + text + IDAT + IDAT + IEND) == PNG


# --- frames -----------------------------------------------------------------------------------

DIGEST = "ab" * 32


@pytest.mark.parametrize(
    "frame",
    [
        f.AttachmentUpload(rid=1, ch="stop-iii", media="image/png", data=b"x", sha256=DIGEST),
        f.AttachmentUpload(rid=2, ch="stop-iii", media="image/jpeg", data=b"y"),
        f.AttachmentRequest(rid=3, ch="stop-iii", sha256=DIGEST),
    ],
)
def test_client_attachment_frames_round_trip(frame: f.ClientFrame) -> None:
    assert codec.decode_client(codec.encode(frame)) == frame


@pytest.mark.parametrize(
    "frame",
    [
        f.AttachmentStored(rid=1, ch="stop-iii", sha256=DIGEST, size=5, media="image/png",
                           dup=False),
        f.Attachment(rid=3, ch="stop-iii", sha256=DIGEST, media="image/jpeg", data=b"z"),
    ],
)  # fmt: skip
def test_server_attachment_frames_round_trip(frame: f.ServerFrame) -> None:
    assert codec.decode_server(codec.encode(frame)) == frame


def test_attachment_frames_are_checked() -> None:
    good = {"rid": 1, "ch": "stop-iii", "media": "image/png", "data": b"x"}
    cases: list[tuple[dict[str, Any], type[Exception]]] = [
        ({"media": "image/gif"}, InvalidFrame),
        ({"media": 5}, InvalidFrame),
        ({"data": "text"}, InvalidFrame),
        ({"data": b"x" * (MAX_ATTACHMENT_BYTES + 1)}, FrameTooLarge),
        ({"sha256": "AB" * 32}, InvalidFrame),
        ({"sha256": 7}, InvalidFrame),
    ]
    for bad, error in cases:
        fields: dict[str, Any] = {**good, **bad}
        frame = f.AttachmentUpload(**fields)
        with pytest.raises(error):
            codec.decode_client(codec.encode(frame))
    with pytest.raises(InvalidFrame):
        codec.decode_client(codec.encode(f.AttachmentRequest(rid=1, ch="x", sha256="short")))
