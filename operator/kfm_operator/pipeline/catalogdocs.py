"""The catalog triplet a run writes: STAC Item + Collection, DCAT dataset (JSON-LD), PROV-JSON of the run.

Deterministic: built only from the run spec (its requested_at is the catalog's time) and the outputs, so a run
that executes twice writes byte-identical documents. The names come from domain.catalog_vocabulary, which the
catalog gate checks against, so writer and gate cannot drift apart. Called by the runner.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kfm_operator.domain import catalog_vocabulary as vocab
from kfm_operator.domain import names
from kfm_operator.pipeline.runspec import RunSpec
from kfm_operator.pipeline.transforms import TransformResult

__all__ = ["Artifact", "build_triplet"]

IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"


@dataclass(frozen=True)
class Artifact:
    name: str
    uri: str
    digest: str
    size_bytes: int
    media_type: str
    roles: tuple[str, ...] = ("data",)


def _labels(spec: RunSpec, prefix: str) -> dict[str, str]:
    governance = {"policy_label": spec.governance["policyLabel"], "sensitivity": spec.governance["sensitivity"],
                  "sovereignty": spec.governance["sovereignty"]}
    return {f"{prefix}{name}": governance[name] for name in vocab.LABELS}


def _ids(spec: RunSpec) -> tuple[str, str, str]:
    dataset = names.dataset_name(spec.dataset)
    return dataset, f"{spec.dataset}/{spec.version}", f"urn:kfm:run:{spec.run_id}"


def _stac_item(spec: RunSpec, result: TransformResult, artifacts: Sequence[Artifact]) -> dict[str, Any]:
    dataset, dataset_iri, activity = _ids(spec)
    properties: dict[str, Any] = {"title": spec.title, **_labels(spec, "kfm:"), **result.properties}
    if spec.description:
        properties["description"] = spec.description
    if result.temporal:
        properties.update({"datetime": None, "start_datetime": result.temporal[0],
                           "end_datetime": result.temporal[1]})
    else:
        properties["datetime"] = spec.requested_at
    spatial = result.spatial
    return {
        "type": "Feature",
        "stac_version": vocab.STAC_VERSION,
        "stac_extensions": [vocab.KFM_STAC_EXTENSION],
        "id": f"{dataset}-{spec.version}",
        "collection": dataset,
        "geometry": spatial.geometry if spatial else None,
        **({"bbox": list(spatial.bbox)} if spatial else {}),
        "properties": properties,
        "links": [
            {"rel": "collection", "href": f"./{vocab.STAC_COLLECTION}", "type": "application/json"},
            {"rel": vocab.LINK_DATASET, "href": dataset_iri, "type": "application/ld+json"},
            {"rel": vocab.LINK_ACTIVITY, "href": activity, "type": "application/json"},
        ],
        "assets": {a.name: {"href": a.uri, "type": a.media_type, "roles": list(a.roles), "kfm:checksum": a.digest}
                   for a in artifacts},
    }


def _stac_collection(spec: RunSpec, result: TransformResult) -> dict[str, Any]:
    dataset, _, _ = _ids(spec)
    start, end = result.temporal if result.temporal else (spec.requested_at, None)
    spatial = [list(result.spatial.bbox)] if result.spatial else [[-180.0, -90.0, 180.0, 90.0]]
    return {
        "type": "Collection",
        "stac_version": vocab.STAC_VERSION,
        "stac_extensions": [vocab.KFM_STAC_EXTENSION],
        "id": dataset,
        "title": spec.title,
        "description": spec.description or f"{spec.title} (KFM dataset {dataset})",
        "license": spec.license,
        "extent": {"spatial": {"bbox": spatial}, "temporal": {"interval": [[start, end]]}},
        "links": [{"rel": "item", "href": f"./{vocab.STAC_ITEM}", "type": "application/geo+json"}],
        **_labels(spec, "kfm:"),
    }


def _dcat(spec: RunSpec, artifacts: Sequence[Artifact]) -> dict[str, Any]:
    _, dataset_iri, activity = _ids(spec)
    license_iri = (f"https://spdx.org/licenses/{spec.license}" if not spec.license.startswith("LicenseRef-")
                   else f"https://kfm.dev/licenses/{spec.license}")
    return {
        "@context": vocab.KFM_CONTEXT,
        "@id": dataset_iri,
        "@type": "dcat:Dataset",
        "dct:title": spec.title,
        **({"dct:description": spec.description} if spec.description else {}),
        "dct:identifier": f"{spec.dataset}@{spec.version}",
        "dct:license": license_iri,
        "dct:accessRights": spec.governance["policyLabel"],
        **_labels(spec, "kfm:"),
        "prov:wasGeneratedBy": activity,
        "dcat:distribution": [{
            "@type": "dcat:Distribution",
            "dct:title": a.name,
            "dcat:downloadURL": a.uri,
            "dcat:mediaType": {"@id": IANA_MEDIA_TYPES + a.media_type},
            "spdx:checksum": {"@type": "spdx:Checksum", "spdx:algorithm": "spdx:checksumAlgorithm_sha256",
                              "spdx:checksumValue": a.digest.removeprefix(vocab.CHECKSUM_PREFIX)},
        } for a in artifacts],
    }


def _prov(spec: RunSpec, artifacts: Sequence[Artifact]) -> dict[str, Any]:
    run = f"kfmrun:{spec.run_id}"
    entities: dict[str, Any] = {}
    for item in spec.inputs:
        entities[f"sha256:{item.digest.removeprefix('sha256:')}"] = {
            "kfm:digest": item.digest, "kfm:role": "input", "kfm:name": item.name}
    for artifact in artifacts:
        entities[f"sha256:{artifact.digest.removeprefix('sha256:')}"] = {
            "kfm:digest": artifact.digest, "kfm:role": "output", "kfm:name": artifact.name, "kfm:uri": artifact.uri}
    return {
        "prefix": {"kfm": vocab.KFM_NS, "kfmrun": "urn:kfm:run:", "sha256": "urn:kfm:sha256:",
                   "kfmagent": "urn:kfm:agent:"},
        "activity": {run: {"kfm:transform": spec.transform, "kfm:requestedAt": spec.requested_at,
                           **_labels(spec, "kfm:")}},
        "entity": entities,
        "agent": {
            "kfmagent:pipeline": {"prov:type": "prov:SoftwareAgent", "kfm:role": "pipeline", "kfm:image": spec.image},
            "kfmagent:operator": {"prov:type": "prov:SoftwareAgent", "kfm:role": "operator",
                                  "kfm:version": spec.operator_version},
        },
        "used": {f"_:used{i}": {"prov:activity": run, "prov:entity": f"sha256:{item.digest.removeprefix('sha256:')}"}
                 for i, item in enumerate(spec.inputs)},
        "wasGeneratedBy": {f"_:gen{i}": {"prov:entity": f"sha256:{a.digest.removeprefix('sha256:')}",
                                         "prov:activity": run} for i, a in enumerate(artifacts)},
        "wasAssociatedWith": {"_:assoc0": {"prov:activity": run, "prov:agent": "kfmagent:pipeline"},
                              "_:assoc1": {"prov:activity": run, "prov:agent": "kfmagent:operator"}},
    }


def _encode(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def build_triplet(spec: RunSpec, result: TransformResult, artifacts: Sequence[Artifact]) -> dict[str, bytes]:
    """File name -> bytes of the four catalog documents."""
    return {
        vocab.STAC_ITEM: _encode(_stac_item(spec, result, artifacts)),
        vocab.STAC_COLLECTION: _encode(_stac_collection(spec, result)),
        vocab.DCAT: _encode(_dcat(spec, artifacts)),
        vocab.PROV: _encode(_prov(spec, artifacts)),
    }
