"""hub.protocol.merkle: RFC 9162 tree hashes, inclusion and consistency proofs."""

from __future__ import annotations

import hashlib

import pytest

from hub.protocol.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    pair_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962 reference leaves and roots (certificate-transparency's test data).
RFC_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
RFC_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAVES = [leaf_hash(d) for d in RFC_LEAVES]
MANY = [leaf_hash(b"alert %d" % n) for n in range(33)]


def test_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_rfc6962_roots(size: int) -> None:
    assert root(LEAVES[:size]).hex() == RFC_ROOTS[size - 1]


def test_rfc6962_inclusion_and_consistency_examples() -> None:
    # RFC 6962 §2.1.3 (its figure names nodes differently: its g, h, i, j, k, l are our
    # h, i, j, g, k, l): the audit paths of d0, d3, d4, d6 in the tree of 7 leaves ...
    a, b, c, d, e, f, g = LEAVES[:7]
    h, i, j = node_hash(a, b), node_hash(c, d), node_hash(e, f)
    k, l_ = node_hash(h, i), node_hash(j, g)
    assert inclusion_proof(LEAVES[:7], 0) == [b, i, l_]
    assert inclusion_proof(LEAVES[:7], 3) == [c, h, l_]
    assert inclusion_proof(LEAVES[:7], 4) == [f, g, k]
    assert inclusion_proof(LEAVES[:7], 6) == [j, k]
    # ... and the consistency proofs of sizes 3, 4 and 6 with 7
    assert consistency_proof(LEAVES[:7], 3) == [c, d, h, l_]
    assert consistency_proof(LEAVES[:7], 4) == [l_]
    assert consistency_proof(LEAVES[:7], 6) == [j, g, k]


@pytest.mark.parametrize("size", range(1, len(MANY) + 1))
def test_every_inclusion_proof_verifies_and_nothing_else_does(size: int) -> None:
    leaves = MANY[:size]
    top = root(leaves)
    for index in range(size):
        proof = inclusion_proof(leaves, index)
        assert verify_inclusion(leaves[index], index, size, proof, top)
        assert not verify_inclusion(leaves[index], index, size, proof, EMPTY_ROOT)
        assert not verify_inclusion(leaf_hash(b"other"), index, size, proof, top)
        if size & (size - 1) == 0:  # a full tree: one more leaf changes every path
            assert not verify_inclusion(leaves[index], index, size + 1, proof, top)
        assert not verify_inclusion(leaves[index], index, size, [*proof, top], top)
        if proof:
            assert not verify_inclusion(leaves[index], index, size, proof[:-1], top)
        if size > 1:
            other = (index + 1) % size
            assert not verify_inclusion(leaves[index], other, size, proof, top)
    assert not verify_inclusion(leaves[0], size, size, [], top)
    assert not verify_inclusion(leaves[0], -1, size, [], top)


@pytest.mark.parametrize("size2", range(1, len(MANY) + 1))
def test_every_consistency_proof_verifies_and_nothing_else_does(size2: int) -> None:
    leaves = MANY[:size2]
    root2 = root(leaves)
    for size1 in range(0, size2 + 1):
        root1 = root(leaves[:size1])
        proof = consistency_proof(leaves, size1)
        assert verify_consistency(size1, size2, root1, root2, proof)
        if size1:  # every tree extends the empty one
            assert not verify_consistency(size1, size2, root1, leaf_hash(b"x"), proof)
        if 0 < size1 < size2:
            assert not verify_consistency(size1, size2, leaf_hash(b"x"), root2, proof)
            assert not verify_consistency(size1, size2, root1, root2, proof[:-1])
            assert not verify_consistency(size1, size2, root1, root2, [*proof, root2])
            assert not verify_consistency(size1, size2, root1, root2, [])
            # a forked log: the same size2, another history
            forked = [*leaves[:size1 - 1], leaf_hash(b"forged"), *leaves[size1:]]
            assert not verify_consistency(size1, size2, root1, root(forked),
                                          consistency_proof(forked, size1))


def test_consistency_edges() -> None:
    top = root(MANY[:5])
    assert verify_consistency(5, 5, top, top, [])
    assert not verify_consistency(5, 5, top, top, [top])
    assert not verify_consistency(5, 5, top, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, top, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, top, [top])
    assert not verify_consistency(0, 5, top, top, [])
    assert not verify_consistency(6, 5, top, top, [])
    assert not verify_consistency(-1, 5, top, top, [])


def test_generators_refuse_sizes_outside_the_tree() -> None:
    with pytest.raises(ValueError):
        inclusion_proof(MANY[:3], 3)
    with pytest.raises(ValueError):
        inclusion_proof(MANY[:3], -1)
    with pytest.raises(ValueError):
        consistency_proof(MANY[:3], 4)
    with pytest.raises(ValueError):
        consistency_proof(MANY[:3], -1)


def test_pair_hash_is_node_hash_of_the_halves() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert pair_hash(left + right) == node_hash(left, right)
    assert pair_hash(bytearray(left + right)) == node_hash(left, right)
    assert pair_hash(left + right) == hashlib.sha256(b"\x01" + left + right).digest()
