"""`kfm demo`: the whole story on the embedded default environment, step by step.

Local control plane + LocalNode + S3 + OPA (`kfm dev up`), the CRDs, the operator, the Kansas airports (the 78
Kansas rows of vega-datasets' public-domain airports.csv) as a DatasetVersion through a pipeline Job to processed,
a Promotion to published, and the ledger verified. Safe to run again: every step finds what the last run did.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import vega_datasets  # type: ignore[import-untyped]
from kubernetes import client

from kfm_operator.devenv import kubeconfigs, stack
from kfm_operator.devenv.processes import DevEnvError
from kfm_operator.devenv.tools import tool_path
from kfm_operator.ledger import opening
from kfm_operator.stores import ObjectStore, parse_s3_uri
from kfm_operator.stores.clients import s3_client

NAMESPACE = "kfm-demo"
DSV_NAME = "ks-airports-2026-11-0"
PROMOTION_NAME = "ks-airports-2026-11-0-publish"
AIRPORTS = Path(vega_datasets.__file__).parent / "_data" / "airports.csv"
GROUP, VERSION = "kfm.dev", "v1alpha1"


def _step(number: int, text: str) -> None:
    click.secho(f"\n[{number}/8] {text}", bold=True)


def _wait(what: str, probe: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(1)
    raise click.ClickException(f"timed out after {timeout:.0f} s waiting for {what}")


def _phase_watcher(objects: client.CustomObjectsApi, plural: str, name: str) -> Callable[[], dict[str, Any] | None]:
    seen: list[str] = []  # phases shown so far

    def probe() -> dict[str, Any] | None:
        body = objects.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, plural, name)
        status = body.get("status") or {}
        phase = status.get("phase")
        if phase and (not seen or seen[-1] != phase):
            seen.append(phase)
            ready: dict[str, Any] = next((c for c in status.get("conditions", []) if c["type"] == "Ready"), {})
            click.echo(f"      {plural[:-1]} {name}: {phase} — {ready.get('message', '')[:140]}")
        conditions = {c["type"]: c["status"] for c in status.get("conditions", [])
                      if c.get("observedGeneration") == body["metadata"]["generation"]}
        return body if conditions.get("Ready") == "True" or conditions.get("Stalled") == "True" else None

    return probe


def _kubectl(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([str(tool_path("kubectl")), *args], input=stdin, env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    if result.returncode != 0:
        raise click.ClickException(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def _dataset_version(raw: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "DatasetVersion",
        "metadata": {"name": DSV_NAME, "namespace": NAMESPACE, "labels": {"kfm.dev/dataset": "ks-airports"}},
        "spec": {
            "dataset": "kfm://dataset/ks-airports", "version": "2026.11.0", "title": "Kansas public airports",
            "description": "Airports in Kansas with FAA codes and locations, from the vega-datasets airports table.",
            "license": "CC0-1.0",
            "governance": {"policyLabel": "public", "sensitivity": "none", "sovereignty": "none"},
            "inputs": [{"name": "airports", "uri": raw["uri"], "digest": raw["digest"], "mediaType": "text/csv"}],
            "pipeline": {"transform": "csv-points", "parameters": {"filter": {"state": ["KS"]}, "id": "iata"},
                         "timeoutSeconds": 600, "backoffLimit": 1},
        },
    }


def _environment(state_dir: Path, repo: Path) -> dict[str, str]:
    try:
        state = stack.up(state_dir.resolve(), (repo / "policies").resolve())
    except DevEnvError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"      API server {state['apiServer']}, S3 {state['s3']['endpoint']}, OPA {state['opa']['url']}")
    exported = [line.removeprefix("export ").split("=", 1) for line in (state_dir / "env").read_text().splitlines()
                if line.startswith("export ")]
    key_file = state_dir.resolve() / "ledger.key"
    env = {**os.environ, **{name: value.strip("'") for name, value in exported},
           "KFM_LEDGER_SIGNING_KEY_FILE": str(key_file), "KFM_LEDGER_BACKEND": "s3", "KFM_LEDGER_PREFIX": "ledger/",
           "KFM_LEDGER_ORIGIN": "kfm.dev/ledger/dev", "KFM_RUNNER_IMAGE": "kfm-operator:dev"}
    if not key_file.exists():
        opening.write_new_key(key_file, env["KFM_LEDGER_ORIGIN"])
    return env


def _install(env: dict[str, str], repo: Path) -> None:
    _kubectl(env, "apply", "--server-side", "--force-conflicts", "-k", str(repo / "crds"))
    _kubectl(env, "wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=kfm-operator",
             "--timeout=60s")
    _kubectl(env, "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                                       "metadata": {"name": NAMESPACE}}))
    _kubectl(env, "apply", "-n", NAMESPACE, "-f", "-", stdin=json.dumps({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "kfm-s3-credentials"},
        "stringData": {"AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"],
                       "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"]}}))


def _intake(env: dict[str, str]) -> dict[str, str]:
    added = subprocess.run([sys.executable, "-m", "kfm_operator.cli", "raw", "add", str(AIRPORTS), "--dataset",
                            "ks-airports", "--name", "airports"], env=env, capture_output=True, text=True, timeout=120,
                           check=False)
    if added.returncode != 0:
        raise click.ClickException(added.stderr)
    digest = "sha256:" + hashlib.sha256(AIRPORTS.read_bytes()).hexdigest()
    raw = {"uri": f"s3://{env['KFM_S3_BUCKET']}/raw/ks-airports/{digest[7:]}", "digest": digest}
    click.echo(f"      {raw['uri']}")
    return raw


def _promote(env: dict[str, str], raw: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Steps 5 and 6 against the running operator; returns the DatasetVersion and the Promotion."""
    with kubeconfigs.api_client_from(Path(env["KUBECONFIG"])) as api:
        objects = client.CustomObjectsApi(api)
        _step(5, "A DatasetVersion: inputs verified, a pipeline Job on the LocalNode, catalog gate, ledger")
        _kubectl(env, "apply", "-f", "-", stdin=json.dumps(_dataset_version(raw)))
        dsv = _wait("the DatasetVersion to settle", _phase_watcher(objects, "datasetversions", DSV_NAME), 300)
        if dsv["status"]["phase"] != "Ready":
            raise click.ClickException(f"the DatasetVersion ended {dsv['status']['phase']}")
        _step(6, "A Promotion to published: integrity, catalog, exception and policy (OPA) gates")
        _kubectl(env, "apply", "-f", "-", stdin=json.dumps({
            "apiVersion": f"{GROUP}/{VERSION}", "kind": "Promotion",
            "metadata": {"name": PROMOTION_NAME, "namespace": NAMESPACE},
            "spec": {"datasetVersion": DSV_NAME, "targetZone": "published",
                     "reason": "Quarterly refresh of the public airports layer (demo)"}}))
        promotion = _wait("the Promotion to settle", _phase_watcher(objects, "promotions", PROMOTION_NAME), 180)
        dsv = objects.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "datasetversions", DSV_NAME)
    return dsv, promotion


def _rows(env: dict[str, str], stac_uri: str) -> int:
    location = parse_s3_uri(stac_uri)
    store = ObjectStore(client=s3_client(endpoint=env["KFM_S3_ENDPOINT"], region=env["KFM_S3_REGION"]),
                        bucket=location.bucket)
    return int(json.loads(store.get(location.key)[0])["properties"].get("kfm:rows", 0))


def _summary(env: dict[str, str], dsv: dict[str, Any], promotion: dict[str, Any], verified: bool,
             state_dir: Path) -> None:
    status, artifact = dsv["status"], dsv["status"]["artifacts"][0]
    click.echo(f"      dataset      {dsv['spec']['dataset']} version {dsv['spec']['version']}: "
               f"{_rows(env, status['catalog']['stac']['uri'])} Kansas airports as GeoJSON points")
    click.echo(f"      artifact     {artifact['name']} {artifact['digest']} ({artifact['sizeBytes']} bytes)")
    click.echo(f"      zone         {status['zone']} (Promotion {promotion['status']['phase']}, "
               f"OPA decision {promotion['status']['decision']['decisionId']})")
    click.echo(f"      ledger       run.receipt #{status['ledger']['index']}, promotion.decision "
               f"#{promotion['status']['ledger']['index']}; verified: {'yes' if verified else 'NO'}")
    click.echo(f"      explore      source {state_dir / 'env'}; .venv/bin/kubectl get kfm -n {NAMESPACE}; "
               "make down to stop")


@click.command()
@click.option("--dir", "state_dir", type=click.Path(path_type=Path), default=Path(".kfm-dev"), show_default=True)
def demo(state_dir: Path) -> None:
    """Run the whole story: environment, operator, a dataset taken through to published, the ledger verified."""
    repo = Path.cwd()
    _step(1, "Local environment: etcd, kube-apiserver, kube-controller-manager, LocalNode, S3, OPA")
    env = _environment(state_dir, repo)
    os.environ.update(env)  # this process reads S3 too (the summary); the dev environment's credentials are local
    _step(2, "The kfm.dev CRDs, a namespace and the Secret pipeline Jobs read S3 credentials from")
    _install(env, repo)
    _step(3, f"Raw intake: {AIRPORTS.name} into the raw zone, pinned by its sha256")
    raw = _intake(env)
    _step(4, "The operator (`kfm run`), watching namespace kfm-demo")
    with (state_dir / "operator.log").open("ab") as log:
        operator = subprocess.Popen([sys.executable, "-m", "kfm_operator.cli", "run", "-n", NAMESPACE, "--liveness",
                                     "http://127.0.0.1:0/healthz"], env=env, stdout=log, stderr=subprocess.STDOUT)
    click.echo(f"      pid {operator.pid}, log {state_dir / 'operator.log'}")
    try:
        dsv, promotion = _promote(env, raw)
    finally:
        operator.send_signal(signal.SIGTERM)
        try:
            operator.wait(30)
        except subprocess.TimeoutExpired:
            operator.kill()
    _step(7, "The ledger, verified from storage with the public key alone")
    verified = subprocess.run([sys.executable, "-m", "kfm_operator.cli", "ledger", "verify", "--s3-bucket",
                               env["KFM_S3_BUCKET"], "--s3-prefix", "ledger/", "--public-key",
                               env["KFM_LEDGER_SIGNING_KEY_FILE"] + ".pub"], env=env, capture_output=True, text=True,
                              timeout=300, check=False)
    click.echo("      " + (verified.stdout.strip() or verified.stderr.strip()).replace("\n", "\n      "))
    _step(8, "Summary")
    _summary(env, dsv, promotion, verified.returncode == 0, state_dir)
    if verified.returncode != 0 or promotion["status"]["phase"] != "Promoted":
        sys.exit(1)
