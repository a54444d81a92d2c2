"""The alert schema: what the ``body`` of each kind of alert may and must hold.

``validate(kind, body)`` raises :class:`~hub.protocol.errors.SchemaError` (424)
listing *every* bad field as a JSON Pointer path (RFC 6901, ``/goods/0/hs_code``)
and a human message; it returns ``None`` for a valid body. Unknown fields are
refused. Every body carries ``schema`` (the schema version, :data:`SCHEMA_VERSION`)
and a handling code. Code lists live in :mod:`hub.protocol.codes`; PROTOCOL.md
Appendix A documents every field.

The rules are declarative: a kind is a :class:`_Record` of named fields, each
with a check and whether it is required, plus cross-field rules. Checks append
``(path, message)`` problems instead of raising, so one pass finds them all.

References to other alerts (``ref``, ``links``) and to attachments are only
checked for form here; whether they exist in the channel is the hub's check
(:func:`references`, :func:`attachments` list them).
"""

from __future__ import annotations

import copy
import datetime
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from hub.protocol import codes
from hub.protocol.errors import Problem, SchemaError
from hub.protocol.identity import ALERT_ID_PATTERN
from hub.protocol.limits import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS_PER_ALERT,
    MAX_GOODS_LINES,
    MAX_LINKS,
)

__all__ = [
    "AMENDABLE_KINDS",
    "REFERRING_KINDS",
    "SCHEMA_VERSION",
    "AttachmentRef",
    "attachments",
    "check",
    "example",
    "references",
    "validate",
]

#: Version of the body layout; every body carries it as ``schema``.
SCHEMA_VERSION: Final = 1
#: Kinds whose ``ref`` must name an existing alert of the same channel.
REFERRING_KINDS: Final = frozenset({"feedback", "amendment", "withdrawal"})
#: Kinds an amendment may correct (``of``); amendments and withdrawals are final.
AMENDABLE_KINDS: Final = ("warning", "feedback", "seizure", "notice")

_Check = Callable[[object, str, list[Problem]], None]

_HS = re.compile(r"[0-9]{6,10}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_LOCODE = re.compile(r"[A-Z]{2}[A-Z2-9]{3}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: The control characters text may not hold (all but tab, LF, CR), as UTF-8 bytes: each
#: is one byte, and no byte of a longer UTF-8 sequence is below 0x80, so a byte of these in
#: the encoded text is exactly one of those characters (4x faster than a regular
#: expression over a 900-character text).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
#: A translation table that changes exactly the control bytes (to other bytes): the
#: encoded text comes back unchanged unless it holds one. bytes.translate without
#: deletions takes a faster path than with them (11.5k against ~5k instructions for a
#: 800-character text under callgrind), and returns the same object when nothing changed.
_MARK_CONTROL = bytes(c ^ 0x80 if c in _CONTROL_BYTES else c for c in range(256))
_MAX_NUMBER = 1e15
_MAX_KEY_IN_PATH = 64


def _key_path(path: str, key: object) -> str:
    text = key if isinstance(key, str) else repr(key)
    return path + "/" + text[:_MAX_KEY_IN_PATH].replace("~", "~0").replace("/", "~1")


# --- leaf checks ----------------------------------------------------------------------------


def _text(max_chars: int) -> _Check:
    def check(value: object, path: str, out: list[Problem]) -> None:
        if not isinstance(value, str):
            out.append((path, "must be a string"))
        elif not value.strip():
            out.append((path, "must not be empty"))
        elif len(value) > max_chars:
            out.append((path, f"must be at most {max_chars} characters"))
        elif _has_control(value):
            out.append((path, "must not contain control characters"))

    return check


def _has_control(value: str) -> bool:
    data = value.encode("utf-8", "surrogatepass")
    return data.translate(_MARK_CONTROL) != data


def _choice(table: Mapping[str, str], what: str) -> _Check:
    def check(value: object, path: str, out: list[Problem]) -> None:
        if not isinstance(value, str) or value not in table:
            out.append((path, f"must be a {what} code"))

    return check


def _transport_mode(value: object, path: str, out: list[Problem]) -> None:
    if type(value) is not int or value not in codes.TRANSPORT_MODES:
        out.append((path, "must be a UN/ECE Rec. 19 transport mode, an integer 0 to 9"))


def _bool(value: object, path: str, out: list[Problem]) -> None:
    if type(value) is not bool:
        out.append((path, "must be true or false"))


def _date(value: object, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        out.append((path, "must be a date YYYY-MM-DD"))
        return
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        out.append((path, "must be a valid calendar date"))


def _country(value: object, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str) or value not in codes.COUNTRIES:
        out.append((path, "must be an ISO 3166-1 alpha-2 country code (upper case)"))


def _currency(value: object, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str) or value not in codes.CURRENCIES:
        out.append((path, "must be an ISO 4217 currency code (upper case)"))


def _locode(value: object, path: str, out: list[Problem]) -> None:
    if (
        not isinstance(value, str)
        or not _LOCODE.fullmatch(value)
        or value[:2] not in codes.COUNTRIES
    ):
        out.append((path, "must be a UN/LOCODE (country code + 3 characters)"))


def _hs_code(value: object, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str) or not _HS.fullmatch(value):
        out.append((path, "must be an HS code of 6 to 10 digits"))


def _number(*, positive: bool) -> _Check:
    def check(value: object, path: str, out: list[Problem]) -> None:
        if type(value) not in (int, float):
            out.append((path, "must be a number"))
            return
        number: float = value  # type: ignore[assignment]
        if not math.isfinite(number) or not 0 <= number <= _MAX_NUMBER:
            out.append((path, f"must be a number from 0 to {_MAX_NUMBER:.0e}"))
        elif positive and number == 0:
            out.append((path, "must be greater than 0"))

    return check


def _alert_id(value: object, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str) or not ALERT_ID_PATTERN.fullmatch(value):
        out.append((path, "must be an alert id"))


def _sha256(value: object, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        out.append((path, "must be a SHA-256 digest, 64 lower-case hex characters"))


def _size(value: object, path: str, out: list[Problem]) -> None:
    if type(value) is not int or not 1 <= value <= MAX_ATTACHMENT_BYTES:
        out.append((path, f"must be an integer from 1 to {MAX_ATTACHMENT_BYTES}"))


def _evaluation(value: object, path: str, out: list[Problem]) -> None:
    if (
        not isinstance(value, str)
        or len(value) != 2
        or value[0] not in codes.EVALUATION_SOURCE
        or value[1] not in codes.EVALUATION_ACCURACY
    ):
        out.append((path, "must be source reliability A/B/C/X and accuracy 1-4, like B2"))


def _schema_version(value: object, path: str, out: list[Problem]) -> None:
    if type(value) is not int or value != SCHEMA_VERSION:
        out.append((path, f"must be {SCHEMA_VERSION} (the schema version)"))


def _list(item: _Check, *, min_items: int, max_items: int, unique: bool = False) -> _Check:
    def check(value: object, path: str, out: list[Problem]) -> None:
        if not isinstance(value, list | tuple):
            out.append((path, "must be a list"))
            return
        if not min_items <= len(value) <= max_items:
            out.append((path, f"must have {min_items} to {max_items} items"))
            return
        for i, element in enumerate(value):
            item(element, f"{path}/{i}", out)
        if unique:
            # strings only (what unique lists hold; other items are reported above):
            # repr() of a deeply nested item would recurse past Python's limit
            strings = [element for element in value if isinstance(element, str)]
            if len(set(strings)) != len(strings):
                out.append((path, "must not repeat an item"))

    return check


# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    check: _Check
    required: bool = False


@dataclass(frozen=True, slots=True)
class _Rule:
    """A cross-field rule, run only when the fields it ``needs`` are present and valid."""

    needs: tuple[str, ...]
    check: Callable[[Mapping[str, Any], str, list[Problem]], None]


@dataclass(frozen=True, slots=True)
class _Record:
    """A map with known fields (others refused) and cross-field rules."""

    fields: Mapping[str, _Field]
    rules: Sequence[_Rule] = field(default_factory=tuple)
    #: (name, "/" + name, check, required) of each field, in order (made once).
    _specs: tuple[tuple[str, str, _Check, bool], ...] = field(init=False, repr=False,
                                                                compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_specs", tuple(
            (name, "/" + name, spec.check, spec.required) for name, spec in self.fields.items()))

    def __call__(self, value: object, path: str, out: list[Problem]) -> None:
        if type(value) is not dict and not isinstance(value, Mapping):  # dict: no ABC check
            out.append((path, "must be a map"))
            return
        fields = self.fields
        for key in value:
            if key not in fields:
                out.append((_key_path(path, key), "unknown field"))
        valid = set()
        for name, suffix, check, required in self._specs:
            if name in value:
                before = len(out)
                check(value[name], path + suffix, out)
                if len(out) == before:
                    valid.add(name)
            elif required:
                out.append((path + suffix, "required"))
        for rule in self.rules:
            if valid.issuperset(rule.needs):
                rule.check(value, path, out)

    def extend(self, extra: Mapping[str, _Field], *rules: _Rule) -> _Record:
        return _Record({**self.fields, **extra}, (*self.rules, *rules))


def _req(check: _Check) -> _Field:
    return _Field(check, required=True)


def _opt(check: _Check) -> _Field:
    return _Field(check)


def _handling_text(body: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    restricted = body["handling"] == "H3"
    if restricted and "handling_text" not in body:
        out.append((f"{path}/handling_text", "required with handling code H3"))
    elif not restricted and "handling_text" in body:
        out.append((f"{path}/handling_text", "only allowed with handling code H3"))


def _permission(body: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    """A permission (Appendix A.9) names what it permits in ``links`` and is itself H0."""
    if "links" not in body:
        out.append((f"{path}/links", "required with permission: the alerts permitted"))
    if body["handling"] != "H0":
        out.append((f"{path}/handling", "must be H0 in a permission"))


def _ecommerce_only(body: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    if body["ecommerce"] is not True:
        for name in ("platform", "consignment", "small_consignment"):
            if name in body:
                out.append((f"{path}/{name}", "only allowed when ecommerce is true"))


def _whole_items(line: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    if line["unit"] in codes.COUNTABLE_UNITS and type(line["quantity"]) is not int:
        out.append((f"{path}/quantity", f"must be a whole number of {line['unit']}"))


def _value_with_currency(line: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    if ("value" in line) != ("currency" in line):
        missing = "currency" if "value" in line else "value"
        out.append((f"{path}/{missing}", "value and currency go together"))


def _ipr_type(line: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    if line["category"] == "ipr" and "ipr_type" not in line:
        out.append((f"{path}/ipr_type", "required for IPR-infringing goods"))


def _some_country(route: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    if not route:
        out.append((path, "must name at least one country"))


def _unique_attachments(body: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    digests = [item["sha256"] for item in body["attachments"]]
    if len(set(digests)) != len(digests):
        out.append((f"{path}/attachments", "must not repeat an attachment"))


_UNIQUE_ATTACHMENTS = _Rule(("attachments",), _unique_attachments)

_ATTACHMENT = _Record(
    {
        "sha256": _req(_sha256),
        "size": _req(_size),
        "media": _req(_choice(codes.MEDIA_TYPES, "media type (image/jpeg, image/png)")),
        "caption": _opt(_text(200)),
    }
)
_ROUTE = _Record(
    {
        "origin": _opt(_country),
        "departure": _opt(_country),
        "transit": _opt(_list(_country, min_items=1, max_items=10)),
        "destination": _opt(_country),
    },
    (_Rule((), _some_country),),
)
_CONCEALMENT = _Record(
    {"code": _req(_choice(codes.CONCEALMENT, "concealment")), "text": _opt(_text(500))}
)
_GOODS = _Record(
    {
        "category": _req(_choice(codes.CATEGORIES, "commodity category")),
        "hs_code": _req(_hs_code),
        "description": _req(_text(500)),
        "quantity": _req(_number(positive=True)),
        "unit": _req(_choice(codes.UNITS, "unit")),
        "value": _opt(_number(positive=False)),
        "currency": _opt(_currency),
        "brand": _opt(_text(100)),
        "right_holder": _opt(_text(100)),
        "ipr_type": _opt(_choice(codes.IPR_TYPES, "IPR type")),
    },
    (
        _Rule(("unit", "quantity"), _whole_items),
        _Rule((), _value_with_currency),
        _Rule(("category",), _ipr_type),
    ),
)
_LINKS = _list(_alert_id, min_items=1, max_items=MAX_LINKS, unique=True)
_ATTACHMENTS = _list(_ATTACHMENT, min_items=1, max_items=MAX_ATTACHMENTS_PER_ALERT)

_COMMON = _Record(
    {
        "schema": _req(_schema_version),
        "handling": _req(_choice(codes.HANDLING, "handling (H0-H3)")),
        "handling_text": _opt(_text(500)),
        "evaluation": _opt(_evaluation),
    },
    (_Rule(("handling",), _handling_text),),
)

_KINDS: dict[str, _Record] = {
    "warning": _COMMON.extend(
        {
            "summary": _req(_text(2000)),
            "category": _req(_choice(codes.CATEGORIES, "commodity category")),
            "indicators": _opt(_list(_text(200), min_items=1, max_items=20)),
            "transport_mode": _opt(_transport_mode),
            "conveyance": _opt(_choice(codes.CONVEYANCE, "conveyance")),
            "route": _opt(_ROUTE),
            "hs_code": _opt(_hs_code),
            "ecommerce": _opt(_bool),
            "valid_until": _opt(_date),
            "links": _opt(_LINKS),
            "attachments": _opt(_ATTACHMENTS),
        },
        _UNIQUE_ATTACHMENTS,
    ),
    "feedback": _COMMON.extend(
        {
            "ref": _req(_alert_id),
            "outcome": _req(_choice(codes.FEEDBACK_OUTCOMES, "feedback outcome")),
            "remarks": _opt(_text(2000)),
            "links": _opt(_LINKS),
            "attachments": _opt(_ATTACHMENTS),
        },
        _UNIQUE_ATTACHMENTS,
    ),
    "seizure": _COMMON.extend(
        {
            "date": _req(_date),
            "country": _req(_country),
            "place": _opt(_text(100)),
            "locode": _opt(_locode),
            "location_type": _req(_choice(codes.LOCATION_TYPES, "location type")),
            "transport_mode": _req(_transport_mode),
            "conveyance": _opt(_choice(codes.CONVEYANCE, "conveyance")),
            "detection": _req(_choice(codes.DETECTION, "detection method")),
            "concealment": _opt(_CONCEALMENT),
            "goods": _req(_list(_GOODS, min_items=1, max_items=MAX_GOODS_LINES)),
            "route": _opt(_ROUTE),
            "ecommerce": _req(_bool),
            "platform": _opt(_text(100)),
            "consignment": _opt(_choice(codes.CONSIGNMENT, "consignment type")),
            "small_consignment": _opt(_bool),
            "status": _req(_choice(codes.STATUS, "status")),
            "remarks": _opt(_text(4000)),
            "links": _opt(_LINKS),
            "attachments": _opt(_ATTACHMENTS),
        },
        _Rule(("ecommerce",), _ecommerce_only),
        _UNIQUE_ATTACHMENTS,
    ),
    "notice": _COMMON.extend(
        {
            "text": _req(_text(10_000)),
            "title": _opt(_text(200)),
            "links": _opt(_LINKS),
            "permission": _opt(_choice(codes.PERMISSIONS, "permission")),
        },
        _Rule(("permission", "handling"), _permission),
    ),
    "withdrawal": _COMMON.extend({"ref": _req(_alert_id), "reason": _req(_text(1000))}),
}


def _checked_by_rule(value: object, path: str, out: list[Problem]) -> None:
    """Placeholder: an amendment's record is checked as the kind its ``of`` names."""


def _amended_record(body: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    if "record" in body:  # a missing record is reported by its field
        _KINDS[body["of"]](body["record"], f"{path}/record", out)


_KINDS["amendment"] = _COMMON.extend(
    {
        "ref": _req(_alert_id),
        "reason": _req(_text(1000)),
        "of": _req(_choice({k: k for k in AMENDABLE_KINDS}, "amendable kind")),
        "record": _req(_checked_by_rule),
    },
    _Rule(("of",), _amended_record),
)


# --- public API -----------------------------------------------------------------------------


def check(kind: str, body: object) -> list[Problem]:
    """Every problem of ``body`` as an alert of ``kind``: ``[(path, message), ...]``."""
    record = _KINDS.get(kind)
    if record is None:
        return [("", "unknown alert kind")]
    if (type(body) is dict or isinstance(body, Mapping)) and "schema" in body:
        version: list[Problem] = []
        _schema_version(body["schema"], "/schema", version)
        if version:  # another layout: the other fields cannot be judged
            return version
    out: list[Problem] = []
    record(body, "", out)
    return out


def validate(kind: str, body: object) -> None:
    """Raise :class:`SchemaError` listing every problem, unless ``body`` is a valid ``kind``."""
    found = check(kind, body)
    if found:
        raise SchemaError(found)


def references(kind: str, body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The alert ids a *valid* body refers to, as ``(path, alert id)``: ``ref`` and
    ``links`` (also inside an amendment's ``record``)."""
    out: list[tuple[str, str]] = []
    if kind in REFERRING_KINDS:
        out.append(("/ref", body["ref"]))
    out.extend((f"/links/{i}", aid) for i, aid in enumerate(body.get("links", ())))
    if kind == "amendment":
        out.extend((f"/record{p}", aid) for p, aid in references(body["of"], body["record"]))
    return out


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """A photo referenced by a signed alert: it must be in the channel with this size/type."""

    sha256: str
    size: int
    media: str


def attachments(kind: str, body: Mapping[str, Any]) -> list[tuple[str, AttachmentRef]]:
    """The attachments a *valid* body references, as ``(path, ref)``."""
    out = [
        (f"/attachments/{i}", AttachmentRef(a["sha256"], a["size"], a["media"]))
        for i, a in enumerate(body.get("attachments", ()))
    ]
    if kind == "amendment":
        out.extend((f"/record{p}", ref) for p, ref in attachments(body["of"], body["record"]))
    return out


# --- examples (PROTOCOL.md shows these; tests build on them) -------------------------------

_SEIZURE_EXAMPLE: dict[str, Any] = {
    "schema": 1,
    "handling": "H0",
    "evaluation": "A1",
    "date": "2023-12-06",
    "country": "FR",
    "place": "Roissy-Charles de Gaulle postal centre",
    "locode": "FRCDG",
    "location_type": "postal_centre",
    "transport_mode": 4,
    "conveyance": "postal",
    "detection": "xray_scanner",
    "concealment": {"code": "misdeclared", "text": "declared as cosmetics samples"},
    "goods": [
        {
            "category": "medicines",
            "hs_code": "300490",
            "description": "sildenafil 100 mg tablets, falsified",
            "quantity": 12000,
            "unit": "tablets",
            "value": 18000,
            "currency": "EUR",
        },
        {
            "category": "ipr",
            "hs_code": "420222",
            "description": "handbags bearing a counterfeit trademark",
            "quantity": 40,
            "unit": "pcs",
            "brand": "Maison Exemple",
            "right_holder": "Exemple SA",
            "ipr_type": "trademark",
        },
    ],
    "route": {"origin": "CN", "departure": "HK", "destination": "FR"},
    "ecommerce": True,
    "platform": "online marketplace",
    "consignment": "postal",
    "small_consignment": True,
    "status": "seized",
    "remarks": "14 parcels from the same consignor address",
}

_EXAMPLES: dict[str, dict[str, Any]] = {
    "warning": {
        "schema": 1,
        "handling": "H1",
        "evaluation": "B2",
        "summary": "Small parcels declared as food supplements, shipped from CN via HK to "
        "EU postal hubs, contain falsified erectile-dysfunction tablets.",
        "category": "medicines",
        "indicators": ["declared as food supplements", "declared value under 22 EUR"],
        "transport_mode": 5,
        "conveyance": "postal",
        "route": {"origin": "CN", "transit": ["HK"], "destination": "FR"},
        "hs_code": "300490",
        "ecommerce": True,
        "valid_until": "2023-12-15",
    },
    "feedback": {
        "schema": 1,
        "handling": "H1",
        "ref": "FR-2023-W-0001",
        "outcome": "seized",
        "remarks": "3 of 40 parcels profiled with these indicators held falsified tablets",
    },
    "seizure": _SEIZURE_EXAMPLE,
    "notice": {
        "schema": 1,
        "handling": "H0",
        "title": "Day 3 briefing",
        "text": "Report seizures by 18:00 UTC. Contact point: OCU duty officer.",
    },
    "amendment": {
        "schema": 1,
        "handling": "H0",
        "ref": "FR-2023-S-0001",
        "reason": "tablets recounted",
        "of": "seizure",
        "record": {
            **_SEIZURE_EXAMPLE,
            "goods": [
                {**_SEIZURE_EXAMPLE["goods"][0], "quantity": 12500},
                _SEIZURE_EXAMPLE["goods"][1],
            ],
        },
    },
    "withdrawal": {
        "schema": 1,
        "handling": "H0",
        "ref": "FR-2023-S-0002",
        "reason": "duplicate of FR-2023-S-0001",
    },
}


def example(kind: str, **changes: Any) -> dict[str, Any]:
    """A valid body of ``kind`` (the one PROTOCOL.md shows), with top-level ``changes``
    applied; a change to ``None`` removes the field. KeyError for an unknown kind."""
    body = copy.deepcopy(_EXAMPLES[kind])
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body
