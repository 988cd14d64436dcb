"""Free TCP ports on 127.0.0.1 for the local servers.

Ports come from below the ephemeral range (32768-60999 here): SeaweedFS needs that, and it keeps our fixed choices
out of the way of the kernel's outgoing connections. A port is handed out once per process.
"""

from __future__ import annotations

import random
import socket
import threading

__all__ = ["LOOPBACK", "free_port", "port_is_free"]

LOOPBACK = "127.0.0.1"
_LOW, _HIGH = 20000, 32767
_given: set[int] = set()
_lock = threading.Lock()


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port(*, low: int = _LOW, high: int = _HIGH, plus: tuple[int, ...] = ()) -> int:
    """A free port p in [low, high] such that p + each offset in `plus` is free as well (and below 32768)."""
    with _lock:
        for _ in range(500):
            port = random.randint(low, high)  # noqa: S311 - not security relevant
            wanted = [port, *(port + offset for offset in plus)]
            if any(p > _HIGH or p in _given for p in wanted):
                continue
            if all(port_is_free(p) for p in wanted):
                _given.update(wanted)
                return port
    raise RuntimeError(f"no free port found on {LOOPBACK} in {low}-{high}")
