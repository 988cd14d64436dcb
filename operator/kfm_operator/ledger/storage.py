"""The storage a ledger needs, as a Protocol: immutable objects written create-only, one checkpoint advanced by
compare-and-swap, listing, and a writer lock. Implemented by `filesystem.FileStorage` and `s3.S3Storage`; used only
by `log` and `verifying`.

Paths are relative ("checkpoint", "tile/0/000.p/5", "batches/000", "index/keys/<hex>"). Every path except
"checkpoint" is immutable: once created it never changes, and a second create of it reports that it existed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Protocol

__all__ = ["CHECKPOINT", "KEYS_PREFIX", "LedgerStorage"]

CHECKPOINT = "checkpoint"
KEYS_PREFIX = "index/keys/"


class LedgerStorage(Protocol):
    @property
    def location(self) -> str:
        """Where the ledger lives, for messages (a directory or an s3:// URI)."""

    def read(self, path: str) -> bytes | None:
        """The object's bytes, None if absent."""

    def create_many(self, objects: Mapping[str, bytes]) -> set[str]:
        """Create each object create-only and durably; returns the paths that already existed (left unchanged)."""

    def read_checkpoint(self) -> tuple[bytes, str] | None:
        """The checkpoint's bytes and a version token for `swap_checkpoint`; None if there is none yet."""

    def swap_checkpoint(self, data: bytes, expected: str | None) -> bool:
        """Replace the checkpoint if its version is still `expected` (None: only if absent); False if it moved."""

    def list(self, prefix: str) -> Iterator[str]:
        """Every stored path under `prefix`, in no particular order."""

    def writer_lock(self) -> AbstractContextManager[None]:
        """Held around one append: a real lock where the backend has one, else a no-op (CAS keeps writers safe)."""
