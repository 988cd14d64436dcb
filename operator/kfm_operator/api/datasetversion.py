"""DatasetVersion: one immutable version of a dataset, materialized by a pipeline Job into content-addressed
artifacts with a catalog triplet (STAC, DCAT, PROV) and a receipt."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from kfm_operator.api.fields import (
    DNS_LABEL,
    ZONE_DESCRIPTION,
    Condition,
    Digest,
    DnsLabel,
    KfmModel,
    LedgerRef,
    ObservedGeneration,
    Zone,
    cel_rules,
    list_map,
)

__all__ = ["DatasetVersion", "DatasetVersionPhase", "DatasetVersionSpec", "DatasetVersionStatus"]

S3_URI = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\s]+$"
# The Kubernetes resource.Quantity syntax (as in the core API's OpenAPI).
QUANTITY = (r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)"
            r"|(\.[0-9]+))))?$")
MEDIA_TYPE = r"^[a-z]+/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(;.*)?$"

Quantity = Annotated[str, Field(max_length=32, pattern=QUANTITY)]


class PolicyLabel(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    RESTRICTED = "restricted"
    CONFIDENTIAL = "confidential"


class Sensitivity(StrEnum):
    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class Governance(KfmModel):
    """Machine-checkable governance labels; promotion policy decides on them."""

    policy_label: PolicyLabel = Field(description=(
        "policyLabel is who may see the data once published: public (anyone), internal (the organisation), "
        "restricted (named groups; promotion needs an exception), confidential (promotion needs an exception)."))
    sensitivity: Sensitivity = Field(description=(
        "sensitivity of the content: none, low, moderate or high (e.g. precise locations of protected sites)."))
    sovereignty: str = Field(max_length=127, pattern=rf"^(none|{DNS_LABEL}:{DNS_LABEL})$", description=(
        "sovereignty names the authority whose rules govern the data, as <authority>:<name> in lowercase DNS "
        "labels (e.g. tribal:wichita), or none. Anything but none needs a promotion exception."))


class Input(KfmModel):
    """One input as delivered to the raw zone, pinned by digest."""

    name: DnsLabel = Field(description="name of the input, unique in the list (a DNS label).")
    uri: str = Field(max_length=1024, pattern=S3_URI, description=(
        "uri of the input object, s3://<bucket>/<key> (usually under raw/; `kfm raw add` prints it)."))
    digest: Digest = Field(description=(
        "digest of the input's bytes: sha256: followed by 64 lowercase hex digits. The operator re-hashes the "
        "object and refuses to run when it differs."))
    media_type: str | None = Field(default=None, max_length=255, pattern=MEDIA_TYPE, description=(
        "mediaType of the input (RFC 6838), e.g. text/csv. Optional."))


class ResourceAmounts(KfmModel):
    """CPU and memory as Kubernetes quantities."""

    cpu: Quantity | None = Field(default=None, description="cpu as a Kubernetes quantity, e.g. 500m or 2.")
    memory: Quantity | None = Field(default=None, description="memory as a Kubernetes quantity, e.g. 512Mi.")


class Resources(KfmModel):
    """Compute resources of the pipeline Job's container."""

    requests: ResourceAmounts | None = Field(default=None, description="requests reserved for the Job's pod.")
    limits: ResourceAmounts | None = Field(default=None, description="limits the Job's pod may not exceed.")


class Pipeline(KfmModel):
    """How the version is materialized: a registered transform run as a Kubernetes Job."""

    transform: DnsLabel = Field(description=(
        "transform is the name of a registered transform (entry point group kfm.transforms), e.g. copy or "
        "csv-points. An unknown name stalls the DatasetVersion with reason UnknownTransform."))
    parameters: dict[str, Any] = Field(default_factory=dict, json_schema_extra={
        "maxProperties": 64, "x-kubernetes-preserve-unknown-fields": True}, description=(
        "parameters passed to the transform as a JSON object (at most 64 keys); the transform validates them."))
    image: str | None = Field(default=None, max_length=512, pattern=r"^[^\s]+$", description=(
        "image of the pipeline Job; defaults to the operator's configured runner image."))
    timeout_seconds: int = Field(default=3600, ge=60, le=86400, description=(
        "timeoutSeconds is the Job's activeDeadlineSeconds: 60 to 86400, default 3600."))
    backoff_limit: int = Field(default=2, ge=0, le=10, description=(
        "backoffLimit is how many times a failed pod is retried: 0 to 10, default 2."))
    pool: DnsLabel = Field(default="default", description=(
        "pool selects the node pool (label kfm.dev/pool) the Job runs on; default default."))
    resources: Resources | None = Field(default=None, description="resources of the Job's container. Optional.")


class Freshness(KfmModel):
    """How old the version may get before it is reported stale."""

    max_age_minutes: int = Field(ge=1, le=525600, description=(
        "maxAgeMinutes after materialization before the version counts as stale: 1 to 525600 (one year)."))


SPEC_RULES = cel_rules(("self == oldSelf", "spec is immutable: create a new DatasetVersion (e.g. with a new "
                                            "version) instead of changing this one"))


class DatasetVersionSpec(KfmModel):
    """What the version is, where its inputs are and how to materialize it. Immutable after create."""

    dataset: str = Field(max_length=77, pattern=rf"^kfm://dataset/{DNS_LABEL}$", description=(
        "dataset this is a version of: kfm://dataset/<name>, where name is a DNS label."))
    version: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]*$", description=(
        "version of the dataset: 1-64 characters, letters, digits, '.', '+', '-', starting with a letter or digit "
        "(e.g. 2026.11.0)."))
    title: str = Field(min_length=1, max_length=200, description="title of the version for people (1-200).")
    description: str | None = Field(default=None, max_length=4000, description=(
        "description of the version for people (at most 4000 characters). Optional."))
    license: str = Field(max_length=100, pattern=r"^(LicenseRef-[A-Za-z0-9.-]+|[A-Za-z0-9][A-Za-z0-9.+-]*)$",
                         description=("license of the data as an SPDX identifier (https://spdx.org/licenses/), "
                                      "e.g. CC-BY-4.0, or LicenseRef-<name>. Required."))
    governance: Governance = Field(description="governance labels; all three are required.")
    inputs: list[Input] = Field(min_length=1, max_length=32, json_schema_extra=list_map("name"), description=(
        "inputs of the pipeline: 1 to 32, each with a unique name."))
    pipeline: Pipeline = Field(description="pipeline that materializes the version.")
    freshness: Freshness | None = Field(default=None, description="freshness expectation. Optional.")


class DatasetVersionPhase(StrEnum):
    PENDING = "Pending"
    VERIFYING = "Verifying"
    MATERIALIZING = "Materializing"
    VALIDATING = "Validating"
    READY = "Ready"
    QUARANTINED = "Quarantined"
    FAILED = "Failed"


class Run(KfmModel):
    """The pipeline run for the current generation."""

    id: str = Field(max_length=16, pattern="^[a-f0-9]{16}$", description=(
        "id of the run: the first 16 hex digits of sha256(<uid>/<generation>), stable across retries."))
    job: str | None = Field(default=None, max_length=63, description="job is the name of the run's Job.")
    attempt: int | None = Field(default=None, ge=0, le=11, description="attempt is how many pods the Job started.")
    started_at: datetime | None = Field(default=None, description="startedAt is when the Job started.")
    finished_at: datetime | None = Field(default=None, description="finishedAt is when the Job finished.")


class Artifact(KfmModel):
    """One content-addressed output of the run."""

    name: str = Field(max_length=253, description="name of the artifact as the transform named it.")
    uri: str = Field(max_length=1024, description="uri of the artifact: s3://<bucket>/cas/sha256/<hex>.")
    digest: Digest = Field(description="digest of the artifact's bytes (sha256:<hex>).")
    size_bytes: int = Field(ge=0, description="sizeBytes of the artifact.")
    media_type: str | None = Field(default=None, max_length=255, description="mediaType of the artifact.")


class DigestedRef(KfmModel):
    """An object in the store and the digest of its bytes."""

    uri: str = Field(max_length=1024, description="uri of the object (s3://...).")
    digest: Digest = Field(description="digest of the object's bytes (sha256:<hex>).")


class Catalog(KfmModel):
    """The catalog triplet of the version."""

    stac: DigestedRef | None = Field(default=None, description="stac is the STAC Item.")
    dcat: DigestedRef | None = Field(default=None, description="dcat is the DCAT dataset (JSON-LD).")
    prov: DigestedRef | None = Field(default=None, description="prov is the PROV-JSON document of the run.")


class DatasetVersionStatus(KfmModel):
    """What the operator observed and did; written only by the operator."""

    observed_generation: ObservedGeneration | None = None
    phase: DatasetVersionPhase | None = Field(default=None, description=(
        "phase for people (not a contract; read the conditions): Pending, Verifying (hashing inputs), "
        "Materializing (Job running), Validating (catalog gate), Ready (in zone processed), Quarantined "
        "(a gate found problems; see CatalogValid), Failed (see Stalled and Ready)."))
    zone: Zone | None = Field(default=None, description="zone the version is in: " + ZONE_DESCRIPTION)
    conditions: list[Condition] = Field(default_factory=list, max_length=16, json_schema_extra=list_map("type"),
                                        description=(
        "conditions: Ready (summary), Reconciling (work in flight), Stalled (cannot continue without a change), "
        "InputsVerified, Materialized, CatalogValid."))
    run: Run | None = Field(default=None, description="run of the pipeline for the current generation.")
    artifacts: list[Artifact] = Field(default_factory=list, max_length=256, json_schema_extra=list_map("name"),
                                      description="artifacts the run produced, content-addressed.")
    catalog: Catalog | None = Field(default=None, description="catalog triplet of the version.")
    receipt: DigestedRef | None = Field(default=None, description="receipt of the run.")
    ledger: LedgerRef | None = Field(default=None, description="ledger entry (run.receipt) of the outcome.")


class DatasetVersion(KfmModel):
    """A DatasetVersion object as stored (metadata is Kubernetes')."""

    spec: DatasetVersionSpec = Field(description="spec of the version; immutable after create.",
                                     json_schema_extra=SPEC_RULES)
    status: DatasetVersionStatus | None = Field(default=None, description="status written by the operator.")
