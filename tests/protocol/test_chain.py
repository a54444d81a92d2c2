"""Sender chains (PROTOCOL.md §4): the envelope's seq/prev and hub.protocol.chain."""

from __future__ import annotations

import msgpack
import pytest

from hub.protocol import chain as chain_mod
from hub.protocol.chain import (
    ZERO_HASH,
    ChainTracker,
    expected_detail,
    parse_expected,
)
from hub.protocol.envelope import (
    Envelope,
    alert_hash,
    decode_envelope,
    encode_envelope,
    key_id,
)
from hub.protocol.errors import ChainBroken, InvalidAlert, error_for_code
from hub.protocol.identity import AlertId, ChannelName, PrincipalId

KID = key_id(b"certificate der")


def env(n: int | None, prev: bytes | None, *, sender: str = "fr/ops", text: str = "") -> Envelope:
    return Envelope(id=AlertId(f"A{n}{text}"), channel=ChannelName("stop-iii"),
                    sender=PrincipalId(sender), kid=KID, ts=1_701_648_000_000,
                    kind="notice", body={"text": text or f"alert {n}"}, seq=n, prev=prev)


def chain(count: int, *, sender: str = "fr/ops", text: str = "") -> list[tuple[Envelope, bytes]]:
    """``count`` chained alerts of one sender: (decoded envelope, exact bytes)."""
    out: list[tuple[Envelope, bytes]] = []
    prev = ZERO_HASH
    for n in range(1, count + 1):
        data = encode_envelope(env(n, prev, sender=sender, text=text))
        out.append((decode_envelope(data), data))
        prev = alert_hash(data)
    return out


def run(items: list[tuple[Envelope, bytes]], *, complete: bool = False) -> list[str]:
    tracker = ChainTracker(complete=complete)
    return [tracker.observe(e, data)[0] for e, data in items]


# --- the envelope ----------------------------------------------------------------------


def test_chain_keys_are_signed_in_canonical_order() -> None:
    data = encode_envelope(env(1, ZERO_HASH))
    obj = msgpack.unpackb(data)
    assert list(obj) == ["body", "ch", "from", "id", "kid", "kind", "prev", "seq", "ts", "v"]
    assert obj["prev"] == ZERO_HASH and obj["seq"] == 1
    back = decode_envelope(data)
    assert (back.seq, back.prev, back.chained) == (1, ZERO_HASH, True)
    unchained = decode_envelope(encode_envelope(env(None, None)))
    assert (unchained.seq, unchained.prev, unchained.chained) == (None, None, False)


def test_alert_hash_is_sha256_of_the_exact_bytes() -> None:
    import hashlib

    data = encode_envelope(env(1, ZERO_HASH))
    assert alert_hash(data) == hashlib.sha256(data).digest()


def test_encode_wants_both_chain_fields() -> None:
    with pytest.raises(ValueError, match="together"):
        encode_envelope(env(1, None))
    with pytest.raises(ValueError, match="together"):
        encode_envelope(env(None, ZERO_HASH))


def _raw(**fields: object) -> bytes:
    obj = {"v": 1, "id": "a1", "ch": "c", "from": "fr/ops", "kid": KID, "ts": 1,
           "kind": "notice", "body": {}}
    obj.update(fields)
    return msgpack.packb(dict(sorted(obj.items())), use_bin_type=True)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"seq": 1}, "both or neither"),
        ({"prev": ZERO_HASH}, "both or neither"),
        ({"seq": 0, "prev": ZERO_HASH}, "seq must be"),
        ({"seq": -1, "prev": ZERO_HASH}, "seq must be"),
        ({"seq": 2**53 + 1, "prev": b"\x01" * 32}, "seq must be"),
        ({"seq": True, "prev": ZERO_HASH}, "seq must be"),
        ({"seq": 1.0, "prev": ZERO_HASH}, "seq must be"),
        ({"seq": 1, "prev": "00" * 32}, "prev must be"),
        ({"seq": 1, "prev": bytes(31)}, "prev must be"),
        ({"seq": 1, "prev": b"\x01" * 32}, "prev must be"),  # seq 1 follows nothing
        ({"seq": 2, "prev": ZERO_HASH}, "prev must be"),  # seq 2 follows something
        ({"seq": None, "prev": None}, "seq must be"),
    ],
)
def test_invalid_chain_fields(fields: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidAlert, match=match):
        decode_envelope(_raw(**fields))


# --- the 426 detail ------------------------------------------------------------------------


def test_expected_detail_round_trip() -> None:
    digest = bytes(range(32))
    detail = expected_detail(7, digest)
    assert detail == "expected seq 7 prev " + digest.hex()
    assert parse_expected(detail) == (7, digest)
    assert parse_expected("expected seq 0 prev " + digest.hex()) is None
    assert parse_expected("something else") is None
    err = error_for_code(426, detail)
    assert isinstance(err, ChainBroken) and err.code == 426
    assert err.phrase == "sender chain does not continue"


# --- the tracker ---------------------------------------------------------------------------


def test_honest_chains_of_two_senders_interleaved() -> None:
    fr, de = chain(3), chain(2, sender="de/zoll")
    items = [fr[0], de[0], fr[1], de[1], fr[2]]
    assert run(items, complete=True) == ["ok"] * 5


def test_unchained_alerts_are_their_own_state() -> None:
    data = encode_envelope(env(None, None))
    tracker = ChainTracker()
    assert tracker.observe(decode_envelope(data), data) == ("unchained", "carries no sender chain")


def test_a_reader_starting_mid_history_anchors_on_the_first_alert_seen() -> None:
    fr = chain(4)
    assert run(fr[2:]) == ["ok", "ok"]
    assert run(fr[2:], complete=True) == ["gap", "ok"]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ([0, 2, 3], ["ok", "gap", "ok"]),  # one withheld
        ([0, 3], ["ok", "gap"]),  # two withheld
        ([0, 2, 1, 3], ["ok", "gap", "reorder", "ok"]),  # swapped
        ([0, 1, 1, 2], ["ok", "ok", "duplicate", "ok"]),  # repeated at once
        ([0, 1, 2, 0], ["ok", "ok", "ok", "duplicate"]),  # repeated later
        ([0, 2, 1, 1], ["ok", "gap", "reorder", "duplicate"]),  # late, then again
        ([1, 2, 0], ["ok", "ok", "reorder"]),  # anchored mid-chain, then an older one
    ],
)
def test_withheld_reordered_duplicated(order: list[int], expected: list[str]) -> None:
    fr = chain(4)
    assert run([fr[i] for i in order]) == expected


def test_forks() -> None:
    a, b = chain(3), chain(3, text="other")
    # b's alert 2 follows b's alert 1, not the a's alert 1 this reader saw
    assert run([a[0], b[1]]) == ["ok", "fork"]
    # two different alerts 2 of one sender
    assert run([a[0], a[1], b[1]]) == ["ok", "ok", "fork"]
    tracker = ChainTracker()
    for e, data in a[:2]:
        tracker.observe(e, data)
    state, why = tracker.observe(*b[1])
    assert state == "fork" and "two different alerts 2" in why


def test_gap_details_name_the_missing_alerts() -> None:
    fr = chain(5)
    tracker = ChainTracker()
    tracker.observe(*fr[0])
    assert tracker.observe(*fr[2]) == ("gap", "fr/ops's alert 2 is missing")
    assert tracker.observe(*fr[4]) == ("gap", "fr/ops's alert 4 is missing")
    t2 = ChainTracker(complete=True)
    assert t2.observe(*fr[3]) == ("gap", "fr/ops's alerts 1 to 3 are missing")
    t3 = ChainTracker()
    t3.observe(*fr[0])
    assert t3.observe(*fr[4]) == ("gap", "fr/ops's alerts 2 to 4 are missing")


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain_mod, "CHAIN_MEMORY", 2)
    fr = chain(12)
    tracker = ChainTracker()
    for item in fr[:4]:
        tracker.observe(*item)
    # alert 1 is beyond memory: shown again it can only be called out of order
    assert tracker.observe(*fr[0])[0] == "reorder"
    assert tracker.observe(*fr[3])[0] == "duplicate"
    # a long gap remembers only the last missing seqs
    assert tracker.observe(*fr[7])[0] == "gap"
    assert tracker.observe(*fr[6])[0] == "reorder"
    assert tracker.observe(*fr[4])[0] == "reorder"  # forgotten as missing, still older
    assert tracker.observe(*fr[9])[0] == "gap"  # 6 and 9 missing
    assert tracker.observe(*fr[11])[0] == "gap"  # 6, 9, 11 missing: 6 forgotten
    assert tracker.observe(*fr[8])[0] == "reorder"
    assert tracker.observe(*fr[5])[0] == "reorder"
    t2 = ChainTracker(complete=True)
    assert t2.observe(*fr[5])[0] == "gap"
    assert t2.observe(*fr[4])[0] == "reorder"
