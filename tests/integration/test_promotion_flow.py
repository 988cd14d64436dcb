"""Promotions under the operator with the real OPA, control plane, S3 and ledger: allowed, each deny reason seen
in status, dry run, withdrawal, and one winner when two race."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import vega_datasets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kfm_operator.gates.exception import sign_exception
from tests.integration.operator_support import (
    Harness,
    datasetversion,
    operator_running,
    promotion,
)

pytestmark = [pytest.mark.usefixtures("kfm_crds", "local_node"), pytest.mark.timeout(300)]
AIRPORTS = (Path(vega_datasets.__file__).parent / "_data" / "airports.csv").read_bytes()
PUBLISHED = "zones/published/ks-airports/{}.json"



def ready(harness: Harness, name: str, **spec: Any) -> dict[str, Any]:
    raw = harness.upload_raw("ks-airports", AIRPORTS)
    harness.create("datasetversions", datasetversion(name, [{"name": "airports", **raw}], **spec))
    body = harness.wait_settled("datasetversions", name)
    assert body["status"]["phase"] == "Ready", body["status"]
    return body


def reasons(body: dict[str, Any]) -> set[str]:
    return {r["code"] for r in body["status"]["decision"]["reasons"]}


def test_an_allowed_promotion_publishes_and_is_recorded(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    with operator_running(harness, monkeypatch):
        dsv = ready(harness, "ks-1.0")
        harness.create("promotions", promotion("publish-1", "ks-1.0"))
        body = harness.wait_settled("promotions", "publish-1")
        status = body["status"]
        assert status["phase"] == "Promoted", status
        assert [(g["name"], g["result"]) for g in status["gates"]] == [
            ("integrity", "Passed"), ("catalog", "Passed"), ("exception", "Passed"), ("policy", "Passed")]
        assert status["fromZone"] == "processed" and status["toZone"] == "published"
        assert status["decision"]["allowed"] is True and status["decision"]["decisionId"]
        assert harness.get("datasetversions", "ks-1.0")["status"]["zone"] == "published"
    manifest = json.loads(harness.store.get(PUBLISHED.format("1.0"))[0])
    assert manifest["artifacts"] == dsv["status"]["artifacts"]  # published by manifest, no bytes copied
    assert manifest["promotion"]["ledger"]["index"] == status["ledger"]["index"]
    ledger = harness.ledger()
    decisions = [ledger.entry(i) for i in range(ledger.tree_size()) if ledger.entry(i).kind == "promotion.decision"]
    assert len(decisions) == 1 and decisions[0].payload["inputDigest"] == status["decision"]["inputDigest"]
    proof = ledger.prove_inclusion(status["ledger"]["index"])
    assert proof is not None


def test_restricted_data_without_an_exception_is_denied(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    with operator_running(harness, monkeypatch):
        ready(harness, "ks-2.0", governance={"policyLabel": "restricted", "sensitivity": "moderate",
                                              "sovereignty": "none"})
        harness.create("promotions", promotion("publish-2", "ks-2.0"))
        body = harness.wait_settled("promotions", "publish-2")
    assert body["status"]["phase"] == "Denied"
    assert reasons(body) == {"label.restricted"}
    assert not harness.store.exists(PUBLISHED.format("2.0"))
    ready_condition = next(c for c in body["status"]["conditions"] if c["type"] == "Ready")
    assert ready_condition["reason"] == "Denied" and "label.restricted" in ready_condition["message"]


def _exception(harness: Harness, dsv: dict[str, Any], *, expires: str, key: Any = None) -> dict[str, Any]:
    fields = {"namespace": harness.namespace, "dataset_version_uid": dsv["metadata"]["uid"],
              "target_zone": "published", "waives": ["label.restricted"], "expires_at": expires,
              "exception_id": "EXC-7"}
    return {"id": "EXC-7", "waives": ["label.restricted"], "expiresAt": expires, "signer": "board",
            "signature": sign_exception(key or harness.board_key, **fields)}


@pytest.mark.parametrize(("expires", "forged", "outcome", "code"), [
    ("2099-01-01T00:00:00Z", False, "Promoted", None),
    ("2020-01-01T00:00:00Z", False, "Denied", "exception.expired"),
    ("2099-01-01T00:00:00Z", True, "Denied", "exception.bad_signature"),
])
def test_a_restricted_version_with_an_exception(harness: Harness, monkeypatch: pytest.MonkeyPatch, expires: str,
                                                forged: bool, outcome: str, code: str | None) -> None:
    with operator_running(harness, monkeypatch):
        dsv = ready(harness, "ks-3.0", governance={"policyLabel": "restricted", "sensitivity": "moderate",
                                                    "sovereignty": "none"})
        exception = _exception(harness, dsv, expires=expires,
                               key=Ed25519PrivateKey.generate() if forged else None)
        harness.create("promotions", promotion("publish-3", "ks-3.0", exception=exception))
        body = harness.wait_settled("promotions", "publish-3")
    assert body["status"]["phase"] == outcome, body["status"]
    if code:
        assert code in reasons(body) and "exception.invalid" in reasons(body)
    else:
        assert harness.store.exists(PUBLISHED.format("3.0"))


def test_an_artifact_changed_after_ready_fails_integrity(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    with operator_running(harness, monkeypatch):
        dsv = ready(harness, "ks-4.0")
        artifact_key = dsv["status"]["artifacts"][0]["uri"].split("/", 3)[3]
        harness.store.put(artifact_key, b'{"type":"FeatureCollection","features":[]}')  # tampered behind our back
        harness.create("promotions", promotion("publish-4", "ks-4.0"))
        body = harness.wait_settled("promotions", "publish-4")
    assert body["status"]["phase"] == "Denied"
    assert {"integrity.digest_mismatch", "gate.integrity_failed"} <= reasons(body)
    assert body["status"]["gates"][0] == {"name": "integrity", "result": "Failed",
                                          "message": body["status"]["gates"][0]["message"]}


def test_a_catalog_document_changed_after_ready_fails_the_catalog_gate(harness: Harness,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with operator_running(harness, monkeypatch):
        dsv = ready(harness, "ks-5.0")
        dcat_key = dsv["status"]["catalog"]["dcat"]["uri"].split("/", 3)[3]
        document = json.loads(harness.store.get(dcat_key)[0])
        document["kfm:policy_label"] = "internal"
        harness.store.put(dcat_key, json.dumps(document).encode())
        harness.create("promotions", promotion("publish-5", "ks-5.0"))
        body = harness.wait_settled("promotions", "publish-5")
    assert body["status"]["phase"] == "Denied"
    assert {"catalog.document_changed", "cross.label_mismatch", "gate.catalog_failed"} <= reasons(body)


def test_a_transition_the_policy_does_not_know_is_denied(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    with operator_running(harness, monkeypatch):
        ready(harness, "ks-6.0")
        harness.create("promotions", promotion("to-processed", "ks-6.0", target="processed"))
        body = harness.wait_settled("promotions", "to-processed")
    assert body["status"]["phase"] == "Denied"
    assert reasons(body) == {"transition.not_allowed"}


def test_dry_run_changes_nothing_and_withdrawal_is_recorded(harness: Harness,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with operator_running(harness, monkeypatch):
        ready(harness, "ks-7.0")
        harness.create("promotions", promotion("what-if", "ks-7.0", dry_run=True))
        whatif = harness.wait_settled("promotions", "what-if")
        assert whatif["status"]["phase"] == "Evaluated"
        assert harness.get("datasetversions", "ks-7.0")["status"]["zone"] == "processed"
        assert not harness.store.exists(PUBLISHED.format("7.0"))

        harness.create("promotions", promotion("publish-7", "ks-7.0"))
        assert harness.wait_settled("promotions", "publish-7")["status"]["phase"] == "Promoted"
        harness.create("promotions", promotion("withdraw-7", "ks-7.0", target="processed"))
        withdrawn = harness.wait_settled("promotions", "withdraw-7")
        assert withdrawn["status"]["phase"] == "Promoted" and withdrawn["status"]["fromZone"] == "published"
        assert harness.get("datasetversions", "ks-7.0")["status"]["zone"] == "processed"
    assert not harness.store.exists(PUBLISHED.format("7.0"))
    versions = harness.s3.list_object_versions(Bucket=harness.store.bucket, Prefix=PUBLISHED.format("7.0"))
    assert versions.get("Versions") and versions.get("DeleteMarkers")  # history kept
    ledger = harness.ledger()
    kinds = sorted(ledger.entry(i).kind for i in range(ledger.tree_size()))
    assert kinds == ["promotion.decision", "promotion.decision", "promotion.whatif", "run.receipt"]


def test_two_promotions_racing_for_one_version_have_one_winner(harness: Harness,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with operator_running(harness, monkeypatch):
        ready(harness, "ks-8.0")
        harness.create("promotions", promotion("first", "ks-8.0"))
        harness.create("promotions", promotion("second", "ks-8.0"))
        phases = sorted(harness.wait_settled("promotions", n)["status"]["phase"] for n in ("first", "second"))
    assert phases == ["Failed", "Promoted"]
    holder = json.loads(harness.store.get(PUBLISHED.format("8.0"))[0])["promotion"]["name"]
    loser = {"first", "second"} - {holder}
    loser_status = harness.get("promotions", loser.pop())["status"]
    assert any(c["reason"] == "TransitionTaken" for c in loser_status["conditions"])




def test_a_decision_can_be_explained_proved_and_replayed(harness: Harness, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with operator_running(harness, monkeypatch):
        ready(harness, "ks-12.0")
        harness.create("promotions", promotion("publish-12", "ks-12.0"))
        body = harness.wait_settled("promotions", "publish-12")
    index = str(body["status"]["ledger"]["index"])
    env = {**os.environ, **harness.env}
    public_key = harness.env["KFM_LEDGER_SIGNING_KEY_FILE"] + ".pub"
    location = ["--s3-bucket", harness.store.bucket, "--public-key", public_key]

    def kfm(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kfm_operator.cli", *args], env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    explained = kfm("explain", "promotion", f"{harness.namespace}/publish-12")
    assert explained.returncode == 0, explained.stderr
    assert "integrity   Passed" in explained.stdout and f"ledger entry #{index}" in explained.stdout
    proof = kfm("ledger", "prove", index, *location)
    assert proof.returncode == 0, proof.stderr
    (tmp_path / "proof.json").write_text(proof.stdout)
    checked = kfm("ledger", "check-proof", str(tmp_path / "proof.json"), "--public-key", public_key)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    replayed = kfm("policy", "replay", index, *location)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "same decision" in replayed.stdout
