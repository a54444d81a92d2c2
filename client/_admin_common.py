"""Shared by ``cordon admin``'s modules: exit codes, errors, output formatting."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import IO

PROG = "cordon admin"
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_REFUSED, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

#: Hub refusal codes that mean "the request was wrong" (exit 4); 403/503: exit 3; else 1.
_INPUT_CODES = frozenset({401, 404, 405, 406, 407, 413})
_REFUSED_CODES = frozenset({403, 503})
#: Fixed CSV columns of an audit export; any other field goes to ``extra`` as k=v;...
AUDIT_COLUMNS = ("time", "id", "action", "principal", "peer", "result", "code", "reason",
                 "detail", "member", "subject", "channel", "role", "state", "kid", "extra")
_AUDIT_PAGE = 200
_AGE = re.compile(r"(\d+)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_KID = re.compile(r"[0-9a-fA-F]{64}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_DAY_MS = 86_400_000


class _BadInput(Exception):
    """Bad input found before asking the hub (exit 4)."""


class _Failed(Exception):
    """Done only in part, or failed on this side (exit 1)."""


# --- formatting ----------------------------------------------------------------------------


def _clean(value: object) -> str:
    text = "" if value is None else str(value)
    return _CONTROL.sub("?", text)


def _when(ms: object, *, day: bool = False) -> str:
    if not isinstance(ms, int) or ms <= 0:
        return "-"
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%d" if day else "%Y-%m-%d %H:%M:%SZ")


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]], out: IO[str]) -> None:
    cells = [[_clean(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(),
              file=out)


def _fields(pairs: Iterable[tuple[str, object]], out: IO[str]) -> None:
    items = list(pairs)
    width = max(len(k) for k, _ in items)
    for key, value in items:
        print(f"{key.ljust(width)}  {_clean(value)}", file=out)


def _json(obj: object, out: IO[str]) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True), file=out)
