"""Running the operator in tests: its environment (real S3 bucket, OPA, ledger on S3, kubeconfig), the Secret its
Jobs read credentials from, and helpers to create objects and wait for their conditions."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kopf.testing import KopfRunner
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.config import kube_config

from kfm_operator.api.fields import GROUP, VERSION
from kfm_operator.devenv import ControlPlane, OpaServer, S3Server
from kfm_operator.devenv.ports import free_port
from kfm_operator.ledger.opening import open_ledger, write_new_key
from kfm_operator.settings import Settings
from kfm_operator.stores import ObjectStore
from tests.support import wait_for

OPERATOR_MODULE = "kfm_operator.handlers.main"


@dataclass
class Harness:
    namespace: str
    env: dict[str, str]
    store: ObjectStore
    api: client.ApiClient
    s3: Any
    board_key: Ed25519PrivateKey  # the trusted signer "board" of promotion exceptions

    def settings(self) -> Settings:
        saved = dict(os.environ)
        try:
            os.environ.update(self.env)
            return Settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def ledger(self) -> Any:
        return open_ledger(self.settings(), s3=self.s3)

    def upload_raw(self, dataset: str, data: bytes) -> dict[str, str]:
        digest = hashlib.sha256(data).hexdigest()
        key = f"raw/{dataset}/{digest}"
        if not self.store.exists(key):
            self.store.put_if_absent(key, data)
        return {"uri": self.store.uri(key), "digest": f"sha256:{digest}"}

    def create(self, plural: str, body: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = client.CustomObjectsApi(self.api).create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, plural, body)
        return created

    def get(self, plural: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = client.CustomObjectsApi(self.api).get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, plural, name)
        return found

    def condition(self, plural: str, name: str, kind: str) -> dict[str, Any] | None:
        try:
            body = self.get(plural, name)
        except ApiException:
            return None
        generation = body["metadata"]["generation"]
        for condition in (body.get("status") or {}).get("conditions") or []:
            if condition["type"] == kind and condition.get("observedGeneration") == generation:
                return condition
        return None

    def wait_settled(self, plural: str, name: str, *, timeout: float = 120) -> dict[str, Any]:
        """Wait until Ready=True or Stalled=True for the current generation; returns the object."""
        def settled() -> dict[str, Any] | None:
            ready = self.condition(plural, name, "Ready")
            stalled = self.condition(plural, name, "Stalled")
            if (ready and ready["status"] == "True") or (stalled and stalled["status"] == "True"):
                return self.get(plural, name)
            return None

        return wait_for(f"{plural}/{name} to settle (Ready or Stalled)", settled, timeout=timeout, interval=0.5)

    def jobs(self) -> list[Any]:
        return list(client.BatchV1Api(self.api).list_namespaced_job(
            self.namespace, label_selector="kfm.dev/dataset-version").items)


def make_harness(*, control_plane: ControlPlane, s3_server: S3Server, opa_server: OpaServer, bucket: str,
                 namespace: str, api_client: client.ApiClient, workdir: Path) -> Harness:
    key_file = workdir / "ledger.key"
    if not key_file.exists():
        write_new_key(key_file, "kfm.dev/ledger/test")
    board_key = Ed25519PrivateKey.generate()
    trusted = workdir / "trusted-keys.json"
    trusted.write_text(json.dumps({"board": base64.b64encode(board_key.public_key().public_bytes_raw()).decode()}))
    env = {
        "KUBECONFIG": str(control_plane.kubeconfig),
        **s3_server.environment(),
        "KFM_S3_BUCKET": bucket,
        "KFM_OPA_URL": opa_server.url,
        "KFM_LEDGER_BACKEND": "s3",
        "KFM_LEDGER_PREFIX": "ledger/",
        "KFM_LEDGER_ORIGIN": "kfm.dev/ledger/test",
        "KFM_LEDGER_SIGNING_KEY_FILE": str(key_file),
        "KFM_RUNNER_IMAGE": "kfm-operator:test",
        "KFM_TRUSTED_KEYS_FILE": str(trusted),
    }
    core = client.CoreV1Api(api_client)
    core.create_namespaced_secret(namespace, {"metadata": {"name": "kfm-s3-credentials"}, "stringData": {
        "AWS_ACCESS_KEY_ID": s3_server.access_key, "AWS_SECRET_ACCESS_KEY": s3_server.secret_key}})
    return Harness(namespace, env, ObjectStore(client=s3_server.client(), bucket=bucket), api_client,
                   s3_server.client(), board_key)


@contextmanager
def operator_running(harness: Harness, monkeypatch: Any) -> Iterator[KopfRunner]:
    """The operator in-process under Kopf's KopfRunner, watching the harness's namespace only."""
    for name, value in harness.env.items():
        monkeypatch.setenv(name, value)
    # The kubernetes client reads KUBECONFIG once, at import; Kopf's login uses that default.
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", harness.env["KUBECONFIG"])
    with KopfRunner(["run", "--standalone", "--namespace", harness.namespace, "-m", OPERATOR_MODULE],
                    timeout=60) as runner:
        yield runner
    assert runner.exception is None, runner.output[-3000:]
    assert runner.exit_code == 0, runner.output[-3000:]


def operator_process(harness: Harness, log: Path, *, liveness_port: int,
                     crash_at: str | None = None) -> subprocess.Popen[bytes]:
    """The operator as its own process (`kfm run`), for tests that kill it."""
    env = {**os.environ, **harness.env}
    env.pop("KFM_CRASH_AT", None)
    if crash_at:
        env["KFM_CRASH_AT"] = crash_at
    with log.open("ab") as output:
        return subprocess.Popen([sys.executable, "-m", "kfm_operator.cli", "run", "--namespace", harness.namespace,
                                 "--liveness", f"http://127.0.0.1:{liveness_port}/healthz"], env=env, stdout=output,
                                stderr=subprocess.STDOUT)


def datasetversion(name: str, inputs: list[dict[str, Any]], *, transform: str = "csv-points",
                   parameters: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "DatasetVersion", "metadata": {"name": name},
        "spec": {"dataset": "kfm://dataset/ks-airports", "version": name.removeprefix("ks-"),
                 "title": "Kansas airports", "license": "CC0-1.0",
                 "governance": {"policyLabel": "public", "sensitivity": "none", "sovereignty": "none"},
                 "inputs": inputs,
                 "pipeline": {"transform": transform, "parameters": parameters if parameters is not None else
                              {"filter": {"state": ["KS"]}, "id": "iata"}, "timeoutSeconds": 120,
                              "backoffLimit": 0}},
    }
    body["spec"].update(spec)
    return body



def promotion(name: str, datasetversion_name: str, *, target: str = "published", dry_run: bool = False,
              exception: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"datasetVersion": datasetversion_name, "targetZone": target,
                            "reason": "reviewed by the data steward", "dryRun": dry_run}
    if exception:
        spec["exception"] = exception
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Promotion", "metadata": {"name": name}, "spec": spec}


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def crash_then_settle(harness: Harness, log: Path, *, crash_at: str, plural: str, name: str) -> dict[str, Any]:
    """Run the operator until it dies at `crash_at` (asserted), then a fresh one until `plural/name` settles."""
    first = operator_process(harness, log, crash_at=crash_at, liveness_port=free_port())
    try:
        wait_for(f"the operator to crash at {crash_at}", lambda: first.poll() is not None, timeout=120)
    finally:
        stop_process(first)
    assert first.returncode == 137, log.read_text()[-3000:]
    assert f"crash point {crash_at} reached" in log.read_text()
    second = operator_process(harness, log, liveness_port=free_port())
    try:
        return harness.wait_settled(plural, name, timeout=150)
    finally:
        stop_process(second)
