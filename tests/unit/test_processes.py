"""Child process handling: clear errors naming the component and its log, and nothing left running."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from kfm_operator.devenv import tools
from kfm_operator.devenv.ports import free_port, port_is_free
from kfm_operator.devenv.processes import DevEnvError, ManagedProcess, tail
from tests.support import wait_for


def test_a_process_that_dies_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    process = ManagedProcess("widget", ["sh", "-c", "echo 'listen tcp: address already in use'; exit 3"],
                             log_path=tmp_path / "widget.log").start()
    with pytest.raises(DevEnvError) as caught:
        process.wait_until(lambda: False, timeout=10, what="ready")
    message = str(caught.value)
    assert message.startswith("widget: exited with code 3 while waiting for ready")
    assert str(tmp_path / "widget.log") in message
    assert "address already in use" in message


def test_a_process_that_never_gets_ready_is_stopped_by_its_owner(tmp_path: Path) -> None:
    process = ManagedProcess("sleeper", ["sleep", "60"], log_path=tmp_path / "s.log").start()
    with pytest.raises(DevEnvError, match="sleeper: not ready after 0 s"):
        process.wait_until(lambda: False, timeout=0.3, what="ready")
    process.stop()
    assert not process.running()


def test_stop_kills_the_whole_process_group_even_when_sigterm_is_ignored(tmp_path: Path) -> None:
    script = "trap '' TERM; sleep 300 & echo $! > child.pid; wait"
    process = ManagedProcess("stubborn", ["sh", "-c", script], log_path=tmp_path / "s.log", cwd=tmp_path,
                             stop_timeout=0.5).start()
    pid_file = tmp_path / "child.pid"
    process.wait_until(pid_file.exists, timeout=10, what="child started")
    grandchild = int(pid_file.read_text())
    process.stop()
    assert not process.running()
    wait_for(f"grandchild {grandchild} to be gone", lambda: _gone(grandchild), timeout=10)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_a_missing_executable_names_the_component(tmp_path: Path) -> None:
    with pytest.raises(DevEnvError, match="etcd: executable not found: /nonexistent/etcd"):
        ManagedProcess("etcd", ["/nonexistent/etcd"], log_path=tmp_path / "e.log").start()


def test_a_missing_tool_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFM_TOOLS_DIR", str(tmp_path))
    with pytest.raises(DevEnvError, match=r"kube-apiserver v1\.37\.2 not found at .*: run scripts/install-tools"):
        tools.tool_path("kube-apiserver")


def test_pypi_tools_come_from_the_virtualenv_not_the_path() -> None:
    assert tools.tool_path("kubectl") == Path(sys.executable).parent / "kubectl"


def test_free_ports_are_free_distinct_and_below_the_ephemeral_range() -> None:
    ports = {free_port() for _ in range(20)}
    assert len(ports) == 20
    assert all(p < 32768 and port_is_free(p) for p in ports)
    admin = free_port(low=10000, high=22000, plus=(10000,))
    assert admin + 10000 < 32768 and port_is_free(admin + 10000)


def test_tail_returns_the_last_lines_of_a_log(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"{i}\n" for i in range(100)))
    assert tail(log, lines=3) == "97\n98\n99"
    assert tail(tmp_path / "missing.log") == "(no log written)"
    assert os.path.exists(log)
