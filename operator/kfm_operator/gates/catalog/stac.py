"""STAC checks of the catalog gate: the item and the collection against the STAC core schema of their
stac_version and every declared extension, all from the offline registry; then pystac must be able to read them.
Each schema check asks the compiled fast path first (schemas.SchemaRegistry.accepts); whatever it does not vouch
for is validated by jsonschema, which writes the findings.

Called by gates.catalog.gate (and by benchmarks/catalog_gate.py, which times `check_stac` alone).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

import pystac

from kfm_operator.domain import catalog_vocabulary as vocabulary
from kfm_operator.domain.gates import Finding
from kfm_operator.gates.catalog import codes
from kfm_operator.gates.catalog.findings import bounded, pointer
from kfm_operator.gates.catalog.schemas import SchemaRegistry, SchemaUnavailable, core_schema_uri

__all__ = ["check_stac"]

StacKind = Literal["item", "collection"]
_TYPES: dict[str, str] = {"item": "Feature", "collection": "Collection"}
_MAX_ERRORS_PER_SCHEMA = 20  # a broken document can produce hundreds; the first few say what to fix


def _schema_findings(document: Mapping[str, Any], uri: str, *, code: str, file_name: str,
                     schemas: SchemaRegistry) -> list[Finding]:
    if schemas.accepts(uri, document):  # compiled fast path; it only ever vouches for valid documents
        return []
    try:
        errors = sorted(schemas.iter_errors(uri, document), key=lambda e: [str(p) for p in e.absolute_path])
    except SchemaUnavailable as missing:
        return [Finding(codes.STAC_SCHEMA_UNAVAILABLE, pointer(file_name), str(missing))]
    return [Finding(code, pointer(file_name, error.absolute_path), bounded(f"{error.message} (schema {uri})"))
            for error in errors[:_MAX_ERRORS_PER_SCHEMA]]


def _extension_uris(document: Mapping[str, Any]) -> list[str]:
    declared = document.get("stac_extensions", [])
    # The core schema reports a malformed list; here only the strings in it matter.
    return [uri for uri in declared if isinstance(uri, str)] if isinstance(declared, list) else []


def check_stac(document: Mapping[str, Any], *, kind: StacKind, file_name: str,
               schemas: SchemaRegistry) -> list[Finding]:
    """Findings for one STAC document of `kind`; empty when it is valid STAC carrying the KFM extension."""
    if document.get("type") != _TYPES[kind]:
        return [Finding(codes.STAC_TYPE, pointer(file_name, ["type"]),
                        f"{file_name} must be a STAC {kind} (type {_TYPES[kind]!r}), not {document.get('type')!r}")]
    version = document.get("stac_version")
    if not isinstance(version, str):
        return [Finding(codes.STAC_VERSION_MISSING, pointer(file_name, ["stac_version"]),
                        f"stac_version must be a string such as {vocabulary.STAC_VERSION!r}")]
    core_uri = core_schema_uri(kind, version)
    if not schemas.has(core_uri):
        return [Finding(codes.STAC_SCHEMA_UNAVAILABLE, pointer(file_name, ["stac_version"]),
                        f"schema not available offline: {core_uri} (stac_version {version!r}; "
                        f"the pipeline writes {vocabulary.STAC_VERSION})")]
    findings = _schema_findings(document, core_uri, code=codes.STAC_SCHEMA, file_name=file_name, schemas=schemas)
    extensions = _extension_uris(document)
    for index, uri in enumerate(extensions):
        if not schemas.has(uri):
            findings.append(Finding(codes.STAC_SCHEMA_UNAVAILABLE, pointer(file_name, ["stac_extensions", index]),
                                    f"schema not available offline: {uri}"))
            continue
        findings += _schema_findings(document, uri, code=codes.STAC_EXTENSION_SCHEMA, file_name=file_name,
                                     schemas=schemas)
    if vocabulary.KFM_STAC_EXTENSION not in extensions:
        findings.append(Finding(codes.STAC_EXTENSION_MISSING, pointer(file_name, ["stac_extensions"]),
                                f"stac_extensions must include {vocabulary.KFM_STAC_EXTENSION} (governance labels "
                                "and asset checksums)"))
    if not findings:
        findings += _pystac_findings(document, kind=kind, file_name=file_name)
    return findings


def _pystac_findings(document: Mapping[str, Any], *, kind: StacKind, file_name: str) -> list[Finding]:
    # The schemas do not check formats (e.g. date-time); pystac's reader does, and it is what consumers use.
    stac_class = pystac.Item if kind == "item" else pystac.Collection
    try:
        stac_class.from_dict(copy.deepcopy(dict(document)), migrate=False, preserve_dict=False)
    except Exception as error:  # pystac raises many types (ValueError, KeyError, ParserError, STACTypeError)
        return [Finding(codes.STAC_PARSE, pointer(file_name),
                        bounded(f"pystac cannot read the {kind}: {type(error).__name__}: {error}"))]
    return []
