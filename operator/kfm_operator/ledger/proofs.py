"""Inclusion and consistency proofs as self-contained JSON, checkable offline with the public key alone.

`LedgerReader.prove_*` builds them, `kfm ledger prove/consistency` prints them, `kfm ledger check-proof` (or
anyone with this module and the vkey) verifies them: signature of the attached checkpoint first, then the proof.
Hashes are lowercase hex; the entry is base64 of its canonical bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from kfm_operator.ledger import merkle, notes

__all__ = ["CONSISTENCY_TYPE", "INCLUSION_TYPE", "ConsistencyProof", "InclusionProof", "check_proof"]

INCLUSION_TYPE = "kfm.dev/ledger/inclusion-proof/v1"
CONSISTENCY_TYPE = "kfm.dev/ledger/consistency-proof/v1"


def _signed_head(note: str | None, verifier: notes.Verifier, *, origin: str, size: int, root_hash: bytes,
                 trusted: str | None) -> str:
    """Check the root against a signed checkpoint of that size: the attached one or `trusted` (a note)."""
    note = trusted or note
    if note is None:
        raise merkle.ProofError(f"no signed checkpoint of size {size}: pass one you hold")
    checkpoint = notes.open_checkpoint(note, verifier, origin=origin)
    if checkpoint.size != size:
        raise merkle.ProofError(f"the checkpoint is for size {checkpoint.size}, the proof for size {size}")
    if checkpoint.root_hash != root_hash:
        raise merkle.ProofError(f"the proof's root for size {size} is not the signed checkpoint's")
    return f"checkpoint {checkpoint.origin} size {size} signed by {verifier.name}"


@dataclass(frozen=True)
class InclusionProof:
    origin: str
    index: int
    tree_size: int
    leaf_hash: bytes
    hashes: list[bytes]
    root_hash: bytes
    entry: bytes | None
    checkpoint: str | None

    def to_json(self) -> dict[str, Any]:
        return {"type": INCLUSION_TYPE, "origin": self.origin, "index": self.index, "tree_size": self.tree_size,
                "leaf_hash": self.leaf_hash.hex(), "hashes": [h.hex() for h in self.hashes],
                "root_hash": self.root_hash.hex(),
                "entry": None if self.entry is None else base64.b64encode(self.entry).decode(),
                "checkpoint": self.checkpoint}

    def verify(self, verifier: notes.Verifier, *, checkpoint: str | None = None) -> str:
        """ProofError/NoteError unless it holds; returns what was checked, for a person."""
        signed = _signed_head(self.checkpoint, verifier, origin=self.origin, size=self.tree_size,
                              root_hash=self.root_hash, trusted=checkpoint)
        if self.entry is not None and merkle.hash_leaf(self.entry) != self.leaf_hash:
            raise merkle.ProofError("the attached entry does not hash to the leaf hash")
        merkle.verify_inclusion(self.leaf_hash, self.index, self.tree_size, self.hashes, self.root_hash)
        return f"entry {self.index} is included in the tree of size {self.tree_size}; {signed}"


@dataclass(frozen=True)
class ConsistencyProof:
    origin: str
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    hashes: list[bytes]
    checkpoint: str | None

    def to_json(self) -> dict[str, Any]:
        return {"type": CONSISTENCY_TYPE, "origin": self.origin, "old_size": self.old_size,
                "new_size": self.new_size, "old_root": self.old_root.hex(), "new_root": self.new_root.hex(),
                "hashes": [h.hex() for h in self.hashes], "checkpoint": self.checkpoint}

    def verify(self, verifier: notes.Verifier, *, checkpoint: str | None = None,
               old_checkpoint: str | None = None) -> str:
        """Checks the new root against the (attached or given) signed checkpoint and, if given, the old root
        against `old_checkpoint` (the one you held); otherwise the old root is the proof's own claim."""
        signed = _signed_head(self.checkpoint, verifier, origin=self.origin, size=self.new_size,
                              root_hash=self.new_root, trusted=checkpoint)
        merkle.verify_consistency(self.old_size, self.new_size, self.old_root, self.new_root, self.hashes)
        old = ("old root as stated in the proof (compare it with a checkpoint you hold)" if old_checkpoint is None
               else _signed_head(old_checkpoint, verifier, origin=self.origin, size=self.old_size,
                                    root_hash=self.old_root, trusted=None))
        return f"size {self.new_size} extends size {self.old_size}; {signed}; {old}"


def _hex(value: Any, what: str) -> bytes:
    try:
        return bytes.fromhex(str(value))
    except ValueError as error:
        raise merkle.ProofError(f"{what} is not hex") from error


def check_proof(document: str, verifier: notes.Verifier, *, checkpoint: str | None = None,
                old_checkpoint: str | None = None) -> str:
    """Parse a proof JSON document (either type) and verify it; ProofError/NoteError naming what failed."""
    try:
        data = json.loads(document)
        kind = data["type"]
        hashes = [_hex(h, "a proof hash") for h in data["hashes"]]
        if kind == INCLUSION_TYPE:
            entry = None if data.get("entry") is None else base64.b64decode(data["entry"], validate=True)
            return InclusionProof(str(data["origin"]), int(data["index"]), int(data["tree_size"]),
                                  _hex(data["leaf_hash"], "leaf_hash"), hashes, _hex(data["root_hash"], "root_hash"),
                                  entry, data.get("checkpoint")).verify(verifier, checkpoint=checkpoint)
        if kind == CONSISTENCY_TYPE:
            return ConsistencyProof(str(data["origin"]), int(data["old_size"]), int(data["new_size"]),
                                    _hex(data["old_root"], "old_root"), _hex(data["new_root"], "new_root"), hashes,
                                    data.get("checkpoint")).verify(verifier, checkpoint=checkpoint,
                                                                   old_checkpoint=old_checkpoint)
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        if isinstance(error, merkle.ProofError | notes.NoteError):
            raise
        raise merkle.ProofError(f"not a ledger proof document: {error!r}") from error
    raise merkle.ProofError(f"unknown proof type {kind!r}")
