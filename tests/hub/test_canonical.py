"""One encoding, one meaning, end to end: the attacks of issue 10 over real mutual TLS.

A member certificate signs, with its own key, alerts whose bytes a lenient decoder
would read one way and a strict one another (a key twice at any level, keys out of
order, longer forms, ext values), and sends frames with repeated or non-string keys.
Each gets its documented error (PROTOCOL.md §4, §6, §8) with its rid, nothing is
stored in any channel, and the connection goes on working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgpack
import pytest

from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.envelope import encode_envelope, sign_alert
from tests.harness import HubHarness
from tests.hub.wire import CH, Raw, Signer, cast, log_len
from tests.protocol.wirebytes import Ext, Int, Pairs, nodes, write

OTHER = "pangea-xvi"
TOP_RID = 2**64 - 1


async def snapshot(h: HubHarness) -> list[tuple[int, int]]:
    out = []
    for ch in (CH, OTHER):
        meta = await h.store.channel(ch)
        assert meta is not None
        out.append((await log_len(h, ch), meta.head))
    return out


def at(node: Pairs, key: str) -> Any:
    (value,) = [v for k, v in node.items if k == key]
    return value


def _ch_twice(env: Pairs) -> None:
    i = [k for k, _ in env.items].index("ch")
    env.items.insert(i, ("ch", OTHER))  # Y first, X last: stored in X before the fix


def _body_twice(env: Pairs) -> None:
    env.items.insert(0, ("body", Pairs([("anything", "never schema-checked")])))


def _text_twice(env: Pairs) -> None:
    at(env, "body").items.append(("text", "a second text"))


def _table_order(env: Pairs) -> None:  # what the SDK wrote before: PROTOCOL §4's table order
    order = ["v", "id", "ch", "from", "kid", "ts", "kind", "body"]
    env.items.sort(key=lambda pair: order.index(pair[0]))


def _long_int(env: Pairs) -> None:
    env.items = [(k, Int(v, "u16") if k == "v" else v) for k, v in env.items]


def _int_key_in_body(env: Pairs) -> None:
    at(env, "body").items.insert(0, (1, "x"))


def _ext_in_body(env: Pairs) -> None:
    at(env, "body").items.append(("zz", Ext(-1, b"\x00\x00\x00\x01")))  # a timestamp


ALERT_ATTACKS: list[tuple[str, Callable[[Pairs], None], str]] = [
    ("ch twice", _ch_twice, "duplicate map key"),
    ("body twice", _body_twice, "duplicate map key"),
    ("text twice in the body", _text_twice, "duplicate map key"),
    ("keys in table order", _table_order, "ascending order"),
    ("integer in a longer form", _long_int, "shortest forms"),
    ("integer key in the body", _int_key_in_body, "map keys must be strings"),
    ("ext value in the body", _ext_in_body, "canonical"),
]


@pytest.fixture
async def cast_(h: HubHarness) -> dict[str, Any]:
    leaves = await cast(h)
    await h.channel(OTHER, {"fr": "contributor", "de": "contributor"})
    return leaves


@pytest.mark.parametrize(("what", "attack", "detail"), ALERT_ATTACKS,
                         ids=[a[0] for a in ALERT_ATTACKS])
async def test_a_signed_alert_with_two_meanings_is_refused_and_nothing_is_stored(
    h: HubHarness, cast_: dict[str, Any], what: str, attack: Callable[[Pairs], None],
    detail: str,
) -> None:
    signer = Signer(cast_["fr"])
    env = nodes(msgpack.unpackb(encode_envelope(signer.envelope(CH))))
    attack(env)
    alert = write(env)
    sig = sign_alert(signer.key, alert)  # properly signed by its sender: only the bytes are bad
    before = await snapshot(h)
    async with Raw.open(h, cast_["fr"]) as c:
        for ch, rid in ((CH, c.rid()), (OTHER, TOP_RID)):
            answer = await c.request(f.Publish(rid=rid, ch=ch, alert=alert, sig=sig))
            assert isinstance(answer, f.ErrorFrame), (what, answer)
            assert (answer.code, answer.rid) == (424, rid), answer
            assert detail in answer.detail, answer
        assert await snapshot(h) == before
        for ch in (CH, OTHER):
            page = await c.request(f.HistoryRequest(rid=c.rid(), ch=ch))
            assert isinstance(page, f.HistoryPage) and page.items == ()
        ack = await c.publish(CH, *signer.sign(CH))  # the connection goes on working
        assert isinstance(ack, f.Ack) and ack.off == 1


def _frame_ch_twice(frame: Pairs) -> None:
    frame.items.insert(0, ("ch", OTHER))


def _frame_int_key(frame: Pairs) -> None:
    frame.items.insert(1, (1, "x"))


def _frame_rid_twice(frame: Pairs) -> None:
    frame.items.append(("rid", 5))


FRAME_ATTACKS: list[tuple[str, Callable[[Pairs], None], str, bool]] = [
    ("ch twice in the frame", _frame_ch_twice, "duplicate map key", True),
    ("integer key in the frame", _frame_int_key, "map keys must be strings", True),
    ("rid twice", _frame_rid_twice, "duplicate map key", False),
]


@pytest.mark.parametrize(("what", "attack", "detail", "echoed"), FRAME_ATTACKS,
                         ids=[a[0] for a in FRAME_ATTACKS])
async def test_a_frame_with_repeated_or_non_string_keys_gets_401_and_nothing_is_stored(
    h: HubHarness, cast_: dict[str, Any], what: str, attack: Callable[[Pairs], None],
    detail: str, echoed: bool,
) -> None:
    signer = Signer(cast_["fr"])
    alert, sig = signer.sign(CH)
    before = await snapshot(h)
    async with Raw.open(h, cast_["fr"]) as c:
        frame = nodes(msgpack.unpackb(codec.encode(
            f.Publish(rid=TOP_RID, ch=CH, alert=alert, sig=sig))))
        attack(frame)
        await c.send_bytes(write(frame))
        answer = await c.recv()
        assert isinstance(answer, f.ErrorFrame), (what, answer)
        assert (answer.code, answer.detail) == (401, detail), answer
        assert answer.rid == (TOP_RID if echoed else None)
        assert await snapshot(h) == before
        ack = await c.publish(CH, alert, sig)  # the same alert, sent properly, is stored
        assert isinstance(ack, f.Ack) and ack.off == 1


async def test_the_whole_uint64_range_of_rid_is_echoed(
    h: HubHarness, cast_: dict[str, Any]
) -> None:
    signer = Signer(cast_["fr"])
    async with Raw.open(h, cast_["fr"]) as c:
        page = await c.request(f.HistoryRequest(rid=TOP_RID, ch=CH, before=TOP_RID))
        assert isinstance(page, f.HistoryPage) and page.rid == TOP_RID
        refused = await c.request(f.Subscribe(rid=TOP_RID, ch=CH, since=TOP_RID))
        assert isinstance(refused, f.ErrorFrame)
        assert (refused.code, refused.rid) == (401, TOP_RID)  # since beyond head
        alert, sig = signer.sign(CH)
        ack = await c.request(f.Publish(rid=TOP_RID, ch=CH, alert=alert, sig=sig))
        assert isinstance(ack, f.Ack) and (ack.rid, ack.off) == (TOP_RID, 1)
        page = await c.request(f.HistoryRequest(rid=2**63, ch=CH, before=TOP_RID))
        assert isinstance(page, f.HistoryPage) and page.rid == 2**63
        assert [item.off for item in page.items] == [1]


async def test_the_deepest_frame_nesting_gets_a_documented_error_not_a_crash(
    h: HubHarness, cast_: dict[str, Any]
) -> None:
    """``adm`` args nested as deep as the decoder allows, from an admin and a member, and one
    level deeper: 401/403 and 400, never 500; both connections go on working."""
    from hub.protocol.limits import MAX_NESTING

    def adm(levels: int, rid: int) -> bytes:
        head, sep, rest = codec.encode(
            f.AdminRequest(rid=rid, op="member.add", args={"id": 0, "name": "n"})
        ).partition(b"\xa2id\x00")
        assert sep
        return head + b"\xa2id" + b"\x91" * levels + b"\x00" + rest

    before = await snapshot(h)
    for leaf, code in ((await h.admin_leaf(), 401), (cast_["fr"], 403)):
        async with Raw.open(h, leaf) as c:
            await c.send_bytes(adm(MAX_NESTING - 2, 7))  # frame, args, MAX_NESTING - 2
            answer = await c.recv()
            assert isinstance(answer, f.ErrorFrame) and (answer.code, answer.rid) == (code, 7)
            await c.send_bytes(adm(MAX_NESTING - 1, 8))
            answer = await c.recv()
            assert isinstance(answer, f.ErrorFrame) and (answer.code, answer.rid) == (400, None)
            assert isinstance(await c.request(f.ChannelsRequest(rid=c.rid())), f.ChannelsResult)
    assert await snapshot(h) == before
