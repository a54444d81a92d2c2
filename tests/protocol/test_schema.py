"""hub.protocol.schema: every kind valid and invalid, each code list, references, round trips."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.protocol import codes, schema
from hub.protocol.envelope import Envelope, decode_envelope, encode_envelope
from hub.protocol.errors import InvalidAlert, SchemaError, error_for_code
from hub.protocol.identity import AlertId, ChannelName, PrincipalId
from hub.protocol.limits import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS_PER_ALERT,
    MAX_GOODS_LINES,
    MAX_LINKS,
)
from hub.protocol.schema import check, example, validate
from tests.protocol.schema_strategies import bodies, kinds_and_bodies

KINDS = ["warning", "feedback", "seizure", "notice", "amendment", "withdrawal"]
SHA = "ab" * 32


def problems(kind: str, body: Any) -> dict[str, str]:
    return dict(check(kind, body))


def line(**changes: Any) -> dict[str, Any]:
    goods = dict(example("seizure")["goods"][0])
    for name, value in changes.items():
        if value is None:
            goods.pop(name, None)
        else:
            goods[name] = value
    return goods


# --- every kind ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_example_is_valid(kind: str) -> None:
    assert check(kind, example(kind)) == []
    validate(kind, example(kind))


REQUIRED = {
    "warning": ["schema", "handling", "summary", "category"],
    "feedback": ["schema", "handling", "ref", "outcome"],
    "seizure": [
        "schema", "handling", "date", "country", "location_type", "transport_mode",
        "detection", "goods", "ecommerce", "status",
    ],
    "notice": ["schema", "handling", "text"],
    "amendment": ["schema", "handling", "ref", "reason", "of", "record"],
    "withdrawal": ["schema", "handling", "ref", "reason"],
}  # fmt: skip


@pytest.mark.parametrize(("kind", "field"), [(k, f) for k, fs in REQUIRED.items() for f in fs])
def test_each_mandatory_field_is_required(kind: str, field: str) -> None:
    body = example(kind, **{field: None})
    found = problems(kind, body)
    assert found[f"/{field}"] == "required"
    with pytest.raises(SchemaError) as caught:
        validate(kind, body)
    assert (f"/{field}", "required") in caught.value.problems
    assert caught.value.code == 424 and isinstance(caught.value, InvalidAlert)


def test_minimal_form_seizure() -> None:
    body = {name: example("seizure")[name] for name in REQUIRED["seizure"]}
    body["goods"] = [line(value=None, currency=None)]
    assert check("seizure", body) == []


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_fields_are_refused(kind: str) -> None:
    assert problems(kind, example(kind, surname="Doe")) == {"/surname": "unknown field"}


def test_unknown_nested_fields_and_path_escaping() -> None:
    body = example("seizure", goods=[line(**{"owner/name~x": "Doe"})])
    body["route"]["consignee"] = "Doe"
    body[b"raw"] = 1  # type: ignore[index]
    assert problems("seizure", body) == {
        "/goods/0/owner~1name~0x": "unknown field",
        "/route/consignee": "unknown field",
        "/b'raw'": "unknown field",
    }


def test_unknown_kind_and_non_map_body() -> None:
    assert check("rumour", {}) == [("", "unknown alert kind")]
    assert check("notice", ["text"]) == [("", "must be a map")]
    with pytest.raises(SchemaError) as caught:
        validate("notice", "text")
    assert caught.value.detail == "body: must be a map"
    assert SchemaError.parse(caught.value.detail) == [("", "must be a map")]


def test_schema_version() -> None:
    assert check("notice", example("notice", schema=2, text="")) == [
        ("/schema", "must be 1 (the schema version)")
    ]
    assert problems("notice", example("notice", schema=True)) == {
        "/schema": "must be 1 (the schema version)"
    }
    assert problems("notice", example("notice", schema=None))["/schema"] == "required"
    assert schema.SCHEMA_VERSION == 1


def test_every_problem_is_reported_at_once() -> None:
    body = example(
        "seizure", country="XX", date="2023-12-32", detection="dowsing", transport_mode=12
    )
    body["goods"] = [line(hs_code="3004"), line(unit="crates")]
    assert problems("seizure", body) == {
        "/country": "must be an ISO 3166-1 alpha-2 country code (upper case)",
        "/date": "must be a valid calendar date",
        "/detection": "must be a detection method code",
        "/transport_mode": "must be a UN/ECE Rec. 19 transport mode, an integer 0 to 9",
        "/goods/0/hs_code": "must be an HS code of 6 to 10 digits",
        "/goods/1/unit": "must be a unit code",
    }


# --- code lists ---------------------------------------------------------------------------

CODE_FIELDS = [
    ("seizure", "location_type", codes.LOCATION_TYPES),
    ("seizure", "conveyance", codes.CONVEYANCE),
    ("seizure", "detection", codes.DETECTION),
    ("seizure", "status", codes.STATUS),
    ("seizure", "consignment", codes.CONSIGNMENT),
    ("warning", "category", codes.CATEGORIES),
    ("feedback", "outcome", codes.FEEDBACK_OUTCOMES),
    ("notice", "handling", {"H0": "", "H1": "", "H2": ""}),
    ("amendment", "of", {"seizure": ""}),
]


@pytest.mark.parametrize(("kind", "field", "table"), CODE_FIELDS)
def test_each_code_list(kind: str, field: str, table: dict[str, str]) -> None:
    for code in table:
        assert check(kind, example(kind, **{field: code})) == [], code
    for bad in ("", "UNKNOWN", 1, None.__class__.__name__, code.upper() + "x"):
        assert f"/{field}" in problems(kind, example(kind, **{field: bad})), bad


def test_transport_modes_are_rec19_integers() -> None:
    for mode in range(10):
        assert check("seizure", example("seizure", transport_mode=mode)) == []
    for bad in (10, -1, "4", 4.0, True):
        assert "/transport_mode" in problems("seizure", example("seizure", transport_mode=bad))
    assert set(codes.TRANSPORT_MODES) == set(range(10))


@pytest.mark.parametrize(
    ("field", "table"),
    [
        ("category", codes.CATEGORIES),
        ("unit", codes.UNITS),
        ("ipr_type", codes.IPR_TYPES),
    ],
)
def test_goods_code_lists(field: str, table: dict[str, str]) -> None:
    for code in table:
        goods = {**line(quantity=3, ipr_type="trademark"), field: code}
        assert check("seizure", example("seizure", goods=[goods])) == [], code
    found = problems("seizure", example("seizure", goods=[line(**{field: "bogus"})]))
    assert f"/goods/0/{field}" in found


def test_countries_are_the_real_iso_list() -> None:
    assert len(codes.COUNTRIES) == 249
    assert {"FR", "DE", "CN", "HK", "TW", "XK"} - set(codes.COUNTRIES) == {"XK"}
    assert codes.COUNTRIES["FR"] == "France"
    for code in codes.COUNTRIES:
        assert check("seizure", example("seizure", country=code)) == [], code
    for bad in ("fr", "FRA", "XX", "UK", "EU", 250):
        assert "/country" in problems("seizure", example("seizure", country=bad))
    route = {"origin": "ZZ", "transit": ["HK", "QQ"], "destination": "fr"}
    assert problems("seizure", example("seizure", route=route)) == {
        "/route/origin": "must be an ISO 3166-1 alpha-2 country code (upper case)",
        "/route/transit/1": "must be an ISO 3166-1 alpha-2 country code (upper case)",
        "/route/destination": "must be an ISO 3166-1 alpha-2 country code (upper case)",
    }


def test_currencies_are_the_iso_4217_list() -> None:
    assert {"EUR", "USD", "CNY", "XOF", "XCG", "ZWG"} <= codes.CURRENCIES
    assert not {"HRK", "XXX", "XTS", "eur"} & codes.CURRENCIES
    for code in codes.CURRENCIES:
        assert check("seizure", example("seizure", goods=[line(currency=code)])) == []
    for bad in ("eur", "EURO", "HRK", 978):
        found = problems("seizure", example("seizure", goods=[line(currency=bad)]))
        assert found == {"/goods/0/currency": "must be an ISO 4217 currency code (upper case)"}


def test_handling_h3_requires_free_text() -> None:
    assert problems("notice", example("notice", handling="H3")) == {
        "/handling_text": "required with handling code H3"
    }
    assert check("notice", example("notice", handling="H3", handling_text="RILO only")) == []
    assert problems("notice", example("notice", handling_text="RILO only")) == {
        "/handling_text": "only allowed with handling code H3"
    }
    # a bad handling code is reported once, without guessing about handling_text
    assert problems("notice", example("notice", handling="H4", handling_text="x")) == {
        "/handling": "must be a handling (H0-H3) code"
    }


def test_evaluation_grid() -> None:
    for source in "ABCX":
        for accuracy in "1234":
            assert check("warning", example("warning", evaluation=source + accuracy)) == []
    for bad in ("D1", "A5", "A", "A12", "a1", 11):
        assert "/evaluation" in problems("warning", example("warning", evaluation=bad))


# --- field rules ------------------------------------------------------------------------------


def test_hs_codes_have_six_to_ten_digits() -> None:
    for good in ("300490", "30049000", "3004900010"):
        assert check("seizure", example("seizure", goods=[line(hs_code=good)])) == []
        assert check("warning", example("warning", hs_code=good)) == []
    for bad in ("30049", "30049000101", "3004.90", 300490, "ABCDEF"):
        found = problems("seizure", example("seizure", goods=[line(hs_code=bad)]))
        assert found == {"/goods/0/hs_code": "must be an HS code of 6 to 10 digits"}


def test_goods_lines_one_to_many() -> None:
    assert problems("seizure", example("seizure", goods=[])) == {
        "/goods": f"must have 1 to {MAX_GOODS_LINES} items"
    }
    many = [line()] * (MAX_GOODS_LINES + 1)
    assert "/goods" in problems("seizure", example("seizure", goods=many))
    assert check("seizure", example("seizure", goods=[line()] * MAX_GOODS_LINES)) == []
    assert problems("seizure", example("seizure", goods=line())) == {"/goods": "must be a list"}
    assert problems("seizure", example("seizure", goods=["tablets"])) == {
        "/goods/0": "must be a map"
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"quantity": 1.5, "unit": "tablets"},
         {"/goods/0/quantity": "must be a whole number of tablets"}),
        ({"quantity": 0}, {"/goods/0/quantity": "must be greater than 0"}),
        ({"quantity": -3}, {"/goods/0/quantity": "must be a number from 0 to 1e+15"}),
        ({"quantity": math.nan}, {"/goods/0/quantity": "must be a number from 0 to 1e+15"}),
        ({"quantity": math.inf}, {"/goods/0/quantity": "must be a number from 0 to 1e+15"}),
        ({"quantity": 1e16}, {"/goods/0/quantity": "must be a number from 0 to 1e+15"}),
        ({"quantity": True}, {"/goods/0/quantity": "must be a number"}),
        ({"quantity": "12"}, {"/goods/0/quantity": "must be a number"}),
        ({"value": -1}, {"/goods/0/value": "must be a number from 0 to 1e+15"}),
        ({"value": None}, {"/goods/0/value": "value and currency go together"}),
        ({"currency": None}, {"/goods/0/currency": "value and currency go together"}),
        ({"category": "ipr"}, {"/goods/0/ipr_type": "required for IPR-infringing goods"}),
        ({"description": ""}, {"/goods/0/description": "must not be empty"}),
    ],
)  # fmt: skip
def test_goods_line_rules(changes: dict[str, Any], expected: dict[str, str]) -> None:
    assert problems("seizure", example("seizure", goods=[line(**changes)])) == expected


def test_goods_line_accepts_weights_and_free_values() -> None:
    goods = [line(quantity=2.75, unit="kg", value=0, currency="USD"), line(value=12.5)]
    assert check("seizure", example("seizure", goods=goods)) == []


def test_ecommerce_details_only_for_ecommerce() -> None:
    assert problems("seizure", example("seizure", ecommerce=False)) == {
        "/platform": "only allowed when ecommerce is true",
        "/consignment": "only allowed when ecommerce is true",
        "/small_consignment": "only allowed when ecommerce is true",
    }
    plain = example("seizure", ecommerce=False, platform=None, consignment=None,
                    small_consignment=None)  # fmt: skip
    assert check("seizure", plain) == []
    assert problems("seizure", example("seizure", ecommerce="yes")) == {
        "/ecommerce": "must be true or false"
    }


def test_route_and_locode() -> None:
    assert problems("seizure", example("seizure", route={})) == {
        "/route": "must name at least one country"
    }
    assert problems("seizure", example("seizure", route={"transit": []})) == {
        "/route/transit": "must have 1 to 10 items"
    }
    for good in ("FRCDG", "DEHAM", "NLRTM", "GB2AB"):
        assert check("seizure", example("seizure", locode=good)) == []
    for bad in ("XXCDG", "frcdg", "FRCD", "FR CDG", "FRCD1"):
        assert "/locode" in problems("seizure", example("seizure", locode=bad))


def test_dates() -> None:
    for bad, message in [
        ("2023-02-30", "must be a valid calendar date"),
        ("2023-2-3", "must be a date YYYY-MM-DD"),
        (20231204, "must be a date YYYY-MM-DD"),
        ("04/12/2023", "must be a date YYYY-MM-DD"),
    ]:
        assert problems("seizure", example("seizure", date=bad)) == {"/date": message}
    assert problems("warning", example("warning", valid_until="2023-13-01")) == {
        "/valid_until": "must be a valid calendar date"
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must not be empty"),
        ("   \n", "must not be empty"),
        ("x" * 10_001, "must be at most 10000 characters"),
        ("bell\x07", "must not contain control characters"),
        (42, "must be a string"),
    ],
)
def test_free_text(value: object, message: str) -> None:
    assert problems("notice", example("notice", text=value)) == {"/text": message}


def test_free_text_allows_lines_and_tabs() -> None:
    assert check("notice", example("notice", text="line 1\n\tline 2\r\n")) == []


def test_links() -> None:
    assert check("seizure", example("seizure", links=["FR-W-1", "DE-W-2"])) == []
    assert problems("seizure", example("seizure", links=["FR-W-1", "FR-W-1"])) == {
        "/links": "must not repeat an item"
    }
    assert problems("notice", example("notice", links=["bad id!"])) == {
        "/links/0": "must be an alert id"
    }
    too_many = [f"A-{i}" for i in range(MAX_LINKS + 1)]
    assert "/links" in problems("warning", example("warning", links=too_many))
    assert "/links" in problems("warning", example("warning", links=[]))


def test_attachments() -> None:
    photo = {"sha256": SHA, "size": 1024, "media": "image/jpeg", "caption": "concealment"}
    assert check("seizure", example("seizure", attachments=[photo])) == []
    assert check("feedback", example("feedback", attachments=[photo])) == []
    assert problems("seizure", example("seizure", attachments=[photo, photo])) == {
        "/attachments": "must not repeat an attachment"
    }
    bad = {"sha256": SHA.upper(), "size": MAX_ATTACHMENT_BYTES + 1, "media": "image/gif"}
    assert problems("warning", example("warning", attachments=[bad])) == {
        "/attachments/0/sha256": "must be a SHA-256 digest, 64 lower-case hex characters",
        "/attachments/0/size": f"must be an integer from 1 to {MAX_ATTACHMENT_BYTES}",
        "/attachments/0/media": "must be a media type (image/jpeg, image/png) code",
    }
    assert "/attachments/0/size" in problems(
        "warning", example("warning", attachments=[{**photo, "size": 0}])
    )
    many = [{**photo, "sha256": f"{i:064x}"} for i in range(MAX_ATTACHMENTS_PER_ALERT + 1)]
    assert "/attachments" in problems("seizure", example("seizure", attachments=many))
    assert "/attachments" in problems("notice", example("notice", attachments=[photo]))


def test_concealment() -> None:
    assert check("seizure", example("seizure", concealment={"code": "luggage"})) == []
    assert problems("seizure", example("seizure", concealment={"text": "x"})) == {
        "/concealment/code": "required"
    }


# --- amendments ----------------------------------------------------------------------------


def test_amendment_record_is_checked_as_its_kind() -> None:
    record = example("seizure", date="2023-12-40")
    assert problems("amendment", example("amendment", record=record)) == {
        "/record/date": "must be a valid calendar date"
    }
    notice = example("amendment", of="notice", record=example("notice"))
    assert check("amendment", notice) == []
    wrong = example("amendment", of="notice")  # a seizure record is not a notice
    assert "/record/goods" in problems("amendment", wrong)
    assert problems("amendment", example("amendment", of="withdrawal")) == {
        "/of": "must be a amendable kind code"
    }
    assert problems("amendment", example("amendment", record="x")) == {
        "/record": "must be a map"
    }


# --- references -----------------------------------------------------------------------------


def test_references_and_attachments_are_listed() -> None:
    photo = {"sha256": SHA, "size": 10, "media": "image/png"}
    seizure = example("seizure", links=["W-1", "F-2"], attachments=[photo])
    assert schema.references("seizure", seizure) == [("/links/0", "W-1"), ("/links/1", "F-2")]
    assert schema.attachments("seizure", seizure) == [
        ("/attachments/0", schema.AttachmentRef(SHA, 10, "image/png"))
    ]
    assert schema.references("feedback", example("feedback", ref="W-1")) == [("/ref", "W-1")]
    assert schema.references("withdrawal", example("withdrawal", ref="S-9")) == [("/ref", "S-9")]
    amendment = example("amendment", ref="S-1", record=seizure)
    assert schema.references("amendment", amendment) == [
        ("/ref", "S-1"),
        ("/record/links/0", "W-1"),
        ("/record/links/1", "F-2"),
    ]
    assert schema.attachments("amendment", amendment) == [
        ("/record/attachments/0", schema.AttachmentRef(SHA, 10, "image/png"))
    ]
    assert schema.references("notice", example("notice")) == []
    assert schema.attachments("notice", example("notice")) == []
    assert {"feedback", "amendment", "withdrawal"} == schema.REFERRING_KINDS


# --- errors on the wire -------------------------------------------------------------------------


def test_schema_error_detail_round_trips_and_is_bounded() -> None:
    body = example("seizure", goods=[line(hs_code="1")] * 30)
    with pytest.raises(SchemaError) as caught:
        validate("seizure", body)
    err = caught.value
    assert len(err.problems) == 30
    assert err.detail.endswith("; ... 10 more")
    assert SchemaError.parse(err.detail) == list(err.problems[:20])
    assert str(err) == err.detail
    assert SchemaError.parse("no structure here; /x: ok; y: not a path") == [("/x", "ok")]
    # what a client makes of the hub's err frame
    received = error_for_code(424, err.detail)
    assert isinstance(received, SchemaError) and received.detail == err.detail
    assert received.problems == err.problems[:20]
    plain = error_for_code(424, "alert is not msgpack")
    assert type(plain) is InvalidAlert


def test_example_changes() -> None:
    assert "title" not in example("notice", title=None)
    assert example("notice", text="hi")["text"] == "hi"
    a = example("seizure")
    a["goods"][0]["quantity"] = 1
    assert example("seizure")["goods"][0]["quantity"] == 12000  # deep copies
    with pytest.raises(KeyError):
        example("rumour")


# --- property-based round trips -----------------------------------------------------------------


def _envelope(kind: str, body: dict[str, Any]) -> Envelope:
    return Envelope(
        id=AlertId("A-1"), channel=ChannelName("stop-iii"), sender=PrincipalId("fr/ops"),
        kid="0" * 64, ts=1_701_648_000_000, kind=kind, body=body,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(kinds_and_bodies)
def test_valid_bodies_survive_the_wire(kind_body: tuple[str, dict[str, Any]]) -> None:
    kind, body = kind_body
    assert check(kind, body) == []
    decoded = decode_envelope(encode_envelope(_envelope(kind, body)))
    assert decoded.body == body
    assert check(kind, decoded.body) == []
    again = msgpack.unpackb(msgpack.packb(body, use_bin_type=True), raw=False)
    assert again == body


@settings(max_examples=100, deadline=None)
@given(bodies("seizure"))
def test_seizures_survive_json(body: dict[str, Any]) -> None:
    """The CLI reads JSON lines: a valid seizure is still valid after JSON."""
    assert check("seizure", json.loads(json.dumps(body))) == []


@settings(max_examples=200, deadline=None)
@given(kinds_and_bodies)
def test_one_unknown_field_is_always_named(kind_body: tuple[str, dict[str, Any]]) -> None:
    kind, body = kind_body
    assert check(kind, {**body, "zz_extra": 1}) == [("/zz_extra", "unknown field")]


def test_protocol_md_examples_are_valid() -> None:
    """PROTOCOL.md Appendix A shows one valid body of each kind, in this order."""
    import re
    from pathlib import Path

    text = Path(__file__).resolve().parents[2].joinpath("PROTOCOL.md").read_text()
    appendix = text[text.index("## Appendix A.") :]
    blocks = re.findall(r"```json\n(.*?)\n```", appendix, re.S)
    assert len(blocks) == len(KINDS)
    for kind, block in zip(
        ["warning", "feedback", "seizure", "notice", "amendment", "withdrawal"], blocks, strict=True
    ):
        validate(kind, json.loads(block))


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@given(st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF),
               max_size=40))
def test_control_characters_are_found_exactly_as_by_the_character_class(text: str) -> None:
    """The byte-marking check finds the control characters the §A.1 class names (all
    below 0x20 but tab, LF and CR, and 0x7F), whatever else the text holds (non-ASCII,
    C1 controls, lone surrogates)."""
    assert schema._has_control(text) == bool(_CONTROL_RE.search(text))


@pytest.mark.parametrize("text", ["\x00", "a\x1fb", "\x7f", "é\x01", "\u20ac\x0b"])
def test_text_with_a_control_character_is_refused(text: str) -> None:
    problems = schema.check("notice", {"schema": 1, "handling": "H0", "text": "ok " + text})
    assert problems == [("/text", "must not contain control characters")]


@pytest.mark.parametrize("text", ["a\tb", "a\nb\r\n", "\x85 \u2028 \ud800 é"])
def test_tab_newlines_and_other_characters_are_allowed(text: str) -> None:
    assert schema.check("notice", {"schema": 1, "handling": "H0", "text": text}) == []
