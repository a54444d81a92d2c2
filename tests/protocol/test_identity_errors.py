from __future__ import annotations

import pytest

from hub.protocol import errors
from hub.protocol.errors import CordonError, InvalidFrame, error_for_code
from hub.protocol.identity import (
    Identity,
    check_alert_id,
    check_channel,
    check_name,
    identity_from_uri,
    principal_id,
    split_principal,
)


@pytest.mark.parametrize("name", ["fr", "us-cbp", "a", "x" * 32, "0a9"])
def test_valid_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "-fr", "fr-", "FR", "f_r", "x" * 33, "fr/ops", 5, None])
def test_invalid_names(name):
    with pytest.raises(InvalidFrame, match="invalid name"):
        check_name(name)


def test_channel_and_alert_id_patterns():
    assert check_channel("stop-iii.2023_dec") == "stop-iii.2023_dec"
    assert check_alert_id("FR:2023-12-04:0001") == "FR:2023-12-04:0001"
    for bad in ("", ".x", "x" * 65, "UPPER", "a b"):
        with pytest.raises(InvalidFrame):
            check_channel(bad)
    for bad in ("", ":x", "x" * 65, "a b", "é"):
        with pytest.raises(InvalidFrame):
            check_alert_id(bad)


def test_principal_ids():
    assert principal_id("fr", "ops") == "fr/ops"
    assert split_principal("fr/ops") == ("fr", "ops")
    with pytest.raises(InvalidFrame, match="reserved"):
        principal_id("admin", "x")
    for bad in ("frops", "fr/ops/x", 3, "fr/", "/ops"):
        with pytest.raises(InvalidFrame):
            split_principal(bad)


def test_identity_uris_round_trip():
    member = Identity.for_member("fr", "ops")
    admin = Identity.for_admin("alice")
    assert member.uri == "urn:cordon:principal:fr/ops"
    assert admin.uri == "urn:cordon:admin:alice"
    assert admin.principal == "admin/alice" and admin.member is None and admin.admin
    assert identity_from_uri(member.uri) == member
    assert identity_from_uri(admin.uri) == admin
    for bad in ("urn:cordon:other:x", "https://fr/ops", "urn:cordon:principal:FR/ops",
                "urn:cordon:admin:"):
        with pytest.raises(InvalidFrame):
            identity_from_uri(bad)


def test_every_error_has_a_distinct_code_and_maps_back():
    classes = [getattr(errors, n) for n in errors.__all__]
    classes = [c for c in classes if isinstance(c, type) and issubclass(c, CordonError)]
    leaves = [c for c in classes if c not in (CordonError, errors.ProtocolError,
                                              errors.AlertRejected,
                                              errors.SchemaError)]  # refines 424
    codes = [c.code for c in leaves]
    assert len(codes) == len(set(codes))
    for cls in leaves:
        err = error_for_code(cls.code, "d")
        assert type(err) is cls and err.detail == "d" and str(err) == "d"
    unknown = error_for_code(999)
    assert type(unknown) is CordonError and str(unknown) == "internal error"


def test_close_codes_are_in_the_documented_ranges():
    for code in errors.CloseCode:
        assert code < 1012 or 4000 <= code < 5000


def test_cordon_uris_prefix_is_case_insensitive():
    from hub.protocol.identity import cordon_uris

    uris = ["urn:cordon:principal:fr/ops", "URN:Cordon:admin:x", "https://example.org", "urn:x"]
    assert cordon_uris(uris) == uris[:2]
