"""The valid fixtures are what builders.py makes, and ks-airports is the real public data it claims to be."""

from __future__ import annotations

import hashlib
import json

import pytest

from kfm_operator.api.datasetversion import PolicyLabel, Sensitivity
from kfm_operator.gates.catalog import vocabulary
from kfm_operator.gates.catalog.schemas import BUNDLED_DIR
from tests.unit.catalog.builders import points_geojson, render, valid_cases
from tests.unit.catalog.corpus import FIXTURES


@pytest.mark.parametrize(("case", "name"), [(case, name) for case, files in valid_cases().items() for name in files])
def test_valid_fixture_is_current(case: str, name: str) -> None:
    assert (FIXTURES / "valid" / case / name).read_text() == render(valid_cases()[case][name]), (
        "run `python -m tests.unit.catalog.builders`")


def test_ks_airports_digest_is_the_sha256_of_the_kansas_rows() -> None:
    data = points_geojson("KS")
    assert (FIXTURES / "valid" / "ks-airports" / "points.geojson").read_bytes() == data
    assert len(json.loads(data)["features"]) == 78
    (artifact,) = json.loads((FIXTURES / "valid" / "ks-airports" / "artifacts.json").read_text())
    assert artifact["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()


def test_extension_label_values_are_the_api_enums() -> None:
    schema = json.loads((BUNDLED_DIR / "kfm-stac-extension-v1.0.0.json").read_text())
    assert schema["$id"] == vocabulary.KFM_STAC_EXTENSION
    labels = schema["definitions"]["labels"]["properties"]
    assert labels["kfm:policy_label"]["enum"] == [p.value for p in PolicyLabel]
    assert labels["kfm:sensitivity"]["enum"] == [s.value for s in Sensitivity]
