"""What the SDK hands back (results, received alerts) and the errors it raises itself.

Refusals by the hub are raised as the :mod:`hub.protocol.errors` class named
by the ``err`` frame's code. Failures of the connection itself are the SDK's
own, rooted at :class:`ClientError`::

    ClientError
    ├── ConnectionLost ........ the connection dropped, or could not be (re)opened
    │   │                       within the retry budget; ``code`` is the close code
    │   └── SessionRefused .... final: the hub or TLS refused this identity (4010
    │                           revoked, 4011 unknown identity, 4013 wrong purpose,
    │                           4002, 1002, TLS
    │                           alert); never retried
    ├── ProtocolViolation ..... the hub sent something this SDK cannot accept
    ├── ChainViolation ........ a sender's chain is broken (gap, reorder, duplicate,
    │                           fork: PROTOCOL.md §4), raised only when asked for;
    │                           ``received`` is the alert
    └── ClientClosed .......... the Client was closed
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass

from hub.protocol.chain import BROKEN_STATES, ChainTracker
from hub.protocol.envelope import Envelope
from hub.protocol.errors import CordonError
from hub.protocol.identity import AlertId

__all__ = [
    "ChainViolation",
    "ClientClosed",
    "ClientError",
    "ConnectionLost",
    "Page",
    "ProtocolViolation",
    "Published",
    "Received",
    "SessionRefused",
    "SignedAlert",
    "new_alert_id",
]


class ClientError(Exception):
    """Root of the errors the SDK raises about its own connection (not hub refusals)."""


class ConnectionLost(ClientError):
    """The connection dropped or could not be opened; ``code`` is the close code, if any."""

    def __init__(self, reason: str, *, code: int | None = None) -> None:
        super().__init__(f"{reason} (close code {code})" if code is not None else reason)
        self.reason = reason
        self.code = code


class SessionRefused(ConnectionLost):
    """The hub (or the TLS handshake) refused this identity; reconnecting will not help."""


class HandshakeCut(ConnectionLost):
    """The hub closed the connection during the opening handshake without a word.

    Ambiguous, so retried: with TLS 1.3 a hub refusing our certificate (revoked, expired,
    unknown) ends the connection this way, and asyncio does not pass on the TLS alert;
    so does a hub killed or restarting mid-handshake. When every try of a (re)connection
    ends like this, the SDK gives up with :class:`SessionRefused`.
    """


class ProtocolViolation(ClientError):
    """The hub sent a frame the SDK cannot accept (undecodable, unexpected, an offset gap)."""


class ChainViolation(ClientError):
    """An alert breaks its sender's chain (``received.chain`` says how): the hub, or its
    store, withheld, reordered, repeated or swapped a sender's alerts. Raised by a
    subscription made with ``raise_on_chain_break=True`` after the alert was consumed:
    iterating again continues with the next one."""

    def __init__(self, received: Received) -> None:
        super().__init__(f"sender chain broken ({received.chain}) at offset"
                         f" {received.offset} of {received.channel}: {received.chain_detail}")
        self.received = received


class ClientClosed(ClientError):
    """The :class:`~client.sdk.Client` was closed."""

    def __init__(self, reason: str = "client closed") -> None:
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class SignedAlert:
    """An envelope encoded once and signed: what :meth:`Client.publish` sends (and resends)."""

    envelope: Envelope
    alert: bytes
    sig: bytes


@dataclass(frozen=True, slots=True)
class Published:
    """The hub's acknowledgement: the alert is durable at ``offset``.

    ``dup`` is true when the hub already had this alert (same id, same bytes),
    for instance because an earlier attempt was stored before the connection
    dropped; ``offset`` is then the original one.
    """

    channel: str
    alert_id: str
    offset: int
    epoch: str
    dup: bool


@dataclass(frozen=True, slots=True)
class Received:
    """One alert of a channel, as stored by the hub, and whether its signature was verified.

    ``alert`` and ``sig`` are the exact bytes the sender signed. ``envelope`` is
    ``None`` only when the bytes do not decode as an envelope. ``verified`` is
    true only when the signature, the signer's certificate (against the CA),
    the sender and the channel all check out; otherwise ``error`` says why
    (``None`` when verification was not requested).
    """

    channel: str
    offset: int
    envelope: Envelope | None
    alert: bytes
    sig: bytes
    verified: bool
    error: CordonError | None = None
    #: The sender chain's state at this alert (PROTOCOL.md §4, hub.protocol.chain):
    #: ``ok``, ``unchained``, or a break — ``gap`` (an earlier alert of the sender was
    #: withheld), ``reorder``, ``duplicate``, ``fork``; ``unchecked`` when the
    #: signature was not verified (only verified alerts are chained).
    chain: str = "unchecked"
    #: What broke, in words ("" when nothing did).
    chain_detail: str = ""

    @property
    def reason(self) -> str | None:
        """Why the alert is not verified, as text (``None`` when verified or not checked)."""
        return None if self.error is None else str(self.error)

    @property
    def chain_broken(self) -> bool:
        """True when this alert shows a sender's chain broken: treat it like a failed
        signature — the history shown to you was altered (see ``chain_detail``)."""
        return self.chain in BROKEN_STATES


@dataclass(frozen=True, slots=True)
class Page:
    """One page of history, ascending; ``more`` while older alerts remain.

    Fetch the previous page with ``before=page.items[0].offset``.
    """

    channel: str
    epoch: str
    items: list[Received]
    more: bool

    @property
    def before(self) -> int | None:
        """The ``before`` argument for the next (older) page, or ``None`` when there is none."""
        return self.items[0].offset if self.items and self.more else None


def chain_state(tracker: ChainTracker, received: Received) -> Received:
    """``received`` with its chain state from ``tracker`` (unchanged unless verified)."""
    if not received.verified or received.envelope is None:
        return received
    state, why = tracker.observe(received.envelope, received.alert)
    return dataclasses.replace(received, chain=state, chain_detail=why)


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Every pair of Crockford digits, by the 10 bits they stand for.
_DIGIT_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_PAIR_SHIFTS = tuple(range(120, -1, -10))


def new_alert_id(now_ms: int | None = None) -> AlertId:
    """A fresh alert id: a ULID (26 characters, sortable by creation time, 80 random bits)."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    value = ((ms & (2**48 - 1)) << 80) | int.from_bytes(os.urandom(10), "big")
    # 26 base32 digits, two at a time (13 lookups instead of 26 divisions of a big int)
    return AlertId("".join([_DIGIT_PAIRS[(value >> shift) & 1023]
                            for shift in _PAIR_SHIFTS]))
