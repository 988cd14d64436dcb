"""metav1 conditions as Flux writes them: types and reasons as named constants, one pure way to set them, and
Ready summarised by a pure function.

Contract (style.md §3): a new generation -> Reconciling=True; done -> Ready=True, no Reconciling; needs a person ->
Ready=False and Stalled=True with the same reason, no retry; transient -> Ready=False, Reconciling with reason
ProgressingWithRetry. lastTransitionTime moves only when a condition's status flips.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

__all__ = [
    "Condition",
    "find",
    "set_condition",
    "without",
]

# -- types --------------------------------------------------------------------------------------------------------
READY = "Ready"  # True: the object reached its goal. Always present once the operator has seen the object.
RECONCILING = "Reconciling"  # True while work is in flight; absent otherwise (abnormal-true).
STALLED = "Stalled"  # True when it cannot continue without a change by a person; absent otherwise.
INPUTS_VERIFIED = "InputsVerified"  # True: every input's bytes hash to the declared digest.
MATERIALIZED = "Materialized"  # True: the run's Job completed and its receipt and outputs verified.
CATALOG_VALID = "CatalogValid"  # True: the catalog gate passed; False: findings (version quarantined).

# -- reasons ------------------------------------------------------------------------------------------------------
PROGRESSING = "Progressing"  # work is in flight
PROGRESSING_WITH_RETRY = "ProgressingWithRetry"  # a temporary failure; retried with backoff
SUCCEEDED = "Succeeded"
INPUTS_MATCH = "InputsMatch"
INPUT_DIGEST_MISMATCH = "InputDigestMismatch"  # an input's bytes differ from spec.inputs[].digest
INPUT_MISSING = "InputMissing"  # an input object does not exist
UNKNOWN_TRANSFORM = "UnknownTransform"  # spec.pipeline.transform is not registered
VERSION_TAKEN = "VersionTaken"  # another DatasetVersion already materialized this dataset version
JOB_RUNNING = "JobRunning"
JOB_FAILED = "JobFailed"  # the Job ran out of retries (BackoffLimitExceeded)
JOB_DEADLINE_EXCEEDED = "DeadlineExceeded"  # the Job ran longer than timeoutSeconds
RECEIPT_INVALID = "ReceiptInvalid"  # the receipt or an output does not match what the runner claimed
CATALOG_PASSED = "CatalogPassed"
CATALOG_FINDINGS = "CatalogFindings"  # the catalog gate found problems; see the message for codes
QUARANTINED = "Quarantined"

MESSAGE_LIMIT = 20000  # well under metav1's 32768: room for the rest of the status


@dataclass(frozen=True)
class Condition:
    type: str
    status: str  # "True" | "False" | "Unknown"
    reason: str
    message: str
    last_transition_time: str  # RFC 3339
    observed_generation: int

    def as_dict(self) -> dict[str, object]:
        return {"type": self.type, "status": self.status, "reason": self.reason, "message": self.message,
                "lastTransitionTime": self.last_transition_time, "observedGeneration": self.observed_generation}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Condition:
        return cls(str(data["type"]), str(data["status"]), str(data.get("reason", "")),
                   str(data.get("message", "")), str(data.get("lastTransitionTime", "")),
                   int(str(data.get("observedGeneration", 0) or 0)))


def _bounded(message: str) -> str:
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 20] + " ... (truncated)"


def find(conditions: Iterable[Condition], kind: str) -> Condition | None:
    return next((c for c in conditions if c.type == kind), None)


def set_condition(conditions: Sequence[Condition], kind: str, status: bool | None, reason: str, message: str, *,
                  generation: int, now: str) -> list[Condition]:
    """`conditions` with `kind` set; its lastTransitionTime changes only if the status changed."""
    text = {True: "True", False: "False", None: "Unknown"}[status]
    old = find(conditions, kind)
    when = old.last_transition_time if old is not None and old.status == text else now
    new = Condition(kind, text, reason, _bounded(message), when, generation)
    if old is not None and replace(old, observed_generation=generation) == new:
        new = replace(new, last_transition_time=old.last_transition_time)
    return [new if c.type == kind else c for c in conditions] if old else [*conditions, new]


def without(conditions: Sequence[Condition], kind: str) -> list[Condition]:
    return [c for c in conditions if c.type != kind]
