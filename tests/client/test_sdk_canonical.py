"""The SDK's side of "one encoding, one meaning" (PROTOCOL.md §4, §6), against the fake hub
over real mTLS: it signs canonical alerts, refuses to believe alerts with two meanings,
and drops a hub that sends a frame with a repeated key."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from client.sdk import Client, ProtocolViolation
from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.envelope import decode_envelope, sign_alert
from hub.protocol.errors import InvalidAlert
from tests.bodies import note, seizure
from tests.client.common import CH, make_client, take
from tests.client.fakehub import FakeHub
from tests.pki import Pki
from tests.protocol.wirebytes import Pairs, nodes, write


@pytest.fixture
def hub(fake_hub: FakeHub) -> FakeHub:
    """The fake hub (conftest.py), under the name these tests use."""
    return fake_hub



def _sorted_everywhere(obj: Any) -> bool:
    todo = [obj]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            if list(item) != sorted(item):
                return False
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return True


def test_the_sdk_signs_the_canonical_encoding(pki: Pki) -> None:
    leaf = pki.member("fr", "ops")
    client = Client("wss://localhost:1/", cert=leaf.cert, key=leaf.key, ca=pki.ca)
    body = dict(reversed(list(seizure("x").items())))  # keys in no particular order
    signed = client.sign(CH, "seizure", body)
    assert _sorted_everywhere(msgpack.unpackb(signed.alert))
    assert decode_envelope(signed.alert) == signed.envelope


async def test_alerts_with_two_meanings_are_yielded_unverified(
    hub: FakeHub, pki: Pki
) -> None:
    sender_leaf = pki.member("de", "zoll")
    hub.register(sender_leaf)
    sender = make_client(hub, sender_leaf)
    key = sender._key  # the sender's own key: the signatures are valid

    def resigned(change: Any) -> tuple[bytes, bytes]:
        env = nodes(msgpack.unpackb(sender.sign(CH, "notice", note("shown")).alert))
        change(env)
        alert = write(env)
        return alert, sign_alert(key, alert)

    def ch_twice(env: Pairs) -> None:
        env.items.insert(1, ("ch", "elsewhere"))

    def text_twice(env: Pairs) -> None:
        (body,) = [v for k, v in env.items if k == "body"]
        body.items.append(("text", "hidden"))

    def reversed_keys(env: Pairs) -> None:
        env.items.reverse()

    for change in (ch_twice, text_twice, reversed_keys):
        hub.append(CH, *resigned(change))
    good = sender.sign(CH, "notice", note("fine"))
    hub.append(CH, good.alert, good.sig)
    async with make_client(hub, pki.member("fr", "ops")) as ops:
        got = await take(ops.subscribe(CH, since=0), 4)
    assert [r.verified for r in got] == [False, False, False, True]
    for received, detail in zip(got, ["duplicate map key", "duplicate map key",
                                      "ascending order"], strict=False):
        assert isinstance(received.error, InvalidAlert) and received.envelope is None
        assert detail in str(received.error)


async def test_a_hub_frame_with_a_repeated_key_is_a_protocol_violation(
    hub: FakeHub, pki: Pki
) -> None:
    welcome = nodes(msgpack.unpackb(codec.encode(f.Welcome(
        principal="fr/ops", member="fr", admin=False, server="fake", time=1, limits={}))))
    welcome.items.append(("principal", "de/zoll"))
    hub.greeting = [write(welcome)]
    client = make_client(hub, pki.member("fr", "ops"))
    with pytest.raises(ProtocolViolation, match="duplicate map key"):
        await client.connect()
