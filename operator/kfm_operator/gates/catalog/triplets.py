"""The catalog gate's input: the four documents of one dataset version plus the run's artifact list.

`load_triplet` reads `catalog/<dataset>/<version>/` as the pipeline wrote it (the CLI and handlers call it);
`triplet_from_bytes` builds one from documents in memory (the pipeline can validate before it uploads). Loading
never raises for bad content: a missing or unparseable document becomes a finding in `Triplet.problems`, which
`validate_catalog` reports, so the gate fails closed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kfm_operator.domain import catalog_vocabulary as vocabulary
from kfm_operator.domain.gates import Finding
from kfm_operator.gates.catalog import codes

__all__ = ["Artifact", "Triplet", "load_triplet", "parse_artifacts", "triplet_from_bytes"]

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Artifact:
    """One output of the run as the runner recorded it (receipt `outputs`)."""

    name: str
    uri: str  # s3://<bucket>/cas/sha256/<hex>
    digest: str  # sha256:<64 lowercase hex>


@dataclass(frozen=True)
class Triplet:
    """Parsed documents (None when absent or unparseable) and the artifact list (None when not given)."""

    stac_item: Mapping[str, Any] | None
    stac_collection: Mapping[str, Any] | None
    dcat: Mapping[str, Any] | None
    prov: Mapping[str, Any] | None
    artifacts: tuple[Artifact, ...] | None
    problems: tuple[Finding, ...] = ()  # found while loading; reported by validate_catalog
    digests: Mapping[str, str] = field(default_factory=dict)  # document file name -> sha256 of its bytes


def _parse_document(name: str, data: bytes | None) -> tuple[dict[str, Any] | None, list[Finding]]:
    if data is None:
        return None, [Finding(codes.DOCUMENT_MISSING, name, f"{name} is missing from the catalog")]
    try:
        # NaN/Infinity are not JSON; refusing them keeps every later check on standard JSON.
        document = json.loads(data, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as error:
        return None, [Finding(codes.DOCUMENT_UNPARSEABLE, name, f"{name} is not valid JSON: {error}")]
    if not isinstance(document, dict):
        return None, [Finding(codes.DOCUMENT_UNPARSEABLE, name, f"{name} is not a JSON object")]
    return document, []


def _refuse_constant(value: str) -> Any:
    raise ValueError(f"{value} is not a JSON value")


def parse_artifacts(data: Any, source: str) -> tuple[tuple[Artifact, ...] | None, list[Finding]]:
    """Artifacts from a list of {name, uri, digest}, or from a run receipt's `outputs` (digest under `checksum`)."""
    entries = data.get("outputs") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        return None, [Finding(codes.ARTIFACTS_INVALID, source,
                              "expected a list of {name, uri, digest} or a receipt with outputs")]
    artifacts, findings = [], []
    for index, entry in enumerate(entries):
        digest = entry.get("digest", entry.get("checksum")) if isinstance(entry, dict) else None
        values = (entry.get("name"), entry.get("uri"), digest) if isinstance(entry, dict) else (None, None, None)
        if not all(isinstance(v, str) and v for v in values) or not _DIGEST.match(str(digest)):
            findings.append(Finding(codes.ARTIFACTS_INVALID, f"{source}#/{index}",
                                    "an artifact needs name, uri and digest (sha256:<64 lowercase hex>)"))
            continue
        artifacts.append(Artifact(*(str(v) for v in values)))
    return (tuple(artifacts), findings) if not findings else (None, findings)


def triplet_from_bytes(documents: Mapping[str, bytes | None], artifacts: Sequence[Artifact] | None) -> Triplet:
    """A triplet from document bytes keyed by file name (vocabulary.DOCUMENTS); absent keys count as missing."""
    parsed: dict[str, dict[str, Any] | None] = {}
    problems: list[Finding] = []
    for name in vocabulary.DOCUMENTS:
        parsed[name], found = _parse_document(name, documents.get(name))
        problems.extend(found)
    if artifacts is None:
        problems.append(Finding(codes.ARTIFACTS_MISSING, vocabulary.ARTIFACTS,
                                "no artifact list for the run: the catalog cannot be compared with its outputs"))
    digests = {name: "sha256:" + hashlib.sha256(data).hexdigest()
               for name, data in sorted(documents.items()) if data is not None}
    return Triplet(stac_item=parsed[vocabulary.STAC_ITEM], stac_collection=parsed[vocabulary.STAC_COLLECTION],
                   dcat=parsed[vocabulary.DCAT], prov=parsed[vocabulary.PROV],
                   artifacts=None if artifacts is None else tuple(artifacts), problems=tuple(problems),
                   digests=digests)


def load_triplet(directory: Path, *, artifacts: Sequence[Artifact] | None = None,
                 artifacts_file: Path | None = None) -> Triplet:
    """Read the four documents from `directory`.

    The artifact list comes from `artifacts`, else `artifacts_file`, else `<directory>/artifacts.json` if present
    (a list of {name, uri, digest} or a run receipt); an unreadable list is a finding, never an exception.
    """
    documents = {name: (directory / name).read_bytes() if (directory / name).is_file() else None
                 for name in vocabulary.DOCUMENTS}
    extra: list[Finding] = []
    if artifacts is None:
        source = artifacts_file or directory / vocabulary.ARTIFACTS
        if source.is_file():
            try:
                artifacts, extra = parse_artifacts(json.loads(source.read_bytes()), source.name)
            except ValueError as error:
                extra = [Finding(codes.ARTIFACTS_INVALID, source.name, f"not valid JSON: {error}")]
    triplet = triplet_from_bytes(documents, artifacts)
    if extra:  # the list was there but broken: say that instead of "missing"
        kept = tuple(p for p in triplet.problems if p.code != codes.ARTIFACTS_MISSING)
        return Triplet(triplet.stac_item, triplet.stac_collection, triplet.dcat, triplet.prov, None,
                       (*kept, *extra), triplet.digests)
    return triplet
