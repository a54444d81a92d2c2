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
