"""The audit log: a capped stream, filtered reads and pages."""

from __future__ import annotations

from hub.storage._common import _AUDIT_PAGE, _AUDIT_SCAN_MAX, _ENTRY_ID, _Base, _guard
from hub.storage._keys import AUDIT_KEY
from hub.storage.records import AuditPage


class AuditMixin(_Base):
    """The audit stream: append (capped), read, page."""

    async def audit(self, record: dict[str, str]) -> None:
        """Append a record (str -> str; conventionally action, principal, result, ...).
        The store's clock stamps it: the entry id, returned as ``id`` by :meth:`audit_log`.
        The log keeps about ``audit_max_entries`` records (``XADD MAXLEN ~``): the oldest
        are dropped first."""
        if not record:
            raise ValueError("empty audit record")
        if "id" in record:
            raise ValueError("'id' is reserved in audit records")
        fields = {str(k): str(v) for k, v in record.items()}
        with _guard():
            await self._r.xadd(AUDIT_KEY, fields,
                               maxlen=self._audit_max, approximate=True)

    async def audit_log(
        self,
        *,
        since_ms: int = 0,
        principal: str | None = None,
        action: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, str]]:
        """Records stamped at or after since_ms, oldest first, optionally only those of one
        principal and/or action, at most limit. Each has ``id`` ("<ms>-<seq>") added."""
        out: list[dict[str, str]] = []
        start = f"{max(since_ms, 0)}-0"
        with _guard():
            while len(out) < limit:
                entries = await self._r.xrange(AUDIT_KEY, min=start, max="+", count=_AUDIT_PAGE)
                for eid, fields in entries:
                    rec = {k.decode(): v.decode("utf-8", "replace") for k, v in fields.items()}
                    if principal is not None and rec.get("principal") != principal:
                        continue
                    if action is not None and rec.get("action") != action:
                        continue
                    rec["id"] = eid.decode()
                    out.append(rec)
                    if len(out) >= limit:
                        break
                if len(entries) < _AUDIT_PAGE:
                    break
                start = "(" + entries[-1][0].decode()
        return out

    async def audit_page(
        self,
        *,
        after: str | None = None,
        since_ms: int = 0,
        principal: str | None = None,
        action: str | None = None,
        limit: int = 200,
    ) -> AuditPage:
        """Like :meth:`audit_log`, one page at a time: records after entry id ``after``
        (exclusive; else from ``since_ms``), oldest first, at most ``limit``. One call
        examines at most a bounded number of entries; ``next`` is the cursor to continue
        from, None once the end of the log was reached."""
        if after is not None and _ENTRY_ID.fullmatch(after) is None:
            raise ValueError("after must be an audit entry id")
        out: list[dict[str, str]] = []
        start = "(" + after if after is not None else f"{max(since_ms, 0)}-0"
        scanned = 0
        if limit <= 0:
            return AuditPage(records=[], next=after)
        with _guard():
            while True:
                count = min(_AUDIT_PAGE, _AUDIT_SCAN_MAX - scanned)
                entries = await self._r.xrange(AUDIT_KEY, min=start, max="+", count=count)
                for eid, fields in entries:
                    scanned += 1
                    last = eid.decode()
                    rec = {k.decode(): v.decode("utf-8", "replace") for k, v in fields.items()}
                    if principal is not None and rec.get("principal") != principal:
                        continue
                    if action is not None and rec.get("action") != action:
                        continue
                    rec["id"] = last
                    out.append(rec)
                    if len(out) >= limit:
                        return AuditPage(records=out, next=last)
                if len(entries) < count:
                    return AuditPage(records=out, next=None)
                start = "(" + last
                if scanned >= _AUDIT_SCAN_MAX:
                    return AuditPage(records=out, next=last)
