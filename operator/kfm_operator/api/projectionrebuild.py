"""ProjectionRebuild: rebuild a runtime projection (search index, spatial tiles) from published versions only."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from kfm_operator.api.fields import (
    Condition,
    Digest,
    DnsLabel,
    KfmModel,
    LedgerRef,
    ObjectName,
    ObservedGeneration,
    cel_rules,
    list_map,
)

__all__ = ["ProjectionRebuild", "ProjectionRebuildPhase", "ProjectionRebuildSpec", "ProjectionRebuildStatus"]

LabelKey = Annotated[str, Field(min_length=1, max_length=317,
                                pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
LabelValue = Annotated[str, Field(max_length=63, pattern=r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]


class Projection(StrEnum):
    SEARCH = "search"
    SPATIAL = "spatial"


class Operator(StrEnum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


class SelectorRequirement(KfmModel):
    """One label requirement, as in metav1.LabelSelectorRequirement."""

    model_config = ConfigDict(json_schema_extra=cel_rules((
        "(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
        "values must be non-empty for In and NotIn, and absent for Exists and DoesNotExist")))

    key: LabelKey = Field(description="key of the label.")
    operator: Operator = Field(description="operator: In, NotIn, Exists or DoesNotExist.")
    values: list[LabelValue] | None = Field(default=None, max_length=64, description=(
        "values for In and NotIn (at most 64); absent for Exists and DoesNotExist."))


class Selector(KfmModel):
    """Which DatasetVersions (by label, same namespace) feed the projection; only published ones are read."""

    model_config = ConfigDict(json_schema_extra=cel_rules((
        "(has(self.matchLabels) && size(self.matchLabels) > 0) || "
        "(has(self.matchExpressions) && size(self.matchExpressions) > 0)",
        "an empty selector would select every DatasetVersion: give matchLabels or matchExpressions")))

    match_labels: dict[LabelKey, LabelValue] | None = Field(default=None, json_schema_extra={"maxProperties": 32},
                                                            description="matchLabels: labels that must all match.")
    match_expressions: list[SelectorRequirement] | None = Field(default=None, max_length=16, description=(
        "matchExpressions: requirements that must all hold."))


class RebuildMode(StrEnum):
    FULL = "full"


SPEC_RULES = cel_rules(
    ("self == oldSelf", "spec is immutable: create a new ProjectionRebuild to rebuild again"),
    ("has(self.datasetVersions) != has(self.selector)", "set exactly one of datasetVersions or selector"),
)


class ProjectionRebuildSpec(KfmModel):
    """What to rebuild from which versions. Immutable after create."""

    projection: Projection = Field(description="projection to rebuild: search or spatial.")
    target: DnsLabel = Field(description="target name of the projection instance (a DNS label).")
    dataset_versions: list[ObjectName] | None = Field(
        default=None, min_length=1, max_length=256, json_schema_extra={"x-kubernetes-list-type": "set"},
        description=("datasetVersions: names of DatasetVersions (same namespace), 1 to 256. Exactly one of "
                     "datasetVersions and selector."))
    selector: Selector | None = Field(default=None, description=(
        "selector of DatasetVersions by label. Exactly one of datasetVersions and selector."))
    mode: RebuildMode = Field(default=RebuildMode.FULL, description="mode: full (rebuild from scratch). Default full.")


class ProjectionRebuildPhase(StrEnum):
    PENDING = "Pending"
    BUILDING = "Building"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class RebuildInput(KfmModel):
    """A published version the rebuild read."""

    dataset_version: ObjectName = Field(description="datasetVersion name.")
    digest: Digest = Field(description="digest of its published zone manifest.")


class RebuildOutput(KfmModel):
    """The projection artifact."""

    uri: str = Field(max_length=1024, description="uri of the projection artifact.")
    digest: Digest = Field(description="digest of the projection artifact.")
    records: int = Field(ge=0, description="records in the projection.")


class ProjectionRebuildStatus(KfmModel):
    """What was rebuilt from what; written only by the operator."""

    observed_generation: ObservedGeneration | None = None
    phase: ProjectionRebuildPhase | None = Field(default=None, description=(
        "phase for people: Pending, Building (Job running), Succeeded, Failed."))
    inputs: list[RebuildInput] = Field(default_factory=list, max_length=256,
                                       json_schema_extra=list_map("datasetVersion"),
                                       description="inputs: the published versions read.")
    output: RebuildOutput | None = Field(default=None, description="output artifact.")
    job: str | None = Field(default=None, max_length=63, description="job is the name of the rebuild Job.")
    ledger: LedgerRef | None = Field(default=None, description="ledger entry (rebuild.receipt).")
    conditions: list[Condition] = Field(default_factory=list, max_length=16, json_schema_extra=list_map("type"),
                                        description="conditions: Ready (summary), Reconciling, Stalled, Built.")


class ProjectionRebuild(KfmModel):
    """A ProjectionRebuild object as stored."""

    spec: ProjectionRebuildSpec = Field(description="spec of the rebuild; immutable after create.",
                                        json_schema_extra=SPEC_RULES)
    status: ProjectionRebuildStatus | None = Field(default=None, description="status written by the operator.")
