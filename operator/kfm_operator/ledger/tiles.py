"""The C2SP tlog-tiles layout: paths, entry bundles, hash tiles, and reading a tree back from them.

`log` uses `extend` to compute every tile and bundle an append creates, and `TreeReader` to answer subtree hashes
(for roots and proofs) from stored tiles; `verifying` uses the path parser to classify stored objects. Layout:
`tile/<L>/<N>[.p/<W>]` (256 hashes of 32 bytes per full tile), `tile/entries/<N>[.p/<W>]` (entries, each prefixed
by its big-endian uint16 length), `<N>` written as x001/x234/067.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kfm_operator.ledger import merkle
from kfm_operator.ledger.errors import LedgerCorrupt

__all__ = [
    "TILE_WIDTH",
    "Edge",
    "TilePath",
    "TreeReader",
    "bundle_path",
    "decode_bundle",
    "encode_bundle",
    "encode_index",
    "extend",
    "parse_index",
    "parse_tile_path",
    "tile_path",
]

TILE_WIDTH = 256
HASH_SIZE = 32
_TILE = re.compile(r"^tile/(entries|0|[1-9][0-9]?)/((?:x\d{3}/)*\d{3})(?:\.p/([1-9][0-9]{0,2}))?$")


def encode_index(index: int) -> str:
    """1234067 -> 'x001/x234/067'; 5 -> '005'."""
    digits = str(index)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def parse_index(text: str) -> int:
    groups = text.split("/")
    if not all(re.fullmatch(r"x\d{3}", g) for g in groups[:-1]) or not re.fullmatch(r"\d{3}", groups[-1]):
        raise ValueError(f"not a tile index path: {text!r}")
    value = int("".join(g.lstrip("x") for g in groups))
    if encode_index(value) != text:
        raise ValueError(f"non-canonical tile index path: {text!r}")
    return value


def _suffix(width: int) -> str:
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    return f"tile/{level}/{encode_index(index)}{_suffix(width)}"


def bundle_path(index: int, width: int = TILE_WIDTH) -> str:
    return f"tile/entries/{encode_index(index)}{_suffix(width)}"


@dataclass(frozen=True)
class TilePath:
    level: int | None  # None for entry bundles
    index: int
    width: int


def parse_tile_path(path: str) -> TilePath:
    """ValueError unless `path` is a canonical tile or bundle path."""
    match = _TILE.match(path)
    if not match:
        raise ValueError(f"not a tile path: {path!r}")
    width = int(match.group(3)) if match.group(3) else TILE_WIDTH
    if width > TILE_WIDTH - 1 and match.group(3):
        raise ValueError(f"partial width must be 1..255: {path!r}")
    level = None if match.group(1) == "entries" else int(match.group(1))
    return TilePath(level, parse_index(match.group(2)), width)


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    return b"".join(len(entry).to_bytes(2, "big") + entry for entry in entries)


def decode_bundle(data: bytes, *, where: str) -> list[bytes]:
    """The entries of a bundle; LedgerCorrupt naming `where` if a length runs past the end (a torn write)."""
    entries, offset = [], 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise LedgerCorrupt(f"{where}: truncated length prefix at byte {offset}", path=where)
        size = int.from_bytes(data[offset:offset + 2], "big")
        if offset + 2 + size > len(data):
            raise LedgerCorrupt(f"{where}: entry at byte {offset} runs past the end", path=where)
        entries.append(data[offset + 2:offset + 2 + size])
        offset += 2 + size
    return entries


def split_hashes(data: bytes, *, where: str, width: int) -> list[bytes]:
    if len(data) != width * HASH_SIZE:
        raise LedgerCorrupt(f"{where}: {len(data)} bytes, expected {width} hashes", path=where)
    return [data[i:i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def tile_root(hashes: Sequence[bytes]) -> bytes:
    """The hash of a full tile: the root of the 256-leaf subtree its hashes are the leaves of."""
    level = list(hashes)
    while len(level) > 1:
        level = [merkle.hash_children(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


@dataclass(frozen=True)
class Edge:
    """The right edge of a tree of `size`: its partial bundle and the partial tile of each level."""

    size: int
    entries: tuple[bytes, ...]  # the partial bundle's entries
    levels: tuple[tuple[bytes, ...], ...]  # levels[l] = the partial tile's hashes at level l (may be empty)


EMPTY_EDGE = Edge(0, (), ())


def _chunks(start: int, existing: Sequence[bytes], new: Sequence[bytes]) -> list[tuple[int, list[bytes]]]:
    """(tile index, content) for every tile touched when `new` items follow `existing` in the tile at `start`."""
    combined = [*existing, *new]
    first = start // TILE_WIDTH
    return [(first + n, combined[i:i + TILE_WIDTH]) for n, i in enumerate(range(0, len(combined), TILE_WIDTH))]


def extend(edge: Edge, entries: Sequence[bytes], leaf_hashes: Sequence[bytes]) -> tuple[Edge, dict[str, bytes]]:
    """The new edge and every bundle and tile (path -> bytes) created by appending `entries` to `edge.size`."""
    objects: dict[str, bytes] = {}
    size = edge.size + len(entries)
    new_entries: tuple[bytes, ...] = ()
    for index, content in _chunks(edge.size, edge.entries, entries):
        objects[bundle_path(index, len(content))] = encode_bundle(content)
        new_entries = () if len(content) == TILE_WIDTH else tuple(content)
    levels = [list(level) for level in edge.levels]
    new_hashes, start, level = list(leaf_hashes), edge.size, 0
    while new_hashes:
        if level == len(levels):
            levels.append([])
        completed: list[bytes] = []
        levels[level] = []
        for index, content in _chunks(start, edge.levels[level] if level < len(edge.levels) else (), new_hashes):
            objects[tile_path(level, index, len(content))] = b"".join(content)
            if len(content) == TILE_WIDTH:
                completed.append(tile_root(content))
            else:
                levels[level] = content
        new_hashes, start, level = completed, start // TILE_WIDTH, level + 1
    return Edge(size, new_entries, tuple(tuple(hashes) for hashes in levels)), objects


class TreeReader:
    """Subtree hashes of the tree of `size` read from tiles through `read` (path -> bytes or None).

    Which tile files exist depends on the sizes that were checkpointed: `stored_size` (default `size`) is the
    checkpoint whose tiles are read, so an older tree of `size` (never checkpointed itself, so without partial
    tiles of its own) is read from the prefixes of the current ones. Tiles are immutable per path, so the cache
    never goes stale; a missing or mis-sized tile is LedgerCorrupt.
    """

    def __init__(self, read: Callable[[str], bytes | None], size: int, *, stored_size: int | None = None) -> None:
        self.read = read
        self.size = size
        self.stored_size = size if stored_size is None else stored_size
        if self.stored_size < size:
            raise ValueError(f"tree size {size} is beyond the stored size {self.stored_size}")
        self._tiles: dict[str, list[bytes]] = {}

    def tile(self, level: int, index: int) -> list[bytes]:
        available = self.stored_size >> (8 * level)
        width = min(TILE_WIDTH, available - index * TILE_WIDTH)
        if width <= 0:
            raise LedgerCorrupt(f"tile {level}/{index} is beyond tree size {self.size}")
        path = tile_path(level, index, width)
        if path not in self._tiles:
            data = self.read(path)
            if data is None:
                raise LedgerCorrupt(f"{path}: missing (needed for tree size {self.stored_size})", path=path)
            if len(self._tiles) > 4096:  # bound memory on long proofs runs; tiles are cheap to re-read
                self._tiles.clear()
            self._tiles[path] = split_hashes(data, where=path, width=width)
        return self._tiles[path]

    def subtree(self, height: int, index: int) -> bytes:
        level, rest = divmod(height, 8)
        first = index << rest
        hashes = self.tile(level, first // TILE_WIDTH)
        offset = first % TILE_WIDTH
        chunk = hashes[offset:offset + (1 << rest)]
        if len(chunk) != 1 << rest:
            raise LedgerCorrupt(f"subtree {height}/{index} is not complete in tree size {self.size}")
        return tile_root(chunk)

    def leaf_hash(self, index: int) -> bytes:
        return self.subtree(0, index)

    def root(self) -> bytes:
        return merkle.root(self.size, self.subtree)
