"""Crash points: `crash_point("name")` ends the process at once (exit 137, as a SIGKILL would) when the
environment variable KFM_CRASH_AT names that point. The restart tests use them to kill the operator between two
durable effects, a fault no real component produces on demand (like etcd's gofail). Unset in production: a
no-op costing one dict lookup."""

from __future__ import annotations

import os
import sys

__all__ = ["crash_point"]


def crash_point(name: str) -> None:
    if os.environ.get("KFM_CRASH_AT") == name:
        sys.stderr.write(f"kfm: crash point {name} reached: exiting\n")
        sys.stderr.flush()
        os._exit(137)
