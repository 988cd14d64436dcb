"""`kfm ledger` through click's CliRunner on the group itself: keygen, verify, show, prove, consistency."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kfm_operator.cli.ledger import ledger as ledger_cli
from kfm_operator.ledger import FileStorage, Ledger, notes
from tests.unit.ledger.support import make_entry


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, str, Ledger]:
    runner = CliRunner()
    result = runner.invoke(ledger_cli, ["keygen", "--name", "kfm.dev/ledger/cli", "--out", str(tmp_path / "k")])
    assert result.exit_code == 0, result.output
    vkey = result.output.strip()
    assert (tmp_path / "k.pub").read_text().strip() == vkey
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    ledger = Ledger.open(FileStorage(tmp_path / "log"), signer=notes.load_signer(tmp_path / "k"))
    ledger.append_many([make_entry(n) for n in range(40)])
    return tmp_path, vkey, ledger


def test_keygen_never_overwrites_a_key(setup: tuple[Path, str, Ledger]) -> None:
    tmp_path, _, _ = setup
    result = CliRunner().invoke(ledger_cli, ["keygen", "--name", "x", "--out", str(tmp_path / "k")])
    assert result.exit_code != 0 and "not overwriting" in result.output


def test_verify_reports_ok_and_json(setup: tuple[Path, str, Ledger]) -> None:
    tmp_path, _, _ = setup
    base = ["verify", "--path", str(tmp_path / "log"), "--public-key", str(tmp_path / "k.pub")]
    result = CliRunner().invoke(ledger_cli, base)
    assert result.exit_code == 0 and "ok:" in result.output and "40 entries" in result.output
    result = CliRunner().invoke(ledger_cli, [*base, "--output", "json"])
    assert json.loads(result.output)["ok"] is True and json.loads(result.output)["tree_size"] == 40


def test_verify_names_the_first_bad_index(setup: tuple[Path, str, Ledger]) -> None:
    tmp_path, vkey, _ = setup
    bundle = tmp_path / "log/tile/entries/000.p/40"
    bundle.write_bytes(bundle.read_bytes().replace(b'"number":17', b'"number":71'))
    result = CliRunner().invoke(ledger_cli, ["verify", "--path", str(tmp_path / "log"), "--public-key", vkey,
                                             "--output", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert (report["ok"], report["bad_index"], report["bad_path"]) == (False, 17, "tile/entries/000.p/40")


def test_verify_rejects_another_key(setup: tuple[Path, str, Ledger]) -> None:
    tmp_path, _, _ = setup
    other = notes.generate_signer("kfm.dev/ledger/cli").verifier.vkey()
    result = CliRunner().invoke(ledger_cli, ["verify", "--path", str(tmp_path / "log"), "--public-key", other])
    assert result.exit_code == 1 and "checkpoint" in result.output and "not signed by" in result.output


def test_show_by_index_and_key(setup: tuple[Path, str, Ledger]) -> None:
    tmp_path, vkey, _ = setup
    for target in ("7", "run/uid-7/1"):
        result = CliRunner().invoke(ledger_cli, ["show", "--path", str(tmp_path / "log"), "--public-key", vkey,
                                                 target])
        assert result.exit_code == 0, result.output
        document = json.loads(result.output)
        assert document["index"] == 7 and document["entry"]["key"] == "run/uid-7/1"
    result = CliRunner().invoke(ledger_cli, ["show", "--path", str(tmp_path / "log"), "--public-key", vkey, "nope"])
    assert result.exit_code == 1 and "no entry with key" in result.output


def test_proofs_from_the_cli_check_with_the_public_key_alone(setup: tuple[Path, str, Ledger]) -> None:
    tmp_path, vkey, ledger = setup
    runner = CliRunner()
    location = ["--path", str(tmp_path / "log"), "--public-key", vkey]
    held = tmp_path / "held-checkpoint"
    held.write_text(ledger.checkpoint())
    ledger.append(make_entry(99))
    inclusion = runner.invoke(ledger_cli, ["prove", *location, "run/uid-12/1"])
    consistency = runner.invoke(ledger_cli, ["consistency", *location, "40"])
    assert inclusion.exit_code == 0 and consistency.exit_code == 0, inclusion.output + consistency.output
    (tmp_path / "inclusion.json").write_text(inclusion.output)
    (tmp_path / "consistency.json").write_text(consistency.output)
    checked = runner.invoke(ledger_cli, ["check-proof", str(tmp_path / "inclusion.json"), "--public-key", vkey])
    assert checked.exit_code == 0 and "entry 12 is included in the tree of size 41" in checked.output
    checked = runner.invoke(ledger_cli, ["check-proof", str(tmp_path / "consistency.json"), "--public-key", vkey,
                                         "--old-checkpoint", str(held)])
    assert checked.exit_code == 0 and "size 41 extends size 40" in checked.output, checked.output
    forged = json.loads(inclusion.output)
    forged["leaf_hash"] = "00" * 32
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    checked = runner.invoke(ledger_cli, ["check-proof", str(tmp_path / "forged.json"), "--public-key", vkey])
    assert checked.exit_code == 1
