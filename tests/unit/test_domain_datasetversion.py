"""The DatasetVersion's progress as pure functions: names, conditions, next step and each outcome."""

from __future__ import annotations

import pytest

from kfm_operator.domain import conditions as c
from kfm_operator.domain import datasetversion as flow
from kfm_operator.domain import names
from kfm_operator.domain.gates import Finding, GateResult

T0, T1, T2 = "2026-11-23T10:00:00Z", "2026-11-23T10:01:00Z", "2026-11-23T10:02:00Z"


def test_run_id_is_stable_per_object_and_generation() -> None:
    assert names.run_id("uid-1", 1) == names.run_id("uid-1", 1)
    assert names.run_id("uid-1", 1) != names.run_id("uid-1", 2) != names.run_id("uid-2", 1)
    assert len(names.run_id("uid-1", 1)) == 16


@pytest.mark.parametrize("object_name", ["short", "a" * 63, "b" * 80, "name-with-dash-" + "c" * 40 + "-"])
def test_job_names_fit_63_characters_and_keep_the_whole_run_id(object_name: str) -> None:
    run = names.run_id("u", 1)
    job = names.job_name(object_name, run)
    assert len(job) <= 63
    assert job.endswith("-" + run[:8])
    assert not job[: -9].endswith(("-", "."))


def test_keys_follow_the_object_layout() -> None:
    assert names.zone_manifest_key("published", "kfm://dataset/ks-airports", "1.0") == \
        "zones/published/ks-airports/1.0.json"
    assert names.catalog_prefix("kfm://dataset/ks-airports", "1.0") == "catalog/ks-airports/1.0/"
    assert names.run_spec_key("abc") == "runs/abc/spec.json"


def test_last_transition_time_moves_only_when_the_status_flips() -> None:
    conds = c.set_condition([], c.READY, False, c.PROGRESSING, "a", generation=1, now=T0)
    conds = c.set_condition(conds, c.READY, False, c.PROGRESSING, "b", generation=1, now=T1)
    assert c.find(conds, c.READY).last_transition_time == T0  # type: ignore[union-attr]
    conds = c.set_condition(conds, c.READY, True, c.SUCCEEDED, "done", generation=1, now=T2)
    ready = c.find(conds, c.READY)
    assert ready is not None and ready.last_transition_time == T2 and ready.status == "True"
    assert len(conds) == 1


def test_messages_are_bounded() -> None:
    conds = c.set_condition([], c.READY, False, c.PROGRESSING, "x" * 50000, generation=1, now=T0)
    assert len(conds[0].message) <= c.MESSAGE_LIMIT


def test_a_new_generation_starts_by_verifying_inputs() -> None:
    assert flow.next_step([], 1) is flow.Step.VERIFY_INPUTS
    update = flow.started([], generation=1, now=T0)
    assert update.fields == {"phase": "Verifying", "zone": "raw"}
    kinds = {cond.type: cond.status for cond in update.conditions}
    assert kinds == {"Reconciling": "True", "Ready": "False"}


def test_matching_inputs_move_on_to_the_run() -> None:
    update = flow.inputs_checked([], [flow.InputCheck("a", "sha256:1", "sha256:1")], generation=1, now=T0)
    assert not update.terminal and update.fields["phase"] == "Materializing"
    assert flow.next_step(update.conditions, 1) is flow.Step.RUN


def test_a_wrong_digest_fails_naming_the_input_expected_and_actual() -> None:
    checks = [flow.InputCheck("a", "sha256:1", "sha256:1"), flow.InputCheck("b", "sha256:2", "sha256:9"),
              flow.InputCheck("c", "sha256:3", None)]
    update = flow.inputs_checked([], checks, generation=3, now=T0)
    assert update.terminal and update.fields["phase"] == "Failed"
    verified = c.find(update.conditions, c.INPUTS_VERIFIED)
    assert verified is not None and verified.status == "False" and verified.reason == c.INPUT_DIGEST_MISMATCH
    assert "input 'b': expected sha256:2, actual sha256:9" in verified.message
    assert "input 'c': object not found" in verified.message
    stalled, ready = c.find(update.conditions, c.STALLED), c.find(update.conditions, c.READY)
    assert stalled is not None and ready is not None and stalled.reason == ready.reason
    assert c.find(update.conditions, c.RECONCILING) is None
    assert flow.next_step(update.conditions, 3) is flow.Step.DONE
    assert flow.next_step(update.conditions, 4) is flow.Step.VERIFY_INPUTS  # a new generation starts over


def test_a_deadline_is_reported_as_such() -> None:
    job = flow.JobState("j", True, False, "DeadlineExceeded", "Job was active longer than specified deadline")
    update = flow.job_failed([], job, ["killed"], generation=1, now=T0)
    assert update.terminal and c.find(update.conditions, c.READY).reason == c.JOB_DEADLINE_EXCEEDED  # type: ignore
    failed = flow.job_failed([], flow.JobState("j", True, False, "BackoffLimitExceeded", "x"), ["boom"],
                             generation=1, now=T0)
    materialized = c.find(failed.conditions, c.MATERIALIZED)
    assert materialized is not None and materialized.reason == c.JOB_FAILED and "boom" in materialized.message


def test_a_passing_catalog_gate_makes_the_version_ready_in_processed() -> None:
    update = flow.run_validated([], GateResult("catalog", True), generation=1, now=T0)
    assert update.fields == {"phase": "Ready", "zone": "processed"}
    assert {cond.type: cond.status for cond in update.conditions} == {
        "Materialized": "True", "CatalogValid": "True", "Ready": "True"}


def test_catalog_findings_quarantine_the_version_with_their_codes() -> None:
    gate = GateResult("catalog", False, (Finding("cross.label_mismatch", "dcat.jsonld", "labels differ"),))
    update = flow.run_validated([], gate, generation=1, now=T0)
    assert update.fields == {"phase": "Quarantined", "zone": "quarantine"}
    valid = c.find(update.conditions, c.CATALOG_VALID)
    assert valid is not None and valid.status == "False" and "cross.label_mismatch" in valid.message
    assert c.find(update.conditions, c.STALLED) is not None


def test_a_gate_that_could_not_run_quarantines_too() -> None:
    update = flow.run_validated([], GateResult("catalog", None), generation=1, now=T0)
    assert update.fields["phase"] == "Quarantined"


def test_status_carries_observed_generation() -> None:
    status = flow.started([], generation=7, now=T0).as_status(7)
    assert status["observedGeneration"] == 7
    assert all(cond["observedGeneration"] == 7 for cond in status["conditions"])


def test_a_taken_version_is_refused_with_the_holder_named() -> None:
    update = flow.version_taken([], "kfm://dataset/ks-airports", "1.0", "geo/ks-1", generation=1, now=T0)
    assert update.terminal and update.fields["phase"] == "Failed"
    ready = c.find(update.conditions, c.READY)
    assert ready is not None and ready.reason == c.VERSION_TAKEN and "geo/ks-1" in ready.message
    assert flow.next_step(update.conditions, 1) is flow.Step.DONE
