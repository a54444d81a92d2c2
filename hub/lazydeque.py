"""A deque that holds no deque while it is empty.

An empty :class:`collections.deque` costs ~760 bytes (the object and its first block of
64 slots). Every idle connection held several — websockets' frame queue and drain
waiters, asyncio's TLS write backlog, the session's send queue — so 10,000 idle
connections kept ~30 MiB of empty deques (issue 17, W4). :class:`LazyDeque` makes the
deque on the first append and lets it go when it is empty again (16 bytes while empty).

It has only what those users call: append, popleft, extendleft, remove, clear, ``[0]``
(get, set, del), len, truth and iteration; each is the deque's own, so costs stay O(1).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

__all__ = ["LazyDeque"]

T = TypeVar("T")


class LazyDeque(Generic[T]):
    """A FIFO with the deque methods listed in the module docstring; no deque while empty."""

    __slots__ = ("_d",)

    def __init__(self) -> None:
        self._d: deque[T] | None = None

    def _made(self) -> deque[T]:
        d = self._d
        if d is None:
            d = self._d = deque()
        return d

    def _settle(self, d: deque[T]) -> None:
        if not d:
            self._d = None

    def append(self, item: T) -> None:
        self._made().append(item)

    def extendleft(self, items: Iterable[T]) -> None:
        d = self._made()
        d.extendleft(items)
        self._settle(d)

    def popleft(self) -> T:
        d = self._d
        if d is None:
            raise IndexError("pop from an empty deque")
        item = d.popleft()
        self._settle(d)
        return item

    def remove(self, item: T) -> None:
        d = self._d
        if d is None:
            raise ValueError(f"{item!r} is not in deque")
        d.remove(item)
        self._settle(d)

    def clear(self) -> None:
        self._d = None

    def __getitem__(self, index: int) -> T:
        if self._d is None:
            raise IndexError("deque index out of range")
        return self._d[index]

    def __setitem__(self, index: int, item: T) -> None:
        if self._d is None:
            raise IndexError("deque index out of range")
        self._d[index] = item

    def __delitem__(self, index: int) -> None:
        d = self._d
        if d is None:
            raise IndexError("deque index out of range")
        del d[index]
        self._settle(d)

    def __len__(self) -> int:
        return 0 if self._d is None else len(self._d)

    def __bool__(self) -> bool:
        return self._d is not None

    def __iter__(self) -> Iterator[T]:
        return iter(()) if self._d is None else iter(self._d)

    def __repr__(self) -> str:
        return f"LazyDeque({list(self)!r})"
