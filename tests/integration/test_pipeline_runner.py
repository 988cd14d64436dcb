"""`kfm pipeline run` against the real S3 server: content-addressed outputs, a catalog the catalog gate accepts,
one receipt; a second run of the same spec writes nothing; a spec whose digest differs is refused."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import vega_datasets

from kfm_operator.devenv import S3Server
from kfm_operator.domain import names
from kfm_operator.gates.catalog import Artifact, triplet_from_bytes, validate_catalog
from kfm_operator.pipeline.runner import RunError, run_pipeline
from kfm_operator.pipeline.runspec import RunInput, RunSpec, RunSubject
from kfm_operator.stores import ObjectStore

AIRPORTS = Path(vega_datasets.__file__).parent / "_data" / "airports.csv"


def spec_for(bucket: str, digest: str, **overrides: Any) -> RunSpec:
    fields: dict[str, Any] = dict(
        run_id=names.run_id("uid-1", 1), subject=RunSubject(namespace="geo", name="ks", uid="uid-1", generation=1),
        requested_at="2026-11-23T10:00:00Z", dataset="kfm://dataset/ks-airports", version="2026.11.0",
        title="Kansas airports", license="CC0-1.0",
        governance={"policyLabel": "public", "sensitivity": "none", "sovereignty": "none"},
        inputs=[RunInput(name="airports", uri=f"s3://{bucket}/raw/ks-airports/{digest[7:]}", digest=digest,
                         media_type="text/csv")],
        transform="csv-points", parameters={"filter": {"state": ["KS"]}, "id": "iata"}, bucket=bucket,
        image="kfm:test", operator_version="0.1.0")
    fields.update(overrides)
    return RunSpec(**fields)


@pytest.fixture
def store(s3_server: S3Server, bucket: str) -> ObjectStore:
    return ObjectStore(client=s3_server.client(), bucket=bucket)


def deliver(store: ObjectStore, spec: RunSpec) -> tuple[str, str]:
    key = names.run_spec_key(spec.run_id)
    store.put_if_absent(key, spec.canonical())
    return store.uri(key), spec.digest


def test_a_run_writes_artifacts_catalog_and_one_receipt_and_is_safe_to_repeat(store: ObjectStore) -> None:
    data = AIRPORTS.read_bytes()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    store.put_if_absent(f"raw/ks-airports/{digest[7:]}", data)
    spec = spec_for(store.bucket, digest)
    uri, spec_digest = deliver(store, spec)
    result = run_pipeline(stores=lambda b: store, spec_uri=uri, spec_digest=spec_digest, job="job-1")
    assert not result.already_done
    receipt = json.loads(store.get(result.receipt_uri.split("/", 3)[3])[0])
    assert receipt["run_id"] == spec.run_id and receipt["status"] == "succeeded"
    assert receipt["inputs"] == [{"name": "airports", "uri": spec.inputs[0].uri, "checksum": digest, "zone": "raw"}]
    (output,) = receipt["outputs"]
    assert output["uri"] == f"s3://{store.bucket}/cas/sha256/{output['checksum'][7:]}"
    assert store.hash(output["uri"].split("/", 3)[3]).digest == output["checksum"]
    documents = {name: store.get(ref["uri"].split("/", 3)[3])[0] for name, ref in receipt["catalog"].items()}
    gate = validate_catalog(triplet_from_bytes(documents, [Artifact(output["name"], output["uri"],
                                                                    output["checksum"])]))
    assert gate.passed is True, gate.findings
    before = sorted(store.keys(""))

    again = run_pipeline(stores=lambda b: store, spec_uri=uri, spec_digest=spec_digest, job="job-1-retry")
    assert again.already_done and again.receipt_uri == result.receipt_uri
    assert sorted(store.keys("")) == before  # nothing new, nothing overwritten
    assert len([k for k in before if k.startswith("receipts/")]) == 1


def test_a_spec_whose_bytes_differ_from_the_digest_is_refused(store: ObjectStore) -> None:
    spec = spec_for(store.bucket, "sha256:" + "0" * 64)
    uri, _ = deliver(store, spec)
    with pytest.raises(RunError, match="refusing to run it"):
        run_pipeline(stores=lambda b: store, spec_uri=uri, spec_digest="sha256:" + "1" * 64, job="j")
    assert not [k for k in store.keys("") if k.startswith(("cas/", "receipts/"))]


def test_an_input_whose_bytes_changed_fails_the_run(store: ObjectStore) -> None:
    digest = "sha256:" + hashlib.sha256(b"original").hexdigest()
    store.put_if_absent(f"raw/ks-airports/{digest[7:]}", b"tampered")
    uri, spec_digest = deliver(store, spec_for(store.bucket, digest))
    with pytest.raises(RunError, match=f"input 'airports': expected {digest}, actual sha256:"):
        run_pipeline(stores=lambda b: store, spec_uri=uri, spec_digest=spec_digest, job="j")
    assert not [k for k in store.keys("") if k.startswith("cas/")]


def test_the_copy_transform_through_the_cli(s3_server: S3Server, store: ObjectStore, tmp_path: Path) -> None:
    data = b"plain bytes\n" * 100
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    store.put_if_absent(f"raw/blob/{digest[7:]}", data)
    spec = spec_for(store.bucket, digest, transform="copy", parameters={},
                    inputs=[RunInput(name="blob", uri=f"s3://{store.bucket}/raw/blob/{digest[7:]}", digest=digest)])
    uri, spec_digest = deliver(store, spec)
    env = {**s3_server.environment(), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "kfm_operator.cli", "pipeline", "run", "--spec", uri,
                             "--spec-digest", spec_digest, "--termination-log", str(tmp_path / "termination-log")],
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "termination-log").read_text())
    assert summary["receipt"]["uri"].startswith(f"s3://{store.bucket}/receipts/pipeline/")
    assert store.get(f"cas/sha256/{digest[7:]}")[0] == data  # byte-identical copy at the same address
