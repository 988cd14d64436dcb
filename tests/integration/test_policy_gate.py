"""The promotion policy under `opa test` and `opa check --strict`, and the OPA client against a real OPA server,
failing closed when OPA is down, slow, undefined or malformed."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from kfm_operator.devenv import OpaServer
from kfm_operator.devenv.ports import LOOPBACK, free_port
from kfm_operator.devenv.tools import tool_path
from kfm_operator.domain import promotion as rules
from kfm_operator.domain.gates import GateResult
from kfm_operator.gates.policy import evaluate, input_digest, policy_revision
from kfm_operator.handlers import promotion_gates
from tests.conftest import REPO_ROOT

POLICIES = REPO_ROOT / "policies"
GOOD = {
    "subject": {"spec": {"license": "CC0-1.0", "governance": {"policyLabel": "public", "sensitivity": "none",
                                                              "sovereignty": "none"}},
                "status": {"receipt": {"digest": "sha256:00"}}},
    "transition": {"from": "processed", "to": "published"},
    "gates": {"integrity": {"passed": True}, "catalog": {"passed": True}},
}


def opa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tool_path("opa")), *args], capture_output=True, text=True, timeout=60, check=False)


def test_the_policies_pass_opa_check_strict() -> None:
    result = opa("check", "--strict", str(POLICIES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_policy_tests_pass_with_at_least_90_percent_coverage() -> None:
    verbose = opa("test", str(POLICIES), "-v")
    assert verbose.returncode == 0, verbose.stdout
    assert "test_a_missing_policy_label_is_denied_even_though_value_rules_cannot_fire" in verbose.stdout
    coverage = json.loads(opa("test", str(POLICIES), "--coverage").stdout)
    assert coverage["coverage"] >= 90


async def test_an_allowed_decision_records_id_revision_and_input_digest(opa_server: OpaServer) -> None:
    decision = await evaluate(GOOD, url=opa_server.url)
    assert decision.allowed is True and decision.reason == "PolicyAllowed"
    assert decision.decision_id and decision.policy_revision and decision.policy_revision.startswith("sha256:")
    assert decision.input_digest == input_digest(GOOD)
    # The revision is the digest of the sources OPA serves, kept with the decision for `kfm policy replay`.
    assert decision.policy_revision == policy_revision(decision.policy_sources)
    assert any(source == (POLICIES / "promotion.rego").read_text() for _, source in decision.policy_sources)


async def test_a_denied_decision_carries_every_reason(opa_server: OpaServer) -> None:
    document = json.loads(json.dumps(GOOD))
    del document["subject"]["spec"]["governance"]["policyLabel"]
    document["transition"]["to"] = "raw"
    decision = await evaluate(document, url=opa_server.url)
    assert decision.allowed is False and decision.reason == "PolicyDenied"
    assert {code for code, _ in decision.deny} == {"label.missing", "transition.not_allowed"}


async def test_an_undefined_decision_is_a_deny(opa_server: OpaServer) -> None:
    decision = await evaluate(GOOD, url=opa_server.url, package="kfm.nothing")
    assert decision.allowed is False and decision.reason == "PolicyUndefined"
    assert decision.deny[0][0] == "policy.undefined"


async def test_a_malformed_decision_is_a_deny(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "odd.rego").write_text('package kfm.odd\n\ndecision := {"allow": "yes", "deny": []}\n')
    with OpaServer(tmp_path / "opa", tmp_path / "p") as server:
        decision = await evaluate(GOOD, url=server.url, package="kfm.odd")
    assert decision.allowed is False and decision.reason == "PolicyUndefined"
    assert decision.deny == (("policy.malformed", "allow is missing or not a boolean"),)


async def test_opa_down_is_not_evaluated() -> None:
    decision = await evaluate(GOOD, url=f"http://{LOOPBACK}:{free_port()}", timeout=2)
    assert decision.allowed is None and decision.reason == "PolicyUnavailable"
    assert "could not be asked" in decision.detail


@pytest.mark.timeout(30)
async def test_opa_hanging_is_not_evaluated_within_the_timeout() -> None:
    # A real listener that accepts and never answers: the fault OPA cannot produce on demand.
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    try:
        decision = await evaluate(GOOD, url=f"http://{LOOPBACK}:{listener.getsockname()[1]}", timeout=1)
    finally:
        listener.close()
        for connection in accepted:
            connection.close()
    assert decision.allowed is None and decision.reason == "PolicyUnavailable"


async def test_a_version_without_a_label_gets_a_denied_status_naming_it(opa_server: OpaServer) -> None:
    # The CRD requires all three labels, so such an object can only be one stored before the schema did; the
    # operator must still deny it, with the reason in the Promotion's status.
    dsv = {"metadata": {"namespace": "geo", "name": "old", "uid": "u1", "labels": {}},
           "spec": {"license": "CC0-1.0", "governance": {"sensitivity": "none", "sovereignty": "none"}},
           "status": {"zone": "processed", "receipt": {"uri": "s3://b/r.json", "digest": "sha256:00"}}}
    promotion = {"metadata": {"namespace": "geo", "name": "p", "uid": "u2"},
                 "spec": {"targetZone": "published", "reason": "r"}}
    gates = [GateResult("integrity", True), GateResult("catalog", True), GateResult("exception", True)]
    document = promotion_gates.policy_input(promotion=promotion, datasetversion=dsv, from_zone="processed",
                                            gates=gates, exception_verified=False)
    decision = await evaluate(document, url=opa_server.url)
    verdict = rules.decide(gates, decision.allowed, decision.deny)
    update = rules.status_for([], verdict, gates=gates, policy=(decision.allowed, decision.reason, ""),
                              dry_run=False, target_zone="published", generation=1, now="2026-11-23T00:00:00Z")
    assert update.fields["phase"] == "Denied"
    assert [(r["code"], r["message"]) for r in verdict.reasons] == [
        ("label.missing", "governance label policyLabel is missing")]
    ready = next(c for c in update.conditions if c.type == "Ready")
    assert "label.missing" in ready.message
