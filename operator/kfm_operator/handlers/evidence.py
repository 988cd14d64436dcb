"""Observations and records for the DatasetVersion recipe: Job state, the run's receipt and outputs verified
against the store, the catalog gate, the ledger entry and the zone manifest. Each function does one piece of I/O
and returns plain data for domain/ to decide on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from kubernetes import client

from kfm_operator.domain import names
from kfm_operator.domain.datasetversion import JobState
from kfm_operator.domain.gates import Finding, GateResult
from kfm_operator.gates.catalog import validate_catalog
from kfm_operator.gates.catalog.triplets import Artifact, triplet_from_bytes
from kfm_operator.handlers import statuses
from kfm_operator.handlers.context import OperatorContext
from kfm_operator.ledger import Entry
from kfm_operator.pipeline.runspec import canonical_digest
from kfm_operator.stores import AlreadyExists, NotFound, parse_s3_uri

__all__ = ["Verified", "append_run_receipt", "catalog_gate", "job_attempts", "job_state", "pod_errors",
           "runner_env", "verify_run", "version_holder", "write_zone_manifest"]

CATALOG_FILES = ("stac-item.json", "stac-collection.json", "dcat.jsonld", "prov.json")


def runner_env(ctx: OperatorContext) -> dict[str, str]:
    env = {"KFM_S3_REGION": ctx.settings.s3_region, "KFM_S3_BUCKET": ctx.settings.s3_bucket}
    if ctx.settings.s3_endpoint:
        env["KFM_S3_ENDPOINT"] = ctx.settings.s3_endpoint
    return env


def job_state(job: Any) -> JobState:
    """Finished and how, from the conditions the Job controller wrote."""
    for condition in job.status.conditions or [] if job.status else []:
        if condition.status != "True":
            continue
        if condition.type == "Complete":
            return JobState(job.metadata.name, True, True)
        if condition.type == "Failed":
            return JobState(job.metadata.name, True, False, condition.reason or "", condition.message or "")
    return JobState(job.metadata.name, False, False)


def job_attempts(job: Any) -> int:
    """How many pods the Job has run to an end (the API bounds status.run.attempt at 11: backoffLimit 10 + 1)."""
    status = job.status
    return min(11, (status.succeeded or 0) + (status.failed or 0)) if status else 0


def pod_errors(ctx: OperatorContext, namespace: str, job_name: str) -> list[str]:
    """The termination messages of the Job's failed pods, oldest first."""
    pods = client.CoreV1Api(ctx.api).list_namespaced_pod(namespace, label_selector=f"job-name={job_name}").items
    messages = []
    for pod in sorted(pods, key=lambda p: p.metadata.creation_timestamp):
        for status in (pod.status.container_statuses or []) if pod.status else []:
            terminated = status.state.terminated if status.state else None
            if terminated is not None and terminated.exit_code:
                messages.append((terminated.message or terminated.reason or "failed").strip()[-2000:])
    return messages


@dataclass
class Verified:
    receipt: dict[str, Any] = field(default_factory=dict)
    receipt_uri: str = ""
    receipt_digest: str = ""
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    catalog: dict[str, bytes] = field(default_factory=dict)
    catalog_status: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def verify_run(ctx: OperatorContext, run: str, body: dict[str, Any]) -> Verified:
    """Read the run's receipt through runs/<run>/result.json and check every claim in it against the store."""
    store = ctx.store()
    verified = Verified()
    try:
        pointer = json.loads(store.get(names.run_result_key(run))[0])
        verified.receipt_uri, verified.receipt_digest = pointer["receipt"]["uri"], pointer["receipt"]["digest"]
        location = parse_s3_uri(verified.receipt_uri)
        data, _ = ctx.store(location.bucket).get(location.key)
    except (NotFound, KeyError, ValueError) as error:
        verified.problems.append(f"no receipt for run {run}: {error}")
        return verified
    if canonical_digest(data) != verified.receipt_digest:
        verified.problems.append(f"receipt {verified.receipt_uri} does not hash to {verified.receipt_digest}")
        return verified
    verified.receipt = receipt = json.loads(data)
    if receipt.get("run_id") != run or receipt.get("subject", {}).get("uid") != body["metadata"]["uid"]:
        verified.problems.append(f"receipt {verified.receipt_uri} is for another run or object")
    for output in receipt.get("outputs", []):
        location = parse_s3_uri(output["uri"])
        try:
            hashed = ctx.store(location.bucket).hash(location.key)
        except NotFound:
            verified.problems.append(f"output {output['name']!r}: {output['uri']} not found")
            continue
        if hashed.digest != output["checksum"]:
            verified.problems.append(f"output {output['name']!r}: expected {output['checksum']}, actual "
                                     f"{hashed.digest}")
        verified.artifacts.append({"name": output["name"], "uri": output["uri"], "digest": hashed.digest,
                                   "sizeBytes": hashed.size, "mediaType": output.get("media_type")})
    for file_name, ref in receipt.get("catalog", {}).items():
        location = parse_s3_uri(ref["uri"])
        try:
            document, _ = ctx.store(location.bucket).get(location.key)
        except NotFound:
            verified.problems.append(f"catalog document {ref['uri']} not found")
            continue
        if canonical_digest(document) != ref["digest"]:
            verified.problems.append(f"catalog document {ref['uri']} does not hash to {ref['digest']}")
        verified.catalog[file_name] = document
    short = {"stac-item.json": "stac", "dcat.jsonld": "dcat", "prov.json": "prov"}
    verified.catalog_status = {short[name]: receipt["catalog"][name] for name in short
                               if name in receipt.get("catalog", {})}
    return verified


def catalog_gate(ctx: OperatorContext, verified: Verified) -> GateResult:
    """The catalog gate over the run's triplet; a missing document is a finding (fail closed)."""
    missing = [name for name in CATALOG_FILES if name not in verified.catalog]
    if missing:
        return GateResult("catalog", False, tuple(Finding("catalog.document_missing", name, "not written by the run")
                                                  for name in missing))
    artifacts = [Artifact(a["name"], a["uri"], a["digest"]) for a in verified.artifacts]
    return validate_catalog(triplet_from_bytes(dict(verified.catalog), artifacts),
                            extra_schema_dirs=ctx.settings.catalog_schema_dirs)


def append_run_receipt(ctx: OperatorContext, body: dict[str, Any], *, run_id: str, receipt: dict[str, Any],
                       outcome: str, findings: list[str] | None = None) -> dict[str, Any]:
    """One run.receipt ledger entry per (uid, generation); a second call returns the first's index."""
    meta = body["metadata"]
    entry = Entry.model_validate(dict(
        kind="run.receipt",
        key=names.ledger_key("run", meta["uid"], int(meta["generation"])),
        time=statuses.now(),
        subject={"apiVersion": "kfm.dev/v1alpha1", "kind": "DatasetVersion", "namespace": meta["namespace"],
                 "name": meta["name"], "uid": meta["uid"]},
        payload={"outcome": outcome, "findings": findings or [], "receipt": receipt},
        digests={o["name"]: o["checksum"] for o in receipt.get("outputs", [])},
        correlation={"run_id": run_id, "dataset_version_id": meta["uid"]},
    ))
    appended = ctx.ledger.append(entry)
    return {"index": appended.index, "leafHash": appended.leaf_hash}


def version_holder(ctx: OperatorContext, dataset: str, version: str) -> dict[str, Any] | None:
    """The DatasetVersion (namespace, name, uid) holding this dataset version in a zone, if any. Two objects
    created at once can both pass this check; the runner's create-only catalog writes then stop the second."""
    store = ctx.store()
    for zone in ("processed", "quarantine", "published"):
        try:
            holder: dict[str, Any] = json.loads(store.get(names.zone_manifest_key(zone, dataset, version))[0])[
                "datasetVersion"]
        except NotFound:
            continue
        return holder
    return None


def write_zone_manifest(ctx: OperatorContext, body: dict[str, Any], *, zone: str, verified: Verified,
                        ledger: dict[str, Any]) -> None:
    """zones/<zone>/<dataset>/<version>.json, create-only; an existing one with the same content is fine."""
    spec, meta = body["spec"], body["metadata"]
    manifest = {
        "dataset": spec["dataset"], "version": spec["version"], "zone": zone,
        "datasetVersion": {"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"],
                           "generation": int(meta["generation"])},
        "governance": spec["governance"], "license": spec["license"],
        "artifacts": verified.artifacts, "catalog": verified.catalog_status,
        "receipt": {"uri": verified.receipt_uri, "digest": verified.receipt_digest}, "ledger": ledger,
    }
    data = bytes(rfc8785.dumps(manifest))
    key = names.zone_manifest_key(zone, spec["dataset"], spec["version"])
    store = ctx.store()
    try:
        store.put_if_absent(key, data, content_type="application/json")
    except AlreadyExists:
        existing = json.loads(store.get(key)[0])
        if existing.get("datasetVersion", {}).get("uid") != meta["uid"]:
            raise  # another DatasetVersion holds this dataset version in the zone: a person must decide
