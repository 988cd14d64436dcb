"""Signed notes and checkpoints: the C2SP example verifies, forgeries and malformed notes are refused."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from kfm_operator.ledger import notes

EXAMPLE = json.loads((Path(__file__).parent / "vectors" / "signed-note-example.json").read_text())


def test_the_c2sp_example_note_verifies_with_its_vkey() -> None:
    verifier = notes.Verifier.from_vkey(EXAMPLE["vkey"])
    assert notes.open_note(EXAMPLE["note"], verifier) == "This is an example message.\n"
    assert verifier.vkey() == EXAMPLE["vkey"]


def test_a_changed_text_is_refused() -> None:
    verifier = notes.Verifier.from_vkey(EXAMPLE["vkey"])
    with pytest.raises(notes.NoteError, match="does not verify"):
        notes.open_note(EXAMPLE["note"].replace("example", "exampel", 1), verifier)


def test_a_signature_by_another_key_of_the_same_name_is_not_accepted() -> None:
    real, forger = notes.generate_signer("kfm.dev/ledger/x"), notes.generate_signer("kfm.dev/ledger/x")
    forged = notes.sign_note(notes.Checkpoint("kfm.dev/ledger/x", 5, b"\0" * 32).text(), forger)
    with pytest.raises(notes.NoteError, match="not signed by"):
        notes.open_checkpoint(forged, real.verifier)


def test_a_forged_signature_under_the_right_key_id_is_refused() -> None:
    signer = notes.generate_signer("kfm.dev/ledger/x")
    note = notes.sign_note(notes.Checkpoint("kfm.dev/ledger/x", 5, b"\0" * 32).text(), signer)
    text, _, line = note.rstrip("\n").rpartition("\n")
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[10] ^= 1
    forged = f"{text}\n\u2014 kfm.dev/ledger/x {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(notes.NoteError, match="does not verify"):
        notes.open_checkpoint(forged, signer.verifier)


def test_signing_keys_round_trip_through_text_and_secret_data() -> None:
    signer = notes.generate_signer("kfm.dev/ledger/dev")
    again = notes.Signer.from_skey(signer.skey())
    assert again.verifier == signer.verifier
    as_api_returns = base64.b64encode(signer.skey().encode()).decode()
    assert notes.signer_from_secret({"skey": as_api_returns}).verifier == signer.verifier
    assert notes.signer_from_secret({"skey": signer.skey().encode()}).verifier == signer.verifier
    with pytest.raises(notes.NoteError, match="no 'skey'"):
        notes.signer_from_secret({})


def test_keys_with_plus_signs_in_their_base64_round_trip() -> None:
    for _ in range(64):  # about half of all keys have a '+' in their base64
        signer = notes.generate_signer("kfm.dev/ledger/dev")
        assert notes.Signer.from_skey(signer.skey()).verifier == signer.verifier
        assert notes.Verifier.from_vkey(signer.verifier.vkey()) == signer.verifier


def test_key_id_follows_the_note_spec() -> None:
    signer = notes.generate_signer("a.example/log")
    expected = hashlib.sha256(b"a.example/log\n\x01" + signer.verifier.public_key).digest()[:4]
    assert signer.verifier.key_id == expected
    assert signer.verifier.vkey().split("+")[1] == expected.hex()


def test_checkpoint_layout_and_origin_check() -> None:
    signer = notes.generate_signer("kfm.dev/ledger/dev")
    checkpoint = notes.Checkpoint("kfm.dev/ledger/dev", 20852163, bytes(range(32)))
    note = notes.sign_note(checkpoint.text(), signer)
    lines = note.split("\n")
    assert lines[:4] == ["kfm.dev/ledger/dev", "20852163", base64.b64encode(bytes(range(32))).decode(), ""]
    assert lines[4].startswith("\u2014 kfm.dev/ledger/dev ")
    assert notes.open_checkpoint(note, signer.verifier) == checkpoint
    with pytest.raises(notes.NoteError, match="origin"):
        notes.open_checkpoint(note, signer.verifier, origin="other")


@pytest.mark.parametrize("text", ["origin\n007\nAAAA\n", "origin\n1\n", "origin\n1\nnot-base64!\n"])
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(notes.NoteError):
        notes.Checkpoint.parse(text)
