"""build_job: the whole batch/v1 Job manifest for one run. Pure: everything it needs is an argument."""

from __future__ import annotations

from typing import Any

__all__ = ["LABEL_DATASET_VERSION", "LABEL_RUN_ID", "build_job"]

LABEL_DATASET_VERSION = "kfm.dev/dataset-version"
LABEL_RUN_ID = "kfm.dev/run-id"
LABEL_POOL = "kfm.dev/pool"


def _resources(resources: dict[str, Any] | None) -> dict[str, Any]:
    if not resources:
        return {}
    return {kind: {k: v for k, v in amounts.items() if v is not None}
            for kind, amounts in resources.items() if amounts}


def build_job(
    *,
    name: str,
    namespace: str,
    owner: dict[str, str],  # apiVersion, kind, name, uid of the DatasetVersion
    run_id: str,
    spec_uri: str,
    spec_digest: str,
    image: str,
    timeout_seconds: int,
    backoff_limit: int,
    pool: str,
    resources: dict[str, Any] | None,
    store_env: dict[str, str],  # KFM_S3_* settings for the runner (no credentials)
    credentials_secret: str,
) -> dict[str, Any]:
    """The Job that runs `kfm pipeline run` for `run_id`: restricted pod, no service-account token, the run spec
    by reference, object-store credentials from a Secret by reference only."""
    labels = {LABEL_DATASET_VERSION: owner["name"], LABEL_RUN_ID: run_id,
              "app.kubernetes.io/managed-by": "kfm-operator", "app.kubernetes.io/component": "pipeline"}
    env: list[dict[str, Any]] = [{"name": key, "value": value} for key, value in sorted(store_env.items())]
    env += [{"name": key, "valueFrom": {"secretKeyRef": {"name": credentials_secret, "key": key}}}
            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")]
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "pipeline",
            "image": image,
            "command": ["kfm", "pipeline", "run"],
            "args": ["--spec", spec_uri, "--spec-digest", spec_digest],
            "env": env,
            "resources": _resources(resources),
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "terminationMessagePolicy": "FallbackToLogsOnError",
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - the pod's own emptyDir
        }],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}}],
    }
    if pool != "default":
        pod_spec["nodeSelector"] = {LABEL_POOL: pool}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [{**owner, "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {
            "backoffLimit": backoff_limit,
            "activeDeadlineSeconds": timeout_seconds,
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }
