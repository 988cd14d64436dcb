"""What every gate returns. A gate that could not be evaluated says so (passed=None); callers treat that exactly
like a failure for promotion (reported Blocked and retried, not Denied)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Finding", "GateResult"]


@dataclass(frozen=True)
class Finding:
    """One problem a gate found: a stable code a program can match, where, and what a person should know."""

    code: str  # stable, dotted lowercase, e.g. "stac.schema", "cross.checksum_mismatch"
    path: str  # where: a file name plus a JSON pointer or field path, e.g. "stac-item.json#/assets/data/href"
    message: str


@dataclass(frozen=True)
class GateResult:
    """The outcome of one gate: passed True (no findings), False (findings), or None (could not evaluate)."""

    name: str
    passed: bool | None
    findings: tuple[Finding, ...] = ()
    evidence: Mapping[str, str] = field(default_factory=dict)  # e.g. document name -> sha256 digest

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)
