"""Property tests: every decoder, hub's and SDK's, on arbitrary and mutated bytes.

The decoders are the hub's (``codec.decode_client``, ``decode_envelope``, the body
schema) and the SDK's (``codec.decode_server``, the connection's frame decoder,
``decode_envelope``). Inputs are valid frames and alerts changed the ways an attacker
would: flipped, dropped, inserted or appended bytes, truncation, a key repeated (at
any depth, same or other value), keys swapped, non-string keys, longer integer,
string and container headers, strings re-typed as binary, integers re-typed as
floats, float 32, ext values. Every input is either decoded or refused with a
documented error carrying its wire code — never any other exception. Beyond that:

- an alert the decoder accepts has exactly one byte representation: re-encoding what
  was decoded gives the same bytes;
- a mutation that only changes the encoding (repeated or reordered keys, longer
  forms, float 32, ext) is always refused for an alert (424);
- in a frame a repeated or non-string key is always 401, with the ``rid`` echoed
  exactly when the frame has one readable ``rid``; reordered keys and longer forms
  decode to the same frame (frames need not be canonical).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgpack
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from client._conn import _decode as sdk_decode
from client._model import ProtocolViolation
from hub.protocol import codec, schema
from hub.protocol import frames as f
from hub.protocol.envelope import KINDS, Envelope, decode_envelope, encode_envelope
from hub.protocol.errors import (
    CordonError,
    InvalidAlert,
    InvalidFrame,
    ProtocolError,
    SchemaError,
)
from hub.protocol.identity import AlertId, ChannelName, PrincipalId
from tests.protocol.schema_strategies import alert_ids, kinds_and_bodies
from tests.protocol.wirebytes import F32, Arr, Bin, Ext, Int, Pairs, Str, int_formats, nodes, write

FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: Wire codes a frame decoder may give (PROTOCOL.md §8): malformed, invalid, unknown type,
#: too large.
FRAME_CODES = {400, 401, 402, 413}

# --- valid inputs --------------------------------------------------------------------------

_names = st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
_uint = st.integers(min_value=0, max_value=2**64 - 1)
_kid = st.binary(min_size=32, max_size=32).map(bytes.hex)


@st.composite
def alerts(draw: st.DrawFn) -> bytes:
    kind, body = draw(kinds_and_bodies)
    env = Envelope(
        id=AlertId(draw(alert_ids)), channel=ChannelName(draw(_names)),
        sender=PrincipalId(f"{draw(_names)}/{draw(_names)}"), kid=draw(_kid),
        ts=draw(st.integers(min_value=0, max_value=2**53 - 1)), kind=kind, body=body,
    )
    return encode_envelope(env)


_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False), st.text(max_size=40), st.binary(max_size=40),
)
_values = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
_text = st.text(max_size=20)

client_frames = st.one_of(
    st.builds(f.Publish, rid=_uint, ch=_names, alert=alerts(), sig=st.binary(min_size=64,
                                                                              max_size=64)),
    st.builds(f.Subscribe, rid=_uint, ch=_names, since=st.none() | _uint,
              epoch=st.none() | _text),
    st.builds(f.Unsubscribe, rid=_uint, ch=_names),
    st.builds(f.HistoryRequest, rid=_uint, ch=_names, before=st.none() | _uint, limit=_uint),
    st.builds(f.DirectoryRequest, rid=_uint, kids=st.lists(_kid, max_size=3).map(tuple)),
    st.builds(f.ChannelsRequest, rid=_uint),
    st.builds(f.AdminRequest, rid=_uint, op=_text,
              args=st.dictionaries(st.text(max_size=8), _values, max_size=5)),
    st.builds(f.AttachmentRequest, rid=_uint, ch=_names, sha256=_kid),
)
_items = st.lists(st.tuples(_uint, alerts(), st.binary(max_size=64)), min_size=1, max_size=3)
server_frames = st.one_of(
    st.builds(f.Welcome, principal=_text, member=st.none() | _text, admin=st.booleans(),
              server=_text, time=_uint,
              limits=st.dictionaries(_text, st.integers(min_value=-(2**63),
                                                        max_value=2**64 - 1), max_size=4)),
    st.builds(f.Ack, rid=_uint, ch=_text, off=_uint, epoch=_text, dup=st.booleans()),
    st.builds(f.AlertFrame, ch=_text, off=_uint, alert=alerts(), sig=st.binary(max_size=64)),
    _items.map(lambda items: f.AlertBatch(
        ch="c", items=tuple(f.PageItem(n, a, s) for n, (_, a, s) in enumerate(items, 1)))),
    _items.map(lambda items: f.HistoryPage(
        rid=1, ch="c", epoch="e", items=tuple(f.PageItem(*i) for i in items), more=False)),
    st.builds(f.Directory, rid=_uint,
              certs=st.dictionaries(_kid, st.binary(max_size=40), max_size=3)),
    st.builds(f.ChannelsResult, rid=_uint, chans=st.lists(st.builds(
        f.ChannelInfo, ch=_text, title=_text, role=_text, state=_text, head=_uint,
        epoch=_text), max_size=2).map(tuple)),
    st.builds(f.AdminResult, rid=_uint,
              result=st.dictionaries(st.text(max_size=8), _values, max_size=5)),
    st.builds(f.ErrorFrame, rid=st.none() | _uint, code=_uint, msg=_text, detail=_text),
)

# --- mutations -----------------------------------------------------------------------------

#: ``st.data().draw`` (or a composite's ``draw``).
Draw = Callable[[st.SearchStrategy[Any]], Any]

#: Mutations that change only the encoding, never the msgpack value (or add an ext).
ENCODING_ONLY = frozenset({"swap", "widen_int", "widen_str", "widen_container"})
KEY_ATTACKS = frozenset({"dup_key", "non_str_key"})
STRUCTURAL = sorted(ENCODING_ONLY | KEY_ATTACKS | {"f32", "ext", "to_bin", "to_float"})
BYTES = ["flip", "truncate", "insert", "delete", "append"]


def _walk(root: Any) -> tuple[list[Any], list[tuple[Any, int]]]:
    """The containers of a node tree, and every value slot (container, index)."""
    containers: list[Any] = []
    slots: list[tuple[Any, int]] = []
    todo = [root]
    while todo:
        node = todo.pop()
        if isinstance(node, Pairs):
            containers.append(node)
            for i, (_, value) in enumerate(node.items):
                slots.append((node, i))
                todo.append(value)
        elif isinstance(node, Arr):
            containers.append(node)
            for i, value in enumerate(node.items):
                slots.append((node, i))
                todo.append(value)
    return containers, slots


def _get(slot: tuple[Any, int]) -> Any:
    node, i = slot
    return node.items[i][1] if isinstance(node, Pairs) else node.items[i]


def _set(slot: tuple[Any, int], value: Any) -> None:
    node, i = slot
    if isinstance(node, Pairs):
        node.items[i] = (node.items[i][0], value)
    else:
        node.items[i] = value


def _canonical_int(value: int) -> str | None:
    if -32 <= value <= 127:
        return None  # a fixint: every fixed-width format is longer
    return next(fmt for fmt in int_formats(value) if fmt.startswith("u" if value >= 0 else "i"))


def _longer_ints(value: int) -> list[str]:
    return [fmt for fmt in int_formats(value) if fmt != _canonical_int(value)]


def _str_widths(text: str) -> list[int]:
    n = len(text.encode())
    shortest = 0 if n < 32 else 8 if n < 256 else 16 if n < 65536 else 32
    return [w for w in (8, 16, 32) if w > shortest and n < 2**w]


def _mutate(draw: Draw, root: Pairs, how: str) -> str:
    """Apply mutation ``how`` somewhere in the tree; return what was applied (a repeated
    key when ``how`` has nowhere to apply)."""
    containers, slots = _walk(root)
    if how == "swap":
        maps = [m for m in containers if isinstance(m, Pairs) and len(m.items) >= 2]
        if maps:
            m = draw(st.sampled_from(maps))
            i, j = draw(st.lists(st.integers(0, len(m.items) - 1), min_size=2, max_size=2,
                                 unique=True))
            m.items[i], m.items[j] = m.items[j], m.items[i]
            return how
    elif how == "widen_int":
        ints = [s for s in slots if type(_get(s)) is int and _longer_ints(_get(s))]
        if ints:
            slot = draw(st.sampled_from(ints))
            _set(slot, Int(_get(slot), draw(st.sampled_from(_longer_ints(_get(slot))))))
            return how
    elif how == "widen_str":
        keyed = [(m, i) for m in containers if isinstance(m, Pairs)
                 for i, (k, _) in enumerate(m.items) if type(k) is str and _str_widths(k)]
        values = [s for s in slots if type(_get(s)) is str and _str_widths(_get(s))]
        if keyed and draw(st.booleans()):
            m, i = draw(st.sampled_from(keyed))
            key, value = m.items[i]
            m.items[i] = (Str(key, draw(st.sampled_from(_str_widths(key)))), value)
            return how
        if values:
            slot = draw(st.sampled_from(values))
            _set(slot, Str(_get(slot), draw(st.sampled_from(_str_widths(_get(slot))))))
            return how
    elif how == "widen_container":
        small = [c for c in containers if len(c.items) < 2**16]
        if small:
            c = draw(st.sampled_from(small))
            c.width = draw(st.sampled_from([16, 32] if len(c.items) <= 15 else [32]))
            return how
    elif how == "f32":
        numbers = [s for s in slots if type(_get(s)) in (int, float)]
        if numbers:
            slot = draw(st.sampled_from(numbers))
            _set(slot, F32(float(_get(slot))))
            return how
    elif how == "ext":
        if slots:
            code = draw(st.integers(-128, 127))
            size = draw(st.sampled_from([4, 8, 12]) if code == -1 else st.integers(0, 20))
            _set(draw(st.sampled_from(slots)), Ext(code, draw(st.binary(min_size=size,
                                                                        max_size=size))))
            return how
    elif how == "to_bin":
        strs = [s for s in slots if type(_get(s)) is str]
        if strs:
            slot = draw(st.sampled_from(strs))
            _set(slot, Bin(_get(slot).encode()))
            return how
    elif how == "to_float":
        ints = [s for s in slots if type(_get(s)) is int and abs(_get(s)) < 2**53]
        if ints:
            slot = draw(st.sampled_from(ints))
            _set(slot, float(_get(slot)))
            return how
    elif how == "non_str_key":
        m = draw(st.sampled_from([c for c in containers if isinstance(c, Pairs)]))
        key = draw(st.one_of(st.integers(-(2**63), 2**64 - 1), st.binary(max_size=8),
                             st.none(), st.booleans(), st.floats(allow_nan=False),
                             st.just(Arr([1])), st.just(Pairs([("a", 1)]))))
        m.items.insert(draw(st.integers(0, len(m.items))), (key, draw(_leaf)))
        return how
    maps = [c for c in containers if isinstance(c, Pairs) and c.items]
    m = draw(st.sampled_from(maps))
    key, value = m.items[draw(st.integers(0, len(m.items) - 1))]
    again = value if draw(st.booleans()) else draw(_leaf)
    m.items.insert(draw(st.integers(0, len(m.items))), (key, again))
    return "dup_key"


def _bytes_mutation(draw: Draw, data: bytes, how: str) -> bytes:
    if how == "flip":
        i = draw(st.integers(0, len(data) - 1))
        return data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1:]
    if how == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "insert":
        i = draw(st.integers(0, len(data)))
        extra: bytes = draw(st.binary(min_size=1, max_size=4))
        return data[:i] + extra + data[i:]
    if how == "delete":
        i = draw(st.integers(0, len(data) - 1))
        return data[:i] + data[i + 1:]
    tail: bytes = draw(st.binary(min_size=1, max_size=4))
    return data + tail


def _readable_rid(root: Pairs) -> int | None:
    """The rid a refusal must echo: one ``rid`` key with an unsigned integer."""
    rids = [v for k, v in root.items if k == "rid" and type(k) is str]
    if len(rids) != 1:
        return None
    value = rids[0].value if isinstance(rids[0], Int) else rids[0]
    return value if type(value) is int and 0 <= value < 2**64 else None


# --- the decoders under test ---------------------------------------------------------------


def _attempt(decode: Any, data: Any) -> Any:
    """What ``decode(data)`` returned, or the CordonError it raised (any other exception
    propagates and fails the test)."""
    try:
        return decode(data)
    except CordonError as exc:
        return exc


def check_alert(data: bytes) -> Envelope | None:
    """decode_envelope and the schema, hub's and SDK's: a result or a documented error."""
    env = _attempt(decode_envelope, data)
    if isinstance(env, CordonError):
        assert isinstance(env, InvalidAlert) and env.code == 424, env
        return None
    assert encode_envelope(env) == data  # one alert, one byte representation
    assert isinstance(env, Envelope) and env.kind in KINDS
    problems = schema.check(env.kind, env.body)
    refusal = _attempt(lambda body: schema.validate(env.kind, body), env.body)
    if problems:
        assert isinstance(refusal, SchemaError) and refusal.code == 424
        assert list(refusal.problems) == problems
    else:
        assert refusal is None
    return env


def check_frame(data: bytes) -> dict[str, Any]:
    """Both frame decoders and the SDK connection's: a frame or a documented error."""
    out: dict[str, Any] = {}
    for name, decode in (("client", codec.decode_client), ("server", codec.decode_server)):
        out[name] = answer = _attempt(decode, data)
        if isinstance(answer, CordonError):
            assert isinstance(answer, ProtocolError) and answer.code in FRAME_CODES, answer
            assert answer.rid is None or 0 <= answer.rid < 2**64
    try:
        sdk_decode(data)
        violation = False
    except ProtocolViolation:
        violation = True
    assert violation == isinstance(out["server"], ProtocolError)
    return out


# --- properties ----------------------------------------------------------------------------


@FUZZ
@given(alerts())
def test_valid_alerts_decode_and_re_encode_to_the_same_bytes(data: bytes) -> None:
    env = check_alert(data)
    assert env is not None
    assert schema.check(env.kind, env.body) == []


@FUZZ
@given(st.data(), alerts(), st.sampled_from(STRUCTURAL))
def test_mutated_alerts_are_refused_or_unambiguous(data: st.DataObject, alert: bytes,
                                                   how: str) -> None:
    root = nodes(msgpack.unpackb(alert))
    done = _mutate(data.draw, root, how)
    event(done)
    mutated = write(root)
    env = check_alert(mutated)
    if done in ENCODING_ONLY | KEY_ATTACKS | {"f32", "ext"}:
        assert env is None, (done, mutated)


@FUZZ
@given(st.data(), alerts(), st.sampled_from(BYTES))
def test_alerts_with_damaged_bytes_are_refused_or_unambiguous(data: st.DataObject,
                                                              alert: bytes, how: str) -> None:
    check_alert(_bytes_mutation(data.draw, alert, how))


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_as_alert_and_frame(data: bytes) -> None:
    check_alert(data)
    check_frame(data)


@FUZZ
@given(st.data(), client_frames | server_frames, st.sampled_from(STRUCTURAL))
def test_mutated_frames_get_a_documented_answer(data: st.DataObject, frame: f.Frame,
                                                how: str) -> None:
    original = codec.encode(frame)
    root = nodes(msgpack.unpackb(original))
    done = _mutate(data.draw, root, how)
    event(done)
    out = check_frame(write(root))
    before = check_frame(original)
    for side in ("client", "server"):
        if done in KEY_ATTACKS:
            refusal = out[side]
            assert isinstance(refusal, InvalidFrame), (done, refusal)
            assert refusal.detail in ("duplicate map key", "map keys must be strings")
            assert refusal.rid == _readable_rid(root)
        elif done in ENCODING_ONLY:
            if isinstance(before[side], ProtocolError):
                assert type(out[side]) is type(before[side])
            else:
                assert out[side] == before[side]
        elif done == "ext":  # never decoded; which refusal depends on where it sits
            assert isinstance(out[side], ProtocolError), out[side]


@FUZZ
@given(st.data(), client_frames | server_frames, st.sampled_from(BYTES))
def test_frames_with_damaged_bytes_get_a_documented_answer(data: st.DataObject,
                                                           frame: f.Frame, how: str) -> None:
    check_frame(_bytes_mutation(data.draw, codec.encode(frame), how))
