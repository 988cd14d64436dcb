"""The operator may die at any line: killed between every two durable effects and started again, a
DatasetVersion still ends Ready with exactly one Job, one receipt and one ledger entry."""

from __future__ import annotations

from pathlib import Path

import pytest
import vega_datasets

from kfm_operator.devenv.ports import free_port
from tests.integration.operator_support import Harness, datasetversion, operator_process, stop_process
from tests.support import wait_for

pytestmark = [pytest.mark.usefixtures("kfm_crds", "local_node"), pytest.mark.timeout(240)]
AIRPORTS = (Path(vega_datasets.__file__).parent / "_data" / "airports.csv").read_bytes()

CRASH_POINTS = ["dsv.inputs-hashed", "dsv.run-spec-written", "dsv.before-job-create", "dsv.job-created",
                "dsv.ledger-appended", "dsv.zone-manifest-written"]




@pytest.mark.parametrize("crash_at", CRASH_POINTS)
def test_killed_at_each_step_the_version_still_ends_ready_exactly_once(harness: Harness, tmp_path: Path,
                                                                       crash_at: str) -> None:
    raw = harness.upload_raw("ks-airports", AIRPORTS)
    harness.create("datasetversions", datasetversion("ks-restart", [{"name": "airports", **raw}]))
    log = tmp_path / "operator.log"
    first = operator_process(harness, log, crash_at=crash_at, liveness_port=free_port())
    try:
        wait_for(f"the operator to crash at {crash_at}", lambda: first.poll() is not None, timeout=120)
    finally:
        stop_process(first)
    assert first.returncode == 137, log.read_text()[-3000:]
    assert f"crash point {crash_at} reached" in log.read_text()

    second = operator_process(harness, log, liveness_port=free_port())
    try:
        body = harness.wait_settled("datasetversions", "ks-restart", timeout=150)
    finally:
        stop_process(second)
    assert body["status"]["phase"] == "Ready", body["status"]
    assert len(harness.jobs()) == 1
    assert len(list(harness.store.keys("receipts/"))) == 1
    assert len(list(harness.store.keys("runs/"))) == 2  # spec.json and result.json of the one run
    ledger = harness.ledger()
    assert ledger.tree_size() == 1
    assert ledger.entry(body["status"]["ledger"]["index"]).payload["outcome"] == "Ready"
