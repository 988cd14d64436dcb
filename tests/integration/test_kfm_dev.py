"""`kfm dev up | status | down` for a person: everything starts in the background, reports health, stops cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.timeout(240)


def kfm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kfm_operator.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=200, check=False)


def test_dev_up_status_down(tmp_path: Path) -> None:
    state_dir = tmp_path / ".kfm-dev"
    up = kfm("dev", "up", "--dir", str(state_dir), "--policies", str(tmp_path / "policies"), cwd=tmp_path)
    try:
        assert up.returncode == 0, up.stderr
        assert f"export KUBECONFIG={state_dir / 'kubeconfig'}" in up.stdout
        env_file = (state_dir / "env").read_text()
        assert "KFM_S3_ENDPOINT=http://127.0.0.1:" in env_file and "KFM_OPA_URL=" in env_file
        assert oct((state_dir / "env").stat().st_mode & 0o777) == "0o600"  # holds S3 credentials

        again = kfm("dev", "up", "--dir", str(state_dir), cwd=tmp_path)
        assert again.returncode == 0
        state = json.loads((state_dir / "state.json").read_text())
        assert f"supervisor pid {state['supervisor']}" in again.stdout  # the same one, not a second stack

        status = kfm("dev", "status", "--dir", str(state_dir), cwd=tmp_path)
        assert status.returncode == 0, status.stdout
        for component in ("etcd", "kube-apiserver", "kube-controller-manager", "localnode", "s3", "opa"):
            assert any(line.startswith("ok") and component in line for line in status.stdout.splitlines())

        kubectl = Path(sys.executable).parent / "kubectl"
        nodes = subprocess.run([str(kubectl), "--kubeconfig", str(state_dir / "kubeconfig"), "get", "nodes", "-o",
                                "name"], capture_output=True, text=True, timeout=30, check=True)
        assert nodes.stdout.strip() == "node/kfm-local"
        pids = [state["supervisor"], state["s3"]["pid"], state["opa"]["pid"], *state["controlPlane"].values()]
    finally:
        down = kfm("dev", "down", "--dir", str(state_dir), cwd=tmp_path)
    assert down.returncode == 0 and "stopped" in down.stdout
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    after = kfm("dev", "status", "--dir", str(state_dir), cwd=tmp_path)
    assert after.returncode == 1 and "not running" in after.stdout
