"""Small helpers for building findings: JSON pointers into a document and bounded messages."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["bounded", "pointer"]

MESSAGE_LIMIT = 500  # findings end up in status conditions and ledger entries; keep each one short


def pointer(document: str, parts: Iterable[str | int] = ()) -> str:
    """`<document>#/a/b/0` (RFC 6901, with ~ and / escaped)."""
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return f"{document}#/" + "/".join(escaped) if escaped else document


def bounded(message: str) -> str:
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 1] + "…"
