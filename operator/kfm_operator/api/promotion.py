"""Promotion: a data steward's request to move a DatasetVersion into (or out of) the published zone."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from kfm_operator.api.fields import (
    Condition,
    Digest,
    KfmModel,
    LedgerRef,
    ObjectName,
    ObservedGeneration,
    Zone,
    cel_rules,
    list_map,
)

__all__ = ["GateName", "GateResult", "Promotion", "PromotionPhase", "PromotionSpec", "PromotionStatus"]

RuleCode = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[a-z][a-z0-9_.-]*[a-z0-9]$")]


class TargetZone(StrEnum):
    PUBLISHED = "published"
    PROCESSED = "processed"


class SignedException(KfmModel):
    """A signed waiver of named policy rules for this one DatasetVersion and transition."""

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$", description=(
        "id of the exception as the governance board issued it, e.g. EXC-2026-014."))
    waives: list[RuleCode] = Field(min_length=1, max_length=16, json_schema_extra={"x-kubernetes-list-type": "set"},
                                   description=("waives lists the policy rule codes this exception lifts "
                                                "(1 to 16), e.g. label.restricted, sovereignty.requires_exception."))
    expires_at: datetime = Field(description="expiresAt is when the exception stops counting (RFC 3339).")
    signer: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$", description=(
        "signer is the id of the trusted key that signed the exception (from the operator's trusted keys)."))
    signature: str = Field(min_length=4, max_length=1024, pattern=r"^[A-Za-z0-9+/]+={0,2}$", description=(
        "signature is the base64 Ed25519 signature over the canonical JSON (RFC 8785) of {namespace, "
        "datasetVersion uid, targetZone, waives, expiresAt, id}."))


SPEC_RULES = cel_rules(("self == oldSelf", "spec is immutable: create a new Promotion to ask again"))


class PromotionSpec(KfmModel):
    """Which version goes where, and why. Immutable after create."""

    dataset_version: ObjectName = Field(description=(
        "datasetVersion is the name of the DatasetVersion (same namespace) to move."))
    target_zone: TargetZone = Field(description=(
        "targetZone: published (promote from processed) or processed (withdraw from published)."))
    reason: str = Field(min_length=1, max_length=1000, description=(
        "reason for the change, for the audit record: 1 to 1000 characters."))
    dry_run: bool = Field(default=False, description=(
        "dryRun evaluates every gate and records a promotion.whatif ledger entry, but moves nothing. "
        "Default false."))
    exception: SignedException | None = Field(default=None, description=(
        "exception is a signed waiver of policy rules. Optional."))


class PromotionPhase(StrEnum):
    PENDING = "Pending"
    EVALUATING = "Evaluating"
    BLOCKED = "Blocked"
    PROMOTED = "Promoted"
    DENIED = "Denied"
    FAILED = "Failed"
    EVALUATED = "Evaluated"


class GateName(StrEnum):
    INTEGRITY = "integrity"
    CATALOG = "catalog"
    EXCEPTION = "exception"
    POLICY = "policy"


class GateResult(StrEnum):
    PASSED = "Passed"
    FAILED = "Failed"
    UNKNOWN = "Unknown"


class Gate(KfmModel):
    """The outcome of one gate."""

    name: GateName = Field(description=(
        "name of the gate: integrity (artifacts re-hashed), catalog (STAC/DCAT/PROV valid), exception "
        "(signature, signer, expiry, scope), policy (OPA decision)."))
    result: GateResult = Field(description=(
        "result: Passed, Failed, or Unknown (could not be evaluated; treated as a failure and retried)."))
    message: str = Field(default="", max_length=4096, description="message explains the result for a person.")


class Reason(KfmModel):
    """One reason behind the decision."""

    gate: GateName = Field(description="gate that gave this reason.")
    code: str = Field(max_length=63, description="code of the rule or finding, e.g. label.missing.")
    message: str = Field(max_length=4096, description="message for a person.")


class Decision(KfmModel):
    """The decision and what it was based on."""

    allowed: bool = Field(description="allowed is true only when every gate passed.")
    decision_id: str | None = Field(default=None, max_length=128, description=(
        "decisionId is OPA's decision id (find it in OPA's decision log)."))
    policy_revision: str | None = Field(default=None, max_length=256, description=(
        "policyRevision is the revision/digest of the policy that decided."))
    input_digest: Digest | None = Field(default=None, description=(
        "inputDigest is the sha256 of the canonical JSON input given to the policy (for `kfm policy replay`)."))
    reasons: list[Reason] = Field(default_factory=list, max_length=64, description=(
        "reasons: every failed gate's findings and every policy deny."))


class PromotionLedgerRef(LedgerRef):
    """Where the decision was recorded, and the checkpoint that covers it."""

    checkpoint_size: int | None = Field(default=None, ge=1, description=(
        "checkpointSize is the size of the signed checkpoint that includes the entry."))


class PromotionStatus(KfmModel):
    """The answer to the request; written only by the operator."""

    observed_generation: ObservedGeneration | None = None
    phase: PromotionPhase | None = Field(default=None, description=(
        "phase for people: Pending, Evaluating, Blocked (a gate could not be evaluated; retried), Promoted, "
        "Denied (terminal; see decision.reasons), Failed, Evaluated (dry run done)."))
    from_zone: Zone | None = Field(default=None, description="fromZone the version was in when evaluated.")
    to_zone: Zone | None = Field(default=None, description="toZone the version is moved to.")
    gates: list[Gate] = Field(default_factory=list, max_length=4, json_schema_extra=list_map("name"),
                              description="gates in evaluation order, every one reported.")
    decision: Decision | None = Field(default=None, description="decision and its reasons.")
    ledger: PromotionLedgerRef | None = Field(default=None, description=(
        "ledger entry (promotion.decision or promotion.whatif) of the decision."))
    conditions: list[Condition] = Field(default_factory=list, max_length=16, json_schema_extra=list_map("type"),
                                        description=(
        "conditions: Ready (summary), Reconciling, Stalled, GatesPassed, PolicyAllowed."))


class Promotion(KfmModel):
    """A Promotion object as stored."""

    spec: PromotionSpec = Field(description="spec of the request; immutable after create.",
                                json_schema_extra=SPEC_RULES)
    status: PromotionStatus | None = Field(default=None, description="status written by the operator.")
