"""The ledger on the filesystem: exactly-once appends, proofs, tamper and truncation detection, crash repair."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from kfm_operator.ledger import FileStorage, Ledger, LedgerCorrupt, notes, proofs, tiles, verify
from kfm_operator.ledger.log import batch_path
from tests.unit.ledger.support import make_entry

ORIGIN = "kfm.dev/ledger/test"


@pytest.fixture(scope="module")
def signer() -> notes.Signer:
    return notes.generate_signer(ORIGIN)


def _filled(root: Path, signer: notes.Signer, count: int = 600) -> Ledger:
    ledger = Ledger.open(FileStorage(root), signer=signer)
    ledger.append(make_entry(0))
    for start in range(1, count, 97):  # odd batches: partial and full tiles, bundles crossing tiles
        ledger.append_many([make_entry(n) for n in range(start, min(count, start + 97))])
    return ledger


def test_append_is_exactly_once_by_key(tmp_path: Path, signer: notes.Signer) -> None:
    ledger = Ledger.open(FileStorage(tmp_path), signer=signer)
    first = ledger.append(make_entry(1))
    assert (first.index, first.tree_size, first.existing) == (0, 1, False)
    again = ledger.append(make_entry(1, payload={"different": True}))
    assert (again.index, again.leaf_hash_hex, again.existing) == (0, first.leaf_hash_hex, True)
    batch = ledger.append_many([make_entry(2), make_entry(1), make_entry(3), make_entry(2)])
    assert [(a.index, a.existing) for a in batch] == [(1, False), (0, True), (2, False), (1, True)]
    assert ledger.tree_size() == 3
    assert ledger.find("run/uid-3/1") == batch[2].__class__(2, batch[2].leaf_hash_hex, 3, True)
    assert ledger.find("missing") is None
    assert ledger.entry(2) == make_entry(3)


def test_proofs_verify_with_the_public_key_alone(tmp_path: Path, signer: notes.Signer) -> None:
    ledger = _filled(tmp_path, signer)
    for index in (0, 255, 256, 599):
        document = json.dumps(ledger.prove_inclusion(index).to_json())
        assert "included" in proofs.check_proof(document, signer.verifier)
    held = ledger.checkpoint()
    ledger.append(make_entry(10_000))
    document = json.dumps(ledger.prove_consistency(600).to_json())
    assert "extends" in proofs.check_proof(document, signer.verifier, old_checkpoint=held)
    tampered = json.loads(document)
    tampered["hashes"][0] = "00" * 32
    with pytest.raises(proofs.merkle.ProofError):
        proofs.check_proof(json.dumps(tampered), signer.verifier, old_checkpoint=held)
    with pytest.raises(notes.NoteError):
        proofs.check_proof(document, notes.generate_signer(ORIGIN).verifier)


def test_a_clean_log_verifies_and_reports_progress(tmp_path: Path, signer: notes.Signer) -> None:
    _filled(tmp_path, signer)
    seen: list[tuple[int, int]] = []
    result = verify(FileStorage(tmp_path), signer.verifier, progress=lambda done, total: seen.append((done, total)))
    assert result.ok, result.error
    assert (result.tree_size, result.entries_checked, result.pending) == (600, 600, [])
    assert seen[-1] == (600, 600)


def _stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
                  and ".tmp" not in p.parts)


def test_flipping_any_byte_anywhere_fails_verification_and_names_it(tmp_path: Path, signer: notes.Signer) -> None:
    _filled(tmp_path, signer, count=300)
    files = _stored_files(tmp_path)
    assert {"checkpoint", "index/keys.log"} <= {p.relative_to(tmp_path).as_posix() for p in files}
    rng = random.Random(5)  # noqa: S311 - reproducible positions, not cryptography
    flips = 0
    for path in files:
        original = path.read_bytes()
        for position in {0, len(original) - 1, *rng.sample(range(len(original)), min(4, len(original)))}:
            changed = bytearray(original)
            changed[position] ^= 1 << rng.randrange(8)
            path.write_bytes(bytes(changed))
            result = verify(FileStorage(tmp_path), signer.verifier)
            path.write_bytes(original)
            relative = path.relative_to(tmp_path).as_posix()
            assert not result.ok, f"flip at {relative}:{position} went unnoticed"
            named = "index/keys" if relative == "index/keys.log" else relative
            assert named in (result.error or "") or (result.bad_path or "").startswith(named), (relative, result)
            flips += 1
    assert flips > 100
    assert verify(FileStorage(tmp_path), signer.verifier).ok


def test_a_flipped_entry_is_named_by_index(tmp_path: Path, signer: notes.Signer) -> None:
    _filled(tmp_path, signer, count=300)
    bundle = tmp_path / "tile/entries/000"
    data = bytearray(bundle.read_bytes())
    data[-5] ^= 1  # inside entry 255, the last of the first full bundle
    bundle.write_bytes(bytes(data))
    result = verify(FileStorage(tmp_path), signer.verifier)
    assert (result.ok, result.bad_index, result.bad_path) == (False, 255, "tile/entries/000")


def test_truncation_is_detected(tmp_path: Path, signer: notes.Signer) -> None:
    ledger = _filled(tmp_path, signer, count=300)
    held = ledger.checkpoint()
    ledger.append_many([make_entry(n) for n in range(300, 320)])
    ledger.append_many([make_entry(n) for n in range(320, 330)])
    storage = FileStorage(tmp_path)
    bundle = tmp_path / "tile/entries/001.p/74"
    original = bundle.read_bytes()
    bundle.write_bytes(original[:-10])  # a truncated file
    result = verify(storage, signer.verifier)
    assert not result.ok and result.bad_path == "tile/entries/001.p/74" and result.bad_index == 256
    bundle.unlink()  # a missing file
    result = verify(storage, signer.verifier)
    assert not result.ok and result.bad_path == "tile/entries/001.p/74" and "missing" in (result.error or "")
    bundle.write_bytes(original)
    # an older, genuinely signed checkpoint put back: the batches beyond it give the rollback away
    (tmp_path / "checkpoint").write_text(held)
    result = verify(storage, signer.verifier)
    assert not result.ok and "rolled back" in (result.error or "") and result.bad_path == "batches/320"


def test_a_held_checkpoint_detects_a_shorter_log(tmp_path: Path, signer: notes.Signer) -> None:
    long_log = _filled(tmp_path / "long", signer, count=300)
    _filled(tmp_path / "short", signer, count=200)
    result = verify(FileStorage(tmp_path / "short"), signer.verifier, previous_checkpoint=long_log.checkpoint())
    assert not result.ok and "truncated" in (result.error or "")


def test_a_forged_checkpoint_is_rejected_first(tmp_path: Path, signer: notes.Signer) -> None:
    _filled(tmp_path, signer, count=10)
    forger = notes.generate_signer(ORIGIN)
    (tmp_path / "checkpoint").write_text(notes.sign_note(notes.Checkpoint(ORIGIN, 10, b"\1" * 32).text(), forger))
    result = verify(FileStorage(tmp_path), signer.verifier)
    assert (result.ok, result.bad_path) == (False, "checkpoint") and "not signed by" in (result.error or "")
    with pytest.raises(LedgerCorrupt, match="checkpoint"):
        Ledger.open(FileStorage(tmp_path), signer=signer)


def test_a_checkpoint_that_does_not_match_the_tiles_refuses_to_open(tmp_path: Path, signer: notes.Signer) -> None:
    _filled(tmp_path, signer, count=10)
    (tmp_path / "checkpoint").write_text(notes.sign_note(notes.Checkpoint(ORIGIN, 10, b"\1" * 32).text(), signer))
    with pytest.raises(LedgerCorrupt, match="does not match the tiles"):
        Ledger.open(FileStorage(tmp_path), signer=signer)


def test_a_sequenced_batch_left_by_a_crash_is_completed_on_open(tmp_path: Path, signer: notes.Signer) -> None:
    _filled(tmp_path, signer, count=10)
    storage = FileStorage(tmp_path)
    pending = [make_entry(n).canonical_bytes() for n in (50, 51)]
    storage.create_many({batch_path(10): tiles.encode_bundle(pending)})  # crash right after sequencing
    (tmp_path / "index/keys.log").open("ab").write(b"deadbeef torn")  # and a torn key record
    (tmp_path / ".tmp").mkdir(exist_ok=True)
    (tmp_path / ".tmp/999-1").write_bytes(b"half a tile")
    assert verify(storage, signer.verifier).pending == ["batches/010"]
    ledger = Ledger.open(FileStorage(tmp_path), signer=signer)
    assert ledger.tree_size() == 12
    assert ledger.append(make_entry(51)).index == 11  # its key record was written: no duplicate
    assert not list((tmp_path / ".tmp").iterdir())
    result = verify(FileStorage(tmp_path), signer.verifier)
    assert result.ok and result.pending == [], result.error


def test_a_crash_in_the_middle_of_completing_is_completed(tmp_path: Path, signer: notes.Signer) -> None:
    ledger = _filled(tmp_path, signer, count=10)
    entries = [make_entry(n).canonical_bytes() for n in range(60, 70)]
    leaves = [tiles.merkle.hash_leaf(e) for e in entries]
    _edge, objects = tiles.extend(ledger._edge_at(10), entries, leaves)
    storage = FileStorage(tmp_path)
    storage.create_many({batch_path(10): tiles.encode_bundle(entries)})
    storage.create_many(dict(list(objects.items())[:1]))  # the bundle made it, the tile did not
    reopened = Ledger.open(FileStorage(tmp_path), signer=signer)
    assert reopened.tree_size() == 20 and reopened.find("run/uid-65/1") is not None
    assert verify(FileStorage(tmp_path), signer.verifier).ok


def test_an_existing_object_with_other_bytes_is_never_overwritten(tmp_path: Path, signer: notes.Signer) -> None:
    _filled(tmp_path, signer, count=10)
    storage = FileStorage(tmp_path)
    storage.create_many({batch_path(10): tiles.encode_bundle([make_entry(80).canonical_bytes()])})
    storage.create_many({"tile/0/000.p/11": b"\0" * 32 * 11})  # someone planted a wrong tile
    with pytest.raises(LedgerCorrupt, match=r"tile/0/000.p/11: stored bytes differ"):
        Ledger.open(FileStorage(tmp_path), signer=signer)


def test_proofs_at_sizes_that_were_never_checkpointed(tmp_path: Path, signer: notes.Signer) -> None:
    ledger = Ledger.open(FileStorage(tmp_path), signer=signer)
    ledger.append_many([make_entry(n) for n in range(256)])
    ledger.append_many([make_entry(n) for n in range(256, 600)])  # sizes 256 and 600 only have tiles
    leaves = [tiles.merkle.hash_leaf(ledger.entry_bytes(i)) for i in range(600)]
    for old in (1, 100, 255, 257, 599):
        consistency = ledger.prove_consistency(old)
        assert consistency.old_root == tiles.merkle.root_from_leaves(leaves[:old])
        consistency.verify(signer.verifier)
        inclusion = ledger.prove_inclusion(old - 1, tree_size=old)
        assert inclusion.root_hash == consistency.old_root and inclusion.checkpoint is None
        tiles.merkle.verify_inclusion(inclusion.leaf_hash, old - 1, old, inclusion.hashes, inclusion.root_hash)
