"""One encoding, one meaning: the canonical alert (PROTOCOL.md §4) and strict frame maps (§6).

Each case writes the attack byte by byte (tests.protocol.wirebytes) and checks the
documented refusal: 424 for an alert, 401 for a frame with its ``rid`` when readable.
"""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from hub.protocol import codec, schema
from hub.protocol import frames as f
from hub.protocol.envelope import Envelope, decode_envelope, encode_envelope
from hub.protocol.errors import InvalidAlert, InvalidFrame, MalformedFrame
from hub.protocol.identity import AlertId, ChannelName, PrincipalId
from hub.protocol.limits import MAX_NESTING
from tests.protocol.wirebytes import F32, Arr, Bin, Ext, Int, Pairs, Str, nodes, write

KID = "ab" * 32


def envelope(**changes: Any) -> Envelope:
    values: dict[str, Any] = {
        "id": AlertId("FR-0001"), "channel": ChannelName("stop-iii"),
        "sender": PrincipalId("fr/ops"), "kid": KID, "ts": 1_701_648_000_000,
        "kind": "seizure", "body": schema.example("seizure"),
    }
    values.update(changes)
    return Envelope(**values)


def tree(**changes: Any) -> Pairs:
    """The canonical envelope as nodes, to be changed by a test."""
    node = nodes(msgpack.unpackb(encode_envelope(envelope(**changes))))
    assert isinstance(node, Pairs)
    return node


def at(node: Pairs, key: str) -> Any:
    (value,) = [v for k, v in node.items if k == key]
    return value


def refused(data: bytes, match: str) -> None:
    with pytest.raises(InvalidAlert, match=match) as info:
        decode_envelope(data)
    assert info.value.code == 424


# --- the encoder writes the canonical form -------------------------------------------------


def test_encoder_sorts_every_map_and_round_trips_byte_for_byte() -> None:
    body = {"text": "t", "schema": 1, "handling": "H0", "links": ("b", "a")}
    data = encode_envelope(envelope(kind="notice", body=body))
    obj = msgpack.unpackb(data)
    assert list(obj) == ["body", "ch", "from", "id", "kid", "kind", "ts", "v"]
    assert list(obj["body"]) == ["handling", "links", "schema", "text"]
    assert obj["body"]["links"] == ["b", "a"]  # arrays keep their order
    decoded = decode_envelope(data)
    assert encode_envelope(decoded) == data
    # nested maps are sorted too
    seizure = encode_envelope(envelope())
    goods = msgpack.unpackb(seizure)["body"]["goods"][0]
    assert list(goods) == sorted(goods)
    assert encode_envelope(decode_envelope(seizure)) == seizure


def test_encoder_refuses_keys_that_cannot_be_sorted() -> None:
    with pytest.raises(TypeError):
        encode_envelope(envelope(body={"schema": 1, 2: "x"}))


def test_an_encoded_body_with_integer_keys_does_not_decode() -> None:
    refused(encode_envelope(envelope(body={1: "x", 2: "y"})), "map keys must be strings")


# --- the attacks of issue 10 ---------------------------------------------------------------


def test_channel_twice_is_refused() -> None:
    node = tree()
    items = node.items
    i = [k for k, _ in items].index("ch")
    items.insert(i, ("ch", "other-channel"))  # Y first, X last: a last-wins decoder saw X
    refused(write(node), "duplicate map key")


def test_body_twice_is_refused() -> None:
    node = tree()
    node.items.insert(0, ("body", Pairs([("not", "checked")])))
    refused(write(node), "duplicate map key")


def test_text_twice_in_a_body_is_refused() -> None:
    node = tree(kind="notice", body={"schema": 1, "handling": "H0", "text": "shown"})
    body = at(node, "body")
    body.items.append(("text", "hidden"))
    refused(write(node), "duplicate map key")


def test_a_repeated_key_deep_in_the_body_is_refused() -> None:
    node = tree()
    line = at(at(node, "body"), "goods").items[0]
    line.items.insert(0, ("category", "other"))
    refused(write(node), "duplicate map key")


def test_a_repeated_key_out_of_place_is_refused_as_repeated() -> None:
    node = tree()
    node.items.append(("body", Pairs()))  # after "v": out of order and repeated
    refused(write(node), "duplicate map key")


def test_keys_out_of_order_are_refused() -> None:
    node = tree()
    node.items.reverse()
    refused(write(node), "ascending order")
    # what the SDK wrote before the canonical form: the table order of §4
    obj = msgpack.unpackb(encode_envelope(envelope()))
    table = {k: obj[k] for k in ("v", "id", "ch", "from", "kid", "ts", "kind", "body")}
    refused(msgpack.packb(table, use_bin_type=True), "ascending order")


@pytest.mark.parametrize("key", [7, -1, b"body", 1.5, None, True, Arr([1]), Pairs()],
                         ids=repr)
def test_non_string_keys_are_refused(key: Any) -> None:
    node = tree()
    node.items.insert(0, (key, 1))
    refused(write(node), "map keys must be strings")


def test_longer_integer_forms_are_refused() -> None:
    node = tree()  # ts (about 1.7e12) needs uint 64: that is its shortest form
    node.items = [(k, Int(v, "i64") if k == "ts" else v) for k, v in node.items]
    refused(write(node), "shortest")
    for fmt in ("u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64"):
        node = tree()
        node.items = [(k, Int(1, fmt) if k == "v" else v) for k, v in node.items]
        refused(write(node), "shortest")
    node = tree()
    body = at(node, "body")
    body.items = [(k, Int(4, "u8") if k == "transport_mode" else v) for k, v in body.items]
    refused(write(node), "shortest")


def test_longer_string_and_container_headers_are_refused() -> None:
    node = tree()
    node.items = [(k, Str(v, 8) if k == "kind" else v) for k, v in node.items]
    refused(write(node), "shortest")
    for container in (tree(), tree()):
        container.width = 16
        refused(write(container), "shortest")
    node = tree()
    at(at(node, "body"), "goods").width = 32
    refused(write(node), "shortest")


def test_float32_is_refused_and_float64_accepted() -> None:
    node = tree()
    line = at(at(node, "body"), "goods").items[0]
    line.items = [(k, 1.5 if k == "quantity" else v) for k, v in line.items]
    assert decode_envelope(write(node)).body["goods"][0]["quantity"] == 1.5
    line.items = [(k, F32(1.5) if k == "quantity" else v) for k, v in line.items]
    refused(write(node), "shortest forms, float 64")


@pytest.mark.parametrize("ext", [Ext(5, b"x"), Ext(-1, b"\x00\x00\x00\x01"),
                                 Ext(-1, bytes(8)), Ext(-1, bytes(12))], ids=repr)
def test_ext_values_are_refused(ext: Ext) -> None:
    node = tree()
    at(node, "body").items.append(("zz", ext))
    refused(write(node), "ext types are not allowed")
    at(node, "body").items[-1] = ("zz", Arr([ext]))
    refused(write(node), "ext types are not allowed")
    refused(write(ext), "ext types are not allowed")  # an ext instead of the envelope


def test_binary_where_a_string_belongs_is_canonical_but_not_an_envelope() -> None:
    node = tree()
    node.items = [(k, Bin(v.encode()) if k == "kind" else v) for k, v in node.items]
    refused(write(node), "unknown alert kind")


@pytest.mark.parametrize("kind", [[], {}, 7, None], ids=repr)
def test_unhashable_or_odd_kind_is_an_invalid_alert(kind: Any) -> None:
    node = tree()
    node.items = [(k, nodes(kind) if k == "kind" else v) for k, v in node.items]
    refused(write(node), "unknown alert kind")


def test_trailing_bytes_and_truncation_are_refused() -> None:
    data = encode_envelope(envelope())
    refused(data + b"\xc0", "not msgpack")
    refused(data[:-1], "not msgpack")


def _nested(levels: int) -> bytes:
    """``levels`` arrays, one inside the other, around a 0 (written flat: no recursion)."""
    return b"\x91" * levels + b"\x00"


def test_alert_nesting_up_to_the_limit_decodes_and_beyond_is_refused() -> None:
    body = write(tree(kind="notice", body={"schema": 1})).replace(
        b"\xa4body\x81", b"\xa4body\x82")  # one more pair in the body: "zz"
    head, sep, rest = body.partition(b"\xa6schema\x01")
    assert sep
    # envelope (1) -> body (2) -> MAX_NESTING - 2 arrays: exactly MAX_NESTING deep
    ok = head + sep + b"\xa2zz" + _nested(MAX_NESTING - 2) + rest
    assert len(decode_envelope(ok).body) == 2
    refused(head + sep + b"\xa2zz" + _nested(MAX_NESTING - 1) + rest, "not msgpack")


# --- frames: unique string keys at every level, rid echoed ---------------------------------


def frame_tree(frame: f.Frame) -> Pairs:
    node = nodes(msgpack.unpackb(codec.encode(frame)))
    assert isinstance(node, Pairs)
    return node


def frame_refused(data: bytes, match: str, rid: int | None) -> None:
    for decode in (codec.decode_client, codec.decode_server):
        with pytest.raises(InvalidFrame, match=match) as info:
            decode(data)
        assert info.value.code == 401
        assert info.value.rid == rid


def test_a_repeated_frame_field_is_refused_with_the_rid() -> None:
    node = frame_tree(f.HistoryRequest(rid=12, ch="stop-iii"))
    node.items.insert(0, ("ch", "other"))
    frame_refused(write(node), "duplicate map key", 12)


def test_a_repeated_rid_is_not_echoed() -> None:
    node = frame_tree(f.ChannelsRequest(rid=12))
    node.items.append(("rid", 12))
    frame_refused(write(node), "duplicate map key", None)


def test_repeated_and_non_string_keys_inside_args_are_refused() -> None:
    args = {"name": "x", "nested": [{"a": 1}]}
    node = frame_tree(f.AdminRequest(rid=3, op="channel.create", args=args))
    at(node, "args").items.append(("name", "y"))
    frame_refused(write(node), "duplicate map key", 3)
    node = frame_tree(f.AdminRequest(rid=4, op="channel.create", args=args))
    at(at(node, "args"), "nested").items[0].items.append((5, "int key"))
    frame_refused(write(node), "map keys must be strings", 4)


@pytest.mark.parametrize("key", [1, -7, b"t", 2.5, None, False, Arr([1, 2]), Pairs([("a", 1)])],
                         ids=repr)
def test_a_non_string_key_gets_401_with_the_rid(key: Any) -> None:
    node = frame_tree(f.ChannelsRequest(rid=2**64 - 1))
    node.items.insert(1, (key, "x"))
    frame_refused(write(node), "map keys must be strings", 2**64 - 1)


def test_a_non_string_key_in_a_map_key_is_reported_once_as_not_a_string() -> None:
    node = frame_tree(f.ChannelsRequest(rid=8))
    node.items.append((Pairs([(1, 2)]), "x"))
    frame_refused(write(node), "map keys must be strings", 8)


@pytest.mark.parametrize("ext", [Ext(3, b"abc"), Ext(-1, b"\x00\x00\x00\x01")], ids=repr)
def test_ext_values_in_frames_are_refused(ext: Ext) -> None:
    node = frame_tree(f.AdminRequest(rid=5, op="member.list", args={"a": [1]}))
    at(at(node, "args"), "a").items.append(ext)
    with pytest.raises(InvalidFrame, match="ext types") as info:
        codec.decode_client(write(node))
    assert info.value.rid == 5
    node = frame_tree(f.AdminResult(rid=6, result={"a": {"b": 1}}))
    at(at(node, "result"), "a").items.append(("c", ext))
    with pytest.raises(InvalidFrame, match="ext types") as info:
        codec.decode_server(write(node))
    node = frame_tree(f.ChannelsRequest(rid=7))
    node.items = [(k, ext if k == "rid" else v) for k, v in node.items]
    with pytest.raises(InvalidFrame, match="rid: expected an unsigned integer") as info:
        codec.decode_client(write(node))
    assert info.value.rid is None


def test_frames_need_not_be_canonical() -> None:
    node = frame_tree(f.HistoryRequest(rid=300, ch="stop-iii", limit=5))
    node.items.reverse()
    node.width = 32
    node.items = [(k, Int(v, "u64") if k in ("rid", "limit") else v) for k, v in node.items]
    assert codec.decode_client(write(node)) == f.HistoryRequest(rid=300, ch="stop-iii", limit=5)


def test_every_unsigned_field_takes_the_full_uint64_range() -> None:
    top = 2**64 - 1
    for frame in (
        f.ChannelsRequest(rid=top),
        f.Subscribe(rid=top, ch="c", since=top),
        f.HistoryRequest(rid=top, ch="c", before=top, limit=top),
        f.ErrorFrame(rid=top, code=424, msg="invalid alert"),
        f.Ack(rid=top, ch="c", off=top, epoch="e", dup=False),
    ):
        decode = codec.decode_client if isinstance(frame, f.ClientFrame) else codec.decode_server
        assert decode(codec.encode(frame)) == frame
    with pytest.raises(InvalidFrame) as info:
        codec.decode_client(msgpack.packb({"t": "sub", "rid": top, "ch": "BAD"}))
    assert info.value.rid == top


def test_frame_nesting_up_to_the_limit_decodes_and_beyond_is_malformed() -> None:
    frame = codec.encode(f.AdminRequest(rid=1, op="x", args={"a": 0}))
    head, sep, rest = frame.partition(b"\xa1a\x00")
    assert sep
    # frame (1) -> args (2) -> MAX_NESTING - 2 arrays: exactly MAX_NESTING deep
    ok = codec.decode_client(head + b"\xa1a" + _nested(MAX_NESTING - 2) + rest)
    assert isinstance(ok, f.AdminRequest) and ok.rid == 1
    with pytest.raises(MalformedFrame) as info:
        codec.decode_client(head + b"\xa1a" + _nested(MAX_NESTING - 1) + rest)
    assert info.value.rid is None


def test_invalid_utf8_is_malformed() -> None:
    data = codec.encode(f.ChannelsRequest(rid=1)).replace(b"chans", b"ch\xffns")
    with pytest.raises(MalformedFrame):
        codec.decode_client(data)


_DEEP = msgpack.unpackb(_nested(MAX_NESTING - 3))  # the deepest a body field can hold


@pytest.mark.parametrize("kind", ["warning", "feedback", "seizure", "notice", "amendment",
                                  "withdrawal"])
def test_deeply_nested_values_in_any_body_field_are_schema_problems(kind: str) -> None:
    """Every field of every kind, and one unknown field, holding the deepest value a
    canonical alert may carry: the schema names the problem, it never recurses away."""
    example = schema.example(kind)
    for name in [*example, "links", "zz"]:
        body = {**example, name: _DEEP}
        data = encode_envelope(envelope(kind=kind, body=body))
        decoded = decode_envelope(data)
        problems = schema.check(kind, decoded.body)
        assert problems and problems[0][0].startswith("/" + name), (name, problems[:1])
