"""The catalog gate: `validate_catalog(triplet)` runs the STAC, DCAT, PROV and cross-link checks with the network
refused, and returns the shared GateResult (name "catalog").

Fails closed: a finding from loading, a validator that raises, or any attempted network access makes it fail;
passed=None only when the checks cannot run at all (the bundled or configured schemas are unusable). Called by
the DatasetVersion handler after a pipeline run, by the promotion gates and by `kfm catalog validate`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import rdflib

from kfm_operator.domain import catalog_vocabulary as vocabulary
from kfm_operator.domain.gates import Finding, GateResult
from kfm_operator.gates.catalog import codes, dcat, netguard, provenance, schemas, stac
from kfm_operator.gates.catalog.crosslinks import check_crosslinks
from kfm_operator.gates.catalog.findings import bounded
from kfm_operator.gates.catalog.triplets import Triplet

__all__ = ["GATE_NAME", "validate_catalog"]

GATE_NAME = "catalog"
_T = TypeVar("_T")


def _guarded(step: str, where: str, run: Callable[[], tuple[_T | None, list[Finding]]],
             findings: list[Finding]) -> _T | None:
    """Run one check; any exception becomes a finding (and no facts), so a crashing validator cannot pass."""
    try:
        facts, found = run()
    except netguard.NetworkRefused as error:
        findings.append(Finding(codes.GATE_NETWORK_REFUSED, where, bounded(f"{step}: {error}")))
        return None
    except Exception as error:  # fail closed on anything a third-party validator raises
        findings.append(Finding(codes.GATE_INTERNAL_ERROR, where,
                                bounded(f"{step} raised {type(error).__name__}: {error}")))
        return None
    findings.extend(found)
    return facts


def _stac_step(document: Mapping[str, Any], kind: stac.StacKind, file_name: str,
               registry: schemas.SchemaRegistry) -> tuple[None, list[Finding]]:
    return None, stac.check_stac(document, kind=kind, file_name=file_name, schemas=registry)


def _prepare(extra_schema_dirs: Sequence[Path]) -> tuple[schemas.SchemaRegistry, rdflib.Graph]:
    registry = schemas.load_registry(tuple(Path(d).resolve() for d in extra_schema_dirs))
    return registry, dcat.load_shapes()


def validate_catalog(triplet: Triplet, *, extra_schema_dirs: Sequence[Path] = ()) -> GateResult:
    """The catalog gate's verdict on one dataset version's triplet.

    `extra_schema_dirs` lists directories of JSON Schemas (keyed by `$id`) an operator adds to the bundled ones,
    e.g. further STAC extensions; nothing else is ever looked up. Evidence: document file name -> sha256.
    """
    evidence = dict(triplet.digests)
    try:
        registry, _ = _prepare(extra_schema_dirs)
    except Exception as error:  # unusable bundled/configured schemas: the gate cannot evaluate, not "invalid"
        return GateResult(GATE_NAME, None, (Finding(codes.GATE_UNAVAILABLE, "", bounded(
            f"catalog validation cannot run: {type(error).__name__}: {error}")),), evidence)
    findings = list(triplet.problems)
    with netguard.refusing_network() as guard:
        stac_documents: tuple[tuple[stac.StacKind, Mapping[str, Any] | None, str], ...] = (
            ("item", triplet.stac_item, vocabulary.STAC_ITEM),
            ("collection", triplet.stac_collection, vocabulary.STAC_COLLECTION))
        for kind, document, file_name in stac_documents:
            if document is not None:
                _guarded(f"STAC {kind} validation", file_name,
                         functools.partial(_stac_step, document, kind, file_name, registry), findings)
        dcat_facts = None if triplet.dcat is None else _guarded(
            "DCAT validation", vocabulary.DCAT, lambda: dcat.check_dcat(triplet.dcat or {}), findings)
        prov_facts = None if triplet.prov is None else _guarded(
            "PROV validation", vocabulary.PROV, lambda: provenance.check_prov(triplet.prov or {}), findings)
        _guarded("cross-link checks", "", lambda: (None, check_crosslinks(
            item=triplet.stac_item, collection=triplet.stac_collection, dcat=dcat_facts, prov=prov_facts,
            artifacts=triplet.artifacts)), findings)
    if guard.refused and not any(f.code == codes.GATE_NETWORK_REFUSED for f in findings):
        # A library caught the refusal and carried on; the attempt alone fails the gate.
        findings.append(Finding(codes.GATE_NETWORK_REFUSED, "", bounded(
            f"a validator tried to reach the network: {guard.refused[0]}")))
    return GateResult(GATE_NAME, not findings, tuple(findings), evidence)
