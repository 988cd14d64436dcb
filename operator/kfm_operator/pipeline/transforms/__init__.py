"""Transforms: registered under the entry-point group `kfm.transforms`; each turns verified inputs into outputs."""

from __future__ import annotations

from importlib.metadata import entry_points

from kfm_operator.pipeline.transforms.base import Output, Spatial, Transform, TransformError, TransformResult

__all__ = ["Output", "Spatial", "Transform", "TransformError", "TransformResult", "load", "registered"]

GROUP = "kfm.transforms"


def registered() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


def load(name: str) -> Transform:
    """The registered transform `name`; KeyError naming the known ones otherwise."""
    for entry_point in entry_points(group=GROUP, name=name):
        transform: Transform = entry_point.load()
        return transform
    raise KeyError(f"transform {name!r} is not registered (known: {', '.join(registered())})")
