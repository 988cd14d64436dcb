"""DatasetVersions end to end under the operator (KopfRunner), the real control plane, LocalNode, Job controller,
S3 and catalog gate: Ready in processed with verified artifacts, or Failed / Quarantined with the reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import vega_datasets
from kubernetes import client

from kfm_operator.devenv import ControlPlane
from kfm_operator.gates.catalog import Artifact, triplet_from_bytes, validate_catalog
from tests.conftest import kubectl
from tests.integration.operator_support import Harness, datasetversion, operator_running
from tests.support import wait_for

pytestmark = [pytest.mark.usefixtures("kfm_crds", "local_node"), pytest.mark.timeout(300)]
AIRPORTS = (Path(vega_datasets.__file__).parent / "_data" / "airports.csv").read_bytes()



def key_of(uri: str) -> str:
    return uri.split("/", 3)[3]


def test_a_csv_becomes_a_ready_version_in_processed(harness: Harness, control_plane: ControlPlane,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    raw = harness.upload_raw("ks-airports", AIRPORTS)
    harness.create("datasetversions", datasetversion("ks-2026.11.0", [{"name": "airports", **raw,
                                                                       "mediaType": "text/csv"}]))
    with operator_running(harness, monkeypatch):
        waited = kubectl(control_plane, "wait", "-n", harness.namespace, "--for=condition=Ready",
                         "datasetversion/ks-2026.11.0", "--timeout=120s", check=False, timeout=130)
        assert waited.returncode == 0, waited.stderr + json.dumps(harness.get("datasetversions", "ks-2026.11.0"))
    body = harness.get("datasetversions", "ks-2026.11.0")
    status = body["status"]
    assert status["phase"] == "Ready" and status["zone"] == "processed"
    assert status["observedGeneration"] == body["metadata"]["generation"]
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {"InputsVerified": "True", "Materialized": "True", "CatalogValid": "True", "Ready": "True"}
    assert status["run"]["attempt"] == 1 and status["run"]["startedAt"] <= status["run"]["finishedAt"]
    (artifact,) = status["artifacts"]
    assert harness.store.hash(key_of(artifact["uri"])).digest == artifact["digest"]
    assert key_of(artifact["uri"]) == f"cas/sha256/{artifact['digest'][7:]}"
    receipts = [k for k in harness.store.keys("receipts/")]
    assert receipts == [key_of(status["receipt"]["uri"])]
    receipt = json.loads(harness.store.get(receipts[0])[0])
    documents = {name: harness.store.get(key_of(ref["uri"]))[0] for name, ref in receipt["catalog"].items()}
    assert validate_catalog(triplet_from_bytes(documents, [Artifact(artifact["name"], artifact["uri"],
                                                                    artifact["digest"])])).passed is True
    ledger = harness.ledger()
    assert ledger.tree_size() == 1
    entry = ledger.entry(status["ledger"]["index"])
    assert entry.kind == "run.receipt" and entry.payload["outcome"] == "Ready"
    assert entry.correlation.run_id == status["run"]["id"]
    verified = subprocess.run(
        [sys.executable, "-m", "kfm_operator.cli", "ledger", "verify", "--s3-bucket", harness.store.bucket,
         "--public-key", harness.env["KFM_LEDGER_SIGNING_KEY_FILE"] + ".pub", "--output", "json"],
        env={**os.environ, **harness.env}, capture_output=True, text=True, timeout=120, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["tree_size"] == 1
    manifest = json.loads(harness.store.get("zones/processed/ks-airports/2026.11.0.json")[0])
    assert manifest["ledger"] == status["ledger"] and manifest["artifacts"][0]["digest"] == artifact["digest"]
    (job,) = harness.jobs()
    assert job.metadata.owner_references[0].uid == body["metadata"]["uid"]
    events = client.CoreV1Api(harness.api).list_namespaced_event(harness.namespace).items
    assert any(e.reason == "Succeeded" and e.involved_object.name == "ks-2026.11.0" for e in events)


def test_a_wrong_input_digest_fails_without_a_job_or_artifacts(harness: Harness,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    raw = harness.upload_raw("ks-airports", AIRPORTS)
    wrong = "sha256:" + "0" * 64
    harness.create("datasetversions", datasetversion("ks-bad-digest", [{"name": "airports", "uri": raw["uri"],
                                                                        "digest": wrong}]))
    with operator_running(harness, monkeypatch):
        body = harness.wait_settled("datasetversions", "ks-bad-digest")
    status = body["status"]
    assert status["phase"] == "Failed"
    verified = next(c for c in status["conditions"] if c["type"] == "InputsVerified")
    assert verified["status"] == "False" and verified["reason"] == "InputDigestMismatch"
    assert f"input 'airports': expected {wrong}, actual {raw['digest']}" in verified["message"]
    assert harness.jobs() == []
    assert list(harness.store.keys("cas/")) == []
    assert harness.ledger().entry(status["ledger"]["index"]).payload["outcome"] == "Failed"


def test_a_catalog_finding_quarantines_the_version(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    csv = b"latitude,longitude,observed\n38.5,-98.1,yesterday\n39.0,-97.0,2026-11-01T00:00:00Z\n"
    raw = harness.upload_raw("ks-sightings", csv)
    harness.create("datasetversions", datasetversion("ks-quarantined", [{"name": "sightings", **raw}],
                                                     parameters={"time": "observed"}))
    with operator_running(harness, monkeypatch):
        body = harness.wait_settled("datasetversions", "ks-quarantined")
    status = body["status"]
    assert status["phase"] == "Quarantined" and status["zone"] == "quarantine"
    valid = next(c for c in status["conditions"] if c["type"] == "CatalogValid")
    assert valid["status"] == "False" and "stac.schema" in valid["message"]
    assert status["receipt"]["uri"] and status["catalog"]["stac"]["uri"]  # the evidence stays reachable
    assert harness.store.exists("zones/quarantine/ks-airports/quarantined.json")


def test_a_failing_pipeline_fails_the_version_with_its_error(harness: Harness,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    raw = harness.upload_raw("ks-airports", AIRPORTS)
    harness.create("datasetversions", datasetversion("ks-job-fails", [{"name": "airports", **raw}],
                                                     parameters={"latitude": "lat"}))
    with operator_running(harness, monkeypatch):
        body = harness.wait_settled("datasetversions", "ks-job-fails")
    status = body["status"]
    assert status["phase"] == "Failed"
    materialized = next(c for c in status["conditions"] if c["type"] == "Materialized")
    assert materialized["reason"] == "JobFailed" and "BackoffLimitExceeded" in materialized["message"]
    assert "column 'lat' not in the CSV" in materialized["message"]
    assert status["run"]["attempt"] == 1  # backoffLimit 0: one pod
    stalled = next(c for c in status["conditions"] if c["type"] == "Stalled")
    assert stalled["status"] == "True"


def test_twenty_versions_at_once_all_become_ready(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = harness.upload_raw("ks-airports", AIRPORTS)
    names = [f"ks-2026.11.{n}" for n in range(20)]
    for name in names:
        harness.create("datasetversions", datasetversion(name, [{"name": "airports", **raw}]))
    with operator_running(harness, monkeypatch):
        settled = [harness.wait_settled("datasetversions", name, timeout=240) for name in names]
    assert [b["status"]["phase"] for b in settled] == ["Ready"] * 20
    assert len(harness.jobs()) == 20
    assert harness.ledger().tree_size() == 20
    indices = {b["status"]["ledger"]["index"] for b in settled}
    assert indices == set(range(20))


def test_deleting_a_version_removes_its_job_but_keeps_the_evidence(harness: Harness,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    raw = harness.upload_raw("ks-airports", AIRPORTS)
    harness.create("datasetversions", datasetversion("ks-deleted", [{"name": "airports", **raw}]))
    with operator_running(harness, monkeypatch):
        body = harness.wait_settled("datasetversions", "ks-deleted")
    assert body["status"]["phase"] == "Ready" and len(harness.jobs()) == 1
    client.CustomObjectsApi(harness.api).delete_namespaced_custom_object(
        "kfm.dev", "v1alpha1", harness.namespace, "datasetversions", "ks-deleted")
    wait_for("the garbage collector to delete the Job", lambda: harness.jobs() == [], timeout=60)
    assert harness.store.exists(key_of(body["status"]["receipt"]["uri"]))
    assert harness.store.exists(key_of(body["status"]["artifacts"][0]["uri"]))
    assert harness.ledger().tree_size() == 1




def test_a_job_past_its_deadline_fails_the_version_with_deadline_exceeded(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without its credentials Secret the pod cannot start (CreateContainerConfigError) and the deadline runs out.
    client.CoreV1Api(harness.api).delete_namespaced_secret("kfm-s3-credentials", harness.namespace)
    raw = harness.upload_raw("ks-airports", AIRPORTS)
    body = datasetversion("ks-too-slow", [{"name": "airports", **raw}])
    body["spec"]["pipeline"]["timeoutSeconds"] = 60
    harness.create("datasetversions", body)
    with operator_running(harness, monkeypatch):
        settled = harness.wait_settled("datasetversions", "ks-too-slow", timeout=150)
    status = settled["status"]
    assert status["phase"] == "Failed"
    materialized = next(c for c in status["conditions"] if c["type"] == "Materialized")
    assert materialized["reason"] == "DeadlineExceeded"
    assert "longer than specified deadline" in materialized["message"]
    assert harness.ledger().entry(status["ledger"]["index"]).payload["outcome"] == "Failed"


def test_a_second_object_for_a_materialized_version_is_refused(harness: Harness,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    raw = harness.upload_raw("ks-airports", AIRPORTS)
    harness.create("datasetversions", datasetversion("ks-3.1", [{"name": "airports", **raw}]))
    with operator_running(harness, monkeypatch):
        assert harness.wait_settled("datasetversions", "ks-3.1")["status"]["phase"] == "Ready"
        twin = datasetversion("ks-3.1-again", [{"name": "airports", **raw}])
        twin["spec"]["version"] = "3.1"
        harness.create("datasetversions", twin)
        body = harness.wait_settled("datasetversions", "ks-3.1-again")
    ready = next(c for c in body["status"]["conditions"] if c["type"] == "Ready")
    assert body["status"]["phase"] == "Failed" and ready["reason"] == "VersionTaken"
    assert f"already materialized by DatasetVersion {harness.namespace}/ks-3.1" in ready["message"]
    assert len(harness.jobs()) == 1  # nothing launched for the twin
