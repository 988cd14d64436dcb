"""Jobs run on the LocalNode as local processes; the real Job controller decides their outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kfm_operator.devenv import LocalNode
from tests.support import wait_for

pytestmark = pytest.mark.usefixtures("local_node")


def job(name: str, command: list[str], *, backoff_limit: int = 0, deadline: int | None = None,
        **container: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "backoffLimit": backoff_limit,
        "template": {"spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "containers": [{"name": "main", "image": "kfm-operator:dev", "command": command,
                            "terminationMessagePolicy": "FallbackToLogsOnError", **container}],
        }},
    }
    if deadline is not None:
        spec["activeDeadlineSeconds"] = deadline
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec}


def condition(batch: client.BatchV1Api, namespace: str, name: str, kind: str) -> client.V1JobCondition | None:
    status = batch.read_namespaced_job_status(name, namespace).status
    return next((c for c in status.conditions or [] if c.type == kind and c.status == "True"), None)


def pods_of(core: client.CoreV1Api, namespace: str, job_name: str) -> list[client.V1Pod]:
    return list(core.list_namespaced_pod(namespace, label_selector=f"job-name={job_name}").items)


def pid_of(pod: client.V1Pod) -> int:
    container_id = pod.status.container_statuses[0].container_id
    return int(container_id.removeprefix("kfm-local://"))


def process_gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.split()[2] == "Z"


def test_a_job_that_exits_zero_completes(api_client: client.ApiClient, namespace: str,
                                         local_node: LocalNode | None) -> None:
    batch, core = client.BatchV1Api(api_client), client.CoreV1Api(api_client)
    batch.create_namespaced_job(namespace, job("ok", ["sh", "-c", "echo hello from $HOSTNAME"]))
    wait_for("Job ok to be Complete", lambda: condition(batch, namespace, "ok", "Complete"), timeout=60)
    (pod,) = pods_of(core, namespace, "ok")
    assert pod.spec.node_name == "kfm-local" or local_node is None
    assert pod.status.phase == "Succeeded"
    terminated = pod.status.container_statuses[0].state.terminated
    assert terminated.exit_code == 0 and terminated.reason == "Completed"
    if local_node is not None:
        log = local_node.log_path(namespace, pod.metadata.name, pod.metadata.uid).read_text()
        assert log.strip() == f"hello from {pod.metadata.name}"


def test_a_failing_job_ends_failed_after_backoff_limit_plus_one_pods(
    api_client: client.ApiClient, namespace: str
) -> None:
    batch, core = client.BatchV1Api(api_client), client.CoreV1Api(api_client)
    batch.create_namespaced_job(namespace, job("bad", ["sh", "-c", "echo step one; echo 'disk on fire' >&2; exit 1"],
                                               backoff_limit=1))
    failed = wait_for("Job bad to be Failed", lambda: condition(batch, namespace, "bad", "Failed"), timeout=90)
    assert failed.reason == "BackoffLimitExceeded"
    pods = pods_of(core, namespace, "bad")
    assert len(pods) == 2
    for pod in pods:
        assert pod.status.phase == "Failed"
        terminated = pod.status.container_statuses[0].state.terminated
        assert terminated.exit_code == 1 and terminated.reason == "Error"
        assert terminated.message.endswith("step one\ndisk on fire")  # FallbackToLogsOnError: the last log lines


def test_a_job_past_its_deadline_fails_and_its_process_is_gone(api_client: client.ApiClient, namespace: str) -> None:
    batch, core = client.BatchV1Api(api_client), client.CoreV1Api(api_client)
    batch.create_namespaced_job(namespace, job("slow", ["sleep", "300"], deadline=3))
    running = wait_for("the slow pod to run",
                       lambda: [p for p in pods_of(core, namespace, "slow") if p.status.phase == "Running"], timeout=30)
    pid = pid_of(running[0])
    failed = wait_for("Job slow to be Failed", lambda: condition(batch, namespace, "slow", "Failed"), timeout=60)
    assert failed.reason == "DeadlineExceeded"
    wait_for(f"process {pid} to be gone", lambda: process_gone(pid), timeout=40)


def test_deleting_a_job_kills_its_process_and_the_garbage_collector_removes_its_pods(
    api_client: client.ApiClient, namespace: str
) -> None:
    batch, core = client.BatchV1Api(api_client), client.CoreV1Api(api_client)
    batch.create_namespaced_job(namespace, job("doomed", ["sleep", "300"]))
    running = wait_for("the doomed pod to run",
                       lambda: [p for p in pods_of(core, namespace, "doomed") if p.status.phase == "Running"],
                       timeout=30)
    pid = pid_of(running[0])
    assert not process_gone(pid)
    batch.delete_namespaced_job("doomed", namespace, propagation_policy="Background")
    wait_for(f"process {pid} to be gone", lambda: process_gone(pid), timeout=45)
    wait_for("the garbage collector to remove the pods", lambda: not pods_of(core, namespace, "doomed"), timeout=45)


def test_env_from_secrets_configmaps_and_fields_and_emptydir_volumes(
    api_client: client.ApiClient, namespace: str
) -> None:
    batch, core = client.BatchV1Api(api_client), client.CoreV1Api(api_client)
    core.create_namespaced_secret(namespace, {"metadata": {"name": "creds"}, "stringData": {"token": "t0ken"}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}, "data": {"ZONE": "raw"}})
    script = ('printf "%s|%s|%s|%s" "$TOKEN" "$ZONE" "$POD_NAMESPACE" "$(cat "$1/marker")" > "$0"; '
              'test -d "$TMPDIR" && test -w "$TMPDIR"')
    manifest = job("env", ["sh", "-c", script, "/dev/termination-log", "/scratch"],
                   env=[{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
                        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
                   envFrom=[{"configMapRef": {"name": "settings"}}],
                   volumeMounts=[{"name": "scratch", "mountPath": "/scratch"}, {"name": "tmp", "mountPath": "/tmp"}])
    manifest["spec"]["template"]["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}},
                                                       {"name": "tmp", "emptyDir": {}}]
    # The marker file is written by an earlier command of the same pod: prove /scratch is one real directory.
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["sh", "-c", f'echo mounted > "$1/marker"; {script}', "/dev/termination-log", "/scratch"]
    batch.create_namespaced_job(namespace, manifest)
    wait_for("Job env to be Complete", lambda: condition(batch, namespace, "env", "Complete"), timeout=60)
    (pod,) = pods_of(core, namespace, "env")
    assert pod.status.container_statuses[0].state.terminated.message == f"t0ken|raw|{namespace}|mounted"


def test_a_pod_the_local_node_cannot_run_faithfully_fails_with_the_reason(
    api_client: client.ApiClient, namespace: str, local_node: LocalNode | None
) -> None:
    if local_node is None:
        pytest.skip("LocalNode only")
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, {
        "metadata": {"name": "needs-hostpath"},
        "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False,
                 "volumes": [{"name": "host", "hostPath": {"path": "/etc"}}],
                 "containers": [{"name": "main", "image": "x", "command": ["true"]}]},
    })
    pod = wait_for("the pod to fail", lambda: _failed(core, namespace, "needs-hostpath"), timeout=30)
    assert pod.status.reason == "UnsupportedByLocalNode"
    assert "volume 'host' is of type hostPath; LocalNode supports emptyDir only" in pod.status.message


def test_a_command_missing_on_this_machine_fails_the_pod(api_client: client.ApiClient, namespace: str,
                                                          local_node: LocalNode | None) -> None:
    if local_node is None:
        pytest.skip("LocalNode only")
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, {
        "metadata": {"name": "nocommand"},
        "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False,
                 "containers": [{"name": "main", "image": "x", "command": ["no-such-command-here"]}]},
    })
    pod = wait_for("the pod to fail", lambda: _failed(core, namespace, "nocommand"), timeout=30)
    assert pod.status.reason == "StartError"
    assert 'exec: "no-such-command-here": executable file not found' in pod.status.message


def _failed(core: client.CoreV1Api, namespace: str, name: str) -> client.V1Pod | None:
    try:
        pod = core.read_namespaced_pod(name, namespace)
    except ApiException:
        return None
    return pod if pod.status.phase == "Failed" else None


def test_a_pod_whose_node_selector_no_node_matches_stays_pending(api_client: client.ApiClient, namespace: str,
                                                                 local_node: LocalNode | None) -> None:
    if local_node is None:
        pytest.skip("LocalNode only")
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, {
        "metadata": {"name": "wants-gpu"},
        "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False,
                 "nodeSelector": {"kfm.dev/pool": "gpu"},
                 "containers": [{"name": "main", "image": "x", "command": ["true"]}]},
    })

    def unschedulable() -> client.V1PodCondition | None:
        pod = core.read_namespaced_pod("wants-gpu", namespace)
        return next((c for c in pod.status.conditions or [] if c.reason == "Unschedulable"), None)

    condition = wait_for("the pod to be marked Unschedulable", unschedulable, timeout=30)
    assert "kfm-local lacks kfm.dev/pool=gpu" in condition.message
    pod = core.read_namespaced_pod("wants-gpu", namespace)
    assert pod.spec.node_name is None and pod.status.phase == "Pending"
