"""A backstop against network access while the catalog gate validates: an audit hook (PEP 578) that refuses
socket connects, name lookups and urllib requests, so a remote schema or JSON-LD context that slipped past the
offline registries fails at once instead of hanging in a locked-down cluster.

An audit hook cannot be removed, so it is installed once and acts only while `refusing_network()` is active in the
current thread (a ContextVar; new threads start without it), leaving the operator's Kubernetes and S3 clients alone.
Called by gates.catalog.gate.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NetworkGuard", "NetworkRefused", "refusing_network"]

_REFUSED_EVENTS = frozenset({
    "socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.sendto",
    "socket.sendmsg", "urllib.Request", "http.client.connect", "ftplib.connect", "smtplib.connect",
})


class NetworkRefused(RuntimeError):
    """A validator tried to reach the network during catalog validation."""


@dataclass
class NetworkGuard:
    """What was refused during one validation; a library that swallows the exception is still caught here."""

    refused: list[str] = field(default_factory=list)


_ACTIVE: ContextVar[NetworkGuard | None] = ContextVar("kfm_catalog_network_guard", default=None)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event not in _REFUSED_EVENTS:
        return
    guard = _ACTIVE.get()
    if guard is None:
        return
    attempt = f"{event} {args!r}"[:300]
    guard.refused.append(attempt)
    raise NetworkRefused(f"network access refused during catalog validation: {attempt}")


@functools.cache
def _install() -> None:
    # Cached so the hook is added once per process; a race adds it twice, which is harmless (both hooks act alike).
    sys.addaudithook(_audit)


@contextmanager
def refusing_network() -> Iterator[NetworkGuard]:
    """Refuse network access in this thread (and contexts copied from it) until the block ends."""
    _install()
    guard = NetworkGuard()
    token = _ACTIVE.set(guard)
    try:
        yield guard
    finally:
        _ACTIVE.reset(token)
