"""Refusal records in the audit log, bounded per connection.

A connection that keeps sending refused requests (bad frames, forbidden
channels, admin operations without an admin certificate) would otherwise grow
the audit stream as fast as it can send. :class:`RefusalAudit` writes at most
``per_s`` refusal records per connection per one-second window; the rest are
counted, and one summary record (action ``refusals.suppressed``, ``count``)
is written when the next window starts or the connection ends. Peers refused
by the TLS handshake (no connection to speak of) share one budget together
(hub.server, action ``tls``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from hub.protocol.errors import CordonError
from hub.storage import Store

__all__ = ["AUDIT_REFUSALS_PER_S", "SUPPRESSED_ACTION", "RefusalAudit"]

#: Refusal records written per connection per second; the rest become one summary record.
AUDIT_REFUSALS_PER_S = 10
#: The action of a summary record.
SUPPRESSED_ACTION = "refusals.suppressed"
#: Distinct actions named in one summary record (the rest are only counted).
_MAX_ACTIONS_NAMED = 16
_WINDOW_S = 1.0


@dataclass(slots=True)
class _Window:
    start: float
    start_ms: int
    principal: str
    peer: str
    written: int = 0
    suppressed: int = 0
    actions: set[str] = field(default_factory=set)


class RefusalAudit:
    """Per-connection budget for refusal records. ``record`` and ``flush`` never raise
    store errors (an audit write that fails is logged nowhere else: it is dropped)."""

    def __init__(self, store: Store, *, per_s: int = AUDIT_REFUSALS_PER_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_s < 1:
            raise ValueError("per_s must be positive")
        self.store = store
        self.per_s = per_s
        self._clock = clock
        self._windows: dict[Hashable, _Window] = {}

    async def record(self, conn: Hashable, record: dict[str, str]) -> None:
        """Write ``record`` (a refusal of connection ``conn``) unless its budget is spent."""
        now = self._clock()
        window = self._windows.get(conn)
        if window is None or now - window.start >= _WINDOW_S:
            if window is not None:
                await self._summary(window)
            window = _Window(start=now, start_ms=time.time_ns() // 1_000_000,
                             principal=record.get("principal", "?"),
                             peer=record.get("peer", "?"))
            self._windows[conn] = window
        if window.written < self.per_s:
            window.written += 1
            await self._write(record)
            return
        window.suppressed += 1
        if len(window.actions) < _MAX_ACTIONS_NAMED:
            window.actions.add(record.get("action", "?"))

    async def flush(self, conn: Hashable) -> None:
        """The connection ended: write its pending summary, forget it."""
        window = self._windows.pop(conn, None)
        if window is not None:
            await self._summary(window)

    async def _summary(self, window: _Window) -> None:
        if window.suppressed:
            await self._write({
                "action": SUPPRESSED_ACTION, "principal": window.principal,
                "peer": window.peer, "result": "refused", "count": str(window.suppressed),
                "since_ms": str(window.start_ms), "actions": ",".join(sorted(window.actions)),
            })  # fmt: skip

    async def _write(self, record: dict[str, str]) -> None:
        with contextlib.suppress(CordonError):
            await self.store.audit(record)
