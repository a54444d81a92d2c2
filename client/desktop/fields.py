"""The one adapter between the desktop and the shared alert schema.

Everything the desktop knows about the *content* of alerts goes through this
module: the form of each kind (fields, code lists, goods lines), the labels
of codes, validation of a body, and the summary shown in the feed
(commodity, quantity, place, e-commerce). Today it reads the fallback lists
of :mod:`client.desktop.codes_fallback` (from DOMAIN.md); switching to
``hub.protocol.schema`` / ``hub.protocol.codes`` happens here and only here.

Pure Python: no Qt, no I/O. Labels are English; widgets translate them
(Qt context ``codes`` for code labels, ``fields`` for field labels).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from client.desktop import codes_fallback as _src

__all__ = [
    "KIND_LABELS",
    "Field",
    "Form",
    "Problem",
    "Summary",
    "build_body",
    "code_label",
    "code_list",
    "describe",
    "form_for",
    "get_path",
    "summarize",
    "validate",
]

KIND_LABELS: dict[str, str] = {
    "warning": "Warning",
    "feedback": "Feedback",
    "seizure": "Seizure",
    "notice": "Notice",
    "amendment": "Amendment",
    "withdrawal": "Withdrawal",
}

_HS = re.compile(r"^\d{6,10}$")
_LOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")


@dataclass(frozen=True, slots=True)
class Field:
    """One input of a form. ``key`` is a dotted path into the body (``routing.origin``)."""

    key: str
    label: str
    type: str  # text, multiline, code, countries, number, date, bool, ref
    codes: str | None = None
    required: bool = False


@dataclass(frozen=True, slots=True)
class Form:
    kind: str
    fields: tuple[Field, ...]
    goods: tuple[Field, ...]  # empty when the kind has no goods lines
    goods_required: bool = False


@dataclass(frozen=True, slots=True)
class Problem:
    """A validation problem: ``key`` is a field path (``goods.0.hs_code``) or ``""``."""

    key: str
    message: str


@dataclass(frozen=True, slots=True)
class Summary:
    """What the feed shows of a body (plain strings, untranslated codes)."""

    commodity: str = ""
    quantity: str = ""
    place: str = ""
    ecommerce: bool | None = None
    countries: tuple[str, ...] = ()
    ref: str = ""
    text: str = ""


def _fields(rows: Iterable[tuple[str, str, str, str | None, bool]]) -> tuple[Field, ...]:
    return tuple(Field(key, label, type_, codes, req) for key, label, type_, codes, req in rows)


def form_for(kind: str) -> Form:
    """The compose form of ``kind``; raises ``KeyError`` for an unknown kind."""
    rows = _src.FORMS[kind]
    has_goods = kind in _src.GOODS_KINDS
    return Form(
        kind=kind,
        fields=_fields(rows),
        goods=_fields(_src.GOODS_LINE) if has_goods else (),
        goods_required=_src.GOODS_KINDS.get(kind, False),
    )


def code_list(name: str) -> list[tuple[str, str]]:
    """``[(code, English label), ...]`` of a code list, in display order."""
    return list(_src.CODE_LISTS.get(name, ()))


def code_label(name: str, code: object) -> str:
    """The English label of ``code`` in list ``name`` (the code itself when unknown)."""
    text = "" if code is None else str(code)
    for value, label in _src.CODE_LISTS.get(name, ()):
        if value == text:
            return label
    return text


def get_path(body: Mapping[str, Any], key: str) -> Any:
    """The value at dotted ``key`` in ``body`` (``None`` when absent)."""
    node: Any = body
    for part in key.split("."):
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _set_path(body: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = body
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def build_body(
    kind: str, values: Mapping[str, Any], goods: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """A body from form values by field key (empty values left out) and goods lines."""
    form = form_for(kind)
    body: dict[str, Any] = {}
    for field in form.fields:
        value = values.get(field.key)
        if not _empty(value):
            _set_path(body, field.key, value)
    lines = []
    for line in goods:
        clean = {k: v for k, v in line.items() if not _empty(v)}
        if clean:
            lines.append(clean)
    if form.goods and lines:
        body["goods"] = lines
    return body


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        return None


def _check(field: Field, value: Any, key: str) -> Problem | None:
    if _empty(value):
        return Problem(key, "required") if field.required and value is not False else None
    if field.type == "code" and field.codes:
        known = {code for code, _ in code_list(field.codes)}
        if known and str(value) not in known:
            return Problem(key, "not in the code list")
    elif field.type == "countries":
        known = {code for code, _ in code_list("country")}
        if not isinstance(value, list) or any(str(v) not in known for v in value):
            return Problem(key, "not in the code list")
    elif field.type == "number":
        number = _number(value)
        if number is None:
            return Problem(key, "must be a number")
        if number < 0 or (field.key == "quantity" and number == 0):
            return Problem(key, "must be positive")
    elif field.type == "date":
        try:
            _dt.date.fromisoformat(str(value))
        except ValueError:
            return Problem(key, "must be a date (YYYY-MM-DD)")
    elif field.key == "hs_code" and not _HS.match(str(value)):
        return Problem(key, "HS code: 6 to 10 digits")
    elif field.key == "place" and not _LOCODE.match(str(value)):
        return Problem(key, "UN/LOCODE: 5 characters, like DEHAM")
    return None


def validate(kind: str, body: Mapping[str, Any]) -> list[Problem]:
    """Every problem of ``body`` for ``kind`` (empty when valid)."""
    try:
        form = form_for(kind)
    except KeyError:
        return [Problem("", "unknown kind")]
    problems = []
    for field in form.fields:
        problem = _check(field, get_path(body, field.key), field.key)
        if problem is not None:
            problems.append(problem)
    goods = body.get("goods") or []
    if form.goods_required and not goods:
        problems.append(Problem("goods", "at least one goods line"))
    for index, line in enumerate(goods if isinstance(goods, list) else []):
        for field in form.goods:
            value = line.get(field.key) if isinstance(line, Mapping) else None
            problem = _check(field, value, f"goods.{index}.{field.key}")
            if problem is not None:
                problems.append(problem)
    return problems


def _fmt_number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:,.2f}"


def summarize(body: Mapping[str, Any]) -> Summary:
    """The feed's view of a body; tolerant of anything (bodies come from other members)."""
    goods = body.get("goods")
    lines = [g for g in goods if isinstance(g, Mapping)] if isinstance(goods, list) else []
    categories = list(dict.fromkeys(str(g.get("category", "")) for g in lines if g.get("category")))
    commodity = categories[0] if categories else ""
    if len(categories) > 1:
        commodity += f" +{len(categories) - 1}"
    units: dict[str, float] = {}
    for line in lines:
        number = _number(line.get("quantity"))
        if number is not None:
            unit = str(line.get("unit") or "")
            units[unit] = units.get(unit, 0.0) + number
    quantity = ", ".join(f"{_fmt_number(n)} {u}".strip() for u, n in units.items())
    eco = body.get("ecommerce")
    ecommerce = bool(eco.get("flag")) if isinstance(eco, Mapping) else (
        eco if isinstance(eco, bool) else None
    )
    routing = body.get("routing")
    countries: list[str] = []
    if isinstance(routing, Mapping):
        for key in ("origin", "departure", "transit", "destination"):
            value = routing.get(key)
            for code in value if isinstance(value, list) else [value]:
                if isinstance(code, str) and code and code not in countries:
                    countries.append(code)
    text = body.get("subject") or body.get("text") or body.get("remarks") or ""
    return Summary(
        commodity=commodity,
        quantity=quantity,
        place=str(body.get("place") or ""),
        ecommerce=ecommerce,
        countries=tuple(countries),
        ref=str(body.get("ref") or ""),
        text=str(text)[:200],
    )


def describe(kind: str, body: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """``[(field label, raw value, code list or None)]`` of a body, in form order.

    Keys the form does not know (an extension by another member) are listed
    after, with their key as label, so the detail pane shows every field.
    """
    try:
        form = form_for(kind)
        known = form.fields
    except KeyError:
        known = ()
    out: list[tuple[str, str, str | None]] = []
    seen: set[str] = {"goods", "attachments"}
    for field in known:
        value = get_path(body, field.key)
        seen.add(field.key.split(".")[0])
        if _empty(value) and value is not False:
            continue
        if isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        else:
            text = str(value)
        codes = field.codes if field.type in ("code", "countries") else None
        out.append((field.label, text, codes))
    for key, value in body.items():
        if key not in seen:
            out.append((key, str(value), None))
    return out
