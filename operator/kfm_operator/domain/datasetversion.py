"""The DatasetVersion's progress as pure functions: (conditions, observation, now) -> new status fields.

The handler observes (hashes inputs, reads the Job and the receipt, runs the catalog gate, appends to the ledger)
and asks these functions what the status says; nothing here does I/O. The next step is derived from the
conditions of the current generation, never from `phase` (a printer column only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kfm_operator.domain import conditions as c
from kfm_operator.domain.conditions import Condition
from kfm_operator.domain.gates import GateResult

__all__ = ["InputCheck", "JobState", "StatusUpdate", "Step", "next_step"]


class Step(Enum):
    VERIFY_INPUTS = "verify-inputs"
    RUN = "run"  # launch the Job if absent, then follow it
    DONE = "done"  # terminal for this generation


@dataclass(frozen=True)
class InputCheck:
    name: str
    expected: str
    actual: str | None  # None: the object is missing


@dataclass(frozen=True)
class JobState:
    name: str
    finished: bool
    succeeded: bool
    reason: str = ""  # the Job's Failed condition reason, e.g. BackoffLimitExceeded, DeadlineExceeded
    message: str = ""


@dataclass(frozen=True)
class StatusUpdate:
    """Status fields to write (merged into status by the handler), plus whether the outcome is terminal."""

    fields: dict[str, Any]
    conditions: list[Condition]
    terminal: bool = False
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, reason, message)

    def as_status(self, generation: int) -> dict[str, Any]:
        return {**self.fields, "observedGeneration": generation,
                "conditions": [cond.as_dict() for cond in self.conditions]}


def _current(conditions: Sequence[Condition], kind: str, generation: int) -> Condition | None:
    found = c.find(conditions, kind)
    return found if found is not None and found.observed_generation == generation else None


def next_step(conditions: Sequence[Condition], generation: int) -> Step:
    """What to do for `generation`, from the conditions written for it."""
    stalled = _current(conditions, c.STALLED, generation)
    ready = _current(conditions, c.READY, generation)
    if (stalled is not None and stalled.status == "True") or (ready is not None and ready.status == "True"):
        return Step.DONE
    verified = _current(conditions, c.INPUTS_VERIFIED, generation)
    if verified is None or verified.status != "True":
        return Step.VERIFY_INPUTS
    return Step.RUN


def _progress(conds: Sequence[Condition], message: str, *, generation: int, now: str) -> list[Condition]:
    conds = c.set_condition(conds, c.RECONCILING, True, c.PROGRESSING, message, generation=generation, now=now)
    conds = c.without(conds, c.STALLED)
    return c.set_condition(conds, c.READY, False, c.PROGRESSING, message, generation=generation, now=now)


def _stall(conds: Sequence[Condition], reason: str, message: str, *, generation: int, now: str) -> list[Condition]:
    conds = c.without(conds, c.RECONCILING)
    conds = c.set_condition(conds, c.STALLED, True, reason, message, generation=generation, now=now)
    return c.set_condition(conds, c.READY, False, reason, message, generation=generation, now=now)


def started(conds: Sequence[Condition], *, generation: int, now: str) -> StatusUpdate:
    """A new generation: verifying inputs."""
    return StatusUpdate({"phase": "Verifying", "zone": "raw"},
                        _progress(conds, "verifying input digests", generation=generation, now=now))


def unknown_transform(conds: Sequence[Condition], transform: str, known: Sequence[str], *, generation: int,
                      now: str) -> StatusUpdate:
    message = (f"transform {transform!r} is not registered (known: {', '.join(sorted(known)) or 'none'}); create "
               "a new DatasetVersion with a registered transform")
    return StatusUpdate({"phase": "Failed"}, _stall(conds, c.UNKNOWN_TRANSFORM, message, generation=generation,
                                                    now=now), terminal=True,
                        events=[("Warning", c.UNKNOWN_TRANSFORM, message)])


def version_taken(conds: Sequence[Condition], dataset: str, version: str, holder: str, *, generation: int,
                  now: str) -> StatusUpdate:
    """Dataset versions are immutable: a second object for the same one is refused before anything runs."""
    message = (f"{dataset} version {version} is already materialized by DatasetVersion {holder}; a version is "
               "immutable: give this one a new spec.version")
    return StatusUpdate({"phase": "Failed"}, _stall(conds, c.VERSION_TAKEN, message, generation=generation, now=now),
                        terminal=True, events=[("Warning", c.VERSION_TAKEN, message)])


def inputs_checked(conds: Sequence[Condition], checks: Sequence[InputCheck], *, generation: int,
                   now: str) -> StatusUpdate:
    """All inputs match -> InputsVerified and on to the run; otherwise Failed, naming every bad input."""
    missing = [chk for chk in checks if chk.actual is None]
    wrong = [chk for chk in checks if chk.actual is not None and chk.actual != chk.expected]
    if not missing and not wrong:
        conds = c.set_condition(conds, c.INPUTS_VERIFIED, True, c.INPUTS_MATCH,
                                f"{len(checks)} input(s) hash to their declared digests", generation=generation,
                                now=now)
        return StatusUpdate({"phase": "Materializing", "zone": "work"},
                            _progress(conds, "launching the pipeline Job", generation=generation, now=now))
    parts = [f"input {chk.name!r}: expected {chk.expected}, actual {chk.actual}" for chk in wrong]
    parts += [f"input {chk.name!r}: object not found" for chk in missing]
    reason = c.INPUT_DIGEST_MISMATCH if wrong else c.INPUT_MISSING
    message = "; ".join(parts) + ". Nothing was launched; fix the input or the digest in a new DatasetVersion"
    conds = c.set_condition(conds, c.INPUTS_VERIFIED, False, reason, message, generation=generation, now=now)
    return StatusUpdate({"phase": "Failed", "zone": "raw"},
                        _stall(conds, reason, message, generation=generation, now=now), terminal=True,
                        events=[("Warning", reason, message)])


def job_running(conds: Sequence[Condition], job: str, *, generation: int, now: str) -> StatusUpdate:
    message = f"Job {job} is running the pipeline"
    conds = c.set_condition(conds, c.MATERIALIZED, False, c.JOB_RUNNING, message, generation=generation, now=now)
    return StatusUpdate({"phase": "Materializing", "zone": "work"},
                        _progress(conds, message, generation=generation, now=now))


def job_failed(conds: Sequence[Condition], job: JobState, errors: Sequence[str], *, generation: int,
               now: str) -> StatusUpdate:
    reason = c.JOB_DEADLINE_EXCEEDED if job.reason == "DeadlineExceeded" else c.JOB_FAILED
    detail = f" Last error: {errors[-1]}" if errors else ""
    message = f"Job {job.name} failed ({job.reason or 'Failed'}): {job.message}.{detail}"
    conds = c.set_condition(conds, c.MATERIALIZED, False, reason, message, generation=generation, now=now)
    return StatusUpdate({"phase": "Failed", "zone": "work"},
                        _stall(conds, reason, message, generation=generation, now=now), terminal=True,
                        events=[("Warning", reason, message)])


def receipt_invalid(conds: Sequence[Condition], problems: Sequence[str], *, generation: int,
                    now: str) -> StatusUpdate:
    message = "the run's receipt does not hold: " + "; ".join(problems)
    conds = c.set_condition(conds, c.MATERIALIZED, False, c.RECEIPT_INVALID, message, generation=generation,
                            now=now)
    return StatusUpdate({"phase": "Failed", "zone": "work"},
                        _stall(conds, c.RECEIPT_INVALID, message, generation=generation, now=now), terminal=True,
                        events=[("Warning", c.RECEIPT_INVALID, message)])


def run_validated(conds: Sequence[Condition], gate: GateResult, *, generation: int, now: str) -> StatusUpdate:
    """Materialized; the catalog gate decides: Ready in processed, or Quarantined with the finding codes."""
    conds = c.set_condition(conds, c.MATERIALIZED, True, c.SUCCEEDED,
                            "the Job completed; its receipt and every output digest verified", generation=generation,
                            now=now)
    if gate.passed:
        conds = c.set_condition(conds, c.CATALOG_VALID, True, c.CATALOG_PASSED, "STAC, DCAT and PROV are valid and "
                                "cross-linked", generation=generation, now=now)
        conds = c.without(c.without(conds, c.RECONCILING), c.STALLED)
        conds = c.set_condition(conds, c.READY, True, c.SUCCEEDED, "materialized and validated; in zone processed",
                                generation=generation, now=now)
        return StatusUpdate({"phase": "Ready", "zone": "processed"}, conds, terminal=True,
                            events=[("Normal", c.SUCCEEDED, "materialized and validated; in zone processed")])
    findings = "; ".join(f"{f.code} at {f.path}: {f.message}" for f in gate.findings[:20]) or "gate not evaluated"
    codes = ", ".join(sorted(set(gate.codes))) or "unknown"
    message = f"catalog findings [{codes}]: {findings}. Fix the pipeline or inputs in a new DatasetVersion"
    conds = c.set_condition(conds, c.CATALOG_VALID, False, c.CATALOG_FINDINGS, message, generation=generation,
                            now=now)
    return StatusUpdate({"phase": "Quarantined", "zone": "quarantine"},
                        _stall(conds, c.QUARANTINED, message, generation=generation, now=now), terminal=True,
                        events=[("Warning", c.QUARANTINED, message)])


def retrying(conds: Sequence[Condition], message: str, *, generation: int, now: str) -> StatusUpdate:
    """A temporary failure (store or API unavailable): Ready=False, Reconciling ProgressingWithRetry."""
    conds = c.set_condition(conds, c.RECONCILING, True, c.PROGRESSING_WITH_RETRY, message, generation=generation,
                            now=now)
    return StatusUpdate({}, c.set_condition(conds, c.READY, False, c.PROGRESSING_WITH_RETRY, message,
                                            generation=generation, now=now))
