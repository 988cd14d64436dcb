"""The transform contract: (inputs by name, parameters, a work directory) -> outputs and catalog facts.

A transform must be deterministic: the same input bytes and parameters give byte-identical outputs, so a Job that
runs twice writes the same content-addressed artifacts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Output", "Spatial", "Transform", "TransformError", "TransformResult"]


class TransformError(Exception):
    """The inputs or parameters do not allow the transform to run; the message says what to change."""


@dataclass(frozen=True)
class Output:
    name: str
    path: Path
    media_type: str
    roles: tuple[str, ...] = ("data",)


@dataclass(frozen=True)
class Spatial:
    bbox: tuple[float, float, float, float]  # west, south, east, north
    geometry: dict[str, Any]  # GeoJSON geometry covering the data


@dataclass(frozen=True)
class TransformResult:
    outputs: list[Output]
    spatial: Spatial | None = None
    temporal: tuple[str, str] | None = None  # RFC 3339 start, end when the data carries time
    properties: dict[str, Any] = field(default_factory=dict)  # e.g. {"kfm:rows": 78}


class Transform(Protocol):
    def __call__(self, inputs: Mapping[str, Path], parameters: Mapping[str, Any], workdir: Path) -> TransformResult:
        ...
