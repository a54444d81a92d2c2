"""Export feed rows to CSV in the format of ``cordon export`` (:mod:`client.csvout`).

The file is the user's only (0600): it holds handling-coded records.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from client.csvout import COLUMNS, alert_row, write_rows
from client.desktop.rows import AlertRow

__all__ = ["HEADER", "write_csv"]

HEADER = COLUMNS


def write_csv(path: Path, rows: Iterable[AlertRow]) -> int:
    """Write ``rows`` in the order given (the display order); returns how many.

    Each row is the alert as signed (an amendment is its own row), so the file
    equals ``cordon export --format csv`` for the same alerts.
    """
    fd = os.open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps no wider mode
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
        return write_rows(out, (alert_row(
            offset=row.offset, alert_id=None if row.alert_id == "?" else row.alert_id,
            kind=None if row.kind == "?" else row.kind,
            sender=None if row.sender == "?" else row.sender, ts=row.ts or None,
            body=row.body if row.alert_id != "?" else None, verified=row.verified,
            error=row.error) for row in rows))  # fmt: skip
