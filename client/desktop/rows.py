"""Plain data the models and widgets are fed: channels and alerts as frozen rows.

Built from SDK results (:class:`client.sdk.Received`) or cache rows; no Qt here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from client.desktop import fields
from client.sdk import Received
from hub.protocol.chain import BROKEN_STATES

__all__ = ["AlertRow", "ChannelRow", "row_from_received"]


@dataclass(frozen=True, slots=True)
class ChannelRow:
    channel: str
    title: str = ""
    role: str = ""
    state: str = ""
    head: int = 0
    unread: int = 0


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One alert as the desktop shows it. ``verified`` is the result of checking
    the signature against the CA on this machine; ``error`` says why not."""

    channel: str
    offset: int
    alert_id: str
    sender: str  # principal id, "fr/ops"
    kind: str
    ts: int  # sender's time of signing, ms
    body: Mapping[str, Any] = field(default_factory=dict)
    verified: bool = False
    error: str | None = None
    summary: fields.Summary = field(default_factory=fields.Summary)
    #: The sender chain's state (PROTOCOL.md §4; ``Received.chain``) and what broke.
    chain: str = "unchecked"
    chain_detail: str = ""

    @property
    def chain_broken(self) -> bool:
        """The history shown was altered around this alert: as serious as a forgery."""
        return self.chain in BROKEN_STATES

    @property
    def member(self) -> str:
        """The sender's administration (member id)."""
        return self.sender.split("/", 1)[0]

    @property
    def ref(self) -> str:
        return self.summary.ref


def row_from_received(item: Received) -> AlertRow:
    """An :class:`AlertRow` from an SDK result (undecodable bytes become a failed row)."""
    env = item.envelope
    if env is None:
        return AlertRow(
            channel=item.channel,
            offset=item.offset,
            alert_id="?",
            sender="?",
            kind="?",
            ts=0,
            verified=False,
            error=item.reason or "undecodable alert",
        )
    body = dict(env.body)
    return AlertRow(
        channel=item.channel,
        offset=item.offset,
        alert_id=env.id,
        sender=env.sender,
        kind=env.kind,
        ts=env.ts,
        body=body,
        verified=item.verified,
        error=None if item.verified else (item.reason or "not verified"),
        summary=fields.summarize(body),
        chain=item.chain,
        chain_detail=item.chain_detail,
    )
