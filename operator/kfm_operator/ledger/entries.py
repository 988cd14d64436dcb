"""Ledger entries: the frozen `Entry` model and its canonical bytes (RFC 8785 JSON), which are what the log hashes.

Handlers build an Entry (kind, idempotency key, time, subject, payload, digests, correlation) and hand it to
`Ledger.append`; readers get it back with `Entry.from_canonical`, which refuses bytes that are not exactly the
canonical form (so two encodings of one entry can never both be in the log).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

__all__ = [
    "MAX_ENTRY_BYTES",
    "Correlation",
    "Entry",
    "EntryError",
    "EntryKind",
    "Subject",
    "format_time",
]

# tlog-tiles entry bundles prefix each entry with a big-endian uint16 length.
MAX_ENTRY_BYTES = 0xFFFF

EntryKind = Literal["run.receipt", "promotion.decision", "promotion.whatif", "rebuild.receipt", "exception.used"]
_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"
_Digest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


class EntryError(ValueError):
    """Bytes that are not a canonical ledger entry, or an entry too large for an entry bundle."""


def format_time(moment: datetime) -> str:
    """An aware datetime as the entry's `time`: RFC 3339 in UTC with a Z, microseconds only when non-zero."""
    if moment.tzinfo is None:
        raise EntryError("entry time must be timezone-aware")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Subject(_Frozen):
    """The Kubernetes object the entry is about."""

    api_version: str = Field(alias="apiVersion", min_length=1)
    kind: str = Field(min_length=1)
    namespace: str = ""
    name: str = Field(min_length=1)
    uid: str = Field(min_length=1)


class Correlation(_Frozen):
    run_id: str | None = None
    dataset_version_id: str | None = None


class Entry(_Frozen):
    """One ledger entry; `key` makes appends idempotent (e.g. promotion/<uid>/<generation>)."""

    kind: EntryKind
    key: str = Field(min_length=1, max_length=1024)
    time: str = Field(pattern=_TIME, description="RFC 3339 UTC, see format_time")
    subject: Subject
    payload: dict[str, Any] = Field(default_factory=dict)
    digests: dict[str, _Digest] = Field(default_factory=dict, description="artifact name -> sha256:<hex>")
    correlation: Correlation = Field(default_factory=Correlation)

    def canonical_bytes(self) -> bytes:
        """RFC 8785 canonical JSON; EntryError if longer than an entry bundle can hold (65535 bytes)."""
        data = rfc8785.dumps(self.model_dump(mode="json", by_alias=True))
        if len(data) > MAX_ENTRY_BYTES:
            raise EntryError(f"entry {self.key!r} is {len(data)} bytes; at most {MAX_ENTRY_BYTES} fit a bundle")
        return data

    @classmethod
    def from_canonical(cls, data: bytes) -> Entry:
        """Parse stored bytes; EntryError unless they are valid and exactly the canonical encoding."""
        try:
            entry = cls.model_validate(json.loads(data))
        except (ValueError, ValidationError) as error:
            raise EntryError(f"not a ledger entry: {error}") from error
        if entry.canonical_bytes() != data:
            raise EntryError(f"entry {entry.key!r} is not in canonical (RFC 8785) form")
        return entry

