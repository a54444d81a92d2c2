"""hub.lazydeque.LazyDeque: a deque's behaviour for what its users call, and no deque
held while empty."""

from __future__ import annotations

import pytest

from hub.lazydeque import LazyDeque


def test_fifo_and_no_deque_while_empty() -> None:
    q: LazyDeque[int] = LazyDeque()
    assert not q and len(q) == 0 and list(q) == [] and q._d is None
    for i in range(100):  # past one deque block (64)
        q.append(i)
    assert q and len(q) == 100 and list(q) == list(range(100))
    assert [q.popleft() for _ in range(100)] == list(range(100))
    assert not q and q._d is None  # given back once empty
    with pytest.raises(IndexError):
        q.popleft()


def test_extendleft_remove_clear() -> None:
    q: LazyDeque[str] = LazyDeque()
    q.extendleft([])
    assert q._d is None
    q.append("c")
    q.extendleft(reversed(["a", "b"]))  # websockets' put_back
    assert list(q) == ["a", "b", "c"]
    q.remove("b")
    assert list(q) == ["a", "c"]
    with pytest.raises(ValueError):
        q.remove("x")
    q.remove("a")
    q.remove("c")
    assert q._d is None
    with pytest.raises(ValueError):
        q.remove("a")
    q.append("z")
    q.clear()
    assert not q and q._d is None
    assert repr(q) == "LazyDeque([])"


def test_first_item_get_set_del_as_asyncio_write_backlog_does() -> None:
    q: LazyDeque[bytes] = LazyDeque()
    for op in (lambda: q[0], lambda: q.__setitem__(0, b"x"), lambda: q.__delitem__(0)):
        with pytest.raises(IndexError):
            op()
    q.append(b"abcdef")
    q.append(b"gh")
    assert q[0] == b"abcdef"
    q[0] = q[0][4:]  # a partial write
    assert list(q) == [b"ef", b"gh"]
    del q[0]
    del q[0]
    assert not q and q._d is None
