"""hub.ratelimit: a frame's alerts take their tokens at once as they would one by one."""

from __future__ import annotations

from hub.ratelimit import RateLimiter


def test_take_up_to_grants_what_takes_in_a_row_would() -> None:
    for burst, n in ((3, 5), (3, 3), (5, 2), (1, 1), (4, 0)):
        one, many = RateLimiter(0.001, burst), RateLimiter(0.001, burst)
        in_a_row = [one.take("p") for _ in range(n)]
        granted = many.take_up_to("p", n)
        assert in_a_row == [True] * granted + [False] * (n - granted)
        # and the buckets are left the same: the next requests are answered alike
        assert [one.take("p") for _ in range(3)] == [many.take("p") for _ in range(3)]
    spent = RateLimiter(0.001, 2)
    assert spent.take_up_to("p", 2) == 2 and spent.take_up_to("p", 4) == 0
    assert spent.take_up_to("q", 4) == 2  # buckets are per key
