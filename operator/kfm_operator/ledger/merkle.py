"""RFC 9162 Merkle tree hashing, proofs and their verifiers (pure; no storage).

Used by the ledger (`log`, `verifying`, `proofs`) and by anyone holding a checkpoint offline. Proof generation
works over a `SubtreeHash` callable that returns the hash of a *complete, aligned* subtree (height h, index i:
leaves i*2^h .. (i+1)*2^h - 1); the ledger answers it from hash tiles, tests from a list of leaves. Verifiers follow
RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) step by step and raise ProofError naming what failed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "ProofError",
    "SubtreeHash",
    "consistency_proof",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "leaf_subtree_hash",
    "range_hash",
    "root",
    "root_from_leaves",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
SubtreeHash = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof did not verify, or its inputs are out of range; the message says which step failed."""


def hash_leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly below `size` (size >= 2): where RFC 9162 splits a tree."""
    return 1 << ((size - 1).bit_length() - 1)


def range_hash(start: int, end: int, subtree: SubtreeHash) -> bytes:
    """MTH(D[start:end]) for a range that is a node of some tree (start aligned to the split), end > start."""
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        return subtree(size.bit_length() - 1, start // size)
    k = _split(size)
    return hash_children(range_hash(start, start + k, subtree), range_hash(start + k, end, subtree))


def root(size: int, subtree: SubtreeHash) -> bytes:
    return EMPTY_ROOT if size == 0 else range_hash(0, size, subtree)


def inclusion_proof(index: int, size: int, subtree: SubtreeHash) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf side first."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:  # descend towards the leaf; siblings collected top down, returned bottom up
        k = _split(end - start)
        if index < start + k:
            path.append(range_hash(start + k, end, subtree))
            end = start + k
        else:
            path.append(range_hash(start, start + k, subtree))
            start += k
    return path[::-1]


def consistency_proof(old_size: int, new_size: int, subtree: SubtreeHash) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1; empty when the sizes are equal."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    proof: list[bytes] = []
    m, start, end, whole = old_size, 0, new_size, True
    while m != end - start:  # SUBPROOF(m, D[start:end], whole), iteratively; collected top down
        k = _split(end - start)
        if m <= k:
            proof.append(range_hash(start + k, end, subtree))
            end = start + k
        else:
            proof.append(range_hash(start, start + k, subtree))
            m, start, whole = m - k, start + k, False
    if not whole:
        proof.append(range_hash(start, end, subtree))
    return proof[::-1]


def _as_bytes(hashes: Sequence[bytes]) -> list[bytes]:
    return [bytes(h) for h in hashes]


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes) -> None:
    """RFC 9162 §2.1.3.2: raise ProofError unless `proof` shows leaf `index` with `leaf_hash` in the tree."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    if len(leaf_hash) != HASH_SIZE or len(root_hash) != HASH_SIZE:
        raise ProofError("leaf hash and root hash must be 32 bytes (SHA-256)")
    fn, sn = index, size - 1
    r = leaf_hash
    for p in _as_bytes(proof):
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    if r != root_hash:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the root of tree size {size}")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2: raise ProofError unless the tree of `new_size` extends the tree of `old_size`."""
    path = _as_bytes(proof)
    if old_size == 0 or old_size > new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size == new_size:
        if path:
            raise ProofError("equal sizes need an empty consistency proof")
        if old_root != new_root:
            raise ProofError(f"roots differ at equal size {old_size}")
        return
    if not path:
        raise ProofError("empty consistency proof between different sizes")
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is itself a node of the new tree
        path = [old_root, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the tree is deep")
    if fr != old_root:
        raise ProofError(f"consistency proof does not lead to the root of old size {old_size}")
    if sr != new_root:
        raise ProofError(f"consistency proof does not lead to the root of new size {new_size}")


def leaf_subtree_hash(leaf_hashes: Sequence[bytes]) -> SubtreeHash:
    """A SubtreeHash over an in-memory list of leaf hashes (small trees, tests and proof checks)."""

    def subtree(height: int, index: int) -> bytes:
        width = 1 << height
        level = list(leaf_hashes[index * width:(index + 1) * width])
        if len(level) != width:
            raise ProofError(f"subtree {height}/{index} is beyond {len(leaf_hashes)} leaves")
        while len(level) > 1:
            level = [hash_children(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        return level[0]

    return subtree


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    return root(len(leaf_hashes), leaf_subtree_hash(leaf_hashes))
