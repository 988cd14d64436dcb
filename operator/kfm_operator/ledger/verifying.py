"""Verify a whole ledger from storage: recompute every hash, tile, batch and key record, and the root.

Called by `kfm ledger verify` and by tests; needs only the storage and the verifier key. Order: the checkpoint's
signature first (nothing is trusted before it), then each entry bundle against its level-0 tile, every higher tile
recomputed from the level below, the root against the checkpoint, an older checkpoint you held (truncation or
rewrite), the chain of batches (contiguous from 0 to the checkpoint; at most one pending batch beyond it), every
stored partial tile and bundle against the tree, and the key index. The first failure stops it and is reported with
the entry index and path where it was found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, get_args

from kfm_operator.ledger import merkle, notes, tiles
from kfm_operator.ledger.entries import Entry, EntryError, EntryKind
from kfm_operator.ledger.errors import LedgerCorrupt
from kfm_operator.ledger.log import batch_path, key_path, key_record
from kfm_operator.ledger.storage import CHECKPOINT, KEYS_PREFIX, LedgerStorage

__all__ = ["Progress", "VerifyResult", "verify"]

Progress = Callable[[int, int], None]
_FIELDS = set(Entry.model_fields)
_KINDS = set(get_args(EntryKind))
W = tiles.TILE_WIDTH
_BEYOND_BMP = re.compile(rb"[\xf0-\xf4]")


@dataclass
class VerifyResult:
    ok: bool
    location: str
    tree_size: int = 0
    root_hash: str | None = None
    entries_checked: int = 0
    error: str | None = None
    bad_index: int | None = None
    bad_path: str | None = None
    pending: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def verify(storage: LedgerStorage, verifier: notes.Verifier, *, origin: str | None = None,
           previous_checkpoint: str | None = None, check_index: bool = True,
           progress: Progress | None = None) -> VerifyResult:
    """Recompute everything; never raises for bad data (the result says what and where), only for store errors."""
    run = _Run(storage, verifier, origin or verifier.name, progress)
    try:
        run.all(previous_checkpoint, check_index)
    except LedgerCorrupt as error:
        return VerifyResult(False, storage.location, run.size, None, len(run.leaves), str(error), error.index,
                            error.path, run.pending)
    return VerifyResult(True, storage.location, run.size, run.root.hex(), len(run.leaves), pending=run.pending)


def _canonical_enough(data: bytes) -> str:
    """The entry's key after a fast structural check; full RFC 8785 re-encoding only where the fast path can't
    decide (floats, unusual characters). EntryError if not a canonical entry."""
    floats: list[str] = []

    def parse_float(text: str) -> float:
        floats.append(text)
        return float(text)

    try:
        obj = json.loads(data, parse_float=parse_float)
    except ValueError as error:
        raise EntryError(f"not JSON: {error}") from error
    if not isinstance(obj, dict) or set(obj) != _FIELDS or obj.get("kind") not in _KINDS:
        raise EntryError("not a ledger entry (fields or kind)")
    fast = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    # RFC 8785 sorts keys by UTF-16 units, Python by code points: they differ only beyond the BMP (4-byte UTF-8).
    if floats or fast != data or (not data.isascii() and _BEYOND_BMP.search(data)):
        return Entry.from_canonical(data).key
    return str(obj["key"])


class _Run:
    def __init__(self, storage: LedgerStorage, verifier: notes.Verifier, origin: str,
                 progress: Progress | None) -> None:
        self.storage, self.verifier, self.origin, self.progress = storage, verifier, origin, progress
        self.size = 0
        self.root = merkle.EMPTY_ROOT
        self.leaves: list[bytes] = []
        self.levels: list[list[bytes]] = []
        self.keys: dict[str, int] = {}
        self.checked: set[str] = set()
        self.pending: list[str] = []
        self.pending_keys: set[str] = set()
        self.limit = 0  # entries below this (the checkpoint plus a pending batch) may be stored

    def all(self, previous_checkpoint: str | None, check_index: bool) -> None:
        checkpoint = self.checkpoint()
        self.bundles()
        self.upper_levels()
        self.root = merkle.root(self.size, self.subtree)
        if self.root != checkpoint.root_hash:
            raise LedgerCorrupt(f"checkpoint root {checkpoint.root_hash.hex()} is not the root of the tiles "
                                f"{self.root.hex()}", path=CHECKPOINT)
        if previous_checkpoint is not None:
            self.previous(previous_checkpoint)
        self.batches()
        self.stored_tiles()
        if check_index:
            self.key_index()

    def checkpoint(self) -> notes.Checkpoint:
        current = self.storage.read_checkpoint()
        if current is None:
            raise LedgerCorrupt("no checkpoint", path=CHECKPOINT)
        try:
            checkpoint = notes.open_checkpoint(current[0].decode(), self.verifier, origin=self.origin)
        except (notes.NoteError, UnicodeDecodeError) as error:
            raise LedgerCorrupt(f"checkpoint: {error}", path=CHECKPOINT) from error
        self.size = self.limit = checkpoint.size
        return checkpoint

    def subtree(self, height: int, index: int) -> bytes:
        level, rest = divmod(height, 8)
        return tiles.tile_root(self.levels[level][index << rest:(index + 1) << rest])

    def read_tile(self, level: int, index: int, width: int, first: int) -> list[bytes]:
        path = tiles.tile_path(level, index, width)
        data = self.storage.read(path)
        if data is None:
            raise LedgerCorrupt(f"{path}: missing", index=first, path=path)
        self.checked.add(path)
        try:
            return tiles.split_hashes(data, where=path, width=width)
        except LedgerCorrupt as error:
            raise LedgerCorrupt(str(error), index=first, path=path) from error

    def bundles(self) -> None:
        for bundle in range(-(-self.size // W)):
            first, width = bundle * W, min(W, self.size - bundle * W)
            path = tiles.bundle_path(bundle, width)
            data = self.storage.read(path)
            if data is None:
                raise LedgerCorrupt(f"{path}: missing (entries {first}..)", index=first, path=path)
            self.checked.add(path)
            try:
                entries = tiles.decode_bundle(data, where=path)
            except LedgerCorrupt as error:
                raise LedgerCorrupt(str(error), index=first, path=path) from error
            if len(entries) != width:
                raise LedgerCorrupt(f"{path}: holds {len(entries)} entries, the checkpoint needs {width}",
                                    index=first + min(len(entries), width), path=path)
            tile = self.read_tile(0, bundle, width, first)
            for offset, entry in enumerate(entries):
                index = first + offset
                if merkle.hash_leaf(entry) != tile[offset]:
                    raise LedgerCorrupt(f"entry {index}: bytes in {path} do not match its leaf hash in "
                                        f"{tiles.tile_path(0, bundle, width)}", index=index, path=path)
                try:
                    key = _canonical_enough(entry)
                except EntryError as error:
                    raise LedgerCorrupt(f"entry {index} in {path}: {error}", index=index, path=path) from error
                if self.keys.setdefault(key, index) != index:
                    raise LedgerCorrupt(f"entry {index}: key {key!r} is already entry {self.keys[key]}",
                                        index=index, path=path)
            self.leaves.extend(tile)
            if self.progress:
                self.progress(first + width, self.size)
        self.levels = [self.leaves]

    def upper_levels(self) -> None:
        level = 1
        while self.size >> (8 * level):
            below = self.levels[level - 1]
            expected = [tiles.tile_root(below[t * W:(t + 1) * W]) for t in range(len(below) // W)]
            span = W ** level
            for index in range(-(-len(expected) // W)):
                width = min(W, len(expected) - index * W)
                stored = self.read_tile(level, index, width, index * W * span)
                for offset, value in enumerate(stored):
                    if value != expected[index * W + offset]:
                        raise LedgerCorrupt(f"{tiles.tile_path(level, index, width)}: hash {offset} does not match "
                                            f"the tiles below", index=(index * W + offset) * span,
                                            path=tiles.tile_path(level, index, width))
            self.levels.append(expected)
            level += 1

    def previous(self, note: str) -> None:
        try:
            held = notes.open_checkpoint(note, self.verifier, origin=self.origin)
        except notes.NoteError as error:
            raise LedgerCorrupt(f"the checkpoint you hold: {error}", path=CHECKPOINT) from error
        if held.size > self.size:
            raise LedgerCorrupt(f"log truncated: you hold a checkpoint of size {held.size}, the log has "
                                f"{self.size}", index=self.size, path=CHECKPOINT)
        if held.size and merkle.root(held.size, self.subtree) != held.root_hash:
            raise LedgerCorrupt(f"log rewritten: its tree of size {held.size} differs from the checkpoint you hold",
                                path=CHECKPOINT)

    def batches(self) -> None:
        positions: dict[int, str] = {}
        for path in self.storage.list("batches/"):
            try:
                positions[tiles.parse_index(path[len("batches/"):])] = path
            except ValueError as error:
                raise LedgerCorrupt(f"{path}: unknown object", path=path) from error
        position = 0
        for start in sorted(positions):
            path = positions[start]
            if start != position:
                raise LedgerCorrupt(f"{batch_path(position)}: missing (next batch starts at {start})",
                                    index=position, path=batch_path(position))
            entries = tiles.decode_bundle(self.storage.read(path) or b"", where=path)
            if not entries:
                raise LedgerCorrupt(f"{path}: empty or vanished", index=start, path=path)
            if start >= self.size:  # sequenced but not yet in a checkpoint: one such batch may exist
                if start > self.size:
                    raise LedgerCorrupt(f"{path}: beyond the checkpoint (size {self.size}): the checkpoint was "
                                        f"rolled back or the log truncated", index=self.size, path=path)
                self.pending.append(path)
                self.limit = start + len(entries)
                self.pending_keys = {key_path(Entry.from_canonical(e).key) for e in entries}
            else:
                for offset, entry in enumerate(entries):
                    index = start + offset
                    if index >= self.size or merkle.hash_leaf(entry) != self.leaves[index]:
                        raise LedgerCorrupt(f"{path}: entry {offset} is not entry {index} of the log",
                                            index=index, path=path)
            position = start + len(entries)
        if position < self.size:
            raise LedgerCorrupt(f"{batch_path(position)}: missing", index=position, path=batch_path(position))

    def stored_tiles(self) -> None:
        for path in self.storage.list("tile/"):
            if path in self.checked:
                continue
            try:
                where = tiles.parse_tile_path(path)
            except ValueError as error:
                raise LedgerCorrupt(f"{path}: unknown object", path=path) from error
            data = self.storage.read(path) or b""
            level = 0 if where.level is None else where.level
            known = self.levels[level] if level < len(self.levels) else []
            first, end = where.index * W, where.index * W + where.width
            if end > len(known):
                if end > self.limit >> (8 * level):
                    raise LedgerCorrupt(f"{path}: beyond the checkpoint (size {self.size}) and any pending batch",
                                        index=first * W ** level, path=path)
                self.pending.append(path)
                continue
            if where.level is None:
                values = [merkle.hash_leaf(e) for e in tiles.decode_bundle(data, where=path)]
            else:
                values = tiles.split_hashes(data, where=path, width=where.width)
            for offset in range(where.width):
                if offset >= len(values) or values[offset] != known[first + offset]:
                    raise LedgerCorrupt(f"{path}: item {offset} differs from the log",
                                        index=(first + offset) * W ** level, path=path)
            if len(values) != where.width:
                raise LedgerCorrupt(f"{path}: holds {len(values)} items, its name says {where.width}",
                                    index=first * W ** level, path=path)

    def key_index(self) -> None:
        expected = {key_path(key): (key, index) for key, index in self.keys.items()}
        for path, (key, index) in expected.items():
            record = self.storage.read(path)
            if record != key_record(key, index, self.leaves[index]):
                what = "missing" if record is None else "does not map its key to entry " + str(index)
                raise LedgerCorrupt(f"{path}: key record {what}", index=index, path=path)
        for path in self.storage.list(KEYS_PREFIX):
            if path not in expected and path not in self.pending_keys:
                raise LedgerCorrupt(f"{path}: key record for no entry in the log", path=path)
