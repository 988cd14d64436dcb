"""A Promotion decides fail-closed: every gate must pass and the policy must allow; unknown blocks."""

from __future__ import annotations

from typing import Any

import pytest

from kfm_operator.domain import conditions as c
from kfm_operator.domain import promotion as p
from kfm_operator.domain.gates import Finding, GateResult

NOW = "2026-11-23T10:00:00Z"
PASS = [GateResult("integrity", True), GateResult("catalog", True), GateResult("exception", True)]


def dsv(phase: str | None, zone: str | None) -> dict[str, Any]:
    return {"status": {"phase": phase, "zone": zone}}


@pytest.mark.parametrize(("body", "target", "expected"), [
    (None, "published", p.WAITING),
    (dsv("Materializing", "work"), "published", p.WAITING),
    (dsv("Failed", "work"), "published", p.NOT_PROMOTABLE),
    (dsv("Quarantined", "quarantine"), "published", p.NOT_PROMOTABLE),
    (dsv("Ready", "processed"), "published", None),
    (dsv("Ready", "published"), "processed", None),
    (dsv("Ready", "published"), "published", None),
])
def test_preconditions(body: dict[str, Any] | None, target: str, expected: str | None) -> None:
    result = p.precondition(body, target)
    assert (result[0] if result else None) == expected


def test_all_gates_passed_and_policy_allowed_is_allowed() -> None:
    assert p.decide(PASS, True, []).allowed is True


@pytest.mark.parametrize(("gates", "policy", "allowed"), [
    ([GateResult("integrity", False, (Finding("integrity.digest_mismatch", "a", "changed"),)), *PASS[1:]], True,
     False),
    ([*PASS[:2], GateResult("exception", False, (Finding("exception.expired", "e", "old"),))], True, False),
    (PASS, False, False),
    ([GateResult("integrity", None), *PASS[1:]], True, None),
    (PASS, None, None),
    ([GateResult("integrity", False), *PASS[1:]], None, None),  # unknown wins: retried, not denied
])
def test_any_failure_denies_and_any_unknown_blocks(gates: list[GateResult], policy: bool | None,
                                                   allowed: bool | None) -> None:
    assert p.decide(gates, policy, []).allowed is allowed


def test_every_reason_is_reported_with_its_gate() -> None:
    gates = [GateResult("integrity", False, (Finding("integrity.digest_mismatch", "points", "changed"),)),
             GateResult("catalog", False, (Finding("cross.label_mismatch", "dcat", "differs"),)), PASS[2]]
    verdict = p.decide(gates, False, [("label.restricted", "needs an exception")])
    assert [(r["gate"], r["code"]) for r in verdict.reasons] == [
        ("integrity", "integrity.digest_mismatch"), ("catalog", "cross.label_mismatch"),
        ("policy", "label.restricted")]


def test_denied_is_terminal_and_stalled() -> None:
    verdict = p.decide(PASS, False, [("label.missing", "policyLabel missing")])
    update = p.status_for([], verdict, gates=PASS, policy=(False, "PolicyDenied", ""), dry_run=False,
                          target_zone="published", generation=1, now=NOW)
    assert update.terminal and update.fields["phase"] == "Denied"
    assert c.find(update.conditions, c.STALLED) is not None
    assert [row["name"] for row in update.fields["gates"]] == list(p.GATE_ORDER)


def test_blocked_is_retried_not_terminal() -> None:
    gates = [GateResult("integrity", None), *PASS[1:]]
    update = p.status_for([], p.decide(gates, None, []), gates=gates, policy=(None, "PolicyUnavailable", "OPA down"),
                          dry_run=False, target_zone="published", generation=1, now=NOW)
    assert not update.terminal and update.fields["phase"] == "Blocked"
    assert c.find(update.conditions, c.RECONCILING).reason == c.PROGRESSING_WITH_RETRY  # type: ignore[union-attr]
    assert update.fields["gates"][0]["result"] == "Unknown"


@pytest.mark.parametrize(("dry_run", "target", "phase", "reason"), [
    (False, "published", "Promoted", p.PROMOTED),
    (True, "published", "Evaluated", p.EVALUATED),
    (False, "processed", "Promoted", p.WITHDRAWN),
])
def test_allowed_outcomes(dry_run: bool, target: str, phase: str, reason: str) -> None:
    update = p.status_for([], p.decide(PASS, True, []), gates=PASS, policy=(True, "PolicyAllowed", ""), dry_run=dry_run,
                          target_zone=target, generation=2, now=NOW)
    assert update.fields["phase"] == phase
    ready = c.find(update.conditions, c.READY)
    assert ready is not None and ready.status == "True" and ready.reason == reason
