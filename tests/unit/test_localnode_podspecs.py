"""LocalNode's pure rules: what it runs, the container environment, mount paths, exit codes and messages."""

from __future__ import annotations

from typing import Any

import pytest

from kfm_operator.devenv.localnode import podspecs


def make_pod(**container: Any) -> dict[str, Any]:
    spec_extra = container.pop("spec", {})
    base = {"name": "main", "image": "kfm:dev", "command": ["kfm"]}
    base.update(container)
    return {
        "metadata": {"name": "p1", "namespace": "ns1", "uid": "u-1", "labels": {"app": "x"},
                     "annotations": {"note": "hi"}},
        "spec": {"restartPolicy": "Never", "nodeName": "kfm-local", "containers": [base], **spec_extra},
    }


SECRETS = {("ns1", "creds"): {"user": "alice", "password": "s3cr3t"}}
CONFIG_MAPS = {("ns1", "settings"): {"LEVEL": "debug", "ZONE": "raw"}}


def secrets(namespace: str, name: str) -> dict[str, str] | None:
    return SECRETS.get((namespace, name))


def config_maps(namespace: str, name: str) -> dict[str, str] | None:
    return CONFIG_MAPS.get((namespace, name))


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        (make_pod(spec={"containers": [{"name": "a", "command": ["x"]}, {"name": "b", "command": ["y"]}]}),
         "exactly one container per pod; this pod has 2"),
        (make_pod(spec={"restartPolicy": "OnFailure"}), "restartPolicy Never only; this pod has OnFailure"),
        (make_pod(spec={"volumes": [{"name": "kube-api-access", "projected": {"sources": []}}]}),
         "type projected; LocalNode supports emptyDir only (set automountServiceAccountToken: false)"),
        (make_pod(spec={"volumes": [{"name": "data", "hostPath": {"path": "/"}}]}), "type hostPath"),
        (make_pod(command=[]), "cannot run an image's entrypoint"),
        (make_pod(spec={"initContainers": [{"name": "init"}]}), "init containers"),
        (make_pod(env=[{"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}]),
         "resourceFieldRef is not supported"),
    ],
)
def test_unsupported_pods_are_refused_with_the_reason(pod: dict[str, Any], expected: str) -> None:
    reason = podspecs.unsupported_reason(pod)
    assert reason is not None and expected in reason


def test_a_plain_pod_with_emptydir_is_supported() -> None:
    pod = make_pod(spec={"volumes": [{"name": "tmp", "emptyDir": {}}]})
    assert podspecs.unsupported_reason(pod) is None


def test_environment_from_literals_secrets_configmaps_fields_and_envfrom() -> None:
    pod = make_pod(
        envFrom=[{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}, {"secretRef": {"name": "creds"}}],
        env=[
            {"name": "LITERAL", "value": "plain"},
            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
            {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "LEVEL"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "GREETING", "value": "$(POD) in $(NS) costs $$5, $(UNDEFINED) stays"},
            {"name": "MISSING", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k", "optional": True}}},
        ],
    )
    env = podspecs.container_env(pod, pod["spec"]["containers"][0], secrets=secrets, config_maps=config_maps)
    assert env["CFG_LEVEL"] == "debug" and env["CFG_ZONE"] == "raw"
    assert env["user"] == "alice"
    assert env["LITERAL"] == "plain"
    assert env["PASSWORD"] == "s3cr3t"
    assert env["LEVEL"] == "debug"
    assert env["POD"] == "p1" and env["NS"] == "ns1" and env["APP"] == "x"
    assert env["GREETING"] == "p1 in ns1 costs $5, $(UNDEFINED) stays"
    assert "MISSING" not in env


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ({"name": "X", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k"}}}, "Secret 'nope' not found"),
        ({"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "nokey"}}}, "key 'nokey' not found"),
        ({"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}, "ConfigMap 'nope' not found"),
        ({"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}}, "not supported"),
    ],
)
def test_unresolvable_environment_is_a_config_error(variable: dict[str, Any], message: str) -> None:
    pod = make_pod(env=[variable])
    with pytest.raises(podspecs.ConfigError, match=message):
        podspecs.container_env(pod, pod["spec"]["containers"][0], secrets=secrets, config_maps=config_maps)


def test_plan_maps_mount_paths_to_pod_directories() -> None:
    pod = make_pod(
        command=["kfm", "pipeline", "run"],
        args=["--out", "/work/out/result.json", "--scratch=/work/out", "/tmp", "/workspace"],
        env=[{"name": "OUT", "value": "/work/out/x"}],
        workingDir="/work",
        volumeMounts=[{"name": "work", "mountPath": "/work"}, {"name": "out", "mountPath": "/work/out"},
                      {"name": "tmp", "mountPath": "/tmp"}],
        spec={"volumes": [{"name": "work", "emptyDir": {}}, {"name": "out", "emptyDir": {}},
                          {"name": "tmp", "emptyDir": {}}]},
    )
    plan = podspecs.plan_pod(pod, pod_dir="/p", base_path="/bin", secrets=secrets, config_maps=config_maps)
    assert plan.argv == ["kfm", "pipeline", "run", "--out", "/p/volumes/out/result.json", "--scratch=/work/out",
                         "/p/volumes/tmp", "/workspace"]
    assert plan.env["OUT"] == "/p/volumes/out/x"
    assert plan.env["TMPDIR"] == "/p/volumes/tmp"
    assert plan.env["PATH"] == "/bin"
    assert plan.cwd == "/p/volumes/work"
    assert plan.termination_message_path == "/p/termination-log"


def test_plan_expands_variables_in_command_and_args() -> None:
    pod = make_pod(command=["echo", "$(NAME)"], args=["$$(NAME)"], env=[{"name": "NAME", "value": "v"}])
    plan = podspecs.plan_pod(pod, pod_dir="/p", base_path="/bin", secrets=secrets, config_maps=config_maps)
    assert plan.argv == ["echo", "v", "$(NAME)"]


@pytest.mark.parametrize(("returncode", "exit_code"), [(0, 0), (1, 1), (-9, 137), (-15, 143)])
def test_exit_codes_as_a_container_runtime_reports_them(returncode: int, exit_code: int) -> None:
    assert podspecs.kubelet_exit_code(returncode) == exit_code


def test_termination_message_prefers_the_file_then_falls_back_to_the_log_on_error() -> None:
    log = "\n".join(f"line {i}" for i in range(200))
    assert podspecs.termination_message("from file", log, exit_code=1, policy="FallbackToLogsOnError") == "from file"
    fallback = podspecs.termination_message("", log, exit_code=1, policy="FallbackToLogsOnError")
    assert fallback.endswith("line 199") and "line 119" not in fallback and len(fallback) <= 2048
    assert podspecs.termination_message("", log, exit_code=0, policy="FallbackToLogsOnError") == ""
    assert podspecs.termination_message("", log, exit_code=1, policy="File") == ""


def test_terminated_status_reports_phase_exit_code_and_reason() -> None:
    plan = podspecs.plan_pod(make_pod(), pod_dir="/p", base_path="/bin", secrets=secrets, config_maps=config_maps)
    failed = podspecs.terminated_status(plan, pid=7, exit_code=3, started_at="a", finished_at="b", message="boom",
                                        now="c")
    state = failed["containerStatuses"][0]["state"]["terminated"]
    assert failed["phase"] == "Failed"
    assert state == {"exitCode": 3, "reason": "Error", "startedAt": "a", "finishedAt": "b",
                     "containerID": "kfm-local://7", "message": "boom"}
    ok = podspecs.terminated_status(plan, pid=7, exit_code=0, started_at="a", finished_at="b", message="", now="c")
    assert ok["phase"] == "Succeeded"
    assert ok["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"


def test_a_node_selector_the_node_does_not_match_leaves_the_pod_unschedulable() -> None:
    pod = make_pod(spec={"nodeSelector": {"kfm.dev/pool": "gpu"}})
    reason = podspecs.unschedulable_reason(pod, "kfm-local", {"kfm.dev/pool": "default"})
    assert reason is not None and "kfm-local lacks kfm.dev/pool=gpu" in reason
    assert podspecs.unschedulable_reason(pod, "kfm-local", {"kfm.dev/pool": "gpu"}) is None
    assert podspecs.unschedulable_reason(make_pod(), "kfm-local", {}) is None
