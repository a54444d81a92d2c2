"""The one CSV format of a channel's alerts: ``cordon export --format csv`` and the desk's
"Export CSV…" write the same columns, the same way.

One row per alert, in the order given::

    offset, id, kind, from, member, time, verified, error, handling, ref, date, country,
    place, category, ecommerce, items, kg, litres, body

- ``time`` is the signing time in UTC ISO 8601 (``2023-12-04T09:30:00.000Z``);
- ``verified`` and ``ecommerce`` are ``true``/``false`` (``ecommerce`` empty when absent);
- ``items`` is the number of countable units (pieces, doses, tablets, ampoules,
  packages) of a seizure's goods, ``kg`` and ``litres`` its weights and volumes
  (grams and millilitres converted): plain numbers, no thousands separators;
- ``category`` the commodity categories, space separated; ``body`` the whole body as JSON.

Every text cell that a spreadsheet would read as a formula (starting with
``=``, ``+``, ``-``, ``@``, tab or CR) is prefixed with ``'``, as
``cordon admin audit --format csv`` does, so a member cannot plant
``=HYPERLINK(...)`` in the coordinator's spreadsheet. Numbers stay numbers.
"""

from __future__ import annotations

import base64
import csv
import datetime
import json
from collections.abc import Iterable, Mapping
from typing import IO, Any

from hub.protocol import codes

__all__ = ["COLUMNS", "alert_row", "safe_cell", "write_rows"]

COLUMNS = ("offset", "id", "kind", "from", "member", "time", "verified", "error", "handling",
           "ref", "date", "country", "place", "category", "ecommerce", "items", "kg", "litres",
           "body")  # fmt: skip

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not evaluate; numbers unchanged."""
    if isinstance(value, str) and value[:1] in _FORMULA:
        return "'" + value
    return value


def _bool(value: Any) -> str:
    return "" if not isinstance(value, bool) else ("true" if value else "false")


def _number(value: float) -> int | float | str:
    if not value:
        return ""
    rounded = round(value, 6)
    return int(rounded) if rounded == int(rounded) else rounded


def _amounts(body: Mapping[str, Any]) -> tuple[int | str, int | float | str, int | float | str]:
    goods = body.get("goods")
    if not isinstance(goods, list):
        return "", "", ""
    items, kg, litres = 0, 0.0, 0.0
    for line in goods:
        if not isinstance(line, Mapping):
            continue
        quantity, unit = line.get("quantity"), line.get("unit")
        if isinstance(quantity, bool) or not isinstance(quantity, int | float):
            continue
        if unit in codes.COUNTABLE_UNITS and isinstance(quantity, int):
            items += quantity
        elif unit in ("kg", "g"):
            kg += quantity / 1000 if unit == "g" else quantity
        elif unit in ("l", "ml"):
            litres += quantity / 1000 if unit == "ml" else quantity
    return items, _number(kg), _number(litres)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def _time(ts_ms: int | None) -> str:
    if not isinstance(ts_ms, int) or ts_ms <= 0:
        return ""
    moment = datetime.datetime.fromtimestamp(ts_ms / 1000, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alert_row(
    *,
    offset: int,
    alert_id: str | None,
    kind: str | None,
    sender: str | None,
    ts: int | None,
    body: Mapping[str, Any] | None,
    verified: bool,
    error: str | None,
) -> list[Any]:
    """The cells of one alert, in :data:`COLUMNS` order, neutralised."""
    data: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    goods = data.get("goods")
    categories = [str(g.get("category")) for g in goods if isinstance(g, Mapping)] if (
        isinstance(goods, list)) else []
    if not categories and isinstance(data.get("category"), str):
        categories = [data["category"]]
    items, kg, litres = _amounts(data)
    cells: list[Any] = [
        offset, alert_id or "", kind or "", sender or "", (sender or "").partition("/")[0],
        _time(ts), _bool(verified), error or "", data.get("handling", ""), data.get("ref", ""),
        data.get("date", ""), data.get("country", ""), data.get("place", ""),
        " ".join(dict.fromkeys(categories)), _bool(data.get("ecommerce")), items, kg, litres,
        "" if body is None else json.dumps(dict(data), ensure_ascii=False, sort_keys=True,
                                           default=_json_default),
    ]  # fmt: skip
    return [safe_cell(c) for c in cells]


def write_rows(out: IO[str], rows: Iterable[list[Any]]) -> int:
    """Write the header and ``rows`` (from :func:`alert_row`); returns how many rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count
