"""The operator may die at any line: killed between every two durable effects and started again, a
DatasetVersion still ends Ready with exactly one Job, one receipt and one ledger entry."""

from __future__ import annotations

from pathlib import Path

import pytest
import vega_datasets

from tests.integration.operator_support import Harness, crash_then_settle, datasetversion

pytestmark = [pytest.mark.usefixtures("kfm_crds", "local_node"), pytest.mark.timeout(240)]
AIRPORTS = (Path(vega_datasets.__file__).parent / "_data" / "airports.csv").read_bytes()

CRASH_POINTS = ["dsv.inputs-hashed", "dsv.run-spec-written", "dsv.before-job-create", "dsv.job-created",
                "dsv.ledger-appended", "dsv.zone-manifest-written"]




@pytest.mark.parametrize("crash_at", CRASH_POINTS)
def test_killed_at_each_step_the_version_still_ends_ready_exactly_once(harness: Harness, tmp_path: Path,
                                                                       crash_at: str) -> None:
    raw = harness.upload_raw("ks-airports", AIRPORTS)
    harness.create("datasetversions", datasetversion("ks-restart", [{"name": "airports", **raw}]))
    body = crash_then_settle(harness, tmp_path / "operator.log", crash_at=crash_at, plural="datasetversions",
                             name="ks-restart")
    assert body["status"]["phase"] == "Ready", body["status"]
    assert len(harness.jobs()) == 1
    assert len(list(harness.store.keys("receipts/"))) == 1
    assert len(list(harness.store.keys("runs/"))) == 2  # spec.json and result.json of the one run
    ledger = harness.ledger()
    assert ledger.tree_size() == 1
    assert ledger.entry(body["status"]["ledger"]["index"]).payload["outcome"] == "Ready"
