"""RFC 9162 hashing and proofs against published vectors (transparency-dev/merkle) and property tests."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kfm_operator.ledger import merkle

VECTORS = Path(__file__).parent / "vectors"


def _load(kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(str(p.relative_to(VECTORS)), json.loads(p.read_text())) for p in sorted((VECTORS / kind).rglob("*.json"))]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(data: dict[str, Any]) -> list[bytes]:
    return [_b64(h) for h in data["proof"] or []]


@pytest.mark.parametrize(("name", "case"), _load("inclusion"), ids=lambda v: v if isinstance(v, str) else "")
def test_inclusion_vector(name: str, case: dict[str, Any]) -> None:
    def check() -> None:
        merkle.verify_inclusion(_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], _proof(case),
                                _b64(case["root"]))

    if case["wantErr"]:
        with pytest.raises(merkle.ProofError):
            check()
    else:
        check()


@pytest.mark.parametrize(("name", "case"), _load("consistency"), ids=lambda v: v if isinstance(v, str) else "")
def test_consistency_vector(name: str, case: dict[str, Any]) -> None:
    def check() -> None:
        merkle.verify_consistency(case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]),
                                  _proof(case))

    if case["wantErr"]:
        with pytest.raises(merkle.ProofError):
            check()
    else:
        check()


def test_vectors_are_all_loaded() -> None:
    assert len(_load("inclusion")) > 90 and len(_load("consistency")) > 90


REFERENCE = json.loads((VECTORS / "reference-tree.json").read_text())
REFERENCE_LEAVES = [merkle.hash_leaf(bytes.fromhex(leaf)) for leaf in REFERENCE["leaves"]]


@pytest.mark.parametrize("size", range(9))
def test_reference_tree_roots(size: int) -> None:
    assert merkle.root_from_leaves(REFERENCE_LEAVES[:size]).hex() == REFERENCE["roots"][size]


def test_generated_proofs_match_the_published_ones() -> None:
    happy = json.loads((VECTORS / "inclusion/1/happy-path.json").read_text())
    subtree = merkle.leaf_subtree_hash(REFERENCE_LEAVES)
    assert merkle.inclusion_proof(happy["leafIdx"], happy["treeSize"], subtree) == _proof(happy)
    for path in sorted(VECTORS.glob("consistency/*/happy-path.json")):
        case = json.loads(path.read_text())
        got = merkle.consistency_proof(case["size1"], case["size2"], subtree)
        assert got == _proof(case), path


def _leaves(count: int) -> list[bytes]:
    return [merkle.hash_leaf(i.to_bytes(4, "big")) for i in range(count)]


LEAVES = _leaves(700)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 700).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_proofs_verify_for_many_sizes(case: tuple[int, int]) -> None:
    size, index = case
    subtree = merkle.leaf_subtree_hash(LEAVES[:size])
    root = merkle.root(size, subtree)
    proof = merkle.inclusion_proof(index, size, subtree)
    merkle.verify_inclusion(LEAVES[index], index, size, proof, root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(LEAVES[index], index, size, proof, merkle.hash_leaf(b"other root"))
    if size > 1:
        other = (index + 1) % size
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(LEAVES[other], index, size, proof, root)
    if proof:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(LEAVES[index], index, size, proof[:-1], root)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 700).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_consistency_proofs_verify_for_many_sizes(case: tuple[int, int]) -> None:
    old, new = case
    subtree = merkle.leaf_subtree_hash(LEAVES[:new])
    old_root, new_root = merkle.root(old, subtree), merkle.root(new, subtree)
    proof = merkle.consistency_proof(old, new, subtree)
    merkle.verify_consistency(old, new, old_root, new_root, proof)
    if old < new:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(old, new, merkle.hash_leaf(b"forked"), new_root, proof)
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(old, new, old_root, new_root, [*proof[:-1], merkle.hash_leaf(b"x")])
