"""hub.session._Slots: a connection's in-flight slots, taken a frame's worth at once."""

from __future__ import annotations

import asyncio

import pytest

from hub.session import _Slots


async def test_slots_are_taken_at_once_and_waited_for_in_turn() -> None:
    slots = _Slots(4)
    await slots.take(3)
    assert slots.free == 1
    second = asyncio.ensure_future(slots.take(2))
    third = asyncio.ensure_future(slots.take(1))  # fits, but waits its turn
    await asyncio.sleep(0)
    assert not second.done() and not third.done() and slots.free == 1
    slots.give(1)  # of the first three
    await asyncio.sleep(0)
    assert second.done() and not third.done() and slots.free == 0
    slots.give(2)  # the rest of the first three
    await asyncio.sleep(0)
    assert third.done() and slots.free == 1
    slots.give(2)
    slots.give(1)
    assert slots.free == 4 and not slots._waiters


async def test_a_cancelled_taker_takes_nothing_and_lets_the_next_one_in() -> None:
    slots = _Slots(2)
    await slots.take(2)
    big = asyncio.ensure_future(slots.take(2))
    small = asyncio.ensure_future(slots.take(1))
    await asyncio.sleep(0)
    slots.give(1)  # one free: not enough for the first in line
    await asyncio.sleep(0)
    assert not big.done() and not small.done()
    big.cancel()
    with pytest.raises(asyncio.CancelledError):
        await big
    await asyncio.sleep(0)
    assert small.done() and slots.free == 0
    # taken for a waiter that is cancelled before it runs: given back
    late = asyncio.ensure_future(slots.take(1))
    await asyncio.sleep(0)
    slots.give(1)
    late.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late
    assert slots.free == 1 and not slots._waiters
