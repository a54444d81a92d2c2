"""Merkle tree hashing of a channel's log (RFC 9162 §2.1, as RFC 6962): the building
blocks of signed channel checkpoints (PROTOCOL.md Appendix C).

A channel epoch's log is the list of its alerts' exact bytes in offset order (offset 1
is leaf 0). Leaves and nodes are domain-separated::

    leaf_hash(data) = SHA-256(0x00 || data)
    node_hash(l, r) = SHA-256(0x01 || l || r)
    root([])        = SHA-256("")
    root([d])       = leaf_hash(d)
    root(D[0:n])    = node_hash(root(D[0:k]), root(D[k:n]))   k = largest power of 2 < n

:func:`inclusion_proof` / :func:`verify_inclusion` prove that leaf ``index`` is in a
tree of ``size`` leaves; :func:`consistency_proof` / :func:`verify_consistency` prove
that a tree of ``size1`` leaves is a prefix of one of ``size2`` (an honest log only
grows). The proof generators take the list of leaf hashes and are meant for tests,
vectors and small logs; :func:`inclusion_path` and :func:`consistency_path` build the same
proofs from any ``subtree_root(lo, hi)`` (the hub's log cache answers it from stored
subtree hashes in O(log n)); the verifiers are what clients run. Sans-I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Final

__all__ = [
    "EMPTY_ROOT",
    "HASH_BYTES",
    "SubtreeRoot",
    "consistency_path",
    "consistency_proof",
    "inclusion_path",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "pair_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

#: ``subtree_root(lo, hi)``: the root hash of the tree over leaves ``lo`` to ``hi - 1``.
SubtreeRoot = Callable[[int, int], bytes]

HASH_BYTES: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: an alert's exact bytes."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node."""
    return pair_hash(left + right)


def pair_hash(pair: bytes | bytearray) -> bytes:
    """:func:`node_hash` of its two children given as one 64-byte ``left || right`` (a
    slice of a level of hashes, as the hub's log keeps them)."""
    return hashlib.sha256(b"\x01" + pair).digest()


def _split(n: int) -> int:
    """The largest power of 2 smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """The root hash of a tree over ``leaves`` (leaf hashes, in order)."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def _of(leaves: Sequence[bytes]) -> SubtreeRoot:
    return lambda lo, hi: root(leaves[lo:hi])


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree over ``leaves`` (RFC 9162 §2.1.3.1)."""
    return inclusion_path(_of(leaves), index, len(leaves))


def inclusion_path(subtree_root: SubtreeRoot, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves whose subtree roots
    ``subtree_root`` gives (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")
    path: list[bytes] = []
    lo, hi = 0, size
    # Walk down from the root, collecting the sibling subtree at each level.
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            path.append(subtree_root(lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree_root(lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_proof(leaves: Sequence[bytes], size1: int) -> list[bytes]:
    """The proof that the first ``size1`` leaves form a prefix of the tree over ``leaves``
    (RFC 9162 §2.1.4.1); empty when ``size1`` is 0 or the whole tree."""
    return consistency_path(_of(leaves), size1, len(leaves))


def consistency_path(subtree_root: SubtreeRoot, size1: int, size2: int) -> list[bytes]:
    """The consistency proof from ``size1`` to ``size2`` leaves, from ``subtree_root``
    (RFC 9162 §2.1.4.1); empty when ``size1`` is 0 or ``size2``."""
    if not 0 <= size1 <= size2:
        raise ValueError("size1 outside the tree")
    if size1 in (0, size2):
        return []
    return _subproof(subtree_root, size1, 0, size2, True)


def _subproof(subtree_root: SubtreeRoot, m: int, lo: int, hi: int,
              complete: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if complete else [subtree_root(lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(subtree_root, m, lo, lo + k, complete), subtree_root(lo + k, hi)]
    return [*_subproof(subtree_root, m - k, lo + k, hi, False), subtree_root(lo, lo + k)]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes],
                     root_hash: bytes) -> bool:
    """True if ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree of ``size``
    leaves whose root is ``root_hash`` (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes,
                       proof: Sequence[bytes]) -> bool:
    """True if ``proof`` shows the tree of ``size1`` leaves with root ``root1`` is a
    prefix of the tree of ``size2`` leaves with root ``root2`` (RFC 9162 §2.1.4.2).
    Equal sizes need an empty proof and equal roots; ``size1`` 0 needs an empty proof."""
    if not 0 <= size1 <= size2:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof and root1 == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of 2: the old root is a node of the new tree
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0
