"""Builds the valid catalog triplets of the fixture corpus (fixtures/valid/<case>/), the way the pipeline is meant
to write them. `python -m tests.unit.catalog.builders` rewrites the files; test_fixtures checks they are current.

ks-airports is real data: the Kansas rows of vega-datasets' airports.csv as GeoJSON points, with the sha256 of
those bytes; `points_geojson()` rebuilds them so a test can check the digest.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import vega_datasets

import kfm_operator.gates.catalog as catalog_gate
from kfm_operator.gates.catalog import vocabulary

FIXTURES = Path(__file__).parent / "fixtures"
AIRPORTS_CSV = Path(vega_datasets.__file__).parent / "_data" / "airports.csv"
BUCKET = "kfm-dev"


def points_geojson(state: str = "KS") -> bytes:
    """The airports of one state as a GeoJSON FeatureCollection (keys sorted, compact, rows in file order)."""
    with AIRPORTS_CSV.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["state"] == state]
    features = [{"type": "Feature", "id": row["iata"],
                 "geometry": {"type": "Point",
                              "coordinates": [round(float(row["longitude"]), 7), round(float(row["latitude"]), 7)]},
                 "properties": {k: v for k, v in row.items() if k not in ("latitude", "longitude")}}
                for row in rows]
    return (json.dumps({"type": "FeatureCollection", "features": features}, sort_keys=True,
                       separators=(",", ":")) + "\n").encode()


def bbox_of(data: bytes) -> list[float]:
    coordinates = [f["geometry"]["coordinates"] for f in json.loads(data)["features"]]
    lons, lats = [c[0] for c in coordinates], [c[1] for c in coordinates]
    return [min(lons), min(lats), max(lons), max(lats)]


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_triplet(*, dataset: str, version: str, run_id: str, title: str, license_id: str,
                  labels: dict[str, str], bbox: list[float], outputs: list[dict[str, str]],
                  inputs: list[dict[str, str]], inline_context: bool = False, rows: int | None = None,
                  ) -> dict[str, Any]:
    """The four documents plus artifacts.json for one dataset version; outputs/inputs: {name, digest, media_type}."""
    dataset_iri = f"kfm://dataset/{dataset}/{version}"
    run_iri = f"urn:kfm:run:{run_id}"
    artifacts = [{"name": o["name"], "uri": f"s3://{BUCKET}/cas/sha256/{o['digest'][7:]}", "digest": o["digest"]}
                 for o in outputs]
    west, south, east, north = bbox
    geometry = {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north],
                                                    [west, south]]]}
    kfm_labels = {f"kfm:{name}": labels[name] for name in vocabulary.LABELS}
    properties: dict[str, Any] = {"title": title, "datetime": "2024-05-01T12:00:00Z", **kfm_labels}
    if rows is not None:
        properties["kfm:rows"] = rows
    item = {
        "type": "Feature", "stac_version": "1.1.0", "stac_extensions": [vocabulary.KFM_STAC_EXTENSION],
        "id": f"{dataset}-{version}", "collection": dataset, "geometry": geometry, "bbox": bbox,
        "properties": properties,
        "links": [
            {"rel": "collection", "href": "./stac-collection.json", "type": "application/json"},
            {"rel": vocabulary.LINK_DATASET, "href": dataset_iri, "type": "application/ld+json"},
            {"rel": vocabulary.LINK_ACTIVITY, "href": run_iri, "type": "application/json"},
        ],
        "assets": {a["name"]: {"href": a["uri"], "type": o["media_type"], "roles": ["data"],
                               "kfm:checksum": a["digest"]} for a, o in zip(artifacts, outputs, strict=True)},
    }
    collection = {
        "type": "Collection", "stac_version": "1.1.0", "stac_extensions": [vocabulary.KFM_STAC_EXTENSION],
        "id": dataset, "title": title, "description": f"{title} (KFM dataset {dataset})", "license": license_id,
        "extent": {"spatial": {"bbox": [bbox]}, "temporal": {"interval": [["2024-05-01T12:00:00Z", None]]}},
        "links": [{"rel": "item", "href": "./stac-item.json", "type": "application/geo+json"}],
        **kfm_labels,
    }
    context: Any = vocabulary.KFM_CONTEXT
    if inline_context:
        context = json.loads((Path(catalog_gate.__file__).parent / "contexts/kfm-catalog-v1.0.0.jsonld").read_text())
        context = context["@context"]
    dcat = {
        "@context": context, "@id": dataset_iri, "@type": "dcat:Dataset",
        "dct:title": title, "dct:identifier": f"kfm://dataset/{dataset}@{version}",
        "dct:license": f"https://spdx.org/licenses/{license_id}", "dct:accessRights": labels["policy_label"],
        **{f"kfm:{name}": labels[name] for name in vocabulary.LABELS},
        "prov:wasGeneratedBy": run_iri,
        "dcat:distribution": [{
            "@type": "dcat:Distribution", "dct:title": a["name"], "dcat:downloadURL": a["uri"],
            "dcat:mediaType": {"@id": f"https://www.iana.org/assignments/media-types/{o['media_type']}"},
            "spdx:checksum": {"@type": "spdx:Checksum", "spdx:algorithm": "spdx:checksumAlgorithm_sha256",
                              "spdx:checksumValue": a["digest"][7:]},
        } for a, o in zip(artifacts, outputs, strict=True)],
    }
    run = f"kfmrun:{run_id}"
    entities = {f"sha256:{i['digest'][7:]}": {"kfm:digest": i["digest"], "kfm:role": "input", "kfm:name": i["name"]}
                for i in inputs}
    entities.update({f"sha256:{a['digest'][7:]}": {"kfm:digest": a["digest"], "kfm:role": "output",
                                                   "kfm:name": a["name"], "kfm:uri": a["uri"]} for a in artifacts})
    prov = {
        "prefix": {"kfm": vocabulary.KFM_NS, "kfmrun": "urn:kfm:run:", "sha256": "urn:kfm:sha256:",
                   "kfmagent": "urn:kfm:agent:"},
        "activity": {run: {"prov:startTime": "2024-05-01T12:00:00Z", "prov:endTime": "2024-05-01T12:00:05Z",
                           "kfm:transform": "csv-points", **kfm_labels}},
        "entity": entities,
        "agent": {
            "kfmagent:pipeline": {"prov:type": "prov:SoftwareAgent", "kfm:role": "pipeline",
                                  "kfm:image": "ghcr.io/kfm/kfm-operator:0.1.0"},
            "kfmagent:operator": {"prov:type": "prov:SoftwareAgent", "kfm:role": "operator", "kfm:version": "0.1.0"},
        },
        "used": {f"_:used{n}": {"prov:activity": run, "prov:entity": f"sha256:{i['digest'][7:]}"}
                 for n, i in enumerate(inputs)},
        "wasGeneratedBy": {f"_:gen{n}": {"prov:entity": f"sha256:{a['digest'][7:]}", "prov:activity": run}
                           for n, a in enumerate(artifacts)},
        "wasAssociatedWith": {"_:assoc0": {"prov:activity": run, "prov:agent": "kfmagent:pipeline"},
                              "_:assoc1": {"prov:activity": run, "prov:agent": "kfmagent:operator"}},
    }
    return {vocabulary.STAC_ITEM: item, vocabulary.STAC_COLLECTION: collection, vocabulary.DCAT: dcat,
            vocabulary.PROV: prov, vocabulary.ARTIFACTS: artifacts}


def valid_cases() -> dict[str, dict[str, Any]]:
    """Case name -> files (name -> JSON value); ks-airports also carries its data file."""
    points = points_geojson()
    airports_csv = AIRPORTS_CSV.read_bytes()
    ks = build_triplet(
        dataset="ks-airports", version="2024.1", run_id="3f2a9c4e1b7d8a60", title="Kansas airports",
        license_id="CC0-1.0", labels={"policy_label": "public", "sensitivity": "none", "sovereignty": "none"},
        bbox=bbox_of(points), rows=len(json.loads(points)["features"]),
        outputs=[{"name": "points.geojson", "digest": sha256(points), "media_type": "application/geo+json"}],
        inputs=[{"name": "airports", "digest": sha256(airports_csv)}])
    two = build_triplet(
        dataset="wichita-sites", version="1.0.0", run_id="0badc0ffee123456", title="Sites (two outputs)",
        license_id="LicenseRef-tribal-data", inline_context=True,
        labels={"policy_label": "internal", "sensitivity": "moderate", "sovereignty": "tribal:wichita"},
        bbox=[-98.0, 37.0, -97.0, 38.0],
        outputs=[{"name": "sites.geojson", "digest": sha256(b"sites\n"), "media_type": "application/geo+json"},
                 {"name": "sites.csv", "digest": sha256(b"a,b\n"), "media_type": "text/csv"}],
        inputs=[{"name": "survey", "digest": sha256(b"survey\n")}, {"name": "codes", "digest": sha256(b"codes\n")}])
    return {"ks-airports": ks, "two-outputs-inline-context": two}


def render(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False) + "\n"


def write_fixtures() -> None:
    for case, files in valid_cases().items():
        directory = FIXTURES / "valid" / case
        directory.mkdir(parents=True, exist_ok=True)
        for name, value in files.items():
            (directory / name).write_text(render(value))
    (FIXTURES / "valid" / "ks-airports" / "points.geojson").write_bytes(points_geojson())


if __name__ == "__main__":
    write_fixtures()
