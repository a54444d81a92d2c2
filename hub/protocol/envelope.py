"""The signed alert: its envelope, exactly which bytes are signed, and verification.

A sender encodes an :class:`Envelope` to msgpack bytes (``alert``) and signs
``SIGN_CONTEXT + alert`` with the Ed25519 key of its own certificate. The hub
and every recipient verify those exact bytes; nobody re-encodes them. The
envelope binds the alert id, channel, sender, signing certificate and time, so
an alert cannot be replayed into another channel or as another sender.

Signed bytes have exactly one meaning and each alert exactly one encoding: the
envelope must be in the canonical form of PROTOCOL.md §4 (every map key a
string, each map's keys in ascending order and so unique, every integer,
string, binary, array and map header in its shortest form, floats as float 64,
no ext types). :func:`decode_envelope` checks it by re-encoding what it decoded
and comparing bytes; :func:`encode_envelope` writes it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgpack
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from hub.protocol import ed25519
from hub.protocol.errors import BadSignature, InvalidAlert, InvalidFrame
from hub.protocol.identity import (
    AlertId,
    ChannelName,
    PrincipalId,
    check_alert_id,
    check_channel,
    split_principal,
)
from hub.protocol.limits import MAX_ALERT_BYTES

__all__ = [
    "ENVELOPE_VERSION",
    "HASH_BYTES",
    "KINDS",
    "MAX_SEQ",
    "SIGNATURE_BYTES",
    "SIGN_CONTEXT",
    "Envelope",
    "alert_hash",
    "decode_envelope",
    "encode_envelope",
    "key_id",
    "sign_alert",
    "verify_alert",
]

ENVELOPE_VERSION = 1
#: Prefix signed before the envelope bytes (domain separation).
SIGN_CONTEXT = b"cordon-alert-v1\x00"
SIGNATURE_BYTES = ed25519.SIGNATURE_BYTES
KINDS = frozenset({"warning", "feedback", "seizure", "notice", "amendment", "withdrawal"})
_KEYS = ("v", "id", "ch", "from", "kid", "ts", "kind", "body")
#: The two sender-chain keys (§4): both present, or neither (an unchained alert).
_CHAIN_KEYS = ("seq", "prev")
_PLAIN = frozenset(_KEYS)
_CHAINED = frozenset((*_KEYS, *_CHAIN_KEYS))
_MAX_TS = 2**53
#: The largest chain sequence number (msgpack uint 64 would do; 2^53 keeps JSON exact).
MAX_SEQ = 2**53
HASH_BYTES = 32


def alert_hash(alert: bytes) -> bytes:
    """The hash that chains and logs an alert: SHA-256 of its exact bytes (32 bytes)."""
    return hashlib.sha256(alert).digest()


def key_id(cert_der: bytes) -> str:
    """The key id of a certificate: hex SHA-256 of its DER encoding."""
    return hashlib.sha256(cert_der).hexdigest()


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the sender signs. ``body`` is the kind's record (see PROTOCOL.md)."""

    id: AlertId
    channel: ChannelName
    sender: PrincipalId
    kid: str
    ts: int
    kind: str
    body: Mapping[str, Any] = field(default_factory=dict)
    v: int = ENVELOPE_VERSION
    #: The sender's chain in this channel (§4): ``seq`` counts the sender's alerts in
    #: the channel from 1; ``prev`` is :func:`alert_hash` of its previous one (32 zero
    #: bytes for seq 1). Both ``None``: an unchained alert (no such keys).
    seq: int | None = None
    prev: bytes | None = None

    @property
    def chained(self) -> bool:
        return self.seq is not None


def _sorted_pairs(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    return dict(sorted(pairs, key=lambda pair: pair[0]))


def encode_envelope(env: Envelope) -> bytes:
    """Encode an envelope to the bytes that are signed and sent, in canonical form (§4).

    msgpack writes shortest forms and float 64; the round trip through the decoder
    sorts every map's keys at every depth without Python recursion. Raises
    ``TypeError`` for a body msgpack cannot encode or whose keys cannot be sorted (a
    mix of types), ``ValueError`` for one nested deeper than ``MAX_NESTING``.
    """
    obj = {
        "v": env.v,
        "id": env.id,
        "ch": env.channel,
        "from": env.sender,
        "kid": env.kid,
        "ts": env.ts,
        "kind": env.kind,
        "body": dict(env.body),
    }
    if env.seq is not None or env.prev is not None:
        if env.seq is None or env.prev is None:
            raise ValueError("seq and prev go together")
        obj["seq"] = env.seq
        obj["prev"] = bytes(env.prev)
    unsorted: bytes = msgpack.packb(obj, use_bin_type=True)
    ordered = msgpack.unpackb(unsorted, raw=False, strict_map_key=False,
                              object_pairs_hook=_sorted_pairs)
    data: bytes = msgpack.packb(ordered, use_bin_type=True)
    return data


class _NotCanonical(Exception):
    """Raised from inside msgpack's hooks: the alert breaks a rule of the canonical form."""


def _ordered(obj: dict[Any, Any]) -> dict[Any, Any]:
    """msgpack's ``object_hook`` on the fast path: a map's keys are strings in ascending
    order. (A repeated key leaves the map shorter than its bytes said: the re-encoding
    comparison catches it; ``strict_map_key`` stops keys other than str and bytes, and a
    sort of str with bytes fails.)"""
    keys = [*obj]
    if keys != sorted(keys) or (keys and type(keys[0]) is not str):
        raise _NotCanonical
    return obj


def _sorted_map(pairs: list[tuple[Any, Any]]) -> dict[str, Any]:
    """msgpack's ``object_pairs_hook`` when explaining a refusal: the first rule a map
    breaks (a string key, once, in ascending order; no ext value)."""
    prev = ""
    for n, (key, value) in enumerate(pairs):
        if type(key) is not str:
            raise _NotCanonical("map keys must be strings")
        if n and key <= prev:  # str order is code point order, i.e. UTF-8 byte order
            keys = [k for k, _ in pairs]
            if len(set(keys)) != len(keys):
                raise _NotCanonical("duplicate map key")
            raise _NotCanonical("map keys must be in ascending order")
        _no_timestamp(value)
        prev = key
    return dict(pairs)


def _no_timestamps(items: list[Any]) -> list[Any]:
    for item in items:
        _no_timestamp(item)
    return items


def _no_timestamp(value: object) -> None:
    if isinstance(value, msgpack.Timestamp):  # ext -1: decoded without asking ext_hook
        raise _NotCanonical("ext types are not allowed")


def _no_ext(code: int, data: bytes) -> object:
    raise _NotCanonical("ext types are not allowed")


def _why_not_canonical(data: bytes) -> str:
    """The detail of a refusal: decode again, slowly, naming the first rule broken."""
    try:
        _no_timestamp(msgpack.unpackb(data, raw=False, strict_map_key=False,
                                      ext_hook=_no_ext, object_pairs_hook=_sorted_map,
                                      list_hook=_no_timestamps))
    except _NotCanonical as exc:
        return f"alert is not canonical msgpack: {exc}"
    except Exception:  # ExtraData, StackError, bad UTF-8, bad timestamp, ...
        return "alert is not msgpack"
    return "alert is not canonical msgpack: shortest forms, float 64 only"


@functools.lru_cache(maxsize=1024)
def _checked_kid(value: str) -> bool:
    """Whether a kid is 64 lower-case hex digits, remembered for the last 1,024 seen (a
    hub sees a few: one per signing certificate)."""
    return len(value) == 64 and not value.strip("0123456789abcdef")


@functools.lru_cache(maxsize=1024)
def _checked_channel(value: str) -> ChannelName:
    return check_channel(value)


@functools.lru_cache(maxsize=1024)
def _checked_sender(value: str) -> PrincipalId:
    member, name = split_principal(value)
    return PrincipalId(f"{member}/{name}")


def _channel(value: object) -> ChannelName:
    """check_channel, remembering the last 1,024 valid names (a hub sees a few)."""
    return _checked_channel(value) if type(value) is str else check_channel(value)


def _sender(value: object) -> PrincipalId:
    """The principal id ``from`` names (split_principal), remembering valid ones."""
    if type(value) is not str:
        raise InvalidFrame("invalid principal id")  # as split_principal says
    return _checked_sender(value)


#: One Packer for every re-encoding (msgpack.packb makes one per call: 0.77 against 0.48
#: us per 1 KiB notice). Safe to share between threads: its pack runs no Python code (the
#: decoded object holds only dict, list, str, bytes, int, float, bool and None) and so
#: holds the GIL throughout, and it empties its buffer when it returns or raises.
_repack = msgpack.Packer(use_bin_type=True).pack


def decode_envelope(data: bytes) -> Envelope:
    """Decode and check envelope bytes; raise :class:`InvalidAlert` if they are not one.

    First the canonical form (PROTOCOL.md §4): decode, checking each map's key order,
    re-encode and compare bytes; then the envelope's keys, types and names.
    """
    if len(data) > MAX_ALERT_BYTES:
        raise InvalidAlert("alert too large")
    try:
        obj = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            object_hook=_ordered,
            ext_hook=_no_ext,
            timestamp=1,  # an ext timestamp becomes a float, never re-encoded the same
        )
        canonical = _repack(obj) == data
    except Exception:  # not canonical, or not msgpack at all: _why_not_canonical says
        canonical = False
    if not canonical:
        raise InvalidAlert(_why_not_canonical(data))
    if not isinstance(obj, dict) or obj.keys() not in (_PLAIN, _CHAINED):
        raise InvalidAlert("alert envelope must have exactly: " + ", ".join(_KEYS)
                           + " (and both or neither of seq, prev)")
    seq, prev = obj.get("seq"), obj.get("prev")
    if "seq" in obj and (type(seq) is not int or not 1 <= seq <= MAX_SEQ):
        raise InvalidAlert("seq must be an integer from 1")
    if "prev" in obj and (type(prev) is not bytes or len(prev) != HASH_BYTES
                          or (seq == 1) != (prev == bytes(HASH_BYTES))):
        raise InvalidAlert("prev must be the 32-byte hash of the sender's previous alert"
                           " (32 zero bytes exactly when seq is 1)")
    v, ts, kind, kid, body = obj["v"], obj["ts"], obj["kind"], obj["kid"], obj["body"]
    if v != ENVELOPE_VERSION or type(v) is not int:
        raise InvalidAlert("unsupported envelope version")
    if type(ts) is not int or not 0 <= ts < _MAX_TS:
        raise InvalidAlert("ts must be milliseconds since the epoch")
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidAlert("unknown alert kind")
    if type(kid) is not str or not _checked_kid(kid):
        raise InvalidAlert("kid must be a hex SHA-256 fingerprint")
    if not isinstance(body, dict):
        raise InvalidAlert("body must be a map")
    try:
        alert_id = check_alert_id(obj["id"])
        channel = _channel(obj["ch"])
        sender = _sender(obj["from"])
    except InvalidFrame as exc:
        raise InvalidAlert(exc.detail) from exc
    env = _new_envelope(Envelope)
    _set_id(env, alert_id)
    _set_channel(env, channel)
    _set_sender(env, sender)
    _set_kid(env, kid)
    _set_ts(env, ts)
    _set_kind(env, kind)
    _set_body(env, body)
    _set_v(env, ENVELOPE_VERSION)
    _set_seq(env, seq)
    _set_prev(env, prev)
    return env


# decode_envelope builds its Envelope through the slots' own setters: the frozen
# dataclass's __init__ sets each field with object.__setattr__ (1.0 against 0.4 µs). The
# same object; a field added to Envelope must be set here too (tests compare the two).
_new_envelope = object.__new__
_SET_FIELDS = ("id", "channel", "sender", "kid", "ts", "kind", "body", "v", "seq", "prev")
_set_id, _set_channel, _set_sender, _set_kid, _set_ts, _set_kind, _set_body, _set_v, \
    _set_seq, _set_prev = (getattr(Envelope, name).__set__ for name in _SET_FIELDS)


def sign_alert(key: Ed25519PrivateKey, alert: bytes) -> bytes:
    """Sign alert bytes with the sender's key."""
    return key.sign(SIGN_CONTEXT + alert)


def verify_alert(key: Ed25519PublicKey | bytes, alert: bytes, sig: bytes) -> None:
    """Raise :class:`BadSignature` unless ``sig`` signs ``alert`` under ``key``.

    ``key`` is the signer's public key, or its 32 raw bytes. Verification is
    libsodium's (:func:`hub.protocol.ed25519.verify`, as for checkpoints and enrolment
    requests): 39 µs per 1 KiB alert here
    against OpenSSL's 62 µs (bench/README.md), and strict — it also refuses a
    non-canonical ``S``, and a public key or ``R`` of small order, which
    OpenSSL's check lets through (PROTOCOL.md §4).
    """
    if len(sig) != SIGNATURE_BYTES:
        raise BadSignature("signature must be 64 bytes")
    raw = key if isinstance(key, bytes) else key.public_bytes_raw()
    if not ed25519.verify(raw, SIGN_CONTEXT + alert, sig):
        raise BadSignature()
