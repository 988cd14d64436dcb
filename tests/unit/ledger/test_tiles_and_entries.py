"""Tile paths, bundles, tiles built by appends against RFC 9162 roots, and canonical entries."""

from __future__ import annotations

import pytest

from kfm_operator.ledger import EntryError, merkle, tiles
from kfm_operator.ledger.entries import Entry
from tests.unit.ledger.support import make_entry


@pytest.mark.parametrize(("index", "path"), [(0, "000"), (5, "005"), (999, "999"), (1000, "x001/000"),
                                             (1234067, "x001/x234/067")])
def test_tile_index_paths(index: int, path: str) -> None:
    assert tiles.encode_index(index) == path
    assert tiles.parse_index(path) == index


def test_tile_and_bundle_paths() -> None:
    assert tiles.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tiles.tile_path(2, 3, 17) == "tile/2/003.p/17"
    assert tiles.bundle_path(1, 5) == "tile/entries/001.p/5"
    assert tiles.parse_tile_path("tile/entries/001.p/5") == tiles.TilePath(None, 1, 5)
    for bad in ("tile/0/5", "tile/0/000.p/256", "tile/0/000.p/0", "tile/x/000", "tile/0/x000"):
        with pytest.raises(ValueError, match="tile"):
            tiles.parse_tile_path(bad)


def test_bundles_round_trip_and_torn_bundles_are_refused() -> None:
    data = tiles.encode_bundle([b"a", b"", b"ccc"])
    assert data == b"\0\x01a\0\0\0\x03ccc"
    assert tiles.decode_bundle(data, where="b") == [b"a", b"", b"ccc"]
    with pytest.raises(tiles.LedgerCorrupt, match="runs past the end"):
        tiles.decode_bundle(data[:-1], where="b")


def test_the_spec_example_of_70000_entries() -> None:
    leaves = [merkle.hash_leaf(i.to_bytes(4, "big")) for i in range(70000)]
    edge, objects = tiles.extend(tiles.EMPTY_EDGE, [b"x"] * 70000, leaves)
    level0 = [p for p in objects if p.startswith("tile/0/")]
    assert len(level0) == 274 and "tile/0/273.p/112" in objects
    assert {p for p in objects if p.startswith(("tile/1/", "tile/2/"))} == {"tile/1/000", "tile/1/001.p/17",
                                                                             "tile/2/000.p/1"}
    reader = tiles.TreeReader(objects.get, 70000)
    assert reader.root() == merkle.root_from_leaves(leaves)
    assert len(edge.levels[0]) == 112 and len(edge.levels[1]) == 17 and len(edge.levels[2]) == 1


@pytest.mark.parametrize("steps", [[1] * 9, [255, 1, 1], [256, 256, 3], [300, 212, 1, 255]])
def test_incremental_appends_give_the_same_tiles_and_roots(steps: list[int]) -> None:
    edge, stored, count = tiles.EMPTY_EDGE, {}, 0
    leaves = [merkle.hash_leaf(i.to_bytes(4, "big")) for i in range(sum(steps))]
    for step in steps:
        edge, objects = tiles.extend(edge, [b"e"] * step, leaves[count:count + step])
        assert not set(objects) & set(stored), "immutable paths are written once"
        stored.update(objects)
        count += step
        assert tiles.TreeReader(stored.get, count).root() == merkle.root_from_leaves(leaves[:count])


def test_entry_canonical_bytes_are_rfc8785_and_round_trip() -> None:
    entry = make_entry(1, payload={"b": 1, "a": [1.5, "\u00e9"], "c": None})
    data = entry.canonical_bytes()
    assert data.startswith(b'{"correlation":{"dataset_version_id":"uid-1","run_id":')
    assert b'"a":[1.5,"\xc3\xa9"],"b":1,"c":null' in data
    assert Entry.from_canonical(data) == entry


def test_non_canonical_or_foreign_bytes_are_refused() -> None:
    data = make_entry(1).canonical_bytes()
    with pytest.raises(EntryError, match="canonical"):
        Entry.from_canonical(data.replace(b'{"correlation"', b'{ "correlation"'))
    with pytest.raises(EntryError, match="not a ledger entry"):
        Entry.from_canonical(b'{"kind":"other"}')


def test_entries_too_large_for_a_bundle_are_refused() -> None:
    with pytest.raises(EntryError, match="65535"):
        make_entry(1, payload={"blob": "x" * 70000}).canonical_bytes()


def test_entry_fields_are_validated() -> None:
    with pytest.raises(ValueError, match="digests"):
        Entry(kind="run.receipt", key="k", time="2024-05-01T12:00:00Z", digests={"x": "md5:00"},
              subject={"apiVersion": "v", "kind": "K", "name": "n", "uid": "u"})
    with pytest.raises(ValueError, match="time"):
        make_entry(1).model_copy(update={}).model_validate({**make_entry(1).model_dump(by_alias=True),
                                                            "time": "yesterday"})
