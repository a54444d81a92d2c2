"""Hypothesis strategies that generate *valid* alert bodies of every kind."""

from __future__ import annotations

import datetime
from typing import Any

from hypothesis import strategies as st

from hub.protocol import codes
from hub.protocol.limits import MAX_ATTACHMENT_BYTES

__all__ = ["alert_ids", "bodies", "kinds_and_bodies"]

_COUNTRIES = sorted(codes.COUNTRIES)
_CURRENCIES = sorted(codes.CURRENCIES)

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda t: bool(t.strip()))
alert_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True)
countries = st.sampled_from(_COUNTRIES)
dates = st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)).map(str)
sha256 = st.binary(min_size=32, max_size=32).map(bytes.hex)


def _code(table: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(sorted(table))


@st.composite
def _record(draw: st.DrawFn, required: dict[str, Any], optional: dict[str, Any]) -> dict[str, Any]:
    body = {name: draw(strategy) for name, strategy in required.items()}
    for name, strategy in optional.items():
        if draw(st.booleans()):
            body[name] = draw(strategy)
    return body


@st.composite
def _common(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {"schema": 1, "handling": draw(_code(codes.HANDLING))}
    if body["handling"] == "H3":
        body["handling_text"] = draw(text)
    if draw(st.booleans()):
        body["evaluation"] = draw(_code(codes.EVALUATION_SOURCE)) + draw(
            _code(codes.EVALUATION_ACCURACY)
        )
    return body


routes = _record(
    {"origin": countries},
    {
        "departure": countries,
        "transit": st.lists(countries, min_size=1, max_size=3),
        "destination": countries,
    },
)
attachment_lists = st.lists(
    _record(
        {
            "sha256": sha256,
            "size": st.integers(1, MAX_ATTACHMENT_BYTES),
            "media": _code(codes.MEDIA_TYPES),
        },
        {"caption": text},
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda a: a["sha256"],
)
links = st.lists(alert_ids, min_size=1, max_size=3, unique=True)


@st.composite
def goods_lines(draw: st.DrawFn) -> dict[str, Any]:
    unit = draw(_code(codes.UNITS))
    if unit in codes.COUNTABLE_UNITS:
        quantity: Any = draw(st.integers(1, 10**9))
    else:
        quantity = draw(st.floats(0.001, 1e6, allow_nan=False, allow_infinity=False))
    line = draw(
        _record(
            {
                "category": _code(codes.CATEGORIES),
                "hs_code": st.from_regex(r"[0-9]{6,10}", fullmatch=True),
                "description": text,
            },
            {"brand": text, "right_holder": text},
        )
    )
    line.update(quantity=quantity, unit=unit)
    if draw(st.booleans()):
        line["value"] = draw(st.integers(0, 10**9) | st.floats(0, 1e9, allow_nan=False))
        line["currency"] = draw(st.sampled_from(_CURRENCIES))
    if line["category"] == "ipr" or draw(st.booleans()):
        line["ipr_type"] = draw(_code(codes.IPR_TYPES))
    return line


@st.composite
def _seizure(draw: st.DrawFn) -> dict[str, Any]:
    body = draw(_common())
    body.update(
        draw(
            _record(
                {
                    "date": dates,
                    "country": countries,
                    "location_type": _code(codes.LOCATION_TYPES),
                    "transport_mode": _code(codes.TRANSPORT_MODES),
                    "detection": _code(codes.DETECTION),
                    "goods": st.lists(goods_lines(), min_size=1, max_size=4),
                    "ecommerce": st.booleans(),
                    "status": _code(codes.STATUS),
                },
                {
                    "place": text,
                    "locode": countries.map(lambda c: c + "ABC"),
                    "conveyance": _code(codes.CONVEYANCE),
                    "concealment": _record(
                        {"code": _code(codes.CONCEALMENT)}, {"text": text}
                    ),
                    "route": routes,
                    "remarks": text,
                    "links": links,
                    "attachments": attachment_lists,
                },
            )
        )
    )
    if body["ecommerce"]:
        body.update(
            draw(
                _record(
                    {},
                    {
                        "platform": text,
                        "consignment": _code(codes.CONSIGNMENT),
                        "small_consignment": st.booleans(),
                    },
                )
            )
        )
    return body


@st.composite
def _with_common(draw: st.DrawFn, fields: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    body = draw(_common())
    body.update(draw(fields))
    return body


_WARNING = _with_common(
    _record(
        {"summary": text, "category": _code(codes.CATEGORIES)},
        {
            "indicators": st.lists(text, min_size=1, max_size=3),
            "transport_mode": _code(codes.TRANSPORT_MODES),
            "conveyance": _code(codes.CONVEYANCE),
            "route": routes,
            "hs_code": st.from_regex(r"[0-9]{6,10}", fullmatch=True),
            "ecommerce": st.booleans(),
            "valid_until": dates,
            "links": links,
            "attachments": attachment_lists,
        },
    )
)
_FEEDBACK = _with_common(
    _record(
        {"ref": alert_ids, "outcome": _code(codes.FEEDBACK_OUTCOMES)},
        {"remarks": text, "links": links, "attachments": attachment_lists},
    )
)
_NOTICE = _with_common(_record({"text": text}, {"title": text, "links": links}))
_WITHDRAWAL = _with_common(_record({"ref": alert_ids, "reason": text}, {}))

_BY_KIND: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "warning": _WARNING,
    "feedback": _FEEDBACK,
    "seizure": _seizure(),
    "notice": _NOTICE,
    "withdrawal": _WITHDRAWAL,
}


@st.composite
def _amendment(draw: st.DrawFn) -> dict[str, Any]:
    of = draw(st.sampled_from(["warning", "feedback", "seizure", "notice"]))
    body = draw(_with_common(_record({"ref": alert_ids, "reason": text}, {})))
    body.update(of=of, record=draw(_BY_KIND[of]))
    return body


_BY_KIND["amendment"] = _amendment()


def bodies(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """Valid bodies of ``kind``."""
    return _BY_KIND[kind]


kinds_and_bodies = st.sampled_from(sorted(_BY_KIND)).flatmap(
    lambda kind: st.tuples(st.just(kind), _BY_KIND[kind])
)
