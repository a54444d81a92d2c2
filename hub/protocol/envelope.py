"""The signed alert: its envelope, exactly which bytes are signed, and verification.

A sender encodes an :class:`Envelope` to msgpack bytes (``alert``) and signs
``SIGN_CONTEXT + alert`` with the Ed25519 key of its own certificate. The hub
and every recipient verify those exact bytes; nobody re-encodes them. The
envelope binds the alert id, channel, sender, signing certificate and time, so
an alert cannot be replayed into another channel or as another sender.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgpack
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

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
    "KINDS",
    "SIGNATURE_BYTES",
    "SIGN_CONTEXT",
    "Envelope",
    "decode_envelope",
    "encode_envelope",
    "key_id",
    "sign_alert",
    "verify_alert",
]

ENVELOPE_VERSION = 1
#: Prefix signed before the envelope bytes (domain separation).
SIGN_CONTEXT = b"cordon-alert-v1\x00"
SIGNATURE_BYTES = 64
KINDS = frozenset({"warning", "feedback", "seizure", "notice", "amendment", "withdrawal"})
_KEYS = ("v", "id", "ch", "from", "kid", "ts", "kind", "body")
_MAX_TS = 2**53


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


def encode_envelope(env: Envelope) -> bytes:
    """Encode an envelope to the bytes that are signed and sent."""
    data: bytes = msgpack.packb(
        {
            "v": env.v,
            "id": env.id,
            "ch": env.channel,
            "from": env.sender,
            "kid": env.kid,
            "ts": env.ts,
            "kind": env.kind,
            "body": dict(env.body),
        },
        use_bin_type=True,
    )
    return data


def decode_envelope(data: bytes) -> Envelope:
    """Decode and check envelope bytes; raise :class:`InvalidAlert` if they are not one."""
    if len(data) > MAX_ALERT_BYTES:
        raise InvalidAlert("alert too large")
    try:
        obj = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
        )
    except (ValueError, TypeError, msgpack.UnpackException) as exc:  # incl. ExtraData
        raise InvalidAlert("alert is not msgpack") from exc
    if not isinstance(obj, dict) or set(obj) != set(_KEYS):
        raise InvalidAlert("alert envelope must have exactly: " + ", ".join(_KEYS))
    v, ts, kind, kid, body = obj["v"], obj["ts"], obj["kind"], obj["kid"], obj["body"]
    if v != ENVELOPE_VERSION or type(v) is not int:
        raise InvalidAlert("unsupported envelope version")
    if type(ts) is not int or not 0 <= ts < _MAX_TS:
        raise InvalidAlert("ts must be milliseconds since the epoch")
    if kind not in KINDS:
        raise InvalidAlert("unknown alert kind")
    if not isinstance(kid, str) or len(kid) != 64 or kid.strip("0123456789abcdef"):
        raise InvalidAlert("kid must be a hex SHA-256 fingerprint")
    if not isinstance(body, dict):
        raise InvalidAlert("body must be a map")
    try:
        alert_id = check_alert_id(obj["id"])
        channel = check_channel(obj["ch"])
        member, name = split_principal(obj["from"])
    except InvalidFrame as exc:
        raise InvalidAlert(exc.detail) from exc
    return Envelope(
        id=alert_id,
        channel=channel,
        sender=PrincipalId(f"{member}/{name}"),
        kid=kid,
        ts=ts,
        kind=kind,
        body=body,
    )


def sign_alert(key: Ed25519PrivateKey, alert: bytes) -> bytes:
    """Sign alert bytes with the sender's key."""
    return key.sign(SIGN_CONTEXT + alert)


def verify_alert(key: Ed25519PublicKey | bytes, alert: bytes, sig: bytes) -> None:
    """Raise :class:`BadSignature` unless ``sig`` signs ``alert`` under ``key``.

    ``key`` is the signer's public key, or its 32 raw bytes. Verification is
    libsodium's (``crypto_sign_open``, via PyNaCl): 39 µs per 1 KiB alert here
    against OpenSSL's 62 µs (bench/README.md), and strict — it also refuses a
    non-canonical ``S``, and a public key or ``R`` of small order, which
    OpenSSL's check lets through (PROTOCOL.md §4).
    """
    if len(sig) != SIGNATURE_BYTES:
        raise BadSignature("signature must be 64 bytes")
    raw = key if isinstance(key, bytes) else key.public_bytes_raw()
    try:
        crypto_sign_open(sig + SIGN_CONTEXT + alert, raw)
    except BadSignatureError as exc:
        raise BadSignature() from exc
