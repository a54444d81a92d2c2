"""Attachments (photos): what the hub accepts, judged by content, never by name.

An attachment is uploaded to a channel before the alert that references it
(``put`` frame), stored under its SHA-256, and referenced in the signed alert by
``sha256``, ``size`` and ``media``. :func:`image_type` tells the media type from
the bytes (magic number *and* basic structure) or raises :class:`InvalidFrame`.

- JPEG: starts with SOI (``FF D8``), well-formed marker segments up to the first
  SOS, a frame header (SOFn) with a non-zero width before it, ends with EOI
  (``FF D9``).
- PNG: the 8-byte signature, an ``IHDR`` chunk first (13 bytes, non-zero width
  and height, a valid colour type), every chunk's CRC correct, at least one
  ``IDAT``, ``IEND`` last with nothing after it.
"""

from __future__ import annotations

import hashlib
import zlib

from hub.protocol.errors import FrameTooLarge, InvalidFrame
from hub.protocol.limits import MAX_ATTACHMENT_BYTES

__all__ = ["JPEG", "PNG", "check_attachment", "digest", "image_type"]

JPEG = "image/jpeg"
PNG = "image/png"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOUR_TYPES = (0, 2, 3, 4, 6)
# SOFn markers (frame headers): C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length: TEM and RST0-7.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def digest(data: bytes) -> str:
    """The attachment's id: lower-case hex SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def _jpeg(data: bytes) -> None:
    if not data.endswith(b"\xff\xd9"):
        raise InvalidFrame("JPEG does not end with EOI")
    i, n, frame = 2, len(data), False
    while True:
        if i + 2 > n or data[i] != 0xFF:
            raise InvalidFrame("JPEG marker segments are malformed")
        while i + 1 < n and data[i + 1] == 0xFF:  # fill bytes
            i += 1
        marker = data[i + 1]
        i += 2
        if marker in _STANDALONE:
            continue
        if marker == 0xD9:  # (the EOI check above keeps 2 length bytes in range here)
            raise InvalidFrame("JPEG ends before its image data")
        length = int.from_bytes(data[i : i + 2], "big")
        if length < 2 or i + length > n:
            raise InvalidFrame("JPEG segment length is out of bounds")
        if marker in _SOF:
            if length < 8 or int.from_bytes(data[i + 5 : i + 7], "big") == 0:
                raise InvalidFrame("JPEG frame header is malformed")
            frame = True
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            if not frame:
                raise InvalidFrame("JPEG has no frame header before its image data")
            return
        i += length


def _png(data: bytes) -> None:
    i, n, first, idat = len(_PNG_SIGNATURE), len(data), True, False
    while True:
        if i + 12 > n:
            raise InvalidFrame("PNG is truncated")
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        end = i + 8 + length
        if end + 4 > n or not kind.isalpha():
            raise InvalidFrame("PNG chunk is malformed")
        body = data[i + 8 : end]
        if zlib.crc32(kind + body) != int.from_bytes(data[end : end + 4], "big"):
            raise InvalidFrame("PNG chunk CRC is wrong")
        if first:
            if (
                kind != b"IHDR"
                or length != 13
                or body[0:4] == b"\0\0\0\0"
                or body[4:8] == b"\0\0\0\0"
                or body[9] not in _PNG_COLOUR_TYPES
            ):
                raise InvalidFrame("PNG header (IHDR) is malformed")
            first = False
        idat = idat or kind == b"IDAT"
        i = end + 4
        if kind == b"IEND":
            if i != n or not idat:
                raise InvalidFrame("PNG has no image data or bytes after IEND")
            return


def image_type(data: bytes) -> str:
    """The media type of a JPEG or PNG image, judged by its bytes; InvalidFrame otherwise."""
    if data.startswith(b"\xff\xd8\xff"):
        _jpeg(data)
        return JPEG
    if data.startswith(_PNG_SIGNATURE):
        _png(data)
        return PNG
    raise InvalidFrame("attachment is not a JPEG or PNG image")


def check_attachment(data: bytes, media: str, sha256: str | None = None) -> str:
    """Check an upload: size, declared ``media`` equal to the content's type, and the
    digest the sender expects (if given). Returns the digest."""
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise FrameTooLarge(f"attachment over {MAX_ATTACHMENT_BYTES} bytes")
    if not data:
        raise InvalidFrame("attachment is empty")
    if image_type(data) != media:
        raise InvalidFrame(f"attachment content is not {media}")
    actual = digest(data)
    if sha256 is not None and sha256 != actual:
        raise InvalidFrame("sha256 does not match the attachment's bytes")
    return actual
