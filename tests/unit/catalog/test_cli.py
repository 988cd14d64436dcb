"""`kfm catalog validate`, invoked through click's CliRunner on the group itself."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kfm_operator.cli.catalog import catalog
from tests.unit.catalog.corpus import FIXTURES, invalid_case, materialise

KS = FIXTURES / "valid" / "ks-airports"


def test_valid_directory_exits_zero() -> None:
    result = CliRunner().invoke(catalog, ["validate", str(KS)])
    assert result.exit_code == 0, result.output
    assert "passed" in result.output


def test_findings_exit_one_and_print_json(tmp_path: Path) -> None:
    directory = materialise(invalid_case("label-mismatch-stac-dcat"), tmp_path / "case")
    result = CliRunner().invoke(catalog, ["validate", str(directory), "--output", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["passed"] is False
    assert "cross.label_mismatch" in [f["code"] for f in report["findings"]]


def test_artifacts_option_reads_a_receipt(tmp_path: Path) -> None:
    artifacts = json.loads((KS / "artifacts.json").read_text())
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps({"outputs": [{"name": a["name"], "uri": a["uri"], "checksum": a["digest"]}
                                               for a in artifacts]}))
    directory = materialise(invalid_case("artifacts-missing"), tmp_path / "case")
    result = CliRunner().invoke(catalog, ["validate", str(directory), "--artifacts", str(receipt)])
    assert result.exit_code == 0, result.output


def test_unusable_schema_dir_exits_three(tmp_path: Path) -> None:
    result = CliRunner().invoke(catalog, ["validate", str(KS), "--schema-dir", str(tmp_path / "absent")])
    assert result.exit_code == 3
    assert "gate.unavailable" in result.output
