"""crds/ is generated from the pydantic models; drift and undocumented or unbounded fields are caught."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Annotated

import pytest
from click.testing import CliRunner
from pydantic import Field

from kfm_operator.api import crds, datasetversion
from kfm_operator.api.crds import KINDS, build_crd, render_crds
from kfm_operator.api.fields import KfmModel
from kfm_operator.api.structural import SchemaError, structural_schema
from kfm_operator.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_crds_check_passes_on_the_repository() -> None:
    result = CliRunner().invoke(main, ["crds", "check", "--dir", str(REPO_ROOT / "crds")])
    assert result.exit_code == 0, result.output
    assert "matches the models" in result.output


def test_crds_check_fails_when_a_model_changes_without_regeneration(monkeypatch: pytest.MonkeyPatch) -> None:
    class ChangedSpec(datasetversion.DatasetVersionSpec):
        """What the version is (with a shorter title)."""

        title: str = Field(min_length=1, max_length=100, description="title, now at most 100 characters.")

    class Changed(datasetversion.DatasetVersion):
        """A DatasetVersion whose model changed."""

        spec: ChangedSpec = Field(description="spec of the version; immutable after create.",
                                  json_schema_extra=datasetversion.SPEC_RULES)

    changed = dataclasses.replace(KINDS[0], model=Changed)
    monkeypatch.setattr(crds, "KINDS", (changed, *KINDS[1:]))
    result = CliRunner().invoke(main, ["crds", "check", "--dir", str(REPO_ROOT / "crds")])
    assert result.exit_code == 1
    assert "+                description: title, now at most 100 characters." in result.output
    assert "+                maxLength: 100" in result.output
    assert "run `kfm crds generate`" in result.output


def test_crds_check_names_missing_and_stray_files(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "crds", tmp_path / "crds")
    (tmp_path / "crds" / "kfm.dev_promotions.yaml").unlink()
    (tmp_path / "crds" / "old.yaml").write_text("kind: Nothing\n")
    result = CliRunner().invoke(main, ["crds", "check", "--dir", str(tmp_path / "crds")])
    assert result.exit_code == 1
    assert "kfm.dev_promotions.yaml: missing" in result.output
    assert "old.yaml: not generated from any model" in result.output


def test_generate_writes_exactly_what_check_expects(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["crds", "generate", "--dir", str(tmp_path)]).exit_code == 0
    assert runner.invoke(main, ["crds", "check", "--dir", str(tmp_path)]).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(render_crds())


def test_each_crd_has_names_columns_status_and_a_structural_schema() -> None:
    for info in KINDS:
        crd = build_crd(info)
        spec = crd["spec"]
        assert spec["group"] == "kfm.dev" and spec["scope"] == "Namespaced"
        assert spec["names"]["shortNames"] == [info.short_name] and spec["names"]["categories"] == ["kfm"]
        (version,) = spec["versions"]
        assert version["name"] == "v1alpha1" and version["served"] and version["storage"]
        assert version["subresources"] == {"status": {}}
        columns = [c["name"] for c in version["additionalPrinterColumns"] if c.get("priority", 0) == 0]
        assert columns[-3:] == ["Phase", "Ready", "Age"]
        root = version["schema"]["openAPIV3Schema"]
        assert root["required"] == ["spec"]
        assert root["properties"]["spec"]["x-kubernetes-validations"][0]["rule"] == "self == oldSelf"


class Undocumented(KfmModel):
    name: str = Field(max_length=10)


class Unbounded(KfmModel):
    name: str = Field(description="name without a bound.")


class UnboundedList(KfmModel):
    names: list[Annotated[str, Field(max_length=5)]] = Field(description="names without a bound.")


@pytest.mark.parametrize(("model", "message"), [
    (Undocumented, "X.name: no description"),
    (Unbounded, "X.name: string without maxLength or enum"),
    (UnboundedList, "X.names: list without maxItems"),
])
def test_the_generator_refuses_undocumented_or_unbounded_fields(model: type[KfmModel], message: str) -> None:
    schema = model.model_json_schema(by_alias=True)
    schema["description"] = "a test model"
    with pytest.raises(SchemaError, match=message.replace(".", r"\.")):
        structural_schema(schema, "X")
