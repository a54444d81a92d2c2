"""Every Redis key name Cordon uses (the layout is drawn in :mod:`hub.storage`)."""

from __future__ import annotations

from typing import Final

CHANNELS_KEY: Final = "cordon:channels"
MEMBERS_KEY: Final = "cordon:members"
AUDIT_KEY: Final = "cordon:audit"
EVENTS_CHANNEL: Final = "cordon:events"
CRL_KEY: Final = "cordon:crl"
#: Written (and fsynced) to confirm the durability of what a (re)started store holds.
PROBE_KEY: Final = "cordon:probe"


def _ch(name: str) -> str:
    return f"cordon:{{ch:{name}}}"


def _log_key(name: str) -> str:
    return _ch(name) + ":log"


def _dur_key(name: str) -> str:
    """The channel's durable-watermark stream: one entry 0-<watermark> (MAXLEN 1)."""
    return _ch(name) + ":dur"


def _chain_key(name: str) -> str:
    """Each sender's chain head in the channel: principal -> ``<seq>:<hex hash>`` (§4)."""
    return _ch(name) + ":chain"


def _leaves_key(name: str) -> str:
    """The channel's Merkle log: leaf hashes (32 bytes each) in offset order (Appendix C)."""
    return _ch(name) + ":leaves"


def _ckpt_key(name: str) -> str:
    """The channel's latest signed checkpoint (and the epoch link), hub.storage.logs."""
    return _ch(name) + ":ckpt"


def _ckpt_lease_key(name: str) -> str:
    """Taken (SET NX PX) by the hub process that signs the channel's next checkpoint."""
    return _ch(name) + ":ckptlease"


def _ids_key(name: str) -> str:
    return _ch(name) + ":ids"


def _meta_key(name: str) -> str:
    return _ch(name) + ":meta"


def _roles_key(name: str) -> str:
    return _ch(name) + ":roles"


def _att_key(name: str) -> str:
    return _ch(name) + ":att"


def _cert_key(kid: str) -> str:
    return f"cordon:cert:{kid}"


def _principal_key(principal: str) -> str:
    return f"cordon:principal:{principal}"


def _member_key(member_id: str) -> str:
    return f"cordon:member:{member_id}"


def _principals_key(member_id: str) -> str:
    return f"cordon:member:{member_id}:principals"
