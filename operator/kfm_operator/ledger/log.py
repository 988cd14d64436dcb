"""The append-only ledger: exactly-once appends, signed checkpoints, entries and proofs. Called by the handlers
(append, find) and the `kfm ledger` CLI (read, prove).

Append protocol (the same on every backend; `storage` only offers create-only objects and a CAS'd checkpoint):
  1. Read the checkpoint (size S; signature checked). If `batches/<S>` exists, a writer sequenced a batch at S and
     may have died: complete it (step 4) and start over.
  2. Look up each entry's key in `index/keys/<sha256(key)>`. Key records exist for every entry below S (step 4
     writes them before the checkpoint moves past them), so a found key returns the existing index and leaf hash.
  3. Create `batches/<S>` (create-only) holding the new entries: this is the single sequencing point. Whoever
     creates it owns positions S..S+k-1; a writer that finds it taken goes back to 1 (and completes the winner's).
  4. Complete batch S: create the entry bundles, hash tiles and key records it determines, then CAS the checkpoint
     from S to S+k. All of these bytes are a function of the log at S and the batch (Ed25519 signatures are
     deterministic), so any number of completers write identical objects; an object that exists with *other*
     bytes is corruption (LedgerCorrupt), never overwritten. A lost CAS means someone else completed it.
An append is acknowledged only after step 4's CAS. A crash before 3 leaves nothing; between 3 and 4, or inside 4,
leaves a batch beyond the checkpoint that the next `Ledger.open` or append completes (never discards: the batch was
sequenced, and its key records make a retried append return the same index). A checkpoint whose root does not
match the tiles is refused at open.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from kfm_operator.ledger import merkle, notes, proofs, tiles
from kfm_operator.ledger.entries import Entry
from kfm_operator.ledger.errors import LedgerBusy, LedgerCorrupt
from kfm_operator.ledger.storage import KEYS_PREFIX, LedgerStorage

__all__ = ["Appended", "Ledger", "LedgerReader", "batch_path", "key_path", "key_record"]

_MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class Appended:
    index: int
    leaf_hash_hex: str
    tree_size: int  # the checkpoint size at the time of the answer (> index)
    existing: bool  # True if the key was already in the log

    @property
    def leaf_hash(self) -> str:
        """Alias of leaf_hash_hex (lowercase hex of the RFC 9162 leaf hash)."""
        return self.leaf_hash_hex


@dataclass(frozen=True)
class _Head:
    checkpoint: notes.Checkpoint
    note: str
    token: str | None


def batch_path(size: int) -> str:
    return f"batches/{tiles.encode_index(size)}"


def key_path(key: str) -> str:
    return KEYS_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def key_record(key: str, index: int, leaf_hash: bytes) -> bytes:
    return json.dumps({"index": index, "key": key, "leaf_hash": leaf_hash.hex()}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode()


class LedgerReader:
    """Read access for anyone holding the verifier key: checkpoint, entries, keys, proofs."""

    def __init__(self, storage: LedgerStorage, *, verifier: notes.Verifier, origin: str | None = None) -> None:
        self.storage = storage
        self.verifier = verifier
        self.origin = origin or verifier.name
        self._verified: tuple[bytes, notes.Checkpoint] | None = None

    def _head(self) -> _Head:
        current = self.storage.read_checkpoint()
        if current is None:
            return _Head(notes.Checkpoint(self.origin, 0, merkle.EMPTY_ROOT), "", None)
        data, token = current
        if self._verified is None or self._verified[0] != data:  # verify each new checkpoint once
            try:
                checkpoint = notes.open_checkpoint(data.decode(), self.verifier, origin=self.origin)
            except (notes.NoteError, UnicodeDecodeError) as error:
                raise LedgerCorrupt(f"{self.storage.location} checkpoint: {error}", path="checkpoint") from error
            self._verified = (data, checkpoint)
        return _Head(self._verified[1], data.decode(), token)

    def _reader(self, size: int, *, stored_size: int | None = None) -> tiles.TreeReader:
        """Tiles of the tree of `size`, read from the files of the checkpoint of `stored_size` (default: size)."""
        return tiles.TreeReader(self.storage.read, size, stored_size=stored_size)

    def checkpoint(self) -> str:
        """The current signed checkpoint note; LedgerCorrupt if the ledger has none yet."""
        head = self._head()
        if head.token is None:
            raise LedgerCorrupt(f"{self.storage.location}: no checkpoint", path="checkpoint")
        return head.note

    def tree_size(self) -> int:
        return self._head().checkpoint.size

    def entry_bytes(self, index: int, *, size: int | None = None) -> bytes:
        """The stored bytes of entry `index` (unchecked); read from the current checkpoint's bundles."""
        size = self.tree_size() if size is None else size
        if not 0 <= index < size:
            raise IndexError(f"entry {index} is not in a log of size {size}")
        size = max(size, self.tree_size())
        bundle = index // tiles.TILE_WIDTH
        path = tiles.bundle_path(bundle, min(tiles.TILE_WIDTH, size - bundle * tiles.TILE_WIDTH))
        data = self.storage.read(path)
        if data is None:
            raise LedgerCorrupt(f"{path}: missing", index=index, path=path)
        entries = tiles.decode_bundle(data, where=path)
        return entries[index % tiles.TILE_WIDTH]

    def entry(self, index: int) -> Entry:
        """The entry at `index`, checked against its leaf hash in the tiles; IndexError beyond the checkpoint."""
        size = self.tree_size()
        data = self.entry_bytes(index, size=size)
        if merkle.hash_leaf(data) != self._reader(size).leaf_hash(index):
            raise LedgerCorrupt(f"entry {index}: bytes do not match its leaf hash", index=index)
        return Entry.from_canonical(data)

    def find(self, key: str) -> Appended | None:
        """Where `key` is in the log, or None. A key record beyond the checkpoint (a batch in flight) is None."""
        return self._find(key, self._head().checkpoint.size)

    def _find(self, key: str, size: int) -> Appended | None:
        path = key_path(key)
        data = self.storage.read(path)
        if data is None:
            return None
        try:
            record = json.loads(data)
            index, leaf_hash = int(record["index"]), bytes.fromhex(record["leaf_hash"])
            if record["key"] != key:
                raise ValueError("record names another key")
        except (ValueError, KeyError, TypeError) as error:
            raise LedgerCorrupt(f"{path}: malformed key record: {error}", path=path) from error
        if index >= size:
            return None
        if self._reader(size).leaf_hash(index) != leaf_hash:
            raise LedgerCorrupt(f"{path}: key {key!r} points at entry {index} whose leaf hash differs",
                                index=index, path=path)
        return Appended(index, leaf_hash.hex(), size, existing=True)

    def prove_inclusion(self, index: int, tree_size: int | None = None) -> proofs.InclusionProof:
        """Inclusion of entry `index` in the tree of `tree_size` (default: the checkpoint's, which is attached)."""
        head = self._head()
        size = head.checkpoint.size if tree_size is None else tree_size
        if size > head.checkpoint.size:
            raise IndexError(f"tree size {size} is beyond the checkpoint ({head.checkpoint.size})")
        reader = self._reader(size, stored_size=head.checkpoint.size)
        path = merkle.inclusion_proof(index, size, reader.subtree)
        entry = self.entry_bytes(index, size=size)
        return proofs.InclusionProof(
            origin=self.origin, index=index, tree_size=size, leaf_hash=reader.leaf_hash(index), hashes=path,
            root_hash=reader.root(), entry=entry,
            checkpoint=head.note if size == head.checkpoint.size else None)

    def prove_consistency(self, old_size: int, new_size: int | None = None) -> proofs.ConsistencyProof:
        """That the tree of `new_size` (default: the checkpoint's, attached) extends the tree of `old_size`."""
        head = self._head()
        size = head.checkpoint.size if new_size is None else new_size
        if size > head.checkpoint.size:
            raise IndexError(f"tree size {size} is beyond the checkpoint ({head.checkpoint.size})")
        if not 0 < old_size <= size:
            raise IndexError(f"no consistency proof from size {old_size} to size {size}")
        reader = self._reader(size, stored_size=head.checkpoint.size)
        path = merkle.consistency_proof(old_size, size, reader.subtree)
        old_root = self._reader(old_size, stored_size=head.checkpoint.size).root()
        return proofs.ConsistencyProof(
            origin=self.origin, old_size=old_size, new_size=size, old_root=old_root,
            new_root=reader.root(), hashes=path, checkpoint=head.note if size == head.checkpoint.size else None)


class Ledger(LedgerReader):
    """The writer. Open with `Ledger.open(storage, signer=...)`; the checkpoint's origin defaults to the key name."""

    def __init__(self, storage: LedgerStorage, *, signer: notes.Signer, origin: str | None = None) -> None:
        super().__init__(storage, verifier=signer.verifier, origin=origin)
        self.signer = signer
        self._edge = tiles.EMPTY_EDGE

    @classmethod
    def open(cls, storage: LedgerStorage, *, signer: notes.Signer, origin: str | None = None) -> Ledger:
        """Open (creating an empty log if there is none), complete a batch a crashed writer left, and check that
        the checkpoint matches the tiles; LedgerCorrupt if it does not."""
        ledger = cls(storage, signer=signer, origin=origin)
        with storage.writer_lock():
            head = ledger._head()
            if head.token is None:
                storage.swap_checkpoint(ledger._sign(0, merkle.EMPTY_ROOT).encode(), None)
                head = ledger._head()
            if head.checkpoint.size and ledger._reader(head.checkpoint.size).root() != head.checkpoint.root_hash:
                raise LedgerCorrupt(f"{storage.location}: the checkpoint's root does not match the tiles",
                                    path="checkpoint")
            ledger._settle()
        return ledger

    def _sign(self, size: int, root_hash: bytes) -> str:
        return notes.sign_note(notes.Checkpoint(self.origin, size, root_hash).text(), self.signer)

    def append(self, entry: Entry) -> Appended:
        """Append `entry` durably, once: if its key is in the log, the existing index and leaf hash
        (existing=True). Raises EntryError (too large), LedgerCorrupt, LedgerBusy, stores.StoreError."""
        return self.append_many([entry])[0]

    def append_many(self, entries: Sequence[Entry]) -> list[Appended]:
        """Append several entries as one batch (one checkpoint); results in the order given. A key given twice
        gets the first one's index."""
        encoded = [entry.canonical_bytes() for entry in entries]
        with self.storage.writer_lock():
            for _attempt in range(_MAX_ATTEMPTS):
                results = self._try_append(entries, encoded)
                if results is not None:
                    return results
                time.sleep(0.005)
        raise LedgerBusy(f"{self.storage.location}: no turn to append after {_MAX_ATTEMPTS} attempts")

    def _settle(self) -> _Head:
        """The head once no sequenced batch is pending at its size (completing such batches)."""
        while True:
            head = self._head()
            pending = self.storage.read(batch_path(head.checkpoint.size))
            if pending is None:
                return head
            self._complete(head, tiles.decode_bundle(pending, where=batch_path(head.checkpoint.size)))

    def _try_append(self, entries: Sequence[Entry], encoded: list[bytes]) -> list[Appended] | None:
        head = self._settle()
        size = head.checkpoint.size
        results: list[Appended | None] = []
        new: list[bytes] = []
        first_of: dict[str, int] = {}
        for entry, data in zip(entries, encoded, strict=True):
            found = self._find(entry.key, size)
            if found is None and self.storage.read(key_path(entry.key)) is not None:
                return None  # its key record is ahead of the checkpoint: another batch is in flight
            if found is None and entry.key in first_of:
                found = Appended(size + first_of[entry.key], merkle.hash_leaf(new[first_of[entry.key]]).hex(),
                                 0, existing=True)
            if found is None:
                first_of[entry.key] = len(new)
                new.append(data)
            results.append(found)
        if new:
            path = batch_path(size)
            batch = tiles.encode_bundle(new)
            if path in self.storage.create_many({path: batch}) and self.storage.read(path) != batch:
                return None  # another writer sequenced a batch at this size first
            size = self._complete(head, new)
        out, position = [], head.checkpoint.size
        for result, data in zip(results, encoded, strict=True):
            if result is None:
                out.append(Appended(position, merkle.hash_leaf(data).hex(), size, existing=False))
                position += 1
            else:
                out.append(Appended(result.index, result.leaf_hash_hex, size, existing=True))
        return out

    def _edge_at(self, size: int) -> tiles.Edge:
        if self._edge.size == size:
            return self._edge
        reader = self._reader(size)
        width = size % tiles.TILE_WIDTH
        entries: tuple[bytes, ...] = ()
        if width:
            path = tiles.bundle_path(size // tiles.TILE_WIDTH, width)
            data = self.storage.read(path)
            if data is None:
                raise LedgerCorrupt(f"{path}: missing", path=path)
            entries = tuple(tiles.decode_bundle(data, where=path))
        levels, level = [], 0
        while size >> (8 * level):
            count = (size >> (8 * level)) % tiles.TILE_WIDTH
            levels.append(tuple(reader.tile(level, (size >> (8 * level)) // tiles.TILE_WIDTH)) if count else ())
            level += 1
        return tiles.Edge(size, entries, tuple(levels))

    def _complete(self, head: _Head, batch: list[bytes]) -> int:
        """Write everything batch `head.size` determines, then move the checkpoint; returns the new size."""
        size = head.checkpoint.size
        leaf_hashes = [merkle.hash_leaf(data) for data in batch]
        edge, objects = tiles.extend(self._edge_at(size), batch, leaf_hashes)
        for offset, (data, leaf_hash) in enumerate(zip(batch, leaf_hashes, strict=True)):
            key = Entry.from_canonical(data).key
            objects[key_path(key)] = key_record(key, size + offset, leaf_hash)
        for path in self.storage.create_many(objects):
            if self.storage.read(path) != objects[path]:
                raise LedgerCorrupt(f"{self.storage.location} {path}: stored bytes differ from what batch {size} "
                                    f"determines", index=size, path=path)

        def overlay(path: str) -> bytes | None:
            return objects[path] if path in objects else self.storage.read(path)

        new_size = edge.size
        note = self._sign(new_size, tiles.TreeReader(overlay, new_size).root())
        if not self.storage.swap_checkpoint(note.encode(), head.token):
            moved = self._head().checkpoint.size
            if moved < new_size:
                raise LedgerCorrupt(f"{self.storage.location}: checkpoint moved from {size} to {moved}, inside "
                                    f"batch {size}..{new_size}", index=moved, path="checkpoint")
        self._edge = edge
        return new_size
