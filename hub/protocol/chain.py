"""Sender chains (PROTOCOL.md §4): checking that no alert of a sender was withheld,
reordered, repeated or forked.

Each chained alert carries, inside its signed bytes, ``seq`` (the sender's count of
its alerts in the channel, from 1) and ``prev`` (:func:`~hub.protocol.envelope.alert_hash`
of the sender's previous alert in the channel; 32 zero bytes for ``seq`` 1). A
:class:`ChainTracker` is fed a channel's alerts in offset order and says, for each,
which :data:`ChainState` it is in. Sans-I/O and bounded: per sender it keeps the last
``seq`` and hash, the hashes of its last :data:`CHAIN_MEMORY` alerts and at most
:data:`CHAIN_MEMORY` missing sequence numbers.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final, Literal

from hub.protocol.envelope import HASH_BYTES, Envelope, alert_hash

__all__ = [
    "BROKEN_STATES",
    "CHAIN_MEMORY",
    "ZERO_HASH",
    "ChainState",
    "ChainTracker",
    "expected_detail",
    "parse_expected",
]

#: ``prev`` of a sender's first alert in a channel.
ZERO_HASH: Final = bytes(HASH_BYTES)
#: Per sender, how many recent alert hashes (and missing seqs) a tracker remembers.
CHAIN_MEMORY: Final = 1024

#: ``ok``: continues the sender's chain (or starts it where the reader cannot see
#: earlier alerts); ``unchained``: carries no chain (its withholding is undetectable);
#: ``gap``: earlier alerts of this sender were withheld (``seq`` jumped);
#: ``reorder``: an alert that was missing arrives late; ``duplicate``: the same alert
#: again; ``fork``: ``prev`` does not match the alert this reader saw before it, or two
#: different alerts carry one ``seq``: the sender's history differs between readers.
ChainState = Literal["ok", "unchained", "gap", "reorder", "duplicate", "fork"]
BROKEN_STATES: Final[frozenset[str]] = frozenset({"gap", "reorder", "duplicate", "fork"})

_EXPECTED = re.compile(r"expected seq ([1-9][0-9]{0,15}) prev ([0-9a-f]{64})")


def expected_detail(seq: int, prev: bytes) -> str:
    """The 426 detail: what the sender's next alert must carry."""
    return f"expected seq {seq} prev {prev.hex()}"


def parse_expected(detail: str) -> tuple[int, bytes] | None:
    """(seq, prev) from a 426 detail, or ``None`` if it is not one."""
    m = _EXPECTED.fullmatch(detail)
    return None if m is None else (int(m.group(1)), bytes.fromhex(m.group(2)))


@dataclass(slots=True)
class _Sender:
    seq: int
    digest: bytes
    seen: OrderedDict[int, bytes] = field(default_factory=OrderedDict)  # seq -> hash
    missing: OrderedDict[int, None] = field(default_factory=OrderedDict)

    def remember(self, seq: int, digest: bytes) -> None:
        self.seen[seq] = digest
        while len(self.seen) > CHAIN_MEMORY:
            self.seen.popitem(last=False)


class ChainTracker:
    """Checks every sender's chain over one channel's alerts, fed in offset order.

    ``complete``: the reader sees the channel from its first alert (offset 1, nothing
    trimmed), so a sender's first alert seen must have ``seq`` 1; otherwise the first
    alert seen of each sender anchors its chain.
    """

    def __init__(self, *, complete: bool = False) -> None:
        self.complete = complete
        self._senders: dict[str, _Sender] = {}

    def observe(self, envelope: Envelope, alert: bytes) -> tuple[ChainState, str]:
        """The state of the next alert (its envelope and exact bytes) and why, in words."""
        if envelope.seq is None or envelope.prev is None:
            return "unchained", "carries no sender chain"
        seq, prev, digest = envelope.seq, envelope.prev, alert_hash(alert)
        sender = self._senders.get(envelope.sender)
        if sender is None:
            state: ChainState = "ok"
            why = ""
            if seq > 1 and self.complete:
                state, why = "gap", f"{envelope.sender}'s alerts 1 to {seq - 1} are missing"
            node = self._senders[envelope.sender] = _Sender(seq, digest)
            node.remember(seq, digest)
            for n in range(max(1, seq - CHAIN_MEMORY), seq) if state == "gap" else ():
                node.missing[n] = None
            return state, why
        if seq > sender.seq:
            state, why = "ok", ""
            if seq > sender.seq + 1:
                state = "gap"
                why = (f"{envelope.sender}'s alerts {sender.seq + 1} to {seq - 1} are"
                       " missing" if seq > sender.seq + 2
                       else f"{envelope.sender}'s alert {sender.seq + 1} is missing")
                for n in range(max(sender.seq + 1, seq - CHAIN_MEMORY), seq):
                    sender.missing[n] = None
                while len(sender.missing) > CHAIN_MEMORY:
                    sender.missing.popitem(last=False)
            elif prev != sender.digest:
                state = "fork"
                why = f"{envelope.sender}'s alert {seq} follows another alert {seq - 1}"
            sender.seq, sender.digest = seq, digest
            sender.remember(seq, digest)
            return state, why
        earlier = sender.seen.get(seq)
        if earlier == digest:
            return "duplicate", f"{envelope.sender}'s alert {seq} was already delivered"
        if seq in sender.missing:
            del sender.missing[seq]
            sender.remember(seq, digest)
            return "reorder", f"{envelope.sender}'s alert {seq} arrives after a later one"
        if earlier is None:
            return "reorder", f"{envelope.sender}'s alert {seq} arrives after a later one"
        return "fork", f"{envelope.sender} has two different alerts {seq}"
