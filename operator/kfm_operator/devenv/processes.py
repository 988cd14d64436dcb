"""Child processes for the local environment: own process group, logs to a file, never orphaned.

Every server and every pod process the devenv starts goes through `ManagedProcess`. The child gets its own process
group (so a stop reaches anything it forks) and `PR_SET_PDEATHSIG=SIGKILL` (so it dies with the thread that started
it, also when the parent is SIGKILLed). Callers therefore start children from a thread that lives as long as the
children should.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = ["DevEnvError", "ManagedProcess", "tail"]

_PR_SET_PDEATHSIG = 1
_LOG_TAIL_LINES = 25


class DevEnvError(RuntimeError):
    """A local component could not be started or used; the message names it and its log."""


def tail(path: Path, lines: int = _LOG_TAIL_LINES, max_bytes: int = 64 * 1024) -> str:
    """The last `lines` lines of a (possibly large or missing) text file."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except FileNotFoundError:
        return "(no log written)"
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


# Resolved once, before any fork: the child must run as little Python as possible between fork and exec.
_prctl = ctypes.CDLL(None, use_errno=True).prctl


def _die_with(parent: int) -> Callable[[], None]:
    def preexec() -> None:
        # Runs in the child between fork and exec: SIGKILL when the thread that started it goes away.
        if _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0 or os.getppid() != parent:
            os._exit(126)  # prctl failed, or the parent died before it took effect

    return preexec


class ManagedProcess:
    """One child process with its output in `log_path`.

    `start()` raises DevEnvError if the executable is missing; `wait_until(...)` raises DevEnvError (naming the
    component, the log file and its last lines) if the process exits or the deadline passes first. `stop()` is
    idempotent: SIGTERM to the group, then SIGKILL after `stop_timeout` seconds.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stop_timeout: float = 10.0,
        die_with_parent: bool = True,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.stop_timeout = stop_timeout
        self.die_with_parent = die_with_parent
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    @property
    def returncode(self) -> int | None:
        return self._popen.poll() if self._popen else None

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def start(self) -> ManagedProcess:
        if self._popen is not None:
            raise DevEnvError(f"{self.name}: already started (pid {self._popen.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                process_group=0,
                preexec_fn=_die_with(os.getpid()) if self.die_with_parent else None,  # noqa: PLW1509
                close_fds=True,
            )
        except FileNotFoundError as error:
            raise DevEnvError(f"{self.name}: executable not found: {self.argv[0]}") from error
        except PermissionError as error:
            raise DevEnvError(f"{self.name}: cannot execute {self.argv[0]}: {error}") from error
        finally:
            log.close()
        return self

    def failure(self, what: str) -> DevEnvError:
        """An error naming this component, what went wrong, its log file and the log's last lines."""
        return DevEnvError(f"{self.name}: {what}\nlog: {self.log_path}\n--- last lines ---\n{tail(self.log_path)}")

    def wait_until(self, ready: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
        """Poll `ready()` until it is true; fail if the process exits or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running():
                raise self.failure(f"exited with code {self.returncode} while waiting for {what}")
            with contextlib.suppress(Exception):
                if ready():
                    return
            if time.monotonic() >= deadline:
                raise self.failure(f"not {what} after {timeout:.0f} s")
            time.sleep(interval)

    def signal_group(self, signum: int) -> None:
        if self._popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signum)

    def stop(self, timeout: float | None = None) -> int | None:
        """Stop the process and its group; returns its exit code (None if it was never started)."""
        if self._popen is None:
            return None
        grace = self.stop_timeout if timeout is None else timeout
        if self._popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            try:
                self._popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self._popen.wait(5)
        # Whatever the leader left in its group goes too.
        self.signal_group(signal.SIGKILL)
        return self._popen.returncode
