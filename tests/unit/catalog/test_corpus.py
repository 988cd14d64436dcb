"""The fixture corpus through the whole gate: every valid triplet passes, every invalid case fails with its code."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfm_operator.gates.catalog import codes, load_triplet, validate_catalog
from tests.unit.catalog.corpus import FIXTURES, INVALID, VALID, invalid_case, materialise


@pytest.mark.parametrize("case", VALID)
def test_valid_triplet_passes(case: str) -> None:
    result = validate_catalog(load_triplet(FIXTURES / "valid" / case))
    assert result.findings == ()
    assert result.passed is True
    assert result.name == "catalog"
    assert set(result.evidence) >= {"stac-item.json", "stac-collection.json", "dcat.jsonld", "prov.json"}


@pytest.mark.parametrize("name", INVALID)
def test_invalid_case_fails_with_its_code(name: str, tmp_path: Path) -> None:
    case = invalid_case(name)
    result = validate_catalog(load_triplet(materialise(case, tmp_path / name)))
    assert result.passed is False, case.description
    assert case.expect in result.codes, f"{case.description}: got {result.findings}"


def test_corpus_is_large_enough_and_covers_the_document_codes() -> None:
    expected = {invalid_case(name).expect for name in INVALID}
    gate_codes = {codes.GATE_INTERNAL_ERROR, codes.GATE_NETWORK_REFUSED, codes.GATE_UNAVAILABLE,
                  codes.DCAT_SHAPE}  # tested in test_gate.py; dcat.shape is the fallback for unmapped shapes
    defined = {value for key, value in vars(codes).items() if key.isupper()}
    assert len(INVALID) >= 25
    assert defined - gate_codes <= expected, f"codes without an invalid case: {defined - gate_codes - expected}"
