"""hub.translog._Tree, the hub's cache of a channel's log: leaves appended in runs of any
length give the same roots, for every size, as hub.protocol.merkle.root (RFC 6962)."""

from __future__ import annotations

import random

from hub.protocol.merkle import leaf_hash, root
from hub.translog import _Tree


def test_roots_of_a_tree_extended_in_runs_match_the_reference() -> None:
    rng = random.Random(17)
    for _ in range(200):
        tree = _Tree("e" * 32)
        hashes: list[bytes] = []
        for _ in range(rng.randint(1, 6)):
            run = [leaf_hash(rng.randbytes(rng.randint(0, 8))) for _ in range(rng.randint(0, 40))]
            hashes += run
            tree.extend(b"".join(run))
            assert tree.size == len(hashes)
            if hashes:
                for size in {len(hashes), *(rng.randint(1, len(hashes)) for _ in range(3))}:
                    assert tree.root(size) == root(hashes[:size])
