"""hub.verifier: signature checks on their own thread, results in submission order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.protocol.envelope import sign_alert
from hub.protocol.errors import BadSignature, Unavailable
from hub.verifier import Verifier


def _signed(n: int) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    key = Ed25519PrivateKey.generate()
    alerts = [f"alert {i}".encode() for i in range(n)]
    return key.public_key().public_bytes_raw(), [(a, sign_alert(key, a)) for a in alerts]


@pytest.mark.parametrize("threads", [1, 2, 3])
async def test_each_alert_gets_its_own_result(threads: int) -> None:
    public, signed = _signed(300)
    forged = {5, 150, 299}
    verifier = Verifier(threads)
    verifier.start()
    try:
        futures = [verifier.verify(public, alert, bytes([sig[0] ^ 1]) + sig[1:]
                                   if i in forged else sig)
                   for i, (alert, sig) in enumerate(signed)]
        results = await asyncio.gather(*futures, return_exceptions=True)
    finally:
        await verifier.stop()
    assert [i for i, r in enumerate(results) if isinstance(r, BadSignature)] == sorted(forged)
    assert all(r is None for i, r in enumerate(results) if i not in forged)


async def test_one_thread_answers_in_submission_order() -> None:
    public, signed = _signed(200)
    verifier = Verifier(1)
    verifier.start()
    try:
        futures = [verifier.verify(public, a, s) for a, s in signed]
        finished: list[int] = []

        def note(i: int) -> Callable[[asyncio.Future[None]], None]:
            return lambda _fut: finished.append(i)

        for i, fut in enumerate(futures):
            fut.add_done_callback(note(i))
        await asyncio.gather(*futures)
    finally:
        await verifier.stop()
    assert finished == list(range(200))


def test_at_least_one_thread() -> None:
    with pytest.raises(ValueError, match="positive"):
        Verifier(0)


async def test_a_cancelled_check_does_not_disturb_the_others() -> None:
    public, signed = _signed(50)
    verifier = Verifier()
    verifier.start()
    try:
        futures = [verifier.verify(public, a, s) for a, s in signed]
        futures[10].cancel()
        await asyncio.gather(*(f for i, f in enumerate(futures) if i != 10))
    finally:
        await verifier.stop()
    assert futures[10].cancelled()


async def test_a_key_of_the_wrong_length_is_a_bad_signature() -> None:
    _public, [(alert, sig)] = _signed(1)
    verifier = Verifier()
    verifier.start()
    try:
        with pytest.raises(BadSignature):
            await verifier.verify(b"short", alert, sig)
    finally:
        await verifier.stop()


async def test_an_unexpected_error_is_reported_and_the_thread_lives_on() -> None:
    public, [(alert, sig)] = _signed(1)
    verifier = Verifier()
    verifier.start()
    try:
        with pytest.raises(TypeError):
            await verifier.verify(public, None, sig)  # type: ignore[arg-type]
        fut = verifier.verify(public, alert, sig)
        await fut
        assert fut.exception() is None
    finally:
        await verifier.stop()


async def test_after_stop_checks_are_refused_as_unavailable() -> None:
    public, [(alert, sig)] = _signed(1)
    verifier = Verifier()
    with pytest.raises(Unavailable):
        verifier.verify(public, alert, sig)  # never started
    verifier.start()
    await verifier.stop()
    await verifier.stop()  # idempotent
    with pytest.raises(Unavailable):
        verifier.verify(public, alert, sig)


async def test_a_lone_check_while_the_threads_are_idle_is_made_at_once() -> None:
    """verify_many with one check, nothing queued on the threads: checked on the loop
    before it returns (no thread hop, no wait for the GIL), forged or not; a second lone
    check within the gap, or one while checks are queued, goes to the threads."""
    public, signed = _signed(4)
    (a0, s0), (a1, s1), (a2, s2), (a3, s3) = signed
    verifier = Verifier(inline_gap_s=3600)
    verifier.start()
    try:
        first = verifier.verify_many([(public, a0, bytes([s0[0] ^ 1]) + s0[1:])])
        assert first.done()
        [outcome] = first.result()
        assert isinstance(outcome, BadSignature)
        second = verifier.verify_many([(public, a1, s1)])  # within the gap: a thread
        assert not second.done()
        assert await second == [None]
    finally:
        await verifier.stop()
    verifier = Verifier(inline_gap_s=0)
    verifier.start()
    try:
        queued = verifier.verify_many([(public, a2, s2)] * 64)
        behind = verifier.verify_many([(public, a3, s3)])  # threads busy: queued too
        assert not behind.done()
        assert await queued == [None] * 64 and await behind == [None]
        again = verifier.verify_many([(public, a3, s3)])  # idle again: at once
        assert again.done() and again.result() == [None]
    finally:
        await verifier.stop()


async def test_an_unexpected_error_in_a_lone_check_is_its_outcome() -> None:
    public, [(_alert, sig)] = _signed(1)
    verifier = Verifier()
    verifier.start()
    try:
        fut = verifier.verify_many([(public, None, sig)])  # type: ignore[list-item]
        assert fut.done()
        [outcome] = fut.result()
        assert isinstance(outcome, TypeError)
    finally:
        await verifier.stop()
