"""Export the visible feed rows to CSV (pure Python: rows in, file out)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path

from client.desktop.rows import AlertRow

__all__ = ["HEADER", "write_csv"]

HEADER = (
    "channel", "offset", "alert_id", "time", "sender", "administration", "kind", "commodity",
    "quantity", "place", "ecommerce", "countries", "ref", "verified", "verification_error",
)


def write_csv(
    path: Path, rows: Iterable[AlertRow], *, time_text: Callable[[int], str] = str
) -> int:
    """Write ``rows`` in the order given (the display order); returns how many.

    Codes are written as codes (not translated labels) so the file is the same
    whatever the interface language.
    """
    count = 0
    with Path(path).open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for row in rows:
            eco = row.summary.ecommerce
            writer.writerow((
                row.channel, row.offset, row.alert_id, time_text(row.ts), row.sender,
                row.member, row.kind, row.summary.commodity, row.summary.quantity,
                row.summary.place, "" if eco is None else ("yes" if eco else "no"),
                " ".join(row.summary.countries), row.ref,
                "yes" if row.verified else "no", row.error or "",
            ))
            count += 1
    return count
