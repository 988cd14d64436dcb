"""The Job builder and the transforms, pure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import vega_datasets

from kfm_operator.pipeline import jobs, transforms

AIRPORTS = Path(vega_datasets.__file__).parent / "_data" / "airports.csv"


def build(**overrides: object) -> dict:
    arguments: dict = dict(name="v1-abcdef12", namespace="ns", owner={"apiVersion": "kfm.dev/v1alpha1",
                           "kind": "DatasetVersion", "name": "v1", "uid": "u1"}, run_id="abcdef1234567890",
                           spec_uri="s3://b/runs/abcdef1234567890/spec.json", spec_digest="sha256:" + "0" * 64,
                           image="img:1", timeout_seconds=600, backoff_limit=1, pool="default",
                           resources={"requests": {"cpu": "100m", "memory": None}}, store_env={"KFM_S3_BUCKET": "b"},
                           credentials_secret="creds")
    arguments.update(overrides)
    return jobs.build_job(**arguments)


def test_the_job_is_owned_labelled_restricted_and_passes_the_spec_by_reference() -> None:
    job = build()
    meta, spec = job["metadata"], job["spec"]
    assert meta["ownerReferences"] == [{"apiVersion": "kfm.dev/v1alpha1", "kind": "DatasetVersion", "name": "v1",
                                        "uid": "u1", "controller": True, "blockOwnerDeletion": True}]
    assert meta["labels"]["kfm.dev/dataset-version"] == "v1" and meta["labels"]["kfm.dev/run-id"] == \
        "abcdef1234567890"
    assert spec["activeDeadlineSeconds"] == 600 and spec["backoffLimit"] == 1
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                                            "seccompProfile": {"type": "RuntimeDefault"}}
    assert container["args"] == ["--spec", "s3://b/runs/abcdef1234567890/spec.json", "--spec-digest",
                                 "sha256:" + "0" * 64]
    secrets = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert secrets == {"AWS_ACCESS_KEY_ID": {"name": "creds", "key": "AWS_ACCESS_KEY_ID"},
                       "AWS_SECRET_ACCESS_KEY": {"name": "creds", "key": "AWS_SECRET_ACCESS_KEY"}}
    assert not any("SECRET" in e["name"] and "value" in e for e in container["env"])
    assert container["resources"] == {"requests": {"cpu": "100m"}}
    assert "nodeSelector" not in pod


def test_a_pool_other_than_default_selects_nodes() -> None:
    assert build(pool="gpu")["spec"]["template"]["spec"]["nodeSelector"] == {"kfm.dev/pool": "gpu"}


def test_the_builder_does_not_change_its_arguments() -> None:
    resources = {"limits": {"cpu": "1"}}
    build(resources=resources)
    assert resources == {"limits": {"cpu": "1"}}


def test_both_transforms_are_registered() -> None:
    assert {"copy", "csv-points"} <= set(transforms.registered())
    with pytest.raises(KeyError, match="not registered"):
        transforms.load("no-such-transform")


def test_csv_points_keeps_the_78_kansas_airports_deterministically(tmp_path: Path) -> None:
    transform = transforms.load("csv-points")
    first = transform({"airports": AIRPORTS}, {"filter": {"state": ["KS"]}, "id": "iata"}, tmp_path)
    data = first.outputs[0].path.read_bytes()
    again = tmp_path / "again"
    again.mkdir()
    second = transform({"airports": AIRPORTS}, {"filter": {"state": ["KS"]}, "id": "iata"}, again)
    assert second.outputs[0].path.read_bytes() == data  # byte-identical
    collection = json.loads(data)
    assert len(collection["features"]) == first.properties["kfm:rows"] == 78
    assert all(f["properties"]["state"] == "KS" for f in collection["features"])
    west, south, east, north = first.spatial.bbox  # type: ignore[union-attr]
    assert -102.1 < west < east < -94.5 and 36.9 < south < north < 40.1


@pytest.mark.parametrize(("csv_text", "parameters", "message"), [
    ("lat,lon\n1,2\n", {}, "column 'latitude' not in the CSV"),
    ("latitude,longitude\n91,2\n", {}, "outside [-90, 90]"),
    ("latitude,longitude\nx,2\n", {}, "is not a number"),
    ("latitude,longitude,state\n1,2,NE\n", {"filter": {"state": ["KS"]}}, "no rows left after the filter"),
])
def test_csv_points_refuses_bad_input_with_a_reason(tmp_path: Path, csv_text: str, parameters: dict,
                                                    message: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text(csv_text)
    with pytest.raises(transforms.TransformError, match=message.replace("[", r"\[").replace("]", r"\]")):
        transforms.load("csv-points")({"in": source}, parameters, tmp_path)


def test_copy_is_byte_identical(tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(bytes(range(256)) * 10)
    (tmp_path / "out").mkdir()
    result = transforms.load("copy")({"blob": source}, {}, tmp_path / "out")
    assert result.outputs[0].path.read_bytes() == source.read_bytes()
