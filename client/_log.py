"""Hub-signed channel checkpoints as the SDK hands them back, and how it checks them.

A :class:`SignedCheckpoint` is a checkpoint (PROTOCOL.md Appendix C) whose signature
the SDK verified with the hub's log key, whose certificate it verified against the CA
(issued by it, valid at the checkpoint's time, the ``urn:cordon:log:`` name, the
cordon-log extended key usage, and — when the client has the CA's CRL — not revoked).

Errors (under :class:`~client._model.ClientError`)::

    CheckpointError ........... a checkpoint or proof the hub served does not verify:
    │                           bad signature, a key that is not a log key (no
    │                           cordon-log EKU, another CA, expired, revoked), another
    │                           channel, a proof that does not lead to the signed root
    └── LogInconsistent ....... a correctly signed checkpoint that contradicts one this
                                client verified before: two different roots for the
                                same size, a log that did not only grow, a new epoch
                                that does not link the old one. The hub (or whoever
                                controls its store) showed different histories —
                                equivocation, or rewritten history.

The SDK remembers the last checkpoint it verified per channel (in memory, and in the
``checkpoint_state`` file when one is given, so a restarted client still checks the
next one against it) and checks every new one against it with a consistency proof.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certs.files import write_atomic
from client._model import ClientError
from hub.protocol.checkpoint import Checkpoint, checkpoint_hash, fingerprint
from hub.protocol.merkle import leaf_hash, verify_consistency, verify_inclusion

__all__ = [
    "CheckpointError",
    "LogInconsistent",
    "SignedCheckpoint",
    "read_checkpoint_state",
    "verify_alert_inclusion",
    "write_checkpoint_state",
]


class CheckpointError(ClientError):
    """A checkpoint or proof from the hub does not verify (see the module docstring)."""

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(f"checkpoint of {channel} refused: {reason}")
        self.channel = channel
        self.reason = reason


class LogInconsistent(CheckpointError):
    """A signed checkpoint contradicts one verified before: the hub showed a different
    history (equivocation or rewritten history). As serious as a forged signature."""

    def __init__(self, channel: str, reason: str, *, old: SignedCheckpoint | None = None,
                 new: SignedCheckpoint | None = None) -> None:
        super().__init__(channel, reason)
        self.old = old
        self.new = new


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A verified checkpoint: ``checkpoint`` decoded from ``data`` (its exact signed
    bytes), ``sig`` by the log key ``kid`` whose certificate is ``cert_der``; ``link``
    is the old epoch's last checkpoint this one names (``checkpoint.prev``), when the
    hub served it."""

    checkpoint: Checkpoint
    data: bytes
    sig: bytes
    kid: str
    cert_der: bytes
    link: SignedCheckpoint | None = None

    @property
    def fingerprint(self) -> str:
        """16 characters to read to another member (Appendix C)."""
        return fingerprint(self.checkpoint)

    @property
    def hash(self) -> bytes:
        """SHA-256 of the checkpoint bytes (what a next epoch's ``prev`` names)."""
        return checkpoint_hash(self.data)

    def to_json(self) -> dict[str, str]:
        """The exact bytes, hex-encoded (what a state or evidence file keeps)."""
        return {"cp": self.data.hex(), "sig": self.sig.hex(), "kid": self.kid,
                "cert": self.cert_der.hex()}


def verify_alert_inclusion(checkpoint: Checkpoint, offset: int, alert: bytes,
                           path: list[bytes] | tuple[bytes, ...]) -> bool:
    """True if ``path`` proves that ``alert`` (its exact bytes) is at ``offset`` in the
    log ``checkpoint`` signs (leaf ``offset - 1`` of ``checkpoint.size``)."""
    return verify_inclusion(leaf_hash(alert), offset - 1, checkpoint.size, list(path),
                            checkpoint.root)


def check_consistent(channel: str, old: SignedCheckpoint, new: SignedCheckpoint,
                     proof: list[bytes] | None) -> None:
    """Raise :class:`LogInconsistent` unless ``new`` continues ``old`` (same epoch):
    equal sizes need equal roots, otherwise ``proof`` must verify from the smaller to
    the larger."""
    o, n = old.checkpoint, new.checkpoint
    if o.size == n.size:
        if o.root != n.root:
            raise LogInconsistent(channel, f"two different roots signed for size {n.size} "
                                  f"of epoch {n.epoch}: the hub showed different histories",
                                  old=old, new=new)
        return
    small, large = (o, n) if o.size < n.size else (n, o)
    if proof is None or not verify_consistency(small.size, large.size, small.root,
                                               large.root, proof):
        raise LogInconsistent(channel, f"the log at size {large.size} does not extend the "
                              f"log at size {small.size} (epoch {n.epoch}): history was "
                              "rewritten or shown differently", old=old, new=new)


def read_checkpoint_state(path: Path) -> dict[str, dict[str, str]]:
    """The saved checkpoints (channel -> :meth:`SignedCheckpoint.to_json`); {} if no file."""
    try:
        obj: Any = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ClientError(f"cannot read checkpoint state {path}: {exc}") from exc
    if not isinstance(obj, dict) or not all(
        isinstance(v, dict) and set(v) == {"cp", "sig", "kid", "cert"}
        and all(isinstance(x, str) for x in v.values()) for v in obj.values()
    ):
        raise ClientError(f"checkpoint state {path} is not a map of channel -> checkpoint")
    return obj


def write_checkpoint_state(path: Path, state: Mapping[str, SignedCheckpoint]) -> None:
    """Replace the state file atomically (0600; write, fsync, rename)."""
    data = json.dumps({ch: cp.to_json() for ch, cp in sorted(state.items())}, indent=1)
    write_atomic(path, (data + "\n").encode(), mode=0o600)
