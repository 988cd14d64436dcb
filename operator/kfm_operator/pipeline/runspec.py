"""The run spec: everything a pipeline Job needs, written once by the operator to runs/<run_id>/spec.json and
passed to the Job by URI and digest. Canonical JSON (RFC 8785), so the digest is stable."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RunInput", "RunSpec", "RunSubject", "canonical_digest"]

JOB_TYPE = "pipeline"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunSubject(_Frozen):
    namespace: str
    name: str
    uid: str
    generation: int


class RunInput(_Frozen):
    name: str
    uri: str
    digest: str
    media_type: str | None = None


class RunSpec(_Frozen):
    run_id: str
    job_type: str = JOB_TYPE
    subject: RunSubject
    requested_at: str  # the DatasetVersion's creationTimestamp: the catalog's time, stable across re-runs
    dataset: str
    version: str
    title: str
    description: str | None = None
    license: str
    governance: dict[str, str]
    inputs: list[RunInput]
    transform: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    bucket: str
    image: str
    operator_version: str

    def canonical(self) -> bytes:
        return bytes(rfc8785.dumps(self.model_dump(mode="json")))

    @property
    def digest(self) -> str:
        return canonical_digest(self.canonical())


def canonical_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
