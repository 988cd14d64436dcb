"""DCAT checks of the catalog gate: dcat.jsonld is read with rdflib using bundled JSON-LD contexts only, checked
against the project's SHACL shapes (shapes/dcat-shapes.ttl, pyshacl), and reduced to the facts the cross-link
checks compare (dataset IRI, run, labels, distributions).

A string `@context` (or `@import`) is replaced by the bundled context of that URL or reported as
`dcat.context_remote`; nothing is fetched. Called by gates.catalog.gate.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyshacl
import rdflib
from rdflib.namespace import RDF, SH

from kfm_operator.domain import catalog_vocabulary as vocabulary
from kfm_operator.domain.gates import Finding
from kfm_operator.gates.catalog import codes
from kfm_operator.gates.catalog.findings import bounded, pointer

__all__ = ["DcatFacts", "Distribution", "check_dcat", "inline_contexts", "load_shapes"]

_DATA = Path(__file__).parent
BUNDLED_CONTEXTS = {vocabulary.KFM_CONTEXT: _DATA / "contexts" / "kfm-catalog-v1.0.0.jsonld"}
_SHAPES_FILE = _DATA / "shapes" / "dcat-shapes.ttl"
_SHAPES_NS = "https://kfm.dev/shapes/catalog#"
# sh:sourceShape of a violation -> finding code; shapes not listed here report dcat.shape.
_SHAPE_CODES = {
    "DatasetTitle": codes.DCAT_TITLE,
    "DatasetIdentifier": codes.DCAT_IDENTIFIER,
    "DatasetLicense": codes.DCAT_LICENSE,
    "DatasetAccessRights": codes.DCAT_ACCESS_RIGHTS,
    "DatasetPolicyLabel": codes.DCAT_LABEL,
    "DatasetSensitivity": codes.DCAT_LABEL,
    "DatasetSovereignty": codes.DCAT_LABEL,
    "DatasetDistribution": codes.DCAT_DISTRIBUTION,
    "DatasetGeneratedBy": codes.DCAT_GENERATED_BY,
    "DistributionDownloadURL": codes.DCAT_DOWNLOAD_URL,
    "DistributionMediaType": codes.DCAT_MEDIA_TYPE,
    "DistributionChecksum": codes.DCAT_CHECKSUM,
    "ChecksumAlgorithm": codes.DCAT_CHECKSUM,
    "ChecksumValue": codes.DCAT_CHECKSUM,
}
_DCAT = rdflib.Namespace(vocabulary.DCAT_NS)
_SPDX = rdflib.Namespace(vocabulary.SPDX_NS)
_PROV = rdflib.Namespace(vocabulary.PROV_NS)
_KFM = rdflib.Namespace(vocabulary.KFM_NS)
_BASE = "urn:kfm:catalog:"  # relative IRIs stay recognisable instead of resolving against a file path


@dataclass(frozen=True)
class Distribution:
    download_url: str
    checksum: str | None  # sha256:<hex>, as STAC and the artifact list write it


@dataclass(frozen=True)
class DcatFacts:
    dataset: str | None  # the dcat:Dataset's IRI, None unless there is exactly one
    generated_by: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)  # label name (vocabulary.LABELS) -> value
    distributions: tuple[Distribution, ...] = ()


@functools.cache
def load_shapes() -> rdflib.Graph:
    """The SHACL shapes graph, parsed once (read-only afterwards)."""
    return rdflib.Graph().parse(_SHAPES_FILE, format="turtle")


@functools.cache
def _bundled_context(url: str) -> Any:
    return json.loads(BUNDLED_CONTEXTS[url].read_text(encoding="utf-8"))["@context"]


def _resolve_context(value: Any, path: list[str | int], findings: list[Finding]) -> Any:
    if isinstance(value, str):
        if value in BUNDLED_CONTEXTS:
            return _bundled_context(value)
        findings.append(Finding(codes.DCAT_CONTEXT_REMOTE, pointer(vocabulary.DCAT, path),
                                f"@context {value!r} is not bundled with the operator and is never fetched; use "
                                f"{vocabulary.KFM_CONTEXT!r} or an inline context"))
        return {}
    if isinstance(value, list):
        return [_resolve_context(item, [*path, index], findings) for index, item in enumerate(value)]
    if isinstance(value, dict):
        resolved = {key: _inline(item, [*path, key], findings) for key, item in value.items() if key != "@import"}
        if "@import" in value:
            imported = _resolve_context(value["@import"], [*path, "@import"], findings)
            return {**(imported if isinstance(imported, dict) else {}), **resolved}
        return resolved
    return value


def _inline(node: Any, path: list[str | int], findings: list[Finding]) -> Any:
    if isinstance(node, dict):
        return {key: _resolve_context(value, [*path, key], findings) if key == "@context"
                else _inline(value, [*path, key], findings) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, [*path, index], findings) for index, item in enumerate(node)]
    return node


def inline_contexts(document: Mapping[str, Any]) -> tuple[dict[str, Any], list[Finding]]:
    """The document with every string @context / @import replaced by its bundled context, and a finding for each
    one that is not bundled (which the caller must treat as fatal: the document's meaning is unknown)."""
    findings: list[Finding] = []
    return _inline(dict(document), [], findings), findings


def _shape_findings(graph: rdflib.Graph) -> list[Finding]:
    conforms, report, _ = pyshacl.validate(graph, shacl_graph=load_shapes(), inference="none", advanced=False)
    if conforms:
        return []
    assert isinstance(report, rdflib.Graph)
    findings = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(result, SH.sourceShape)
        name = str(shape).removeprefix(_SHAPES_NS) if isinstance(shape, rdflib.URIRef) else ""
        focus = report.value(result, SH.focusNode)
        where = str(focus) if isinstance(focus, rdflib.URIRef) else "a blank node"
        path = report.value(result, SH.resultPath)
        prop = graph.namespace_manager.normalizeUri(path) if isinstance(path, rdflib.URIRef) else ""
        message = report.value(result, SH.resultMessage)
        findings.append(Finding(_SHAPE_CODES.get(name, codes.DCAT_SHAPE), f"{vocabulary.DCAT}#{prop}",
                                bounded(f"{where}: {message}")))
    return sorted(findings, key=lambda f: (f.code, f.path, f.message))


def _facts(graph: rdflib.Graph) -> tuple[DcatFacts, list[Finding]]:
    datasets = sorted(set(graph.subjects(RDF.type, _DCAT.Dataset)), key=str)
    if len(datasets) != 1:
        return DcatFacts(dataset=None), [Finding(codes.DCAT_DATASET_COUNT, pointer(vocabulary.DCAT),
                                                 f"expected exactly one dcat:Dataset, found {len(datasets)}")]
    dataset = datasets[0]
    labels = {name: str(value) for name in vocabulary.LABELS
              if (value := graph.value(dataset, _KFM[name])) is not None}
    distributions = []
    for node in graph.objects(dataset, _DCAT.distribution):
        url = graph.value(node, _DCAT.downloadURL)
        if url is None:
            continue  # the shapes report it
        checksum_node = graph.value(node, _SPDX.checksum)
        value = graph.value(checksum_node, _SPDX.checksumValue) if checksum_node is not None else None
        algorithm = graph.value(checksum_node, _SPDX.algorithm) if checksum_node is not None else None
        checksum = (vocabulary.CHECKSUM_PREFIX + str(value)
                    if value is not None and algorithm == _SPDX.checksumAlgorithm_sha256 else None)
        distributions.append(Distribution(str(url), checksum))
    generated_by = tuple(sorted(str(run) for run in graph.objects(dataset, _PROV.wasGeneratedBy)))
    facts = DcatFacts(dataset=str(dataset) if isinstance(dataset, rdflib.URIRef) else None,
                      generated_by=generated_by, labels=labels,
                      distributions=tuple(sorted(distributions, key=lambda d: d.download_url)))
    return facts, []


def check_dcat(document: Mapping[str, Any]) -> tuple[DcatFacts | None, list[Finding]]:
    """Findings for dcat.jsonld and its facts (None when it could not be read as RDF)."""
    inlined, findings = inline_contexts(document)
    if findings:
        return None, findings
    try:
        graph = rdflib.Graph().parse(data=json.dumps(inlined), format="json-ld", publicID=_BASE)
    except Exception as error:  # rdflib's JSON-LD parser raises assorted types on malformed input
        return None, [Finding(codes.DCAT_PARSE, pointer(vocabulary.DCAT),
                              bounded(f"not JSON-LD rdflib can read: {type(error).__name__}: {error}"))]
    facts, findings = _facts(graph)
    return facts, findings + _shape_findings(graph)
