"""Codec: round-trips, every refusal, and fuzzed decoders that raise only documented errors."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.errors import (
    FrameTooLarge,
    InvalidFrame,
    MalformedFrame,
    ProtocolError,
    UnknownFrameType,
)
from hub.protocol.limits import DIRECTORY_MAX_KEYS, MAX_ALERT_BYTES, MAX_FRAME_BYTES

KID = "ab" * 32

CLIENT_FRAMES = [
    f.Publish(rid=1, ch="stop-iii", alert=b"\x81\xa1a\x01", sig=b"s" * 64),
    f.Subscribe(rid=2, ch="stop-iii"),
    f.Subscribe(rid=3, ch="stop-iii", since=10, epoch="e" * 32),
    f.Unsubscribe(rid=4, ch="op.pangea_17"),
    f.HistoryRequest(rid=5, ch="stop-iii"),
    f.HistoryRequest(rid=6, ch="stop-iii", before=100, limit=50),
    f.DirectoryRequest(rid=7, kids=(KID, "cd" * 32)),
    f.ChannelsRequest(rid=8),
    f.AdminRequest(rid=9, op="channel.create", args={"name": "x", "n": 1}),
    f.AdminRequest(rid=10, op="member.list"),
    f.PublishBatch(rid=11, ch="stop-iii", items=(f.SignedItem(b"\x81\xa1a\x01", b"s" * 64),
                                                 f.SignedItem(b"a", b""))),
]

SERVER_FRAMES = [
    f.Welcome(principal="fr/ops", member="fr", admin=False, server="cordon", time=1,
              limits={"max_frame_bytes": 5}),
    f.Welcome(principal="admin/root", member=None, admin=True, server="cordon", time=1,
              limits={}),
    f.Ack(rid=1, ch="c", off=3, epoch="e", dup=False),
    f.Acks(rid=1, ch="c", items=(f.ItemAck(3, "e", False), f.ItemAck(3, "e", True),
                                 f.ItemError(422, "bad signature", "x"))),
    f.Subscribed(rid=2, ch="c", epoch="e", first=1, head=9),
    f.AlertFrame(ch="c", off=4, alert=b"a", sig=b"s"),
    f.AlertBatch(ch="c", items=(f.PageItem(4, b"a", b"s"), f.PageItem(5, b"b", b"t"))),
    f.AlertBatch(ch="c", items=(f.PageItem(7, b"a", b"s"),)),
    f.Synced(ch="c", off=9),
    f.Unsubscribed(rid=3, ch="c"),
    f.Ended(ch="c", code=404, msg="gone"),
    f.HistoryPage(rid=4, ch="c", epoch="e", items=(f.PageItem(1, b"a", b"s"),), more=True),
    f.HistoryPage(rid=5, ch="c", epoch="e", items=(), more=False),
    f.Directory(rid=6, certs={KID: b"der"}),
    f.ChannelsResult(rid=7, chans=(f.ChannelInfo("c", "t", "reader", "open", 3, "e"),)),
    f.AdminResult(rid=8, result={"ok": True}),
    f.ErrorFrame(rid=None, code=400, msg="malformed frame"),
    f.ErrorFrame(rid=9, code=404, msg="no such channel", detail="x"),
]


@pytest.mark.parametrize("frame", CLIENT_FRAMES, ids=lambda fr: fr.TYPE)
def test_client_frames_round_trip(frame):
    assert codec.decode_client(codec.encode(frame)) == frame


@pytest.mark.parametrize("frame", SERVER_FRAMES, ids=lambda fr: fr.TYPE)
def test_server_frames_round_trip(frame):
    assert codec.decode_server(codec.encode(frame)) == frame


def pack(obj) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def test_garbage_bytes_are_malformed():
    with pytest.raises(MalformedFrame):
        codec.decode_client(b"\xc1\xc1\xc1")


def test_truncated_msgpack_is_malformed():
    data = codec.encode(CLIENT_FRAMES[0])
    with pytest.raises(MalformedFrame):
        codec.decode_client(data[:-5])


def test_trailing_bytes_are_malformed():
    with pytest.raises(MalformedFrame):
        codec.decode_client(codec.encode(CLIENT_FRAMES[1]) + b"\x00")


def test_text_frames_are_refused():
    with pytest.raises(InvalidFrame, match="binary"):
        codec.decode_client("hello")  # type: ignore[arg-type]


def test_oversized_frame_is_refused_before_unpacking():
    with pytest.raises(FrameTooLarge):
        codec.decode_client(b"\x00" * (MAX_FRAME_BYTES + 1))


def test_oversized_alert_is_refused():
    frame = {"t": "pub", "rid": 1, "ch": "c", "alert": b"x" * (MAX_ALERT_BYTES + 1),
             "sig": b"s"}
    with pytest.raises(FrameTooLarge):
        codec.decode_client(pack(frame))


def test_non_map_frame():
    with pytest.raises(InvalidFrame, match="map"):
        codec.decode_client(pack([1, 2]))


def test_missing_type():
    with pytest.raises(InvalidFrame, match="type"):
        codec.decode_client(pack({"rid": 1}))


def test_unknown_type():
    with pytest.raises(UnknownFrameType):
        codec.decode_client(pack({"t": "teleport", "rid": 1}))


def test_server_frame_type_not_accepted_from_client():
    with pytest.raises(UnknownFrameType):
        codec.decode_client(codec.encode(SERVER_FRAMES[2]))


def test_unknown_field():
    with pytest.raises(InvalidFrame, match="unknown field: zzz"):
        codec.decode_client(pack({"t": "chans", "rid": 1, "zzz": 1}))


def test_missing_field():
    with pytest.raises(InvalidFrame, match="missing field: ch"):
        codec.decode_client(pack({"t": "sub", "rid": 1}))


def test_non_string_map_keys_are_invalid_and_keep_the_rid():
    with pytest.raises(InvalidFrame, match="map keys must be strings") as info:
        codec.decode_client(pack({1: 2, "t": "chans", "rid": 4}))
    assert info.value.rid == 4


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        ({"t": "chans", "rid": -1}, "rid: expected an unsigned integer"),
        ({"t": "chans", "rid": True}, "rid"),
        ({"t": "chans", "rid": "1"}, "rid"),
        ({"t": "sub", "rid": 1, "ch": "Bad Name"}, "ch: invalid channel name"),
        ({"t": "sub", "rid": 1, "ch": "c", "since": -3}, "since"),
        ({"t": "sub", "rid": 1, "ch": "c", "epoch": 5}, "epoch: expected a string"),
        ({"t": "sub", "rid": 1, "ch": "c", "epoch": "x" * 5000}, "epoch"),
        ({"t": "pub", "rid": 1, "ch": "c", "alert": "text", "sig": b""}, "alert: expected binary"),
        ({"t": "dir", "rid": 1, "kids": "ab"}, "kids: expected a list"),
        ({"t": "dir", "rid": 1, "kids": ["AB" * 32]}, "key id"),
        ({"t": "dir", "rid": 1, "kids": [KID] * (DIRECTORY_MAX_KEYS + 1)}, "kids"),
        ({"t": "adm", "rid": 1, "op": "x", "args": [1]}, "args: expected a map"),
    ],
)
def test_wrong_types_are_invalid(frame, match):
    with pytest.raises(InvalidFrame, match=match):
        codec.decode_client(pack(frame))


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        ({"t": "welcome", "principal": "p", "member": None, "admin": 1, "server": "s",
          "time": 1, "limits": {}}, "admin: expected a boolean"),
        ({"t": "welcome", "principal": "p", "member": None, "admin": True, "server": "s",
          "time": 1, "limits": {"a": "b"}}, "limits: expected an integer"),
        ({"t": "page", "rid": 1, "ch": "c", "epoch": "e", "items": {}, "more": False},
         "items: expected a list"),
        ({"t": "page", "rid": 1, "ch": "c", "epoch": "e", "items": [[1, b"a"]], "more": False},
         r"items: expected \[off, alert, sig\]"),
        ({"t": "page", "rid": 1, "ch": "c", "epoch": "e", "items": [7], "more": False},
         "items"),
        ({"t": "chanlist", "rid": 1, "chans": {}}, "chans: expected a list"),
        ({"t": "chanlist", "rid": 1, "chans": [{"ch": "c"}]}, "missing field: title"),
        ({"t": "dirok", "rid": 1, "certs": {"nothex": b"x"}}, "key id"),
        ({"t": "dirok", "rid": 1, "certs": {KID: "x"}}, "expected binary"),
        ({"t": "alerts", "ch": "c", "items": []}, "items: expected at least one item"),
        ({"t": "alerts", "ch": "c", "items": [[1, b"a", b"s"], [3, b"a", b"s"]]},
         "items: expected ascending, contiguous offsets"),
        ({"t": "alerts", "ch": "c", "items": [[2, b"a", b"s"], [1, b"a", b"s"]]},
         "contiguous"),
        ({"t": "alerts", "ch": "c", "items": [[1, b"a", b"s"], [1, b"a", b"s"]]},
         "contiguous"),
        ({"t": "alerts", "ch": "c", "items": [[1, "a", b"s"]]}, "expected binary"),
        ({"t": "alerts", "ch": "c"}, "missing field: items"),
    ],
)
def test_server_frames_wrong_types(frame, match):
    with pytest.raises(InvalidFrame, match=match):
        codec.decode_server(pack(frame))


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        ({"t": "pubs", "rid": 1, "ch": "c", "items": []}, "items: expected a list"),
        ({"t": "pubs", "rid": 1, "ch": "c", "items": {}}, "items: expected a list"),
        ({"t": "pubs", "rid": 1, "ch": "c", "items": [b"a"]}, r"expected \[alert, sig\]"),
        ({"t": "pubs", "rid": 1, "ch": "c", "items": [[b"a"]]}, r"expected \[alert, sig\]"),
        ({"t": "pubs", "rid": 1, "ch": "c", "items": [["a", b"s"]]}, "two binary values"),
        ({"t": "pubs", "rid": 1, "ch": "c", "items": [[b"a", None]]}, "two binary values"),
        ({"t": "pubs", "rid": 1, "ch": "C", "items": [[b"a", b"s"]]}, "ch"),
    ],
)
def test_publish_batch_refusals(frame, match):
    with pytest.raises(InvalidFrame, match=match) as err:
        codec.decode_client(pack(frame))
    assert err.value.rid == 1


def test_publish_batch_over_the_item_limit_is_413_with_its_rid():
    from hub.protocol.limits import MAX_PUB_ITEMS

    items = [[b"a", b"s"]] * (MAX_PUB_ITEMS + 1)
    with pytest.raises(FrameTooLarge) as err:
        codec.decode_client(pack({"t": "pubs", "rid": 7, "ch": "c", "items": items}))
    assert err.value.rid == 7
    frame = codec.decode_client(pack({"t": "pubs", "rid": 7, "ch": "c",
                                      "items": items[:MAX_PUB_ITEMS]}))
    assert isinstance(frame, f.PublishBatch) and len(frame.items) == MAX_PUB_ITEMS


@pytest.mark.parametrize(
    ("items", "match"),
    [
        ([], "expected a list of results"),
        ("x", "expected a list of results"),
        ([[1]], "expected a map"),
        ([{"off": 1, "epoch": "e"}], "fields of an ack or of an err"),
        ([{"off": 1, "epoch": "e", "dup": False, "code": 1}], "fields of an ack or of an err"),
        ([{"code": 1}], "fields of an ack or of an err"),
        ([{"code": 1, "msg": "m", "x": 1}], "fields of an ack or of an err"),
        ([{"off": -1, "epoch": "e", "dup": False}], "unsigned"),
        ([{"off": 1, "epoch": "e", "dup": 0}], "boolean"),
        ([{"code": "x", "msg": "m"}], "unsigned"),
    ],
)
def test_acks_refusals(items, match):
    with pytest.raises(InvalidFrame, match=match):
        codec.decode_server(pack({"t": "acks", "rid": 1, "ch": "c", "items": items}))


def test_acks_item_error_detail_is_optional():
    frame = codec.decode_server(pack({"t": "acks", "rid": 1, "ch": "c",
                                      "items": [{"code": 429, "msg": "rate limited"}]}))
    assert frame == f.Acks(rid=1, ch="c", items=(f.ItemError(429, "rate limited", ""),))



_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False), st.text(max_size=20), st.binary(max_size=40),
)
_values = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
_frame_like = st.fixed_dictionaries(
    {"t": st.sampled_from(["pub", "sub", "unsub", "hist", "dir", "chans", "adm", "ack", "alert",
                           "alerts", "x"])},
    optional=dict.fromkeys(
        ("rid", "ch", "alert", "sig", "since", "epoch", "before", "limit", "kids", "op", "args",
         "off", "items", "extra"),
        _values,
    ),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes_raise_only_protocol_errors(data):
    for decode in (codec.decode_client, codec.decode_server):
        try:
            decode(data)
        except ProtocolError:
            pass


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(_frame_like)
def test_fuzz_frame_shaped_maps_raise_only_protocol_errors(obj):
    data = pack(obj)
    for decode in (codec.decode_client, codec.decode_server):
        try:
            frame = decode(data)
        except ProtocolError:
            continue
        assert decode(codec.encode(frame)) == frame


@given(
    rid=st.integers(min_value=0, max_value=2**63 - 1),
    alert=st.binary(max_size=200),
    sig=st.binary(min_size=64, max_size=64),
    ch=st.from_regex(r"[a-z0-9][a-z0-9._-]{0,10}[a-z0-9]", fullmatch=True),
)
def test_publish_round_trip_property(rid, alert, sig, ch):
    frame = f.Publish(rid=rid, ch=ch, alert=alert, sig=sig)
    assert codec.decode_client(codec.encode(frame)) == frame


def test_refusals_carry_the_request_id_when_readable():
    with pytest.raises(InvalidFrame) as info:
        codec.decode_client(pack({"t": "sub", "rid": 7, "ch": "BAD"}))
    assert info.value.rid == 7
    with pytest.raises(UnknownFrameType) as unknown:
        codec.decode_client(pack({"t": "zap", "rid": 8}))
    assert unknown.value.rid == 8
    for rid in (-1, "9", True, None):
        with pytest.raises(InvalidFrame) as no_rid:
            codec.decode_client(pack({"t": "sub", "rid": rid}))
        assert no_rid.value.rid is None


def _stored(off: int, n: int = 1) -> f.PageItem:
    return f.PageItem(off, b"alert-%d" % off * n, b"s" * 64)


def test_encode_alerts_one_item_is_an_alert_frame():
    data = codec.encode_alerts("c", [_stored(4)])
    assert data == codec.encode(f.AlertFrame(ch="c", off=4, alert=b"alert-4", sig=b"s" * 64))
    assert codec.decode_server(data) == f.AlertFrame("c", 4, b"alert-4", b"s" * 64)


def test_encode_alerts_several_is_one_batch_frame():
    items = [_stored(off) for off in range(7, 12)]
    data = codec.encode_alerts("c", items)
    batch = f.AlertBatch(ch="c", items=tuple(items))
    assert data == codec.encode(batch)
    assert codec.decode_server(data) == batch


def test_encode_alert_items_is_encode_alerts_of_the_same_alerts():
    for offs in ([4], range(7, 12)):
        stored = [_stored(off) for off in offs]
        items = [(i.off, i.alert, i.sig) for i in stored]
        assert codec.encode_alert_items("c", items) == codec.encode_alerts("c", stored)


def test_encode_acks_is_encode_of_the_same_acks():
    errors = (f.ItemError(429, "rate limited", ""), f.ItemError(422, "bad signature", "why"))
    cases: list[list[tuple[int, str, bool] | f.ItemError]] = [
        [(3, "e", False)], [(3, "e", False), errors[0], (2**40, "", True), errors[1]],
        list(errors)]
    for items in cases:
        frame = f.Acks(rid=7, ch="c", items=tuple(
            f.ItemAck(*item) if isinstance(item, tuple) else item for item in items))
        data = codec.encode_acks(7, "c", items)
        assert data == codec.encode(frame)
        assert codec.decode_server(data) == frame


def test_batch_stands_for_its_alert_frames():
    batch = f.AlertBatch(ch="c", items=(_stored(1), _stored(2)))
    assert batch.frames() == (f.AlertFrame("c", 1, b"alert-1", b"s" * 64),
                              f.AlertFrame("c", 2, b"alert-2", b"s" * 64))


@given(first=st.integers(min_value=0, max_value=2**40), n=st.integers(min_value=1, max_value=40),
       size=st.integers(min_value=0, max_value=50))
def test_alerts_round_trip_property(first, n, size):
    items = [f.PageItem(off, bytes([off % 256]) * size, b"s" * 64)
             for off in range(first, first + n)]
    frame = codec.decode_server(codec.encode_alerts("ch-1", items))
    expected = f.AlertBatch("ch-1", tuple(items)).frames()
    assert (frame.frames() if isinstance(frame, f.AlertBatch) else (frame,)) == expected
