"""`copy`: every input becomes an output, byte for byte (and verified to be so)."""

from __future__ import annotations

import filecmp
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kfm_operator.pipeline.transforms.base import Output, TransformError, TransformResult

__all__ = ["copy"]


def copy(inputs: Mapping[str, Path], parameters: Mapping[str, Any], workdir: Path) -> TransformResult:
    media_types = parameters.get("mediaTypes", {})
    outputs = []
    for name, source in sorted(inputs.items()):
        target = workdir / name
        shutil.copyfile(source, target)
        if not filecmp.cmp(source, target, shallow=False):
            raise TransformError(f"copy of input {name!r} differs from its source")
        outputs.append(Output(name, target, str(media_types.get(name, "application/octet-stream"))))
    return TransformResult(outputs=outputs, properties={"kfm:files": len(outputs)})
