"""Shared field types and sub-objects of the kfm.dev/v1alpha1 kinds.

Every constrained string is an Annotated type here so that the pydantic model (used by the operator) and the CRD
schema (enforced by the API server) are the same rule. Patterns are RE2-compatible: the API server checks them
with Go's regexp, pydantic with Rust's; neither has look-around.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

__all__ = [
    "DNS_LABEL",
    "GROUP",
    "VERSION",
    "Condition",
    "ConditionStatus",
    "Digest",
    "DnsLabel",
    "KfmModel",
    "LedgerRef",
    "ObjectName",
    "ObservedGeneration",
    "Zone",
    "cel_rules",
    "list_map",
]

GROUP = "kfm.dev"
VERSION = "v1alpha1"
DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"


class KfmModel(BaseModel):
    """Base of every API object part: camelCase on the wire, unknown fields refused, values validated."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid",
                              validate_default=True, use_enum_values=True)


def list_map(*keys: str) -> JsonDict:
    """Schema extras for a list the API server treats as a map keyed by `keys` (duplicates are refused)."""
    return {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": list(keys)}


def cel_rules(*rules: tuple[str, str]) -> JsonDict:
    """Schema extras with CEL validation rules, each (rule, message telling the user what to do)."""
    return {"x-kubernetes-validations": [{"rule": rule, "message": message} for rule, message in rules]}


DnsLabel = Annotated[str, Field(min_length=1, max_length=63, pattern=f"^{DNS_LABEL}$")]
ObjectName = Annotated[str, Field(min_length=1, max_length=253,
                                  pattern=rf"^{DNS_LABEL}(\.{DNS_LABEL})*$")]
Digest = Annotated[str, Field(max_length=71, pattern="^sha256:[a-f0-9]{64}$")]  # the pattern fixes the length
ObservedGeneration = Annotated[int, Field(ge=0, description=(
    "observedGeneration is the metadata.generation the operator last acted on; when it is lower than "
    "metadata.generation, the status describes an older spec."))]


class Zone(StrEnum):
    """The zones of the truth path; each is a prefix in the environment's bucket."""

    RAW = "raw"
    WORK = "work"
    QUARANTINE = "quarantine"
    PROCESSED = "processed"
    PUBLISHED = "published"


ZONE_DESCRIPTION = (
    "raw (inputs as delivered), work (being materialized), quarantine (materialized but a gate found problems), "
    "processed (materialized and validated, not visible to runtime readers), published (promoted; runtime "
    "readers see it)."
)


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(KfmModel):
    """One aspect of the object's current state, in the shape of metav1.Condition."""

    type: str = Field(max_length=316, pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                      r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
                      description="type of the condition in CamelCase, e.g. Ready, Reconciling, Stalled.")
    status: ConditionStatus = Field(description="status of the condition: True, False or Unknown.")
    observed_generation: int | None = Field(default=None, ge=0, description=(
        "observedGeneration is the metadata.generation this condition was set for."))
    last_transition_time: datetime = Field(description=(
        "lastTransitionTime is when the condition last changed status (not when it was last written)."))
    reason: str = Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
                        description="reason is a CamelCase word a program can match on, e.g. InputDigestMismatch.")
    message: str = Field(max_length=32768, description=(
        "message says in words for a person what happened and, where something is wrong, what to do."))


class LedgerRef(KfmModel):
    """Where the outcome was recorded in the audit ledger."""

    index: int = Field(ge=0, description="index of the entry in the ledger (0-based).")
    leaf_hash: str = Field(max_length=64, pattern="^[a-f0-9]{64}$", description=(
        "leafHash is the RFC 9162 leaf hash (hex) of the entry; `kfm ledger prove` shows its inclusion proof."))
