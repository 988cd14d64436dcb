"""`kfm pipeline run`: what a pipeline Job's container does, start to finish.

1. Fetch the run spec by URI and refuse it unless its bytes hash to the digest the operator passed.
2. If runs/<run_id>/result.json exists, this run already finished: verify and stop (a Job may run twice).
3. Download every input, verify its sha256, run the transform in a temporary directory.
4. Write every output create-only to cas/sha256/<hex>, then the catalog triplet, then the receipt, then
   runs/<run_id>/result.json (the operator's pointer to the receipt) — all create-only, so a second run of the
   same spec writes nothing new and overwrites nothing (same inputs give byte-identical outputs).
5. Print the receipt URI and digest as the termination message.
A failure raises RunError; its message becomes the pod's termination message (FallbackToLogsOnError).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rfc8785

from kfm_operator import __version__
from kfm_operator.domain import names
from kfm_operator.pipeline import catalogdocs, transforms
from kfm_operator.pipeline.runspec import RunSpec, canonical_digest
from kfm_operator.stores import AlreadyExists, NotFound, ObjectStore, cas_key, parse_s3_uri

__all__ = ["RunError", "RunResult", "run_pipeline"]


class RunError(Exception):
    """The run cannot succeed as specified; the message says why (it ends up in the Job's status)."""


@dataclass(frozen=True)
class RunResult:
    receipt_uri: str
    receipt_digest: str
    already_done: bool


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _put_immutable(store: ObjectStore, key: str, data: bytes, content_type: str) -> None:
    """Create-only; an existing object is fine only if it holds exactly these bytes."""
    try:
        store.put_if_absent(key, data, content_type=content_type)
    except AlreadyExists as exists:
        if store.get(key)[0] != data:
            raise RunError(f"{store.uri(key)} exists with different content (another run of this dataset version "
                           "wrote it); a version is immutable: give this one a new spec.version") from exists


def load_spec(stores: Callable[[str], ObjectStore], spec_uri: str, spec_digest: str) -> RunSpec:
    location = parse_s3_uri(spec_uri)
    try:
        data, _ = stores(location.bucket).get(location.key)
    except NotFound as error:
        raise RunError(f"run spec {spec_uri} not found") from error
    actual = canonical_digest(data)
    if actual != spec_digest:
        raise RunError(f"run spec {spec_uri} has digest {actual}, not {spec_digest}: refusing to run it")
    return RunSpec.model_validate_json(data)


def _fetch_inputs(stores: Callable[[str], ObjectStore], spec: RunSpec, directory: Path) -> dict[str, Path]:
    local: dict[str, Path] = {}
    for item in spec.inputs:
        location = parse_s3_uri(item.uri)
        target = directory / item.name
        try:
            with target.open("wb") as handle:
                hashed = stores(location.bucket).hash(location.key, into=handle)
        except NotFound as error:
            raise RunError(f"input {item.name!r}: {item.uri} not found") from error
        if hashed.digest != item.digest:
            raise RunError(f"input {item.name!r}: expected {item.digest}, actual {hashed.digest}")
        local[item.name] = target
    return local


def _transform(spec: RunSpec, inputs: dict[str, Path], out: Path) -> transforms.TransformResult:
    try:
        transform = transforms.load(spec.transform)
    except KeyError as error:
        raise RunError(str(error)) from error
    try:
        return transform(inputs, spec.parameters, out)
    except transforms.TransformError as error:
        raise RunError(f"transform {spec.transform}: {error}") from error


def _store_outputs(store: ObjectStore, result: transforms.TransformResult) -> list[catalogdocs.Artifact]:
    artifacts = []
    for output in result.outputs:
        digest = _sha256_file(output.path)
        key = cas_key(digest)
        with contextlib.suppress(AlreadyExists):  # content-addressed: the same key holds the same bytes
            store.put_file_if_absent(key, output.path, content_type=output.media_type)
        artifacts.append(catalogdocs.Artifact(output.name, store.uri(key), digest, output.path.stat().st_size,
                                              output.media_type, output.roles))
    return artifacts


def _receipt(spec: RunSpec, *, spec_uri: str, spec_digest: str, job: str, started: datetime, finished: datetime,
             artifacts: list[catalogdocs.Artifact], catalog: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The receipt in the workers' contract shape: who/what/when, inputs and outputs with checksums and zones."""
    return {
        "run_id": spec.run_id,
        "job_id": job,
        "job_type": spec.job_type,
        "requested_at": spec.requested_at,
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished_at": finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "succeeded",
        "subject": spec.subject.model_dump(),
        "dataset": spec.dataset,
        "version": spec.version,
        "spec": {"uri": spec_uri, "digest": spec_digest},
        "inputs": [{"name": i.name, "uri": i.uri, "checksum": i.digest, "zone": "raw"} for i in spec.inputs],
        "outputs": [{"name": a.name, "uri": a.uri, "checksum": a.digest, "size_bytes": a.size_bytes,
                     "media_type": a.media_type, "zone": "work"} for a in artifacts],
        "catalog": catalog,
        "governance": spec.governance,
        "provenance": {"transform": spec.transform, "parameters": spec.parameters, "image": spec.image,
                       "tools": {"kfm-operator": __version__, "python": platform.python_version()}},
        "errors": [],
    }


def _existing(store: ObjectStore, result_key: str) -> RunResult:
    pointer = json.loads(store.get(result_key)[0])
    return RunResult(pointer["receipt"]["uri"], pointer["receipt"]["digest"], already_done=True)


def run_pipeline(*, stores: Callable[[str], ObjectStore], spec_uri: str, spec_digest: str, job: str,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> RunResult:
    """Run the spec at `spec_uri`; `stores(bucket)` gives the ObjectStore of a bucket."""
    spec = load_spec(stores, spec_uri, spec_digest)
    store = stores(spec.bucket)
    result_key = names.run_result_key(spec.run_id)
    if store.exists(result_key):
        return _existing(store, result_key)
    started = now()
    with tempfile.TemporaryDirectory(prefix=f"kfm-run-{spec.run_id}-") as scratch:
        root = Path(scratch)
        (root / "in").mkdir()
        (root / "out").mkdir()
        result = _transform(spec, _fetch_inputs(stores, spec, root / "in"), root / "out")
        artifacts = _store_outputs(store, result)
    catalog = {}
    prefix = names.catalog_prefix(spec.dataset, spec.version)
    for file_name, data in catalogdocs.build_triplet(spec, result, artifacts).items():
        _put_immutable(store, prefix + file_name, data, "application/json")
        catalog[file_name] = {"uri": store.uri(prefix + file_name), "digest": canonical_digest(data)}
    receipt = _receipt(spec, spec_uri=spec_uri, spec_digest=spec_digest, job=job, started=started, finished=now(),
                       artifacts=artifacts, catalog=catalog)
    receipt_bytes = bytes(rfc8785.dumps(receipt))
    receipt_key = names.receipt_key(spec.job_type, spec.run_id, started)
    receipt_digest = canonical_digest(receipt_bytes)
    _put_immutable(store, receipt_key, receipt_bytes, "application/json")
    pointer = {"receipt": {"uri": store.uri(receipt_key), "digest": receipt_digest}}
    try:
        store.put_if_absent(result_key, bytes(rfc8785.dumps(pointer)), content_type="application/json")
    except AlreadyExists:
        return _existing(store, result_key)  # a concurrent run of the same spec finished first; its receipt counts
    return RunResult(store.uri(receipt_key), receipt_digest, already_done=False)


def describe(result: RunResult) -> dict[str, Any]:
    return {"receipt": {"uri": result.receipt_uri, "digest": result.receipt_digest},
            "alreadyDone": result.already_done}
