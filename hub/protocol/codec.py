"""Frames to bytes and back. Decoding raises only :class:`ProtocolError` subclasses.

Every frame is one msgpack map (one WebSocket binary message). Decoding checks
the size before unpacking, unpacks with length limits, refuses trailing bytes,
unknown frame types, unknown or missing fields and wrongly typed values.

One byte string, one meaning: a map key that is not a string, or that appears
twice in the same map, is refused at every level of the frame (401), as is an
ext value (a frame holds only nil, booleans, integers, floats, strings, binary,
arrays and maps). Such refusals still echo the frame's ``rid`` when it holds
exactly one ``rid`` key with an unsigned integer (PROTOCOL.md §6, §8).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import msgpack

from hub.protocol import frames as f
from hub.protocol.errors import (
    FrameTooLarge,
    InvalidFrame,
    MalformedFrame,
    ProtocolError,
    UnknownFrameType,
)
from hub.protocol.identity import check_channel
from hub.protocol.limits import (
    DIRECTORY_MAX_KEYS,
    MAX_ALERT_BYTES,
    MAX_ATTACHMENT_BYTES,
    MAX_CRL_BYTES,
    MAX_FRAME_BYTES,
    MAX_PUB_ITEMS,
    PROOF_MAX_HASHES,
    PROOF_MAX_OFFSETS,
)

__all__ = ["decode_client", "decode_server", "encode", "encode_acks", "encode_alert_items",
           "encode_alerts"]

_Validator = Callable[[object], Any]


class _Item(Protocol):
    """A stored alert as the hub holds it (``hub.storage.StoredAlert``, ``PageItem``)."""

    @property
    def off(self) -> int: ...
    @property
    def alert(self) -> bytes: ...
    @property
    def sig(self) -> bytes: ...

_MISSING = object()
#: msgpack's largest integer (uint 64): every unsigned field, ``rid`` included, takes it.
_MAX_UINT = 2**64 - 1
_MAX_TEXT = 4096
_PLAIN = (str, int, float, bool, bytes, type(None))


def _uint(value: object) -> int:
    if type(value) is not int or not 0 <= value <= _MAX_UINT:
        raise InvalidFrame("expected an unsigned integer")
    return value


def _int(value: object) -> int:
    if type(value) is not int:
        raise InvalidFrame("expected an integer")
    return value


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise InvalidFrame("expected a boolean")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise InvalidFrame("expected a string")
    return value


def _channel(value: object) -> str:
    return check_channel(value)


def _alert_bytes(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise InvalidFrame("expected binary")
    if len(value) > MAX_ALERT_BYTES:
        raise FrameTooLarge("alert too large")
    return value


def _attachment_bytes(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise InvalidFrame("expected binary")
    if len(value) > MAX_ATTACHMENT_BYTES:
        raise FrameTooLarge("attachment too large")
    return value


def _crl_bytes(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise InvalidFrame("expected binary")
    if len(value) > MAX_CRL_BYTES:
        raise FrameTooLarge("CRL too large")
    return value


def _media(value: object) -> str:
    if value not in ("image/jpeg", "image/png"):
        raise InvalidFrame("expected image/jpeg or image/png")
    return str(value)


def _digest(value: object) -> str:
    if not isinstance(value, str) or len(value) != 64 or value.strip("0123456789abcdef"):
        raise InvalidFrame("expected a hex SHA-256 digest")
    return value


def _optional(inner: _Validator) -> _Validator:
    def check(value: object) -> Any:
        return None if value is None else inner(value)

    return check


def _kid(value: object) -> str:
    if not isinstance(value, str) or len(value) != 64 or value.strip("0123456789abcdef"):
        raise InvalidFrame("expected a hex SHA-256 key id")
    return value


def _kids(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > DIRECTORY_MAX_KEYS:
        raise InvalidFrame("expected a list of key ids")
    return tuple(_kid(item) for item in value)


def _map(value: object) -> dict[str, Any]:
    # every map of a decoded frame has unique string keys (_frame_map)
    if not isinstance(value, dict):
        raise InvalidFrame("expected a map with string keys")
    return value


def _plain_map(value: object) -> dict[str, Any]:
    """A map of plain msgpack values at any depth (``adm`` args, ``admok`` result)."""
    checked = _map(value)
    todo: list[object] = [checked]
    while todo:  # iterative: nesting is bounded by msgpack's 1,024 levels, not recursion
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif not isinstance(item, _PLAIN):
            raise InvalidFrame("ext types are not allowed")
    return checked


def _int_map(value: object) -> dict[str, int]:
    checked = _map(value)
    for item in checked.values():
        _int(item)
    return checked


def _certs(value: object) -> dict[str, bytes]:
    checked = _map(value)
    for key, item in checked.items():
        _kid(key)
        _alert_bytes(item)
    return checked


def _items(value: object) -> tuple[f.PageItem, ...]:
    if not isinstance(value, list):
        raise InvalidFrame("expected a list of items")
    out = []
    for item in value:
        if not isinstance(item, list) or len(item) != 3:
            raise InvalidFrame("expected [off, alert, sig]")
        out.append(f.PageItem(_uint(item[0]), _alert_bytes(item[1]), _alert_bytes(item[2])))
    return tuple(out)


def _batch(value: object) -> tuple[f.PageItem, ...]:
    items = _items(value)
    if not items:
        raise InvalidFrame("expected at least one item")
    first = items[0].off
    for n, item in enumerate(items):
        if item.off != first + n:
            raise InvalidFrame("expected ascending, contiguous offsets")
    return items


def _signed_items(value: object) -> tuple[f.SignedItem, ...]:
    """``pubs`` items: 1 to MAX_PUB_ITEMS ``[alert, sig]`` pairs of binary (each alert's
    size is checked with the alert, so that it refuses that alert only)."""
    if not isinstance(value, list) or not value:
        raise InvalidFrame("expected a list of [alert, sig] items")
    if len(value) > MAX_PUB_ITEMS:
        raise FrameTooLarge(f"more than {MAX_PUB_ITEMS} items")
    out = []
    for item in value:
        if (not isinstance(item, list) or len(item) != 2 or type(item[0]) is not bytes
                or type(item[1]) is not bytes):
            raise InvalidFrame("expected [alert, sig] with two binary values")
        out.append(f.SignedItem(item[0], item[1]))
    return tuple(out)


_ACK_KEYS = frozenset(("off", "epoch", "dup"))
_ERR_KEYS = frozenset(("code", "msg", "detail"))


def _ack_items(value: object) -> tuple[f.ItemAck | f.ItemError, ...]:
    """``acks`` items: per alert, the fields of an ``ack`` or of an ``err``."""
    if not isinstance(value, list) or not value:
        raise InvalidFrame("expected a list of results")
    out: list[f.ItemAck | f.ItemError] = []
    for item in value:
        obj = _map(item)
        if obj.keys() == _ACK_KEYS:
            out.append(f.ItemAck(_uint(obj["off"]), _text(obj["epoch"]), _bool(obj["dup"])))
        elif obj.keys() <= _ERR_KEYS and obj.keys() >= {"code", "msg"}:
            out.append(f.ItemError(_uint(obj["code"]), _text(obj["msg"]),
                                   _text(obj.get("detail", ""))))
        else:
            raise InvalidFrame("expected the fields of an ack or of an err")
    return tuple(out)


def _chans(value: object) -> tuple[f.ChannelInfo, ...]:
    if not isinstance(value, list):
        raise InvalidFrame("expected a list of channels")
    return tuple(_decode_fields(f.ChannelInfo, _map(item)) for item in value)


def _offsets(value: object) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise InvalidFrame("expected a list of offsets")
    if len(value) > PROOF_MAX_OFFSETS:
        raise FrameTooLarge(f"at most {PROOF_MAX_OFFSETS} offsets per proof request")
    return tuple(_uint(item) for item in value)


def _hash(value: object) -> bytes:
    if type(value) is not bytes or len(value) != 32:
        raise InvalidFrame("expected a 32-byte hash")
    return value


def _hashes(value: object) -> tuple[bytes, ...]:
    if not isinstance(value, list) or len(value) > PROOF_MAX_HASHES:
        raise InvalidFrame("expected a list of hashes")
    return tuple(_hash(item) for item in value)


def _paths(value: object) -> tuple[f.ProofPath, ...]:
    if not isinstance(value, list) or len(value) > PROOF_MAX_OFFSETS:
        raise InvalidFrame("expected a list of inclusion proofs")
    out = []
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            raise InvalidFrame("expected [off, [hash, ...]]")
        out.append(f.ProofPath(_uint(item[0]), _hashes(item[1])))
    return tuple(out)


def _epoch(value: object) -> str:
    if not isinstance(value, str) or len(value) != 32 or value.strip("0123456789abcdef"):
        raise InvalidFrame("expected an epoch (32 hex characters)")
    return value


_T = TypeVar("_T")

_SPECS: dict[type[Any], dict[str, _Validator]] = {
    f.Publish: {"rid": _uint, "ch": _channel, "alert": _alert_bytes, "sig": _alert_bytes},
    f.PublishBatch: {"rid": _uint, "ch": _channel, "items": _signed_items},
    f.Subscribe: {
        "rid": _uint,
        "ch": _channel,
        "since": _optional(_uint),
        "epoch": _optional(_text),
    },
    f.Unsubscribe: {"rid": _uint, "ch": _channel},
    f.HistoryRequest: {
        "rid": _uint,
        "ch": _channel,
        "before": _optional(_uint),
        "limit": _uint,
    },
    f.DirectoryRequest: {"rid": _uint, "kids": _kids},
    f.ChannelsRequest: {"rid": _uint},
    f.AdminRequest: {"rid": _uint, "op": _text, "args": _plain_map},
    f.AttachmentUpload: {
        "rid": _uint,
        "ch": _channel,
        "media": _media,
        "data": _attachment_bytes,
        "sha256": _optional(_digest),
    },
    f.AttachmentRequest: {"rid": _uint, "ch": _channel, "sha256": _digest},
    f.CheckpointRequest: {"rid": _uint, "ch": _channel},
    f.ProofRequest: {
        "rid": _uint,
        "ch": _channel,
        "epoch": _epoch,
        "size": _uint,
        "offs": _offsets,
        "from": _optional(_uint),
    },
    f.CrlRequest: {"rid": _uint},
    f.CrlResult: {"rid": _uint, "crl": _crl_bytes, "number": _uint, "next": _uint},
    f.CheckpointResult: {
        "rid": _uint,
        "ch": _text,
        "cp": _alert_bytes,
        "sig": _alert_bytes,
        "kid": _kid,
        "prev_cp": _optional(_alert_bytes),
        "prev_sig": _optional(_alert_bytes),
        "prev_kid": _optional(_kid),
    },
    f.Proof: {
        "rid": _uint,
        "ch": _text,
        "epoch": _text,
        "size": _uint,
        "paths": _paths,
        "cons": _optional(_hashes),
    },
    f.AttachmentStored: {
        "rid": _uint,
        "ch": _text,
        "sha256": _digest,
        "size": _uint,
        "media": _media,
        "dup": _bool,
    },
    f.Attachment: {
        "rid": _uint,
        "ch": _text,
        "sha256": _digest,
        "media": _media,
        "data": _attachment_bytes,
    },
    f.Welcome: {
        "principal": _text,
        "member": _optional(_text),
        "admin": _bool,
        "server": _text,
        "time": _uint,
        "limits": _int_map,
    },
    f.Ack: {"rid": _uint, "ch": _text, "off": _uint, "epoch": _text, "dup": _bool},
    f.Acks: {"rid": _uint, "ch": _text, "items": _ack_items},
    f.Subscribed: {"rid": _uint, "ch": _text, "epoch": _text, "first": _uint, "head": _uint},
    f.AlertFrame: {"ch": _text, "off": _uint, "alert": _alert_bytes, "sig": _alert_bytes},
    f.AlertBatch: {"ch": _text, "items": _batch},
    f.Synced: {"ch": _text, "off": _uint},
    f.Unsubscribed: {"rid": _uint, "ch": _text},
    f.Ended: {"ch": _text, "code": _uint, "msg": _text},
    f.HistoryPage: {
        "rid": _uint,
        "ch": _text,
        "epoch": _text,
        "items": _items,
        "more": _bool,
    },
    f.Directory: {"rid": _uint, "certs": _certs},
    f.ChannelInfo: {
        "ch": _text,
        "title": _text,
        "role": _text,
        "state": _text,
        "head": _uint,
        "epoch": _text,
    },
    f.ChannelsResult: {"rid": _uint, "chans": _chans},
    f.AdminResult: {"rid": _uint, "result": _plain_map},
    f.ErrorFrame: {"rid": _optional(_uint), "code": _uint, "msg": _text, "detail": _text},
}

#: Wire names that are Python keywords: field name -> wire name.
_WIRE_NAMES: dict[type[Any], dict[str, str]] = {f.ProofRequest: {"from_size": "from"}}

_DEFAULTS: dict[type[Any], dict[str, Any]] = {
    cls: {
        _WIRE_NAMES.get(cls, {}).get(fld.name, fld.name): (
            fld.default
            if fld.default is not dataclasses.MISSING
            else fld.default_factory()
            if fld.default_factory is not dataclasses.MISSING
            else _MISSING
        )
        for fld in dataclasses.fields(cls)
    }
    for cls in _SPECS
}

_CLIENT: dict[str, type[Any]] = {
    cls.TYPE: cls
    for cls in (
        f.Publish,
        f.PublishBatch,
        f.Subscribe,
        f.Unsubscribe,
        f.HistoryRequest,
        f.DirectoryRequest,
        f.ChannelsRequest,
        f.AdminRequest,
        f.AttachmentUpload,
        f.AttachmentRequest,
        f.CheckpointRequest,
        f.ProofRequest,
        f.CrlRequest,
    )
}
_SERVER: dict[str, type[Any]] = {
    cls.TYPE: cls
    for cls in (
        f.Welcome,
        f.Ack,
        f.Acks,
        f.Subscribed,
        f.AlertFrame,
        f.AlertBatch,
        f.Synced,
        f.Unsubscribed,
        f.Ended,
        f.HistoryPage,
        f.Directory,
        f.ChannelsResult,
        f.AdminResult,
        f.AttachmentStored,
        f.Attachment,
        f.CheckpointResult,
        f.Proof,
        f.CrlResult,
        f.ErrorFrame,
    )
}


def _decode_fields(cls: type[_T], obj: dict[str, Any]) -> _T:
    spec = _SPECS[cls]
    unknown = obj.keys() - spec.keys()
    if unknown:
        raise InvalidFrame("unknown field: " + sorted(unknown)[0])
    values: dict[str, Any] = {}
    for name, check in spec.items():
        raw = obj.get(name, _MISSING)
        if raw is _MISSING:
            raw = _DEFAULTS[cls][name]
            if raw is _MISSING:
                raise InvalidFrame("missing field: " + name)
            values[name] = raw
            continue
        try:
            values[name] = check(raw)
        except InvalidFrame as exc:
            raise InvalidFrame(f"{name}: {exc.detail}") from exc
    for field_name, wire_name in _WIRE_NAMES.get(cls, {}).items():
        values[field_name] = values.pop(wire_name)
    return cls(**values)


class _KeyProblem(Exception):
    """A map of the frame has a repeated or non-string key (fast path; see _unpack)."""


def _unique_str_keys(pairs: list[tuple[Any, Any]]) -> dict[str, Any]:
    """msgpack's ``object_pairs_hook`` on the fast path, called for every map: its keys
    (str or bytes, by ``strict_map_key``) are strings, each once."""
    out = dict(pairs)
    if len(out) != len(pairs) or bytes in map(type, out):
        raise _KeyProblem
    return out


def _frame_map(refused: list[str], pairs: list[tuple[Any, Any]]) -> dict[str, Any]:
    """msgpack's ``object_pairs_hook`` on the slow path, after the fast one refused.

    A non-string or repeated key is noted in ``refused`` instead of raising, so the
    decoding goes on and the top-level ``rid`` can still be read; such keys (both
    copies of a repeated one) are left out of the map.
    """
    seen: dict[str, int] = {}
    for key, _ in pairs:
        if type(key) is str:
            seen[key] = seen.get(key, 0) + 1
        else:
            refused.append("map keys must be strings")
    if any(n > 1 for n in seen.values()):
        refused.append("duplicate map key")
    return {key: value for key, value in pairs if type(key) is str and seen[key] == 1}


def _unpack(data: bytes, refused: list[str]) -> object:
    """The frame's object. Keys are checked on a fast path (C decoding refuses keys
    that are neither str nor bytes); on any failure a second, lenient decoding tells a
    key problem (noted in ``refused``, the rest still decoded) from bytes that are not
    msgpack (MalformedFrame)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidFrame("frames are binary messages")
    if len(data) > MAX_FRAME_BYTES:
        raise FrameTooLarge()
    with contextlib.suppress(Exception):  # told apart just below
        return msgpack.unpackb(data, raw=False, strict_map_key=True,
                               object_pairs_hook=_unique_str_keys)
    try:
        return msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=False,
            object_pairs_hook=functools.partial(_frame_map, refused),
        )
    except Exception as exc:  # ExtraData, StackError, bad UTF-8, bad timestamp, ...
        raise MalformedFrame() from exc


def _decode(data: bytes, table: dict[str, type[Any]]) -> Any:
    refused: list[str] = []
    obj = _unpack(data, refused)
    if not isinstance(obj, dict):
        raise InvalidFrame("a frame is a map")
    try:
        if refused:
            raise InvalidFrame(refused[0])
        kind = obj.pop("t", None)
        if not isinstance(kind, str):
            raise InvalidFrame("missing frame type")
        cls = table.get(kind)
        if cls is None:
            raise UnknownFrameType(kind[:32])
        return _decode_fields(cls, obj)
    except ProtocolError as exc:
        rid = obj.get("rid")
        if type(rid) is int and 0 <= rid <= _MAX_UINT:
            exc.rid = rid  # so the refusal can answer the request it refuses
        raise


def decode_client(data: bytes) -> f.ClientFrame:
    """Decode a frame sent by a client (what the hub receives)."""
    frame: f.ClientFrame = _decode(data, _CLIENT)
    return frame


def decode_server(data: bytes) -> f.ServerFrame:
    """Decode a frame sent by the hub (what a client receives)."""
    frame: f.ServerFrame = _decode(data, _SERVER)
    return frame


#: How each item type goes on the wire (by exact type: one dict look-up per item).
_WIRE_ITEMS: dict[type[Any], Callable[[Any], Any]] = {
    f.PageItem: lambda v: [v.off, v.alert, v.sig],
    f.SignedItem: lambda v: [v.alert, v.sig],
    f.ItemAck: lambda v: {"off": v.off, "epoch": v.epoch, "dup": v.dup},
    f.ItemError: lambda v: {"code": v.code, "msg": v.msg, "detail": v.detail},
    f.ProofPath: lambda v: [v.off, list(v.path)],
    f.ChannelInfo: lambda v: {fld.name: getattr(v, fld.name) for fld in dataclasses.fields(v)},
}


def _wire(value: Any) -> Any:
    convert = _WIRE_ITEMS.get(type(value))
    if convert is not None:
        return convert(value)
    if isinstance(value, tuple):
        return [_wire(item) for item in value]
    return value


#: (field name, wire name) of each frame class, in order (dataclasses.fields() is slow
#: per call).
_NAMES: dict[type[Any], tuple[tuple[str, str], ...]] = {
    cls: tuple((fld.name, _WIRE_NAMES.get(cls, {}).get(fld.name, fld.name))
               for fld in dataclasses.fields(cls))
    for cls in _SPECS
}
#: Frames whose fields are all plain values (no tuples of items to convert; every item
#: type sits in a tuple field, and every frame's round trip is tested).
_FLAT = frozenset(cls for cls in _SPECS
                  if not any("tuple" in str(fld.type) for fld in dataclasses.fields(cls)))


def encode(frame: f.Frame) -> bytes:
    """Encode a frame to one binary message."""
    cls = type(frame)
    obj: dict[str, Any] = {"t": frame.TYPE}
    if cls in _FLAT:
        for name, wire in _NAMES[cls]:
            obj[wire] = getattr(frame, name)
    else:
        for name, wire in _NAMES[cls]:
            obj[wire] = _wire(getattr(frame, name))
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


def encode_alerts(ch: str, items: Sequence[_Item]) -> bytes:
    """``alert`` (one item) or ``alerts`` (several; consecutive offsets) for ``items``.

    The hub's delivery path: the same bytes as ``encode`` of the equivalent frame,
    without building the frame first (:func:`encode_alert_items` of their tuples).
    """
    return encode_alert_items(ch, [(i.off, i.alert, i.sig) for i in items])


def encode_alert_items(ch: str, items: Sequence[tuple[int, bytes, bytes]]) -> bytes:
    """:func:`encode_alerts` for items that are already ``(off, alert, sig)`` tuples (the
    history catch-up reads them so from the store): the same bytes, with no object and
    no list built per alert (msgpack writes a tuple as the array it is on the wire)."""
    if len(items) == 1:
        off, alert, sig = items[0]
        obj: dict[str, Any] = {"t": f.AlertFrame.TYPE, "ch": ch, "off": off,
                               "alert": alert, "sig": sig}
    else:
        obj = {"t": f.AlertBatch.TYPE, "ch": ch, "items": items}
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


def encode_acks(rid: int, ch: str,
                items: Sequence[tuple[int, str, bool] | f.ItemError]) -> bytes:
    """:func:`encode` of ``Acks(rid, ch, items)`` with each ack item given as its ``(off,
    epoch, dup)`` tuple instead of an :class:`~hub.protocol.frames.ItemAck` (the hub
    answers every published alert so): the same bytes, no object made per alert."""
    obj: dict[str, Any] = {"t": f.Acks.TYPE, "rid": rid, "ch": ch, "items": [
        {"off": item[0], "epoch": item[1], "dup": item[2]} if isinstance(item, tuple)
        else _wire(item) for item in items]}
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data
