"""What a fault test checks at the end: every ack the publishers received, every alert each
SDK subscriber received, against the history the store holds.

``Ledger.check`` asserts zero acknowledged loss (every acked alert is in the history at its
acked offset), no duplicate (each alert id once in the history), no offset given to two
alert ids within an epoch (acks, dups included, agree with each other and with the store),
gap-free offsets, and that every subscriber ended with exactly the history, in order.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from client.sdk import Client, ClientError, Published
from hub.protocol.envelope import decode_envelope
from hub.protocol.errors import ChainBroken, CordonError, Unavailable
from hub.storage import Store
from tests.bodies import note

__all__ = ["Ledger", "follow", "publish_all", "wait_until"]


class Ledger:
    def __init__(self) -> None:
        #: (epoch, offset) -> alert ids acknowledged at that offset (must be one)
        self.acks: dict[tuple[str, int], set[str]] = defaultdict(set)
        self.acked_ids: set[str] = set()
        #: 503 answers publishers received (then retried with the same signed bytes)
        self.unavailable = 0
        #: other failed attempts (connection lost, hub unreachable), retried the same way
        self.lost = 0
        #: acks answered "already stored" (a resend of an alert stored before a crash)
        self.dups = 0

    def record(self, ack: Published) -> None:
        self.acks[(ack.epoch, ack.offset)].add(ack.alert_id)
        self.acked_ids.add(ack.alert_id)
        self.dups += ack.dup

    @property
    def count(self) -> int:
        return len(self.acked_ids)

    @property
    def top(self) -> int:
        return max((off for _, off in self.acks), default=0)

    async def check(self, store: Store, channel: str,
                    subscribers: Iterable[Sequence[tuple[int, str]]],
                    expected_ids: set[str]) -> list[tuple[int, str]]:
        """Assert the guarantees; return the history as (offset, alert id)."""
        history: list[tuple[int, str]] = []
        after = 0
        while True:
            page = await store.read_after(channel, after, 1000)
            if not page:
                break
            history += [(item.off, decode_envelope(item.alert).id) for item in page]
            after = page[-1].off
        meta = await store.channel(channel)
        assert meta is not None
        # no offset reused within an epoch: one alert id per (epoch, offset) in every ack
        reused = {key: ids for key, ids in self.acks.items() if len(ids) != 1}
        assert not reused, f"offsets acknowledged for two alert ids: {reused}"
        assert {epoch for epoch, _ in self.acks} == {meta.epoch}, "epoch changed"
        # gap-free, no duplicate, exactly what was published
        assert [off for off, _ in history] == list(range(1, len(history) + 1))
        ids = [alert_id for _, alert_id in history]
        assert len(ids) == len(set(ids)), "an alert id is stored twice"
        assert set(ids) == expected_ids == self.acked_ids
        # zero acknowledged loss: every ack names the offset the store holds it at
        stored = dict(history)
        for (_epoch, off), acked in self.acks.items():
            assert stored.get(off) in acked, f"acked offset {off} holds {stored.get(off)}"
        for n, got in enumerate(subscribers):
            assert list(got) == history, f"subscriber {n} differs from the history"
        return history


async def publish_all(client: Client, channel: str, ids: Sequence[str], ledger: Ledger,
                      *, concurrency: int = 8) -> None:
    """Publish one notice per id, each signed once and resent with the same bytes until
    acknowledged (idempotent publish), ``concurrency`` at a time. A 426 (the sender chain
    moved on: an alert signed before it was refused, or arrived later) is final for those
    bytes: the alert is then published with ``Client.publish``, which re-signs it on the
    chain and reports an earlier stored copy as ``dup`` (PROTOCOL.md §4)."""
    signed = [client.sign(channel, "notice", note(f"fault test {alert_id}"), alert_id=alert_id)
              for alert_id in ids]
    room = asyncio.Semaphore(concurrency)

    async def one(alert: bytes, sig: bytes) -> None:
        async with room:
            while True:
                try:
                    ack = await client.publish_signed(channel, alert, sig)
                except ChainBroken:
                    env = decode_envelope(alert)
                    try:
                        ack = await client.publish(channel, env.kind, env.body,
                                                   alert_id=env.id, ts_ms=env.ts)
                    except Unavailable:
                        ledger.unavailable += 1
                    except (ClientError, CordonError, OSError, TimeoutError):
                        ledger.lost += 1
                    else:
                        ledger.record(ack)
                        return
                except Unavailable:
                    ledger.unavailable += 1
                except (ClientError, CordonError, OSError, TimeoutError):
                    ledger.lost += 1
                else:
                    ledger.record(ack)
                    return
                await asyncio.sleep(0.05)

    await asyncio.gather(*(one(s.alert, s.sig) for s in signed))


async def follow(client: Client, channel: str, into: list[tuple[int, str]]) -> None:
    """An SDK subscriber from offset 0 (it resumes by itself), until cancelled."""
    async with client.subscribe(channel, since=0, verify=False) as sub:
        async for item in sub:
            assert item.envelope is not None
            into.append((item.offset, item.envelope.id))


async def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until true; fail with ``what`` after ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                if check():
                    return
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not within {timeout:g} s: {what}") from None
