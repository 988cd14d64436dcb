"""Promotions fail closed when OPA cannot answer, and the operator killed mid-evaluation records exactly one
decision per Promotion generation."""

from __future__ import annotations

from pathlib import Path

import pytest
import vega_datasets

from kfm_operator.devenv import OpaServer
from tests.conftest import REPO_ROOT
from tests.integration.operator_support import (
    Harness,
    crash_then_settle,
    datasetversion,
    operator_running,
    promotion,
)
from tests.support import wait_for

pytestmark = [pytest.mark.usefixtures("kfm_crds", "local_node"), pytest.mark.timeout(300)]
AIRPORTS = (Path(vega_datasets.__file__).parent / "_data" / "airports.csv").read_bytes()



def make_ready(harness: Harness, name: str) -> None:
    raw = harness.upload_raw("ks-airports", AIRPORTS)
    harness.create("datasetversions", datasetversion(name, [{"name": "airports", **raw}]))
    assert harness.wait_settled("datasetversions", name)["status"]["phase"] == "Ready"


def test_opa_down_blocks_and_opa_back_completes(harness: Harness, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    own_opa = OpaServer(tmp_path / "opa", REPO_ROOT / "policies").start()
    harness.env["KFM_OPA_URL"] = own_opa.url
    try:
        with operator_running(harness, monkeypatch):
            make_ready(harness, "ks-9.0")
            own_opa.stop()
            harness.create("promotions", promotion("publish-9", "ks-9.0"))

            def blocked() -> dict[str, str] | None:
                body = harness.get("promotions", "publish-9")
                return body.get("status") if (body.get("status") or {}).get("phase") == "Blocked" else None

            status = wait_for("the Promotion to be Blocked", blocked, timeout=60)
            ready_condition = next(c for c in status["conditions"] if c["type"] == "Ready")
            assert ready_condition["status"] == "False" and ready_condition["reason"] == "Blocked"
            assert "could not be asked" in ready_condition["message"]
            assert next(g for g in status["gates"] if g["name"] == "policy")["result"] == "Unknown"
            assert not harness.store.exists("zones/published/ks-airports/9.0.json")
            assert harness.ledger().tree_size() == 1  # only the run: nothing decided yet

            own_opa = OpaServer(tmp_path / "opa-again", REPO_ROOT / "policies", port=own_opa.port).start()
            body = harness.wait_settled("promotions", "publish-9", timeout=90)
        assert body["status"]["phase"] == "Promoted"
    finally:
        own_opa.stop()


def test_opa_without_a_decision_denies(harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "no-policies").mkdir()
    with OpaServer(tmp_path / "opa", tmp_path / "no-policies") as empty_opa:
        harness.env["KFM_OPA_URL"] = empty_opa.url
        with operator_running(harness, monkeypatch):
            make_ready(harness, "ks-10.0")
            harness.create("promotions", promotion("publish-10", "ks-10.0"))
            body = harness.wait_settled("promotions", "publish-10")
    assert body["status"]["phase"] == "Denied"
    assert {r["code"] for r in body["status"]["decision"]["reasons"]} == {"policy.undefined"}
    assert next(c for c in body["status"]["conditions"] if c["type"] == "PolicyAllowed")["reason"] == \
        "PolicyUndefined"



@pytest.mark.parametrize("crash_at", ["promotion.evaluated", "promotion.recorded", "promotion.published"])
def test_killed_mid_evaluation_one_decision_per_generation(harness: Harness, tmp_path: Path, crash_at: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with operator_running(harness, monkeypatch):
        make_ready(harness, "ks-11.0")
    harness.create("promotions", promotion("publish-11", "ks-11.0"))
    body = crash_then_settle(harness, tmp_path / "operator.log", crash_at=crash_at, plural="promotions",
                             name="publish-11")
    assert body["status"]["phase"] == "Promoted", body["status"]
    ledger = harness.ledger()
    decisions = [ledger.entry(i) for i in range(ledger.tree_size()) if ledger.entry(i).kind == "promotion.decision"]
    assert len(decisions) == 1
    assert body["status"]["ledger"]["index"] == ledger.find(decisions[0].key).index
    assert harness.get("datasetversions", "ks-11.0")["status"]["zone"] == "published"
