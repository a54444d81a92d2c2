"""Ed25519 with libsodium: signing for the SDK (:func:`sign`), and one implementation of
the check for every signature Cordon checks —
alerts (:func:`hub.protocol.envelope.verify_alert`), signed checkpoints
(:func:`hub.protocol.checkpoint.verify_checkpoint`) and enrolment requests
(:mod:`hub.protocol.enrol`) — so all three accept exactly the same signatures.

The check is libsodium's (PyNaCl's build): strict, it refuses a non-canonical ``S``,
and a public key or ``R`` of small order, which OpenSSL's check lets through
(PROTOCOL.md §4). It is called as ``crypto_sign_verify_detached`` through ctypes
(PyNaCl's extension exports libsodium's symbols; ctypes releases the GIL as PyNaCl's
cffi calls do): the check ``crypto_sign_open`` makes before it copies the message out,
without the signed message's concatenation, the output buffer and its copy (~39 µs per
1 KiB alert, bench/README.md). If that symbol cannot be found (another build of
PyNaCl), ``crypto_sign_open`` makes the same check.
"""

from __future__ import annotations

from typing import Any

import nacl.bindings  # loads libsodium (PyNaCl's build) and runs sodium_init
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError

__all__ = ["PUBLIC_KEY_BYTES", "SIGNATURE_BYTES", "sign", "signing_key", "verify"]

PUBLIC_KEY_BYTES: int = nacl.bindings.crypto_sign_PUBLICKEYBYTES
SIGNATURE_BYTES: int = nacl.bindings.crypto_sign_BYTES


def _detached() -> Any:
    """libsodium's ``crypto_sign_verify_detached`` from the library PyNaCl loaded, or
    None if it cannot be found (then :func:`verify` uses ``crypto_sign_open``)."""
    try:
        import ctypes

        import nacl._sodium  # type: ignore[import-not-found]  # (no stubs)

        fn = ctypes.CDLL(nacl._sodium.__file__).crypto_sign_verify_detached
    except (ImportError, OSError, AttributeError):  # another build of PyNaCl
        return None
    fn.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p)
    fn.restype = ctypes.c_int
    return fn


_DETACHED = _detached()


def verify(public_key: bytes, message: bytes, sig: bytes) -> bool:
    """Whether ``sig`` is a valid Ed25519 signature of ``message`` under the raw 32-byte
    ``public_key`` (libsodium's strict rules). A key or signature of the wrong length is
    not valid (libsodium would read 32 / 64 bytes whatever it is given)."""
    if len(sig) != SIGNATURE_BYTES or len(public_key) != PUBLIC_KEY_BYTES:
        return False
    check = _DETACHED
    if check is not None:
        return bool(check(sig, message, len(message), public_key) == 0)
    try:
        crypto_sign_open(sig + message, public_key)
    except BadSignatureError:
        return False
    return True


def signing_key(private: Ed25519PrivateKey) -> bytes:
    """libsodium's 64-byte secret key (seed and public key) for ``private``, for
    :func:`sign`."""
    secret: bytes = crypto_sign_seed_keypair(private.private_bytes_raw())[1]
    return secret


def sign(secret: bytes, message: bytes) -> bytes:
    """The Ed25519 signature of ``message`` under :func:`signing_key`'s ``secret``: the
    same bytes as OpenSSL's (Ed25519 is deterministic), in ~17 against ~22 µs for a 1 KiB
    alert (libsodium's ``crypto_sign`` puts it before the message)."""
    return crypto_sign(message, secret)[:SIGNATURE_BYTES]
