"""LocalNode: the kubelet of the local environment, and nothing more.

It registers a Ready Node, binds pending pods to it (a one-node scheduler), runs each pod's one container command as
a local process, reports pod status the way a kubelet does, and on pod deletion stops the process and finishes the
deletion. The real Job controller (kube-controller-manager) decides what happens to Jobs. Pods it cannot run
faithfully fail with a reason that says why (see podspecs.unsupported_reason).

Threads: one watches pods and queues their keys; one worker (the only thread that starts processes, because
PR_SET_PDEATHSIG ties a child to the thread that forked it) reconciles them; one waiter per process reports exits.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import logging
import os
import queue
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from kfm_operator.devenv import kubeconfigs
from kfm_operator.devenv.localnode import podspecs
from kfm_operator.devenv.processes import ManagedProcess, tail

__all__ = ["LocalNode"]

log = logging.getLogger(__name__)
NODE_NAME = "kfm-local"
KUBELET_VERSION = "v1.37.2-kfm-localnode"
_TICK = 0.2
_CONFIG_RETRY_SECONDS = 2.0
STRATEGIC_MERGE = "application/strategic-merge-patch+json"  # the client would default a dict to JSON Patch


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Container:
    """A pod process this node started."""

    key: str
    uid: str
    plan: podspecs.PodPlan
    process: ManagedProcess
    started_at: str
    kill_at: float | None = None  # set once the pod is being deleted


class LocalNode:
    """Registers Node `name` and runs the pods bound to it; a context manager. Logs live under `workdir/pods/`."""

    def __init__(self, kubeconfig: Path, workdir: Path, *, name: str = NODE_NAME) -> None:
        self.kubeconfig = kubeconfig
        self.workdir = workdir
        self.name = name
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._latest: dict[str, dict[str, Any]] = {}
        self._latest_lock = threading.Lock()
        self._running: dict[str, _Container] = {}  # by pod uid
        self._done: set[str] = set()  # uids never to start again
        self._finalized: set[str] = set()
        self._retry_at: dict[str, float] = {}  # pods waiting for a Secret/ConfigMap, by uid
        self._stop = threading.Event()
        self._watch: watch.Watch | None = None
        self._threads: list[threading.Thread] = []
        self._base_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")])

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def __enter__(self) -> LocalNode:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalNode:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with kubeconfigs.api_client_from(self.kubeconfig) as api:
            self._register(client.CoreV1Api(api))
        for target, name in ((self._watch_pods, "watch"), (self._work, "worker")):
            thread = threading.Thread(target=target, name=f"localnode-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop every pod process (SIGTERM, then SIGKILL) and the node's threads."""
        self._stop.set()
        if self._watch is not None:
            self._watch.stop()
        self._events.put(("stop", None))
        for thread in self._threads:
            thread.join(timeout=30)
        for container in list(self._running.values()):  # only if the worker could not do it
            container.process.stop(timeout=5)

    def pids(self) -> list[int]:
        return [c.process.pid for c in self._running.values() if c.process.pid is not None]

    def pod_dir(self, namespace: str, name: str, uid: str) -> Path:
        return self.workdir / "pods" / f"{namespace}_{name}_{uid}"

    def log_path(self, namespace: str, name: str, uid: str) -> Path:
        """Where the container log of pod namespace/name (uid) is kept."""
        return self.pod_dir(namespace, name, uid) / "container.log"

    # -- node registration -------------------------------------------------------------------------------------

    @property
    def labels(self) -> dict[str, str]:
        return {"kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux", "kfm.dev/local-node": "true",
                "kfm.dev/pool": "default"}

    def _register(self, core: client.CoreV1Api) -> None:
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": self.name, "labels": self.labels}}
        with contextlib.suppress(ApiException):
            core.create_node(node)
        capacity = {"cpu": str(os.cpu_count() or 1), "memory": "16Gi", "pods": "110", "ephemeral-storage": "50Gi"}
        now = _now()
        core.patch_node_status(self.name, _content_type=STRATEGIC_MERGE, body={"status": {
            "capacity": capacity,
            "allocatable": capacity,
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": self.name}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "LocalNode runs pod commands as local processes",
                            "lastHeartbeatTime": now, "lastTransitionTime": now}],
            "nodeInfo": {"kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": "", "operatingSystem": "linux",
                         "architecture": "amd64", "containerRuntimeVersion": "kfm-local://1",
                         "kernelVersion": os.uname().release, "osImage": "local processes", "machineID": "",
                         "systemUUID": "", "bootID": ""},
        }})

    # -- watching ----------------------------------------------------------------------------------------------

    def _watch_pods(self) -> None:
        with kubeconfigs.api_client_from(self.kubeconfig) as api:
            core = client.CoreV1Api(api)
            resource_version = ""
            while not self._stop.is_set():
                try:
                    if not resource_version:
                        listing = core.list_pod_for_all_namespaces(_preload_content=False)
                        body = json.loads(listing.data)
                        resource_version = body["metadata"]["resourceVersion"]
                        for pod in body["items"]:
                            self._offer("MODIFIED", pod)
                    self._watch = watch.Watch()
                    for event in self._watch.stream(core.list_pod_for_all_namespaces, resource_version=resource_version,
                                                    timeout_seconds=30, allow_watch_bookmarks=True,
                                                    deserialize=False):
                        raw = event["object"]
                        resource_version = raw["metadata"]["resourceVersion"]
                        if event["type"] != "BOOKMARK":
                            self._offer(event["type"], raw)
                        if self._stop.is_set():
                            break
                except Exception as error:
                    if self._stop.is_set():
                        return
                    log.warning("localnode: pod watch failed (%s); retrying", error)
                    resource_version = ""
                    time.sleep(1)

    def _offer(self, event_type: str, pod: dict[str, Any]) -> None:
        uid = pod["metadata"]["uid"]
        with self._latest_lock:
            if event_type == "DELETED":
                self._latest.pop(uid, None)
            else:
                self._latest[uid] = pod
        self._events.put((event_type, pod))

    # -- the worker --------------------------------------------------------------------------------------------

    def _work(self) -> None:
        with kubeconfigs.api_client_from(self.kubeconfig) as api:
            core = client.CoreV1Api(api)
            try:
                while not self._stop.is_set():
                    try:
                        kind, item = self._events.get(timeout=_TICK)
                    except queue.Empty:
                        kind, item = "tick", None
                    try:
                        self._handle(core, kind, item)
                    except Exception:
                        log.exception("localnode: handling %s failed", kind)
            finally:
                for container in list(self._running.values()):
                    container.process.stop(timeout=5)
                    self._running.pop(container.uid, None)

    def _handle(self, core: client.CoreV1Api, kind: str, item: Any) -> None:
        if kind == "exited":
            self._report_exit(core, item)
        elif kind == "DELETED":
            container = self._running.get(item["metadata"]["uid"])
            if container is not None and container.kill_at is None:
                container.kill_at = time.monotonic()
                container.process.signal_group(signal.SIGKILL)
        elif kind in {"ADDED", "MODIFIED"}:
            with self._latest_lock:
                pod = self._latest.get(item["metadata"]["uid"])
            if pod is not None:
                self._reconcile(core, pod)
        for uid, when in list(self._retry_at.items()):
            if time.monotonic() >= when:
                del self._retry_at[uid]
                with self._latest_lock:
                    pending = self._latest.get(uid)
                if pending is not None:
                    self._reconcile(core, pending)
        for container in list(self._running.values()):  # deletion grace periods that ran out
            if container.kill_at is not None and time.monotonic() >= container.kill_at:
                container.process.signal_group(signal.SIGKILL)

    def _reconcile(self, core: client.CoreV1Api, pod: dict[str, Any]) -> None:
        metadata, spec = pod["metadata"], pod["spec"]
        uid = metadata["uid"]
        if not spec.get("nodeName"):
            if metadata.get("deletionTimestamp"):
                return
            reason = podspecs.unschedulable_reason(pod, self.name, self.labels)
            if reason is None:
                self._bind(core, pod)
            elif not any(c.get("reason") == "Unschedulable" and c.get("message") == reason
                         for c in pod.get("status", {}).get("conditions") or []):
                self._patch_status(core, pod, {"conditions": [{
                    "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": reason,
                    "lastProbeTime": None, "lastTransitionTime": _now()}]})
            return
        if spec["nodeName"] != self.name:
            return
        if metadata.get("deletionTimestamp"):
            self._delete(core, pod)
            return
        if uid in self._running or uid in self._done or uid in self._retry_at:
            return
        if pod.get("status", {}).get("phase") in {"Succeeded", "Failed"}:
            self._done.add(uid)
            return
        if pod.get("status", {}).get("phase") == "Running":  # started by an earlier LocalNode; its process is gone
            self._done.add(uid)
            self._patch_status(core, pod, podspecs.start_failed_status(
                pod, reason="NodeRestarted", message="LocalNode restarted and lost this pod's process", now=_now()))
            return
        self._start(core, pod)

    def _bind(self, core: client.CoreV1Api, pod: dict[str, Any]) -> None:
        body = {"apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]},
                "target": {"apiVersion": "v1", "kind": "Node", "name": self.name}}
        try:
            core.create_namespaced_pod_binding(pod["metadata"]["name"], pod["metadata"]["namespace"], body,
                                               _preload_content=False)
        except ApiException as error:
            if error.status not in (404, 409):  # gone, or already bound
                raise

    # -- running -----------------------------------------------------------------------------------------------

    def _lookup(self, core: client.CoreV1Api, kind: str) -> podspecs.Lookup:
        def read(namespace: str, name: str) -> dict[str, str] | None:
            try:
                if kind == "Secret":
                    secret = core.read_namespaced_secret(name, namespace)
                    return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}
                config_map = core.read_namespaced_config_map(name, namespace)
                return dict(config_map.data or {})
            except ApiException as error:
                if error.status == 404:
                    return None
                raise

        return read

    def _start(self, core: client.CoreV1Api, pod: dict[str, Any]) -> None:
        metadata = pod["metadata"]
        uid = metadata["uid"]
        reason = podspecs.unsupported_reason(pod)
        if reason is not None:
            self._fail_start(core, pod, "UnsupportedByLocalNode", reason)
            return
        pod_dir = self.pod_dir(metadata["namespace"], metadata["name"], uid)
        try:
            plan = podspecs.plan_pod(pod, pod_dir=str(pod_dir), base_path=self._base_path,
                                     secrets=self._lookup(core, "Secret"), config_maps=self._lookup(core, "ConfigMap"))
        except podspecs.ConfigError as error:
            # As a kubelet does (CreateContainerConfigError): stay Pending and try again on the next event.
            self._retry_at[uid] = time.monotonic() + _CONFIG_RETRY_SECONDS
            waiting = {"reason": "CreateContainerConfigError", "message": str(error)}
            statuses = pod.get("status", {}).get("containerStatuses") or [{}]
            if statuses[0].get("state", {}).get("waiting") != waiting:
                log.info("localnode: %s waits: %s", podspecs.pod_key(pod), error)
                container = pod["spec"]["containers"][0]
                self._patch_status(core, pod, {"containerStatuses": [{
                    "name": container["name"], "image": container.get("image", ""), "imageID": "", "ready": False,
                    "restartCount": 0, "state": {"waiting": waiting}}]})
            return
        for directory in [*plan.mounts.values(), plan.env["HOME"], plan.cwd]:
            if directory != plan.termination_message_path:
                Path(directory).mkdir(parents=True, exist_ok=True)
        executable = plan.argv[0] if "/" in plan.argv[0] else shutil.which(plan.argv[0], path=plan.env["PATH"])
        if executable is None or not os.access(executable, os.X_OK):
            self._fail_start(core, pod, "StartError",
                             f'exec: "{plan.argv[0]}": executable file not found on this machine (LocalNode runs '
                             "the command locally; the image is not pulled)")
            return
        process = ManagedProcess(podspecs.pod_key(pod), [executable, *plan.argv[1:]], env=plan.env, cwd=Path(plan.cwd),
                                 log_path=self.log_path(metadata["namespace"], metadata["name"], uid))
        started_at = _now()
        process.start()
        container = _Container(podspecs.pod_key(pod), uid, plan, process, started_at)
        self._running[uid] = container
        pid = process.pid or 0
        threading.Thread(target=self._wait_for_exit, args=(container,), name=f"localnode-wait-{pid}",
                         daemon=True).start()
        self._patch_status(core, pod, podspecs.running_status(plan, pid=pid, started_at=started_at, now=_now()))

    def _fail_start(self, core: client.CoreV1Api, pod: dict[str, Any], reason: str, message: str) -> None:
        self._done.add(pod["metadata"]["uid"])
        log.warning("localnode: %s failed to start: %s", podspecs.pod_key(pod), message)
        self._patch_status(core, pod, podspecs.start_failed_status(pod, reason=reason, message=message, now=_now()))

    def _wait_for_exit(self, container: _Container) -> None:
        popen = container.process._popen
        if popen is not None:
            popen.wait()
        self._events.put(("exited", container))

    def _report_exit(self, core: client.CoreV1Api, container: _Container) -> None:
        self._running.pop(container.uid, None)
        self._done.add(container.uid)
        container.process.signal_group(signal.SIGKILL)  # anything it left behind in its group
        exit_code = podspecs.kubelet_exit_code(container.process.returncode or 0)
        message_file = Path(container.plan.termination_message_path)
        file_text = message_file.read_text(errors="replace") if message_file.is_file() else ""
        message = podspecs.termination_message(file_text, tail(container.process.log_path, lines=80),
                                               exit_code=exit_code, policy=container.plan.termination_message_policy)
        namespace, name = container.key.split("/", 1)
        pod = {"metadata": {"namespace": namespace, "name": name, "uid": container.uid}}
        status = podspecs.terminated_status(container.plan, pid=container.process.pid or 0, exit_code=exit_code,
                                            started_at=container.started_at, finished_at=_now(), message=message,
                                            now=_now())
        self._patch_status(core, pod, status)
        if container.kill_at is not None:
            self._finish_deletion(core, pod)

    # -- deletion ----------------------------------------------------------------------------------------------

    def _delete(self, core: client.CoreV1Api, pod: dict[str, Any]) -> None:
        uid = pod["metadata"]["uid"]
        container = self._running.get(uid)
        if container is None:
            self._done.add(uid)
            self._finish_deletion(core, pod)
            return
        if container.kill_at is None:
            grace = pod["metadata"].get("deletionGracePeriodSeconds")
            grace = 30 if grace is None else int(grace)
            container.kill_at = time.monotonic() + grace
            container.process.signal_group(signal.SIGTERM if grace > 0 else signal.SIGKILL)

    def _finish_deletion(self, core: client.CoreV1Api, pod: dict[str, Any]) -> None:
        uid = pod["metadata"]["uid"]
        if uid in self._finalized:
            return
        self._finalized.add(uid)
        with contextlib.suppress(ApiException):  # 404: already gone; 409: a different pod by now
            # With a body, the API server reads the options from it and ignores query parameters.
            core.delete_namespaced_pod(pod["metadata"]["name"], pod["metadata"]["namespace"],
                                       body={"gracePeriodSeconds": 0, "preconditions": {"uid": uid}})

    def _patch_status(self, core: client.CoreV1Api, pod: dict[str, Any], status: dict[str, Any]) -> None:
        try:
            core.patch_namespaced_pod_status(pod["metadata"]["name"], pod["metadata"]["namespace"],
                                             {"metadata": {"uid": pod["metadata"]["uid"]}, "status": status},
                                             _content_type=STRATEGIC_MERGE)
        except ApiException as error:
            if error.status not in (404, 409, 422):
                raise
            log.info("localnode: status of %s not written (%s)", podspecs.pod_key(pod), error.status)
