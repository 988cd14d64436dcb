"""What can go wrong with the ledger, by meaning. Store errors (Unavailable, ...) pass through unchanged."""

from __future__ import annotations

__all__ = ["LedgerBusy", "LedgerCorrupt", "LedgerError"]


class LedgerError(Exception):
    """Base of the ledger's own errors."""


class LedgerCorrupt(LedgerError):
    """Stored data contradicts itself or the checkpoint (a flipped byte, a missing tile, a forged signature).
    Needs a person: never retried, never repaired silently. `index` and `path` name the first bad place."""

    def __init__(self, message: str, *, index: int | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.index = index
        self.path = path


class LedgerBusy(LedgerError):
    """Other writers kept winning the checkpoint race for longer than the retry budget: retry later."""
