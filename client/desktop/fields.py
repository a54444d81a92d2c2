"""The one adapter between the desktop and the shared alert schema.

Everything the desktop knows about the *content* of alerts goes through this
module: the compose form of each kind (fields in display order, their code
lists, goods lines), code labels, validation of a body, and the summary shown
in the feed (commodity, quantity, place, e-commerce). Validation and code
lists come from :mod:`hub.protocol.schema` and :mod:`hub.protocol.codes`;
the form layout (order, widget type) is the desktop's.

Pure Python: no Qt, no I/O. Labels are English; widgets translate them
(Qt context ``codes`` for code labels, ``fields`` for field labels).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.protocol import codes as _codes
from hub.protocol import schema as _schema

__all__ = [
    "CODE_LISTS",
    "COMPOSE_KINDS",
    "KIND_LABELS",
    "PHOTO_KINDS",
    "SCHEMA_VERSION",
    "Field",
    "Form",
    "Problem",
    "Summary",
    "build_body",
    "code_label",
    "code_list",
    "describe",
    "form_for",
    "format_number",
    "get_path",
    "summarize",
    "validate",
]

SCHEMA_VERSION: int = int(_schema.SCHEMA_VERSION)

KIND_LABELS: dict[str, str] = {
    "warning": "Warning",
    "feedback": "Feedback",
    "seizure": "Seizure",
    "notice": "Notice",
    "amendment": "Amendment",
    "withdrawal": "Withdrawal",
}
#: Kinds the compose dialog offers, in order.
COMPOSE_KINDS = ("warning", "feedback", "seizure", "notice", "withdrawal")
#: Kinds whose body may reference photos (``attachments``).
PHOTO_KINDS = frozenset({"warning", "feedback", "seizure"})


def _lists() -> dict[str, Mapping[Any, str]]:
    return {
        "transport_mode": _codes.TRANSPORT_MODES,
        "location_type": _codes.LOCATION_TYPES,
        "conveyance": _codes.CONVEYANCE,
        "detection": _codes.DETECTION,
        "concealment": _codes.CONCEALMENT,
        "category": _codes.CATEGORIES,
        "unit": _codes.UNITS,
        "ipr_type": _codes.IPR_TYPES,
        "consignment": _codes.CONSIGNMENT,
        "status": _codes.STATUS,
        "outcome": _codes.FEEDBACK_OUTCOMES,
        "handling": _codes.HANDLING,
        "reliability": _codes.EVALUATION_SOURCE,
        "accuracy": _codes.EVALUATION_ACCURACY,
        "country": _codes.COUNTRIES,
        "currency": {code: code for code in sorted(_codes.CURRENCIES)},
    }


_LISTS = _lists()
#: Names of the code lists :func:`code_list` knows.
CODE_LISTS: tuple[str, ...] = tuple(_LISTS)


@dataclass(frozen=True, slots=True)
class Field:
    """One input of a form. ``key`` is a dotted path into the body (``route.origin``).

    Types: ``text``, ``multiline``, ``lines`` (list of texts, one per line),
    ``ids`` (list of alert ids), ``code``, ``countries`` (list of country
    codes), ``number``, ``date``, ``bool``, ``evaluation`` (``B2``).
    """

    key: str
    label: str
    type: str
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
    """A validation problem: ``key`` is a dotted path (``goods.0.hs_code``) or ``""``."""

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
    amounts: tuple[tuple[str, float], ...] = ()  # (unit code, total) per unit


def format_number(value: float) -> str:
    """``1,200`` or ``2.50`` (thousands separated); ``nan``/``inf`` as is (a forged body)."""
    if not math.isfinite(value):
        return str(value)
    return f"{int(value):,}" if value == int(value) else f"{value:,.2f}"


def _f(key: str, label: str, type_: str = "text", codes: str | None = None,
       required: bool = False) -> Field:
    return Field(key, label, type_, codes, required)


_HANDLING = (
    _f("handling", "Handling code", "code", "handling", True),
    _f("handling_text", "Handling restrictions (H3)", "text"),
    _f("evaluation", "Evaluation", "evaluation"),
)
_ROUTE = (
    _f("route.origin", "Country of origin", "code", "country"),
    _f("route.departure", "Country of departure", "code", "country"),
    _f("route.transit", "Transit countries", "countries", "country"),
    _f("route.destination", "Country of destination", "code", "country"),
)
_LINKS = (_f("links", "Related alert ids", "ids"),)

_FORMS: dict[str, tuple[Field, ...]] = {
    "warning": (
        _f("summary", "Summary", "multiline", required=True),
        _f("category", "Commodity category", "code", "category", True),
        _f("hs_code", "HS code"),
        _f("indicators", "Risk indicators (one per line)", "lines"),
        _f("transport_mode", "Mode of transport", "code", "transport_mode"),
        _f("conveyance", "Conveyance", "code", "conveyance"),
        *_ROUTE,
        _f("ecommerce", "E-commerce", "bool"),
        _f("valid_until", "Valid until", "date"),
        *_LINKS,
        *_HANDLING,
    ),
    "feedback": (
        _f("ref", "Warning id", "text", required=True),
        _f("outcome", "Outcome", "code", "outcome", True),
        _f("remarks", "Remarks", "multiline"),
        *_LINKS,
        *_HANDLING,
    ),
    "seizure": (
        _f("date", "Seizure date", "date", required=True),
        _f("country", "Country", "code", "country", True),
        _f("place", "Place (customs office)"),
        _f("locode", "UN/LOCODE"),
        _f("location_type", "Type of location", "code", "location_type", True),
        _f("transport_mode", "Mode of transport", "code", "transport_mode", True),
        _f("conveyance", "Conveyance", "code", "conveyance"),
        _f("detection", "Detection method", "code", "detection", True),
        _f("concealment.code", "Concealment", "code", "concealment"),
        _f("concealment.text", "Concealment details"),
        *_ROUTE,
        _f("ecommerce", "E-commerce", "bool", required=True),
        _f("platform", "Platform or website"),
        _f("consignment", "Consignment type", "code", "consignment"),
        _f("small_consignment", "Small consignment", "bool"),
        _f("status", "Outcome status", "code", "status", True),
        _f("remarks", "Remarks", "multiline"),
        *_LINKS,
        *_HANDLING,
    ),
    "notice": (
        _f("title", "Title"),
        _f("text", "Text", "multiline", required=True),
        *_LINKS,
        *_HANDLING,
    ),
    "withdrawal": (
        _f("ref", "Withdrawn alert id", "text", required=True),
        _f("reason", "Reason", "multiline", required=True),
        *_HANDLING,
    ),
    "amendment": (
        _f("ref", "Amended alert id", "text", required=True),
        _f("reason", "Reason", "multiline", required=True),
        _f("of", "Kind of the amended alert"),
        *_HANDLING,
    ),
}

_GOODS: tuple[Field, ...] = (
    _f("category", "Category", "code", "category", True),
    _f("hs_code", "HS code", required=True),
    _f("description", "Description", required=True),
    _f("quantity", "Quantity", "number", required=True),
    _f("unit", "Unit", "code", "unit", True),
    _f("value", "Estimated value", "number"),
    _f("currency", "Currency", "code", "currency"),
    _f("brand", "Brand"),
    _f("right_holder", "Right holder"),
    _f("ipr_type", "IPR type", "code", "ipr_type"),
)


def form_for(kind: str) -> Form:
    """The compose form of ``kind``; raises ``KeyError`` for an unknown kind."""
    has_goods = kind == "seizure"
    return Form(kind, _FORMS[kind], _GOODS if has_goods else (), goods_required=has_goods)


def code_list(name: str) -> list[tuple[Any, str]]:
    """``[(code, English label), ...]`` of a code list, in display order."""
    return list(_LISTS.get(name, {}).items())


def code_label(name: str, code: object) -> str:
    """The English label of ``code`` in list ``name`` (the code itself when unknown)."""
    table = _LISTS.get(name, {})
    try:
        label = table.get(code)
    except TypeError:
        label = None
    return str(code if code is not None else "") if label is None else label


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
    """A body from typed form values by field key and goods lines.

    Empty values are left out, except required yes/no fields (always sent).
    """
    form = form_for(kind)
    body: dict[str, Any] = {"schema": SCHEMA_VERSION}
    for field in form.fields:
        value = values.get(field.key)
        if field.type == "bool" and field.required:
            _set_path(body, field.key, bool(value))
        elif not _empty(value):
            _set_path(body, field.key, value)
    lines = [{k: v for k, v in line.items() if not _empty(v)} for line in goods]
    lines = [line for line in lines if line]
    if form.goods and lines:
        body["goods"] = lines
    return body


def validate(kind: str, body: Mapping[str, Any]) -> list[Problem]:
    """Every problem of ``body`` for ``kind`` (empty when valid), by the shared schema."""
    return [
        Problem(path.lstrip("/").replace("/", "."), message)
        for path, message in _schema.check(kind, body)
    ]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def summarize(body: Mapping[str, Any]) -> Summary:
    """The feed's view of a body; tolerant of anything (bodies come from other members)."""
    goods = body.get("goods")
    lines = [g for g in goods if isinstance(g, Mapping)] if isinstance(goods, list) else []
    categories = list(dict.fromkeys(str(g["category"]) for g in lines if g.get("category")))
    if not categories and isinstance(body.get("category"), str):
        categories = [body["category"]]
    commodity = categories[0] if categories else ""
    if len(categories) > 1:
        commodity += f" +{len(categories) - 1}"
    units: dict[str, float] = {}
    for line in lines:
        number = _number(line.get("quantity"))
        if number is not None:
            unit = str(line.get("unit") or "")
            units[unit] = units.get(unit, 0.0) + number
    quantity = ", ".join(f"{format_number(n)} {u}".strip() for u, n in units.items())
    eco = body.get("ecommerce")
    route = body.get("route")
    countries: list[str] = []
    if isinstance(body.get("country"), str):
        countries.append(body["country"])
    if isinstance(route, Mapping):
        for key in ("origin", "departure", "transit", "destination"):
            value = route.get(key)
            for code in value if isinstance(value, list) else [value]:
                if isinstance(code, str) and code and code not in countries:
                    countries.append(code)
    place = body.get("place") or body.get("locode") or ""
    text = body.get("summary") or body.get("title") or body.get("text") or body.get(
        "reason") or body.get("remarks") or ""
    return Summary(
        commodity=commodity,
        quantity=quantity,
        place=str(place),
        ecommerce=eco if isinstance(eco, bool) else None,
        countries=tuple(countries),
        ref=str(body.get("ref") or ""),
        text=str(text)[:200],
        amounts=tuple(units.items()),
    )


def _text_of(field: Field, value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def describe(kind: str, body: Mapping[str, Any]) -> list[tuple[str, str, str | None, Any]]:
    """``[(field label, raw text, code list or None, raw value)]`` of a body, in form order.

    Fields the form does not know (sent by a newer client) follow, labelled
    by their key, so the detail pane shows every field of the signed record.
    """
    known = _FORMS.get(kind, ())
    out: list[tuple[str, str, str | None, Any]] = []
    seen = {"goods", "attachments", "schema", "record"}
    for field in known:
        value = get_path(body, field.key)
        seen.add(field.key.split(".")[0])
        if _empty(value) and value is not False:
            continue
        codes = field.codes if field.type in ("code", "countries") else None
        out.append((field.label, _text_of(field, value), codes, value))
    for key, value in body.items():
        if key not in seen:
            out.append((key, str(value), None, value))
    return out
