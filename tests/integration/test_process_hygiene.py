"""Every process the servers start listens only on 127.0.0.1, and none is left after a stop or a kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from kfm_operator.devenv import ControlPlane, LocalNode, OpaServer, S3Server
from tests.support import wait_for

pytestmark = pytest.mark.timeout(240)


def listening_addresses(pids: list[int]) -> set[str]:
    addresses = set()
    for connection in psutil.net_connections(kind="inet"):
        if connection.pid in pids and connection.status == psutil.CONN_LISTEN:
            addresses.add(connection.laddr.ip)
    return addresses


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_servers_listen_on_loopback_only_and_leave_nothing_after_stop(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    plane = ControlPlane(tmp_path / "cp")
    opa = OpaServer(tmp_path / "opa", policies)
    s3 = S3Server(tmp_path / "s3")
    with plane, opa, s3, LocalNode(plane.kubeconfig, tmp_path / "node"):
        pids = [*plane.pids(), opa.process.pid, s3.process.pid]
        assert len(pids) == 5 and all(pid is not None for pid in pids)
        # S3 opens its gRPC listeners a moment after /healthz answers.
        wait_for("all SeaweedFS listeners", lambda: len([c for c in psutil.net_connections(kind="inet")
                                                         if c.pid == s3.process.pid
                                                         and c.status == psutil.CONN_LISTEN]) >= 10, timeout=15)
        assert listening_addresses(pids) == {"127.0.0.1"}
    for pid in pids:
        assert not alive(pid), f"process {pid} survived its stop"


def test_a_killed_owner_takes_its_servers_along(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import json, pathlib, sys, time
        from kfm_operator.devenv import OpaServer, S3Server
        root = pathlib.Path({str(tmp_path)!r})
        (root / "policies").mkdir()
        opa = OpaServer(root / "opa", root / "policies").start()
        s3 = S3Server(root / "s3").start()
        print(json.dumps([opa.process.pid, s3.process.pid]), flush=True)
        time.sleep(600)
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        pids = json.loads(owner.stdout.readline())
        assert all(alive(pid) for pid in pids)
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(10)
        for pid in pids:
            wait_for(f"server process {pid} to die with its owner", lambda pid=pid: not alive(pid), timeout=15)
    finally:
        owner.kill()
