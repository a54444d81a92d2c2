"""A msgpack writer that can say what ordinary encoders will not: repeated or unsorted
keys, non-string keys, longer-than-shortest headers, float 32, ext values.

A *node* is a plain Python value (written the canonical way, as msgpack-python's
``packb(use_bin_type=True)`` writes it) or one of the wrappers below. ``nodes(obj)``
turns a decoded object into nodes that write back to the same bytes; tests then
change one node and write the attack.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import msgpack

__all__ = ["F32", "Arr", "Bin", "Ext", "Int", "Pairs", "Str", "int_formats", "nodes", "write"]


@dataclass
class Pairs:
    """A map written pair by pair, in this order (keys may repeat); ``width`` 0 is the
    shortest header, 16 or 32 a map 16 / map 32 header whatever the size."""

    items: list[tuple[Any, Any]] = field(default_factory=list)
    width: int = 0


@dataclass
class Arr:
    items: list[Any] = field(default_factory=list)
    width: int = 0


@dataclass
class Int:
    """An integer in the named msgpack format: ``u8``…``u64``, ``i8``…``i64``."""

    value: int
    fmt: str


@dataclass
class Str:
    """A string with a str 8 / 16 / 32 header (``width``) whatever its length."""

    value: str
    width: int


@dataclass
class Bin:
    """Bytes written as ``bin`` (e.g. a string re-typed as binary)."""

    value: bytes


@dataclass
class F32:
    value: float


@dataclass
class Ext:
    code: int
    data: bytes


_INT_FORMATS = {
    "u8": (0xCC, ">B"), "u16": (0xCD, ">H"), "u32": (0xCE, ">I"), "u64": (0xCF, ">Q"),
    "i8": (0xD0, ">b"), "i16": (0xD1, ">h"), "i32": (0xD2, ">i"), "i64": (0xD3, ">q"),
}
_INT_RANGES = {
    "u8": (0, 2**8 - 1), "u16": (0, 2**16 - 1), "u32": (0, 2**32 - 1), "u64": (0, 2**64 - 1),
    "i8": (-(2**7), 2**7 - 1), "i16": (-(2**15), 2**15 - 1), "i32": (-(2**31), 2**31 - 1),
    "i64": (-(2**63), 2**63 - 1),
}


def int_formats(value: int) -> list[str]:
    """Every fixed-width format that can hold ``value``."""
    return [name for name, (lo, hi) in _INT_RANGES.items() if lo <= value <= hi]


def _header(n: int, width: int, fix: int, fix_max: int, codes: tuple[int, int]) -> bytes:
    if width == 0 and n <= fix_max:
        return bytes([fix | n])
    if width in (0, 16) and n < 2**16:
        return bytes([codes[0]]) + struct.pack(">H", n)
    return bytes([codes[1]]) + struct.pack(">I", n)


def write(node: Any) -> bytes:
    """The bytes of ``node`` (see the module docstring)."""
    if isinstance(node, Pairs):
        out = _header(len(node.items), node.width, 0x80, 15, (0xDE, 0xDF))
        return out + b"".join(write(k) + write(v) for k, v in node.items)
    if isinstance(node, Arr):
        out = _header(len(node.items), node.width, 0x90, 15, (0xDC, 0xDD))
        return out + b"".join(write(item) for item in node.items)
    if isinstance(node, Int):
        code, fmt = _INT_FORMATS[node.fmt]
        return bytes([code]) + struct.pack(fmt, node.value)
    if isinstance(node, Str):
        raw = node.value.encode()
        code, fmt = {8: (0xD9, ">B"), 16: (0xDA, ">H"), 32: (0xDB, ">I")}[node.width]
        return bytes([code]) + struct.pack(fmt, len(raw)) + raw
    if isinstance(node, Bin):
        return bytes(msgpack.packb(node.value, use_bin_type=True))
    if isinstance(node, F32):
        return b"\xca" + struct.pack(">f", node.value)
    if isinstance(node, Ext):
        fixed = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}.get(len(node.data))
        head = bytes([fixed]) if fixed else b"\xc7" + struct.pack(">B", len(node.data))
        return head + struct.pack(">b", node.code) + node.data
    return bytes(msgpack.packb(node, use_bin_type=True))


def nodes(obj: Any) -> Any:
    """Nodes for a decoded msgpack object (maps keep their order)."""
    if isinstance(obj, dict):
        return Pairs([(k, nodes(v)) for k, v in obj.items()])
    if isinstance(obj, list):
        return Arr([nodes(item) for item in obj])
    return obj
