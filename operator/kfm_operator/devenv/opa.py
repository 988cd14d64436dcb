"""A real OPA server (`opa run --server`) on loopback, serving the policies in a directory.

Decision logs go to the console logger, i.e. into the server's log file next to its other logs. Telemetry (the
version check) is off: nothing leaves the machine.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from kfm_operator.devenv.ports import LOOPBACK, free_port
from kfm_operator.devenv.processes import ManagedProcess
from kfm_operator.devenv.tools import tool_path

__all__ = ["OpaServer"]

START_TIMEOUT = 30.0


class OpaServer:
    """`opa run --server` on 127.0.0.1 with `policy_dir` loaded (and watched for changes); a context manager."""

    def __init__(self, workdir: Path, policy_dir: Path, *, port: int | None = None) -> None:
        self.workdir = workdir
        self.policy_dir = policy_dir
        self.port = port or free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.log_path = workdir / "logs" / "opa.log"
        self.process = ManagedProcess(
            "opa",
            [
                str(tool_path("opa")),
                "run",
                "--server",
                f"--addr={LOOPBACK}:{self.port}",
                "--disable-telemetry",
                "--log-format=json",
                "--log-level=info",
                "--set=decision_logs.console=true",
                "--watch",
                str(policy_dir),
            ],
            log_path=self.log_path,
            cwd=workdir,
        )

    def __enter__(self) -> OpaServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> OpaServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process.start()
        try:
            self.process.wait_until(self.healthy, timeout=START_TIMEOUT, what="healthy")
        except BaseException:
            self.process.stop()
            raise
        return self

    def stop(self) -> None:
        self.process.stop()

    def healthy(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)

    def query(self, path: str, input_document: Any) -> Any:
        """POST /v1/data/<path> with `input`; the full response (result absent when undefined)."""
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{self.url}/v1/data/{path.strip('/')}",
            data=json.dumps({"input": input_document}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return json.loads(response.read())
