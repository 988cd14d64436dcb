"""Deterministic names and keys: the same object and generation always give the same run, Job and keys."""

from __future__ import annotations

import hashlib
from datetime import datetime

__all__ = [
    "JOB_NAME_MAX",
    "job_name",
    "ledger_key",
    "receipt_key",
    "run_id",
    "run_result_key",
    "run_spec_key",
    "zone_manifest_key",
]

JOB_NAME_MAX = 63


def run_id(uid: str, generation: int) -> str:
    """The run id: first 16 hex digits of sha256('<uid>/<generation>'), stable across retries and restarts."""
    return hashlib.sha256(f"{uid}/{generation}".encode()).hexdigest()[:16]


def job_name(object_name: str, run: str) -> str:
    """`<object-name>-<run-id[:8]>`, at most 63 characters: the object name is truncated, never the id."""
    suffix = f"-{run[:8]}"
    stem = object_name[: JOB_NAME_MAX - len(suffix)].rstrip("-.")
    return f"{stem}{suffix}"


def dataset_name(dataset_id: str) -> str:
    """kfm://dataset/<name> -> <name>."""
    return dataset_id.rsplit("/", 1)[-1]


def run_spec_key(run: str) -> str:
    return f"runs/{run}/spec.json"


def run_result_key(run: str) -> str:
    """Where the runner records where its receipt is (the receipt's own key has the run's date in it)."""
    return f"runs/{run}/result.json"


def receipt_key(job_type: str, run: str, started: datetime) -> str:
    return f"receipts/{job_type}/{started:%Y/%m/%d}/{run}.json"


def zone_manifest_key(zone: str, dataset_id: str, version: str) -> str:
    return f"zones/{zone}/{dataset_name(dataset_id)}/{version}.json"


def catalog_prefix(dataset_id: str, version: str) -> str:
    return f"catalog/{dataset_name(dataset_id)}/{version}/"


def policy_archive_key(revision: str) -> str:
    """Where the sources of a policy revision (sha256:<hex>) are kept for `kfm policy replay`."""
    return f"policies/sha256/{revision.removeprefix('sha256:')}.json"


def ledger_key(kind: str, uid: str, generation: int) -> str:
    """Idempotency key of a ledger entry, e.g. run/<uid>/<generation> or promotion/<uid>/<generation>."""
    return f"{kind}/{uid}/{generation}"
