"""Cordon's sans-I/O protocol core: frames, codec, signed envelope, identities, errors, limits.

No asyncio, sockets, Redis or Qt here: bytes in, frames and bytes out. Shared
by the hub, the SDK, the CLI and the desktop client.
"""

from hub.protocol.codec import decode_client, decode_server, encode
from hub.protocol.envelope import (
    KINDS,
    SIGN_CONTEXT,
    Envelope,
    decode_envelope,
    encode_envelope,
    key_id,
    sign_alert,
    verify_alert,
)

__all__ = [
    "KINDS",
    "SIGN_CONTEXT",
    "Envelope",
    "decode_client",
    "decode_envelope",
    "decode_server",
    "encode",
    "encode_envelope",
    "key_id",
    "sign_alert",
    "verify_alert",
]
