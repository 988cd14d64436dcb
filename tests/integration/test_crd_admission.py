"""The API server enforces the kfm.dev CRDs: bad manifests are refused at apply time with the field and a message
a person can act on; specs are immutable; status is separate from spec."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from kfm_operator.api.crds import KINDS
from kfm_operator.api.fields import GROUP, VERSION
from kfm_operator.devenv import ControlPlane
from tests.conftest import REPO_ROOT, kubectl

pytestmark = pytest.mark.usefixtures("kfm_crds")

SAMPLES = {info.kind: yaml.safe_load((REPO_ROOT / "manifests" / "samples" /
                                      f"kfm.dev_{VERSION}_{info.singular}.yaml").read_text()) for info in KINDS}
PLURALS = {info.kind: info.plural for info in KINDS}
DELETE = object()
MERGE = "application/merge-patch+json"


def mutated(kind: str, path: str, value: Any) -> dict[str, Any]:
    """The sample of `kind` with `path` (dots and [i]) set to `value`, or removed when value is DELETE."""
    body = copy.deepcopy(SAMPLES[kind])
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
    target = body
    for part in parts[:-1]:
        target = target[part]
    if value is DELETE:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value
    return body


def inputs(count: int, *, same_name: bool = False) -> list[dict[str, str]]:
    item = SAMPLES["DatasetVersion"]["spec"]["inputs"][0]
    return [{**item, "name": "input" if same_name else f"input-{i}"} for i in range(count)]


DIGEST = "sha256:" + "ab" * 32
EXCEPTION = {"id": "EXC-1", "waives": ["label.restricted"], "expiresAt": "2030-01-01T00:00:00Z", "signer": "board",
             "signature": "c2lnbmF0dXJl"}

# (kind, path, new value or DELETE, field the API server names, fragment of its message)
INVALID = [
    ("DatasetVersion", "spec.dataset", DELETE, "spec.dataset", "Required value"),
    ("DatasetVersion", "spec.dataset", "kfm://data/ks-airports", "spec.dataset", "should match"),
    ("DatasetVersion", "spec.dataset", "kfm://dataset/KS_Airports", "spec.dataset", "should match"),
    ("DatasetVersion", "spec.version", DELETE, "spec.version", "Required value"),
    ("DatasetVersion", "spec.version", ".2026", "spec.version", "should match"),
    ("DatasetVersion", "spec.version", "1" * 65, "spec.version", "Too long"),
    ("DatasetVersion", "spec.title", DELETE, "spec.title", "Required value"),
    ("DatasetVersion", "spec.title", "t" * 201, "spec.title", "Too long"),
    ("DatasetVersion", "spec.description", "d" * 4001, "spec.description", "Too long"),
    ("DatasetVersion", "spec.license", DELETE, "spec.license", "Required value"),
    ("DatasetVersion", "spec.license", "MIT License", "spec.license", "should match"),
    ("DatasetVersion", "spec.governance", DELETE, "spec.governance", "Required value"),
    ("DatasetVersion", "spec.governance.policyLabel", "secret", "spec.governance.policyLabel",
     'Unsupported value: "secret"'),
    ("DatasetVersion", "spec.governance.policyLabel", DELETE, "spec.governance.policyLabel", "Required value"),
    ("DatasetVersion", "spec.governance.sensitivity", "extreme", "spec.governance.sensitivity",
     'Unsupported value: "extreme"'),
    ("DatasetVersion", "spec.governance.sovereignty", DELETE, "spec.governance.sovereignty", "Required value"),
    ("DatasetVersion", "spec.governance.sovereignty", "Tribal:Wichita", "spec.governance.sovereignty",
     "should match"),
    ("DatasetVersion", "spec.governance.sovereignty", "tribal", "spec.governance.sovereignty", "should match"),
    ("DatasetVersion", "spec.inputs", [], "spec.inputs", "should have at least 1 items"),
    ("DatasetVersion", "spec.inputs", inputs(33), "spec.inputs", "must have at most 32 items"),
    ("DatasetVersion", "spec.inputs", inputs(2, same_name=True), "spec.inputs[1]", "Duplicate value"),
    ("DatasetVersion", "spec.inputs[0].name", "Airports", "spec.inputs[0].name", "should match"),
    ("DatasetVersion", "spec.inputs[0].uri", "https://example.org/airports.csv", "spec.inputs[0].uri",
     "should match"),
    ("DatasetVersion", "spec.inputs[0].uri", "s3://kfm-dev/" + "k" * 1020, "spec.inputs[0].uri", "Too long"),
    ("DatasetVersion", "spec.inputs[0].digest", "md5:" + "a" * 32, "spec.inputs[0].digest", "should match"),
    ("DatasetVersion", "spec.inputs[0].digest", "sha256:" + "AB" * 32, "spec.inputs[0].digest", "should match"),
    ("DatasetVersion", "spec.inputs[0].digest", DELETE, "spec.inputs[0].digest", "Required value"),
    ("DatasetVersion", "spec.inputs[0].mediaType", "csv", "spec.inputs[0].mediaType", "should match"),
    ("DatasetVersion", "spec.pipeline", DELETE, "spec.pipeline", "Required value"),
    ("DatasetVersion", "spec.pipeline.transform", DELETE, "spec.pipeline.transform", "Required value"),
    ("DatasetVersion", "spec.pipeline.transform", "CSV_Points", "spec.pipeline.transform", "should match"),
    ("DatasetVersion", "spec.pipeline.timeoutSeconds", 59, "spec.pipeline.timeoutSeconds",
     "should be greater than or equal to 60"),
    ("DatasetVersion", "spec.pipeline.timeoutSeconds", 86401, "spec.pipeline.timeoutSeconds",
     "should be less than or equal to 86400"),
    ("DatasetVersion", "spec.pipeline.backoffLimit", 11, "spec.pipeline.backoffLimit",
     "should be less than or equal to 10"),
    ("DatasetVersion", "spec.pipeline.backoffLimit", -1, "spec.pipeline.backoffLimit",
     "should be greater than or equal to 0"),
    ("DatasetVersion", "spec.pipeline.parameters", {f"k{i}": i for i in range(65)}, "spec.pipeline.parameters",
     "must have at most 64 items"),
    ("DatasetVersion", "spec.pipeline.pool", "Default", "spec.pipeline.pool", "should match"),
    ("DatasetVersion", "spec.pipeline.resources.limits.cpu", "lots", "spec.pipeline.resources.limits.cpu",
     "should match"),
    ("DatasetVersion", "spec.freshness.maxAgeMinutes", 0, "spec.freshness.maxAgeMinutes",
     "should be greater than or equal to 1"),
    ("Promotion", "spec.datasetVersion", DELETE, "spec.datasetVersion", "Required value"),
    ("Promotion", "spec.datasetVersion", "Bad_Name", "spec.datasetVersion", "should match"),
    ("Promotion", "spec.targetZone", "raw", "spec.targetZone", 'Unsupported value: "raw"'),
    ("Promotion", "spec.reason", DELETE, "spec.reason", "Required value"),
    ("Promotion", "spec.reason", "", "spec.reason", "should be at least 1 chars long"),
    ("Promotion", "spec.reason", "r" * 1001, "spec.reason", "Too long"),
    ("Promotion", "spec.dryRun", "yes", "spec.dryRun", "must be of type boolean"),
    ("Promotion", "spec.exception", {**EXCEPTION, "waives": []}, "spec.exception.waives",
     "should have at least 1 items"),
    ("Promotion", "spec.exception", {**EXCEPTION, "waives": [f"rule.r{i}" for i in range(17)]},
     "spec.exception.waives", "must have at most 16 items"),
    ("Promotion", "spec.exception", {**EXCEPTION, "expiresAt": "tomorrow"}, "spec.exception.expiresAt",
     "must be of type date-time"),
    ("Promotion", "spec.exception", {k: v for k, v in EXCEPTION.items() if k != "signature"},
     "spec.exception.signature", "Required value"),
    ("Promotion", "spec.exception", {**EXCEPTION, "signature": "not base64!"}, "spec.exception.signature",
     "should match"),
    ("ProjectionRebuild", "spec.datasetVersions", ["ks-airports-2026-11-0"], "spec",
     "set exactly one of datasetVersions or selector"),
    ("ProjectionRebuild", "spec.selector", DELETE, "spec", "set exactly one of datasetVersions or selector"),
    ("ProjectionRebuild", "spec.projection", "graph", "spec.projection", 'Unsupported value: "graph"'),
    ("ProjectionRebuild", "spec.target", "Statewide", "spec.target", "should match"),
    ("ProjectionRebuild", "spec.mode", "incremental", "spec.mode", 'Unsupported value: "incremental"'),
    ("ProjectionRebuild", "spec.selector", {}, "spec.selector",
     "an empty selector would select every DatasetVersion"),
    ("ProjectionRebuild", "spec.selector", {"matchExpressions": [{"key": "tier", "operator": "In"}]},
     "spec.selector.matchExpressions[0]", "values must be non-empty for In and NotIn"),
    ("ProjectionRebuild", "spec.selector", {"matchLabels": {"bad key!": "x"}}, "spec.selector.matchLabels",
     "every key must match"),
]


def causes(error: ApiException) -> list[dict[str, str]]:
    body = json.loads(error.body)
    return [*body.get("details", {}).get("causes", []), {"field": "", "message": body.get("message", "")}]


def create(api_client: client.ApiClient, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    return client.CustomObjectsApi(api_client).create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURALS[body["kind"]], body, field_validation="Strict")


@pytest.mark.parametrize(("kind", "path", "value", "field", "message"), INVALID,
                         ids=[f"{c[0]}:{c[1]}:{c[4][:24]}" for c in INVALID])
def test_an_invalid_manifest_is_refused_with_the_field_and_message(
    api_client: client.ApiClient, namespace: str, kind: str, path: str, value: Any, field: str, message: str
) -> None:
    with pytest.raises(ApiException) as refused:
        create(api_client, namespace, mutated(kind, path, value))
    assert refused.value.status == 422, refused.value.body
    found = causes(refused.value)
    assert any(c["field"] == field and message in c["message"] for c in found) or any(
        f"{field}: " in c["message"] and message in c["message"] for c in found), json.dumps(found, indent=1)
    listing = client.CustomObjectsApi(api_client).list_namespaced_custom_object(GROUP, VERSION, namespace,
                                                                               PLURALS[kind])
    assert listing["items"] == []  # refused means nothing was stored


def test_an_unknown_field_is_refused_under_strict_validation(api_client: client.ApiClient, namespace: str) -> None:
    body = mutated("DatasetVersion", "spec.inputs[0].checksum", DIGEST)  # a typo for digest
    with pytest.raises(ApiException) as refused:
        create(api_client, namespace, body)  # strict, as kubectl and Argo CD send it
    assert refused.value.status == 400
    assert 'unknown field "spec.inputs[0].checksum"' in json.loads(refused.value.body)["message"]


def test_there_are_at_least_forty_invalid_cases() -> None:
    assert len(INVALID) >= 40


def test_every_sample_is_accepted_and_listed_by_category(
    control_plane: ControlPlane, api_client: client.ApiClient, namespace: str
) -> None:
    for sample in SAMPLES.values():
        create(api_client, namespace, copy.deepcopy(sample))
    listing = kubectl(control_plane, "get", "kfm", "-n", namespace).stdout
    headers = {line.split()[0]: line for line in listing.splitlines() if line.startswith("NAME")}
    assert re.search(r"NAME\s+VERSION\s+ZONE\s+PHASE\s+READY\s+AGE", listing)
    assert re.search(r"NAME\s+DATASETVERSION\s+TARGET\s+PHASE\s+READY\s+AGE", listing)
    assert re.search(r"NAME\s+PROJECTION\s+TARGET\s+PHASE\s+READY\s+AGE", listing)
    assert len(headers) == 1  # three tables, all with the NAME column
    for kind, sample in SAMPLES.items():
        assert f"{kind.lower()}.kfm.dev/{sample['metadata']['name']}" in listing
    wide = kubectl(control_plane, "get", "dsv", "-n", namespace, "-o", "wide").stdout
    assert re.search(r"NAME\s+DATASET\s+VERSION\s+ZONE\s+PHASE\s+READY\s+MESSAGE\s+AGE", wide)
    assert "kfm://dataset/ks-airports" in wide


def test_the_short_names_collide_with_nothing_built_in(control_plane: ControlPlane) -> None:
    resources = kubectl(control_plane, "api-resources", "-o", "wide", "--no-headers").stdout
    owners: dict[str, list[str]] = {}
    for line in resources.splitlines():
        columns = line.split()
        kind_index = 4 if len(columns) > 5 and "," not in columns[1] and columns[3] in ("true", "false") else 3
        names = columns[1].split(",") if kind_index == 4 else []
        for short in names:
            owners.setdefault(short, []).append(columns[0])
    for info in KINDS:
        assert owners.get(info.short_name) == [info.plural], owners.get(info.short_name)


@pytest.mark.parametrize(("kind", "path", "value"), [
    ("DatasetVersion", "spec.title", "A new title"),
    ("DatasetVersion", "spec.inputs[0].digest", DIGEST),
    ("DatasetVersion", "spec.governance.policyLabel", "restricted"),
    ("DatasetVersion", "spec.pipeline.timeoutSeconds", 900),
    ("Promotion", "spec.targetZone", "processed"),
    ("Promotion", "spec.dryRun", True),
    ("ProjectionRebuild", "spec.target", "other"),
])
def test_changing_the_spec_is_refused(api_client: client.ApiClient, namespace: str, kind: str, path: str,
                                      value: Any) -> None:
    created = create(api_client, namespace, copy.deepcopy(SAMPLES[kind]))
    changed = mutated(kind, path, value)
    changed["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as refused:
        client.CustomObjectsApi(api_client).replace_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURALS[kind], changed["metadata"]["name"], changed)
    assert refused.value.status == 422
    assert any(c["field"] == "spec" and "spec is immutable: create a new" in c["message"]
               for c in causes(refused.value)), refused.value.body


def test_status_writes_do_not_bump_generation_and_label_changes_do_not_touch_status(
    api_client: client.ApiClient, namespace: str
) -> None:
    objects = client.CustomObjectsApi(api_client)
    created = create(api_client, namespace, copy.deepcopy(SAMPLES["DatasetVersion"]))
    name = created["metadata"]["name"]
    status = {"observedGeneration": 1, "phase": "Pending", "zone": "raw", "conditions": [{
        "type": "Ready", "status": "False", "reason": "Progressing", "message": "verifying inputs",
        "lastTransitionTime": "2026-11-23T10:00:00Z", "observedGeneration": 1}]}
    written = objects.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, "datasetversions", name,
                                                            {"status": status}, _content_type=MERGE)
    assert written["metadata"]["generation"] == created["metadata"]["generation"] == 1
    assert written["spec"] == created["spec"]
    assert written["status"] == status
    relabelled = objects.patch_namespaced_custom_object(GROUP, VERSION, namespace, "datasetversions", name,
                                                        {"metadata": {"labels": {"team": "geo"}}},
                                                        _content_type=MERGE)
    assert relabelled["metadata"]["labels"]["team"] == "geo"
    assert relabelled["metadata"]["generation"] == 1
    assert relabelled["status"] == status


def test_a_status_that_breaks_the_schema_is_refused(api_client: client.ApiClient, namespace: str) -> None:
    objects = client.CustomObjectsApi(api_client)
    name = create(api_client, namespace, copy.deepcopy(SAMPLES["DatasetVersion"]))["metadata"]["name"]
    with pytest.raises(ApiException) as refused:
        objects.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, "datasetversions", name,
            {"status": {"phase": "Done", "conditions": [{"type": "Ready", "status": "Yes", "reason": "bad reason",
                                                         "message": "", "lastTransitionTime": "now"}]}},
            _content_type=MERGE)
    fields = {c["field"] for c in causes(refused.value)}
    assert {"status.phase", "status.conditions[0].status", "status.conditions[0].reason",
            "status.conditions[0].lastTransitionTime"} <= fields


def _properties(schema: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, child in (schema.get("properties") or {}).items():
        found.append((f"{path}.{name}", child))
        found += _properties(child, f"{path}.{name}")
    if "items" in schema:
        found += _properties(schema["items"], path)
    return found


def test_every_field_has_a_description_in_the_served_openapi(control_plane: ControlPlane) -> None:
    served = json.loads(kubectl(control_plane, "get", "--raw", f"/openapi/v3/apis/{GROUP}/{VERSION}").stdout)
    schemas = served["components"]["schemas"]
    checked = 0
    for info in KINDS:
        schema = schemas[f"dev.kfm.{VERSION}.{info.kind}"]
        for path, child in _properties(schema, info.singular):
            if path.endswith(".metadata") or ".metadata." in path:
                continue
            assert child.get("description"), f"{path} has no description"
            checked += 1
    assert checked > 100


@pytest.mark.parametrize(("field", "text"), [
    ("datasetversion.spec.inputs.digest", "digest of the input's bytes: sha256:"),
    ("datasetversion.spec.governance.sovereignty", "<authority>:<name>"),
    ("datasetversion.status.conditions.reason", "CamelCase"),
    ("promotion.spec.exception.signature", "Ed25519"),
    ("promotion.status.decision.inputDigest", "kfm policy replay"),
    ("projectionrebuild.spec.selector", "Exactly one of datasetVersions and selector"),
])
def test_kubectl_explain_prints_the_description(control_plane: ControlPlane, field: str, text: str) -> None:
    explained = kubectl(control_plane, "explain", field).stdout
    assert text in " ".join(explained.split())


def test_samples_parse_into_the_models() -> None:
    for info in KINDS:
        parsed = info.model.model_validate({"spec": SAMPLES[info.kind]["spec"]})
        assert parsed.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)["spec"]
    assert Path(REPO_ROOT / "manifests" / "samples").is_dir()
