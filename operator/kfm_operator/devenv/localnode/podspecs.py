"""Pure pieces of the LocalNode kubelet: what it can run, a container's environment, paths, and pod status.

No I/O here: Secrets and ConfigMaps are looked up through the callables the node passes in, and time is an argument.
Pods are plain dicts as the API server returns them (camelCase keys).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ConfigError",
    "PodPlan",
    "kubelet_exit_code",
    "plan_pod",
    "pod_key",
    "running_status",
    "start_failed_status",
    "terminated_status",
    "unschedulable_reason",
    "unsupported_reason",
]

Pod = Mapping[str, Any]
Lookup = Callable[[str, str], Mapping[str, str] | None]  # (namespace, name) -> data, None when absent

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"
TERMINATION_MESSAGE_MAX_BYTES = 4096
FALLBACK_LOG_LINES = 80
FALLBACK_LOG_BYTES = 2048
_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


class ConfigError(Exception):
    """The container's configuration cannot be resolved yet (kubelet: CreateContainerConfigError)."""


def pod_key(pod: Pod) -> str:
    return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"


def unsupported_reason(pod: Pod) -> str | None:
    """Why LocalNode cannot run `pod` faithfully, or None if it can."""
    spec = pod.get("spec", {})
    containers = spec.get("containers") or []
    if len(containers) != 1:
        return f"LocalNode runs exactly one container per pod; this pod has {len(containers)}"
    if spec.get("initContainers"):
        return "LocalNode does not run init containers"
    policy = spec.get("restartPolicy", "Always")
    if policy != "Never":
        return f"LocalNode supports restartPolicy Never only; this pod has {policy}"
    for volume in spec.get("volumes") or []:
        kinds = [k for k in volume if k != "name"]
        if kinds != ["emptyDir"]:
            kind = kinds[0] if kinds else "unknown"
            hint = " (set automountServiceAccountToken: false)" if kind == "projected" else ""
            return f"volume {volume['name']!r} is of type {kind}; LocalNode supports emptyDir only{hint}"
    container = containers[0]
    if not container.get("command"):
        return (f"container {container['name']!r} has no command: LocalNode does not pull images and cannot run "
                "an image's entrypoint; give the command explicitly")
    for variable in container.get("env") or []:
        source = variable.get("valueFrom") or {}
        if "resourceFieldRef" in source:
            return f"env {variable['name']!r}: resourceFieldRef is not supported by LocalNode"
    return None


def unschedulable_reason(pod: Pod, node_name: str, node_labels: Mapping[str, str]) -> str | None:
    """Why the one node cannot take `pod` (a nodeSelector it does not match), or None; as the scheduler says it."""
    selector = pod.get("spec", {}).get("nodeSelector") or {}
    missing = sorted(f"{k}={v}" for k, v in selector.items() if node_labels.get(k) != v)
    if missing:
        return (f"0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector "
                f"({node_name} lacks {', '.join(missing)})")
    return None


def _field_value(pod: Pod, path: str) -> str:
    metadata = pod["metadata"]
    simple = {
        "metadata.name": metadata.get("name"),
        "metadata.namespace": metadata.get("namespace"),
        "metadata.uid": metadata.get("uid"),
        "spec.nodeName": pod["spec"].get("nodeName"),
        "spec.serviceAccountName": pod["spec"].get("serviceAccountName"),
        "status.podIP": "127.0.0.1",
        "status.hostIP": "127.0.0.1",
    }
    if path in simple:
        return str(simple[path] or "")
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        return str((metadata.get(match.group(1)) or {}).get(match.group(2), ""))
    raise ConfigError(f"fieldRef {path!r} is not supported")


def _lookup_key(kind: str, lookup: Lookup, namespace: str, ref: Mapping[str, Any]) -> str | None:
    data = lookup(namespace, ref["name"])
    optional = bool(ref.get("optional", False))
    if data is None:
        if optional:
            return None
        raise ConfigError(f"{kind} {ref['name']!r} not found")
    if ref["key"] not in data:
        if optional:
            return None
        raise ConfigError(f"key {ref['key']!r} not found in {kind} {ref['name']!r}")
    return data[ref["key"]]


def expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion: defined variables are replaced, `$$` is a literal `$`, the rest stays."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _VAR_REF.sub(replace, value)


def container_env(pod: Pod, container: Mapping[str, Any], *, secrets: Lookup, config_maps: Lookup) -> dict[str, str]:
    """The environment the pod spec gives `container`: envFrom first, then env (later entries win)."""
    namespace = pod["metadata"]["namespace"]
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, lookup, ref in (("ConfigMap", config_maps, source.get("configMapRef")),
                                  ("Secret", secrets, source.get("secretRef"))):
            if ref is None:
                continue
            data = lookup(namespace, ref["name"])
            if data is None:
                if ref.get("optional"):
                    continue
                raise ConfigError(f"{kind} {ref['name']!r} not found")
            env.update({prefix + key: value for key, value in data.items()})
    for variable in container.get("env") or []:
        name = variable["name"]
        source = variable.get("valueFrom")
        if source is None:
            env[name] = expand(variable.get("value", ""), env)
            continue
        if "fieldRef" in source:
            env[name] = _field_value(pod, source["fieldRef"]["fieldPath"])
        elif "secretKeyRef" in source:
            value = _lookup_key("Secret", secrets, namespace, source["secretKeyRef"])
            if value is not None:
                env[name] = value
        elif "configMapKeyRef" in source:
            value = _lookup_key("ConfigMap", config_maps, namespace, source["configMapKeyRef"])
            if value is not None:
                env[name] = value
        else:
            raise ConfigError(f"env {name!r}: unsupported valueFrom {sorted(source)}")
    return env


@dataclass(frozen=True)
class PodPlan:
    """How to run a pod's one container here: argv, env and cwd with mount paths mapped to per-pod directories."""

    container: str
    image: str
    argv: list[str]
    env: dict[str, str]
    cwd: str
    mounts: dict[str, str] = field(default_factory=dict)  # mountPath -> host directory
    termination_message_path: str = ""
    termination_message_policy: str = "File"


def _rewrite(value: str, mounts: Mapping[str, str]) -> str:
    # Longest mount path first, so /data/x wins over /data.
    for mount_path in sorted(mounts, key=len, reverse=True):
        if value == mount_path or value.startswith(mount_path.rstrip("/") + "/"):
            return mounts[mount_path] + value[len(mount_path.rstrip("/")):]
    return value


def plan_pod(
    pod: Pod, *, pod_dir: str, base_path: str, secrets: Lookup, config_maps: Lookup
) -> PodPlan:
    """The local execution plan for a supported pod (call `unsupported_reason` first).

    A kubelet would mount each emptyDir at its mountPath; without root, LocalNode gives each volume a directory
    under `pod_dir` and rewrites paths under a mountPath in the command, args, env values and workingDir to it.
    `/tmp` mounted from an emptyDir also becomes TMPDIR. Raises ConfigError when a referenced Secret/ConfigMap
    (or key) is missing.
    """
    container = pod["spec"]["containers"][0]
    volumes = {v["name"] for v in pod["spec"].get("volumes") or []}
    mounts: dict[str, str] = {}
    for mount in container.get("volumeMounts") or []:
        if mount["name"] not in volumes:
            raise ConfigError(f"volumeMount {mount['name']!r} has no volume")
        mounts[mount["mountPath"]] = f"{pod_dir}/volumes/{mount['name']}"
    termination_path = container.get("terminationMessagePath") or DEFAULT_TERMINATION_MESSAGE_PATH
    mounts.setdefault(termination_path, f"{pod_dir}/termination-log")

    env = container_env(pod, container, secrets=secrets, config_maps=config_maps)
    argv = [expand(part, env) for part in [*container["command"], *(container.get("args") or [])]]
    argv = [_rewrite(part, mounts) for part in argv]
    env = {name: _rewrite(value, mounts) for name, value in env.items()}
    # What an image would provide: a PATH that finds the command, a HOSTNAME; and TMPDIR when /tmp is a volume.
    env.setdefault("PATH", base_path)
    env.setdefault("HOSTNAME", pod["metadata"]["name"])
    env.setdefault("HOME", f"{pod_dir}/home")
    if "/tmp" in mounts:  # noqa: S108 - a mount path, not a temp file
        env.setdefault("TMPDIR", mounts["/tmp"])  # noqa: S108
    working_dir = container.get("workingDir")
    cwd = _rewrite(working_dir, mounts) if working_dir else f"{pod_dir}/home"
    return PodPlan(
        container=container["name"],
        image=container.get("image", ""),
        argv=argv,
        env=env,
        cwd=cwd,
        mounts=mounts,
        termination_message_path=mounts[termination_path],
        termination_message_policy=container.get("terminationMessagePolicy", "File"),
    )


def kubelet_exit_code(returncode: int) -> int:
    """Popen's returncode as a container runtime reports it: killed by signal N -> 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def termination_message(file_text: str, log_tail: str, *, exit_code: int, policy: str) -> str:
    """The kubelet's rule: the file's content; with FallbackToLogsOnError, the log tail when the file is empty
    and the container failed."""
    if file_text.strip():
        return file_text[:TERMINATION_MESSAGE_MAX_BYTES]
    if policy == "FallbackToLogsOnError" and exit_code != 0:
        lines = log_tail.splitlines()[-FALLBACK_LOG_LINES:]
        return "\n".join(lines)[-FALLBACK_LOG_BYTES:]
    return ""


def _condition(kind: str, status: bool, now: str, reason: str | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": kind, "status": "True" if status else "False", "lastTransitionTime": now,
                                 "lastProbeTime": None}
    if reason:
        condition["reason"] = reason
    return condition


def running_status(plan: PodPlan, *, pid: int, started_at: str, now: str) -> dict[str, Any]:
    return {
        "phase": "Running",
        "hostIP": "127.0.0.1",
        "hostIPs": [{"ip": "127.0.0.1"}],
        "podIP": "127.0.0.1",
        "podIPs": [{"ip": "127.0.0.1"}],
        "startTime": started_at,
        "conditions": [
            _condition("PodReadyToStartContainers", True, now),
            _condition("Initialized", True, now),
            _condition("ContainersReady", True, now),
            _condition("Ready", True, now),
        ],
        "containerStatuses": [{
            "name": plan.container,
            "image": plan.image,
            "imageID": "",
            "containerID": f"kfm-local://{pid}",
            "ready": True,
            "started": True,
            "restartCount": 0,
            "state": {"running": {"startedAt": started_at}},
        }],
    }


def terminated_status(
    plan: PodPlan, *, pid: int, exit_code: int, started_at: str, finished_at: str, message: str, now: str
) -> dict[str, Any]:
    succeeded = exit_code == 0
    terminated = {
        "exitCode": exit_code,
        "reason": "Completed" if succeeded else "Error",
        "startedAt": started_at,
        "finishedAt": finished_at,
        "containerID": f"kfm-local://{pid}",
    }
    if message:
        terminated["message"] = message
    return {
        "phase": "Succeeded" if succeeded else "Failed",
        "conditions": [
            _condition("PodReadyToStartContainers", False, now),
            _condition("ContainersReady", False, now, "PodCompleted"),
            _condition("Ready", False, now, "PodCompleted"),
        ],
        "containerStatuses": [{
            "name": plan.container,
            "image": plan.image,
            "imageID": "",
            "containerID": f"kfm-local://{pid}",
            "ready": False,
            "started": False,
            "restartCount": 0,
            "state": {"terminated": terminated},
        }],
    }


def start_failed_status(pod: Pod, *, reason: str, message: str, now: str) -> dict[str, Any]:
    """A pod that never ran: Failed with the reason, its container terminated with exit code 128 (StartError)."""
    container = (pod["spec"].get("containers") or [{"name": "unknown"}])[0]
    return {
        "phase": "Failed",
        "reason": reason,
        "message": message,
        "hostIP": "127.0.0.1",
        "startTime": now,
        "conditions": [_condition("Ready", False, now, reason), _condition("ContainersReady", False, now, reason)],
        "containerStatuses": [{
            "name": container["name"],
            "image": container.get("image", ""),
            "imageID": "",
            "ready": False,
            "started": False,
            "restartCount": 0,
            "state": {"terminated": {"exitCode": 128, "reason": "StartError", "message": message,
                                     "startedAt": now, "finishedAt": now}},
        }],
    }
