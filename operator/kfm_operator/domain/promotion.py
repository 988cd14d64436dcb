"""A Promotion's decision as pure functions: which transition it asks for, whether the DatasetVersion can take
it, and what the gate results and the policy decision mean for its status.

Fail closed: the decision is allowed only when integrity, catalog and exception passed and the policy allowed.
A gate that could not be evaluated (passed is None) blocks the Promotion (retried), it never promotes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kfm_operator.domain import conditions as c
from kfm_operator.domain.conditions import Condition
from kfm_operator.domain.datasetversion import StatusUpdate
from kfm_operator.domain.gates import GateResult

__all__ = ["GATE_ORDER", "Verdict", "decide", "precondition", "status_for"]

GATE_ORDER = ("integrity", "catalog", "exception", "policy")

# Condition types and reasons of a Promotion.
GATES_PASSED = "GatesPassed"  # True: integrity, catalog and exception passed
POLICY_ALLOWED = "PolicyAllowed"  # True: OPA allowed the transition
PROMOTED = "Promoted"
WITHDRAWN = "Withdrawn"
EVALUATED = "Evaluated"  # dry run finished
DENIED = "Denied"
BLOCKED = "Blocked"  # a gate could not be evaluated; retried
WAITING = "WaitingForDatasetVersion"  # the DatasetVersion is missing or still being materialized
NOT_PROMOTABLE = "DatasetVersionNotPromotable"  # Failed or Quarantined: a person must act
TRANSITION_TAKEN = "TransitionTaken"  # another Promotion made this transition first


@dataclass(frozen=True)
class Verdict:
    allowed: bool | None  # None: blocked
    reasons: list[dict[str, str]]  # {gate, code, message}


def precondition(datasetversion: dict[str, Any] | None, target_zone: str) -> tuple[str, str] | None:
    """None when the DatasetVersion can be evaluated for `target_zone`, else (reason, message)."""
    if datasetversion is None:
        return WAITING, "the DatasetVersion does not exist (yet)"
    status = datasetversion.get("status") or {}
    phase, zone = status.get("phase"), status.get("zone")
    if phase in ("Failed", "Quarantined"):
        return NOT_PROMOTABLE, f"the DatasetVersion is {phase}: only a Ready version can be promoted"
    if phase != "Ready":
        return WAITING, f"the DatasetVersion is {phase or 'not yet reconciled'}; waiting for Ready"
    if target_zone == "published" and zone == "published":
        return None  # already published: evaluated again and recorded, changes nothing
    if zone not in ("processed", "published"):
        return NOT_PROMOTABLE, f"the DatasetVersion is in zone {zone}, not processed or published"
    return None


def decide(gates: Sequence[GateResult], policy_allowed: bool | None,
           policy_deny: Sequence[tuple[str, str]]) -> Verdict:
    """Fail-closed combination of the gates (in GATE_ORDER) and the policy decision."""
    reasons = [{"gate": g.name, "code": f.code, "message": f.message[:4000]} for g in gates for f in g.findings]
    reasons += [{"gate": "policy", "code": code, "message": message[:4000]} for code, message in policy_deny]
    if any(g.passed is None for g in gates) or policy_allowed is None:
        return Verdict(None, reasons)
    allowed = all(g.passed for g in gates) and policy_allowed
    return Verdict(allowed, reasons)


Policy = tuple[bool | None, str, str]  # (allowed, reason e.g. PolicyUndefined, detail for a person)


def _gate_rows(gates: Sequence[GateResult], policy: Policy) -> list[dict[str, str]]:
    def result(passed: bool | None) -> str:
        return {True: "Passed", False: "Failed", None: "Unknown"}[passed]

    rows = [{"name": g.name, "result": result(g.passed),
             "message": ("; ".join(f"{f.code}: {f.message}" for f in g.findings) or "ok")[:4000]} for g in gates]
    rows.append({"name": "policy", "result": result(policy[0]), "message": (policy[2] or policy[1])[:4000]})
    return rows


def status_for(conds: Sequence[Condition], verdict: Verdict, *, gates: Sequence[GateResult],
               policy: Policy, dry_run: bool, target_zone: str, generation: int,
               now: str) -> StatusUpdate:
    """Status after evaluation: Promoted/Withdrawn, Evaluated (dry run), Denied (terminal) or Blocked (retry)."""
    gates_ok = all(g.passed for g in gates)
    gates_unknown = any(g.passed is None for g in gates)
    words = {True: "passed", False: "failed", None: "unknown"}
    conds = c.set_condition(conds, GATES_PASSED, None if gates_unknown else gates_ok,
                            "GatesPassed" if gates_ok else ("GatesUnknown" if gates_unknown else "GatesFailed"),
                            "; ".join(f"{g.name}: {words[g.passed]}" for g in gates), generation=generation, now=now)
    conds = c.set_condition(conds, POLICY_ALLOWED, policy[0], policy[1], policy[2] or policy[1],
                            generation=generation, now=now)
    fields: dict[str, Any] = {"gates": _gate_rows(gates, policy)}
    summary = "; ".join(f"{r['gate']}/{r['code']}: {r['message']}" for r in verdict.reasons[:20])
    if verdict.allowed is None:
        unknown = [f"{g.name}: {'; '.join(f.message for f in g.findings) or 'not evaluated'}"
                   for g in gates if g.passed is None]
        if policy[0] is None:
            unknown.append(f"policy: {policy[2] or policy[1]}")
        message = f"not evaluated, retrying ({' | '.join(unknown)}). {summary}".strip()
        conds = c.set_condition(conds, c.RECONCILING, True, c.PROGRESSING_WITH_RETRY, message, generation=generation,
                                now=now)
        conds = c.set_condition(c.without(conds, c.STALLED), c.READY, False, BLOCKED, message, generation=generation,
                                now=now)
        return StatusUpdate({**fields, "phase": "Blocked"}, conds, events=[("Warning", BLOCKED, message)])
    conds = c.without(conds, c.RECONCILING)
    if not verdict.allowed:
        message = f"denied: {summary}"
        conds = c.set_condition(conds, c.STALLED, True, DENIED, message, generation=generation, now=now)
        conds = c.set_condition(conds, c.READY, False, DENIED, message, generation=generation, now=now)
        return StatusUpdate({**fields, "phase": "Denied"}, conds, terminal=True, events=[("Warning", DENIED, message)])
    if dry_run:
        message = f"dry run: would be allowed to move to {target_zone}; nothing changed"
        reason, phase = EVALUATED, "Evaluated"
    elif target_zone == "published":
        message, reason, phase = "published: every gate passed and the policy allowed it", PROMOTED, "Promoted"
    else:
        message, reason, phase = "withdrawn from the published zone", WITHDRAWN, "Promoted"
    conds = c.set_condition(c.without(conds, c.STALLED), c.READY, True, reason, message, generation=generation,
                            now=now)
    return StatusUpdate({**fields, "phase": phase}, conds, terminal=True, events=[("Normal", reason, message)])


def waiting(conds: Sequence[Condition], reason: str, message: str, *, terminal: bool, generation: int,
            now: str) -> StatusUpdate:
    """Before evaluation: waiting for the DatasetVersion (retry), or it can never be promoted (Stalled)."""
    if terminal:
        conds = c.set_condition(c.without(conds, c.RECONCILING), c.STALLED, True, reason, message,
                                generation=generation, now=now)
        return StatusUpdate({"phase": "Denied"}, c.set_condition(conds, c.READY, False, reason, message,
                                                                  generation=generation, now=now), terminal=True,
                            events=[("Warning", reason, message)])
    conds = c.set_condition(conds, c.RECONCILING, True, c.PROGRESSING_WITH_RETRY, message, generation=generation,
                            now=now)
    return StatusUpdate({"phase": "Pending"}, c.set_condition(conds, c.READY, False, reason, message,
                                                               generation=generation, now=now))
