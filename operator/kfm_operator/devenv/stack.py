"""The whole local environment for a person: control plane, LocalNode, OPA and S3, run by a background supervisor.

`kfm dev up` starts `kfm dev serve` detached; the supervisor starts every component (its children die with it),
writes `<dir>/kubeconfig`, `<dir>/env` and `<dir>/state.json`, and stops everything on SIGTERM. `status` reads the
state and asks each component for its health; `down` signals the supervisor and waits.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client

from kfm_operator.devenv import kubeconfigs
from kfm_operator.devenv.controlplane import ControlPlane
from kfm_operator.devenv.localnode import LocalNode
from kfm_operator.devenv.opa import OpaServer
from kfm_operator.devenv.processes import DevEnvError, tail
from kfm_operator.devenv.s3 import S3Server

__all__ = ["DEFAULT_BUCKET", "ComponentHealth", "DevStack", "down", "serve", "status", "up"]

DEFAULT_BUCKET = "kfm-dev"
UP_TIMEOUT = 180.0
DOWN_TIMEOUT = 60.0


@dataclass(frozen=True)
class ComponentHealth:
    name: str
    healthy: bool
    detail: str


class DevStack:
    """All local components under `state_dir`; `start()` then `stop()` (in reverse order)."""

    def __init__(self, state_dir: Path, policy_dir: Path) -> None:
        self.state_dir = state_dir
        self.policy_dir = policy_dir
        self.control_plane = ControlPlane(state_dir / "control-plane")
        self.s3 = S3Server(state_dir / "s3")
        self.opa = OpaServer(state_dir / "opa", policy_dir)
        self.node: LocalNode | None = None

    def start(self) -> DevStack:
        try:
            self.control_plane.start()
            self.node = LocalNode(self.control_plane.kubeconfig, self.state_dir / "localnode").start()
            self.s3.start()
            if DEFAULT_BUCKET not in {b["Name"] for b in self.s3.client().list_buckets().get("Buckets", [])}:
                self.s3.create_bucket(DEFAULT_BUCKET)
            self.opa.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.node is not None:
            self.node.stop()
        self.opa.stop()
        self.s3.stop()
        self.control_plane.stop()

    def state(self) -> dict[str, Any]:
        return {
            "supervisor": os.getpid(),
            "kubeconfig": str(self.state_dir / "kubeconfig"),
            "apiServer": self.control_plane.server,
            "s3": {"endpoint": self.s3.endpoint, "bucket": DEFAULT_BUCKET, "pid": self.s3.process.pid
                   if self.s3.process else None},
            "opa": {"url": self.opa.url, "policies": str(self.policy_dir), "pid": self.opa.process.pid},
            "controlPlane": {p.name: p.pid for p in self.control_plane.processes},
            "logs": str(self.state_dir),
        }

    def environment(self) -> dict[str, str]:
        return {
            "KUBECONFIG": str(self.state_dir / "kubeconfig"),
            **self.s3.environment(),
            "KFM_S3_BUCKET": DEFAULT_BUCKET,
            "KFM_OPA_URL": self.opa.url,
        }


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600)
    path.write_text(text)


def serve(state_dir: Path, policy_dir: Path) -> int:
    """Run the stack in the foreground until SIGTERM/SIGINT (the supervisor behind `kfm dev up`)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stack = DevStack(state_dir, policy_dir)
    state_file = state_dir / "state.json"
    try:
        stack.start()
    except DevEnvError as error:
        _write_private(state_file, json.dumps({"supervisor": os.getpid(), "error": str(error)}))
        print(error, file=sys.stderr)
        return 1
    try:
        _write_private(state_dir / "kubeconfig", stack.control_plane.kubeconfig.read_text())
        _write_private(state_dir / "env", "".join(f"export {k}={shlex.quote(v)}\n" for k, v in
                                                  stack.environment().items()))
        _write_private(state_file, json.dumps({**stack.state(), "ready": True}, indent=2))
        while not stop.wait(1.0):
            pass
    finally:
        stack.stop()
        with contextlib.suppress(FileNotFoundError):
            state_file.unlink()
    return 0


def _read_state(state_dir: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads((state_dir / "state.json").read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def up(state_dir: Path, policy_dir: Path) -> dict[str, Any]:
    """Start the supervisor in the background (or find it running); returns its state once ready."""
    state = _read_state(state_dir)
    if state and state.get("ready") and _alive(state.get("supervisor")):
        return state
    state_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (state_dir / "state.json").unlink()
    log_path = state_dir / "supervisor.log"
    with log_path.open("ab") as log:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "kfm_operator.cli", "dev", "serve", "--dir", str(state_dir),
             "--policies", str(policy_dir)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    deadline = time.monotonic() + UP_TIMEOUT
    while time.monotonic() < deadline:
        state = _read_state(state_dir)
        if state and state.get("ready"):
            return state
        if supervisor.poll() is not None:
            detail = (state or {}).get("error") or tail(log_path)
            raise DevEnvError(f"kfm dev: the environment did not start:\n{detail}\nlog: {log_path}")
        time.sleep(0.2)
    supervisor.terminate()
    raise DevEnvError(f"kfm dev: not ready after {UP_TIMEOUT:.0f} s\nlog: {log_path}\n{tail(log_path)}")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except OSError:
        return False


def status(state_dir: Path) -> list[ComponentHealth]:
    """Each component and its health; empty when nothing runs."""
    state = _read_state(state_dir)
    if not state or not state.get("ready"):
        return []
    health = [ComponentHealth("supervisor", _alive(state["supervisor"]), f"pid {state['supervisor']}")]
    for name, pid in state["controlPlane"].items():
        health.append(ComponentHealth(name, _alive(pid), f"pid {pid}"))
    try:
        with kubeconfigs.api_client_from(Path(state["kubeconfig"])) as api:
            version = client.VersionApi(api).get_code().git_version
            node = client.CoreV1Api(api).read_node("kfm-local")
            conditions = node.status.conditions if node.status else None
            ready = next((c for c in conditions or [] if c.type == "Ready"), None)
        health.append(ComponentHealth("api", True, f"{state['apiServer']} ({version})"))
        health.append(ComponentHealth("localnode", bool(ready and ready.status == "True"), "node kfm-local"))
    except Exception as error:
        health.append(ComponentHealth("api", False, f"{state['apiServer']}: {error}"))
    health.append(ComponentHealth("s3", _http_ok(f"{state['s3']['endpoint']}/healthz"),
                                  f"{state['s3']['endpoint']} bucket {state['s3']['bucket']}"))
    health.append(ComponentHealth("opa", _http_ok(f"{state['opa']['url']}/health"), state["opa"]["url"]))
    return health


def down(state_dir: Path) -> bool:
    """Stop the supervisor and everything it started; False when nothing was running."""
    state = _read_state(state_dir)
    pid = int((state or {}).get("supervisor") or 0)
    if not _alive(pid):
        with contextlib.suppress(FileNotFoundError):
            (state_dir / "state.json").unlink()
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + DOWN_TIMEOUT
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)  # its children die with it (PR_SET_PDEATHSIG)
    with contextlib.suppress(FileNotFoundError):
        (state_dir / "state.json").unlink()
    return True
