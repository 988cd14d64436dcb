"""The Promotion recipe: preconditions, gates in order (all reported), OPA, ledger, then the transition.

Durable order: the decision is appended to the ledger (promotion.decision, or promotion.whatif for a dry run)
before anything moves and before the status says Promoted or Denied. After a crash the recorded decision is
reused, never re-decided: the ledger key promotion/<uid>/<generation> finds it. The transition is arbitrated by
create-only writes (the published zone manifest; a withdrawal record), so two Promotions of one DatasetVersion
cannot both win it. Called by promotions.py under the Promotion's lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from typing import Any

import rfc8785
from kubernetes import client
from kubernetes.client.rest import ApiException

from kfm_operator.api.fields import GROUP, VERSION
from kfm_operator.domain import conditions as c
from kfm_operator.domain import names
from kfm_operator.domain import promotion as rules
from kfm_operator.domain.conditions import Condition
from kfm_operator.domain.datasetversion import StatusUpdate
from kfm_operator.domain.gates import Finding, GateResult
from kfm_operator.gates.exception import verify_exception
from kfm_operator.gates.policy import evaluate
from kfm_operator.handlers import promotion_gates, statuses, transitions
from kfm_operator.handlers.context import OperatorContext
from kfm_operator.ledger import Entry
from kfm_operator.observability.faults import crash_point
from kfm_operator.stores import AlreadyExists

__all__ = ["Retry", "reconcile"]

class Retry(Exception):
    """Not decided yet (waiting for the DatasetVersion, or a gate could not be evaluated): try again later."""


_now = statuses.now
_conditions = statuses.conditions_of


def _apply(ctx: OperatorContext, body: dict[str, Any], update: StatusUpdate,
           extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return statuses.apply(ctx, "promotions", body, update, extra)


def _done(conds: list[Condition], generation: int) -> bool:
    for kind in (c.READY, c.STALLED):
        found = c.find(conds, kind)
        if found and found.observed_generation == generation and found.status == "True":
            return True
    return False


def _datasetversion(ctx: OperatorContext, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = client.CustomObjectsApi(ctx.api).get_namespaced_custom_object(
            GROUP, VERSION, namespace, "datasetversions", name)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return found


def _gate_from(record: dict[str, Any]) -> GateResult:
    return GateResult(record["name"], record["passed"], tuple(Finding(**f) for f in record["findings"]))


def _gate_record(gate: GateResult) -> dict[str, Any]:
    return {"name": gate.name, "passed": gate.passed,
            "findings": [{"code": f.code, "path": f.path, "message": f.message} for f in gate.findings]}


def _policy(decision: dict[str, Any]) -> rules.Policy:
    recorded = decision["policy"]
    return recorded["allowed"], recorded["reason"], recorded.get("detail") or ""


def _evaluate(ctx: OperatorContext, body: dict[str, Any], dsv: dict[str, Any]) -> dict[str, Any]:
    """Run every gate and OPA; returns the decision record (what the ledger entry carries)."""
    spec, meta = body["spec"], body["metadata"]
    from_zone = (dsv.get("status") or {}).get("zone")
    gates = [
        promotion_gates.integrity_gate(ctx, dsv),
        promotion_gates.catalog_gate(ctx, dsv),
        verify_exception(spec.get("exception"), namespace=meta["namespace"],
                         dataset_version_uid=dsv["metadata"]["uid"], target_zone=spec["targetZone"],
                         trusted_keys=ctx.trusted_keys, now=datetime.datetime.now(datetime.UTC)),
    ]
    document = promotion_gates.policy_input(promotion=body, datasetversion=dsv, from_zone=from_zone, gates=gates,
                                            exception_verified=bool(spec.get("exception")) and gates[2].passed is True)
    policy = asyncio.run(evaluate(document, url=ctx.settings.opa_url, timeout=ctx.settings.opa_timeout_seconds))
    if policy.policy_revision and policy.policy_sources:
        with contextlib.suppress(AlreadyExists):  # content-addressed: the same revision holds the same sources
            ctx.store().put_if_absent(names.policy_archive_key(policy.policy_revision),
                                      bytes(rfc8785.dumps([list(s) for s in policy.policy_sources])),
                                      content_type="application/json")
    verdict = rules.decide(gates, policy.allowed, policy.deny)
    return {
        "allowed": verdict.allowed, "reasons": verdict.reasons, "gates": [_gate_record(g) for g in gates],
        "policy": {"allowed": policy.allowed, "reason": policy.reason, "detail": policy.detail,
                   "deny": [list(d) for d in policy.deny], "obligations": list(policy.obligations)},
        "decisionId": policy.decision_id, "policyRevision": policy.policy_revision,
        "inputDigest": policy.input_digest, "input": document,
        "transition": {"from": from_zone, "to": spec["targetZone"]},
        "exception": (spec.get("exception") or {}).get("id"), "dryRun": bool(spec.get("dryRun", False)),
        "datasetVersion": {"name": dsv["metadata"]["name"], "uid": dsv["metadata"]["uid"]},
    }


def _record(ctx: OperatorContext, body: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
    meta = body["metadata"]
    entry = Entry.model_validate(dict(
        kind="promotion.whatif" if decision["dryRun"] else "promotion.decision",
        key=names.ledger_key("promotion", meta["uid"], int(meta["generation"])),
        time=_now(),
        subject={"apiVersion": f"{GROUP}/{VERSION}", "kind": "Promotion", "namespace": meta["namespace"],
                 "name": meta["name"], "uid": meta["uid"]},
        payload=decision,
        correlation={"dataset_version_id": decision["datasetVersion"]["uid"]},
    ))
    appended = ctx.ledger.append(entry)
    return {"index": appended.index, "leafHash": appended.leaf_hash, "checkpointSize": appended.tree_size}


def reconcile(ctx: OperatorContext, body: dict[str, Any]) -> None:
    """Decide and carry out the Promotion in `body`; raises Retry while it cannot be decided yet."""
    meta = body["metadata"]
    with ctx.lock(meta["uid"]):
        body = client.CustomObjectsApi(ctx.api).get_namespaced_custom_object(
            GROUP, VERSION, meta["namespace"], "promotions", meta["name"])
        generation, spec = int(body["metadata"]["generation"]), body["spec"]
        conds = _conditions(body)
        if _done(conds, generation):
            return
        dsv = _datasetversion(ctx, meta["namespace"], spec["datasetVersion"])
        key = names.ledger_key("promotion", meta["uid"], generation)
        recorded = ctx.ledger.find(key)
        if recorded is not None:  # decided before a crash: carry out that decision, never a new one
            decision = dict(ctx.ledger.entry(recorded.index).payload)
            ledger = {"index": recorded.index, "leafHash": recorded.leaf_hash, "checkpointSize": recorded.tree_size}
        else:
            blocked = rules.precondition(dsv, spec["targetZone"])
            if blocked is not None:
                reason, message = blocked
                terminal = reason == rules.NOT_PROMOTABLE
                _apply(ctx, body, rules.waiting(conds, reason, message, terminal=terminal, generation=generation,
                                                now=_now()))
                if not terminal:
                    raise Retry(message)
                return
            assert dsv is not None
            body = _apply(ctx, body, StatusUpdate({"phase": "Evaluating"}, c.set_condition(
                conds, c.RECONCILING, True, c.PROGRESSING, "evaluating gates", generation=generation, now=_now())))
            decision = _evaluate(ctx, body, dsv)
            if decision["allowed"] is None:
                gates = [_gate_from(g) for g in decision["gates"]]
                update = rules.status_for(_conditions(body), rules.Verdict(None, decision["reasons"]), gates=gates,
                                          policy=_policy(decision),
                                          dry_run=decision["dryRun"], target_zone=spec["targetZone"],
                                          generation=generation, now=_now())
                _apply(ctx, body, update, {"fromZone": decision["transition"]["from"],
                                           "toZone": spec["targetZone"]})
                raise Retry("a gate could not be evaluated")
            crash_point("promotion.evaluated")
            ledger = _record(ctx, body, decision)
            crash_point("promotion.recorded")
        _conclude(ctx, body, dsv, decision, ledger)


def _conclude(ctx: OperatorContext, body: dict[str, Any], dsv: dict[str, Any] | None, decision: dict[str, Any],
              ledger: dict[str, Any]) -> None:
    generation, spec = int(body["metadata"]["generation"]), body["spec"]
    gates = [_gate_from(g) for g in decision["gates"]]
    policy = _policy(decision)
    verdict = rules.Verdict(decision["allowed"], decision["reasons"])
    update = rules.status_for(_conditions(body), verdict, gates=gates, policy=policy, dry_run=decision["dryRun"],
                              target_zone=spec["targetZone"], generation=generation, now=_now())
    if decision["allowed"] and not decision["dryRun"] and dsv is not None:
        lost = transitions.carry_out(ctx, promotion=body, datasetversion=dsv, ledger=ledger)
        if lost is not None:
            conds = c.set_condition(c.without(update.conditions, c.RECONCILING), c.STALLED, True,
                                    rules.TRANSITION_TAKEN, lost, generation=generation, now=_now())
            conds = c.set_condition(conds, c.READY, False, rules.TRANSITION_TAKEN, lost, generation=generation,
                                    now=_now())
            update = StatusUpdate({**update.fields, "phase": "Failed"}, conds, terminal=True,
                                  events=[("Warning", rules.TRANSITION_TAKEN, lost)])
    _apply(ctx, body, update, {
        "fromZone": decision["transition"]["from"], "toZone": spec["targetZone"], "ledger": ledger,
        "decision": {"allowed": bool(decision["allowed"]), "decisionId": decision.get("decisionId"),
                     "policyRevision": decision.get("policyRevision"), "inputDigest": decision.get("inputDigest"),
                     "reasons": decision["reasons"][:64]},
    })
