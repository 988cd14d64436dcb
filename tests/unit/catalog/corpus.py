"""The fixture corpus: valid triplets (fixtures/valid/<case>/) and invalid cases (fixtures/invalid/<case>.json),
each an edit of a valid base — delete documents, replace a document's text, or JSON-Patch (add/remove/replace)
its content — and the finding code it must produce.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
VALID = sorted(p.name for p in (FIXTURES / "valid").iterdir() if p.is_dir())
INVALID = sorted(p.stem for p in (FIXTURES / "invalid").glob("*.json"))


@dataclass(frozen=True)
class InvalidCase:
    name: str
    description: str
    base: str
    expect: str
    change: dict[str, Any]


def invalid_case(name: str) -> InvalidCase:
    raw = json.loads((FIXTURES / "invalid" / f"{name}.json").read_text())
    change = {k: raw[k] for k in ("delete", "replace", "patch") if k in raw}
    return InvalidCase(name, raw["description"], raw["base"], raw["expect"], change)


def _tokens(path: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:]]


def _parent(document: Any, path: str) -> tuple[Any, str]:
    *parents, last = _tokens(path)
    node = document
    for token in parents:
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node, last


def apply_patch(document: Any, operations: list[dict[str, Any]]) -> Any:
    """The RFC 6902 operations add, remove and replace (enough for the corpus)."""
    for operation in operations:
        parent, key = _parent(document, operation["path"])
        if operation["op"] == "remove":
            del parent[int(key) if isinstance(parent, list) else key]
        elif operation["op"] == "add" and isinstance(parent, list):
            parent.insert(len(parent) if key == "-" else int(key), operation["value"])
        elif operation["op"] in ("add", "replace"):
            if operation["op"] == "replace":
                _ = parent[int(key) if isinstance(parent, list) else key]  # must exist
            parent[int(key) if isinstance(parent, list) else key] = operation["value"]
        else:
            raise ValueError(f"unsupported operation {operation}")
    return document


def materialise(case: InvalidCase, target: Path) -> Path:
    """Write the base triplet with the case's edit applied into `target`; returns `target`."""
    shutil.copytree(FIXTURES / "valid" / case.base, target)
    for name in case.change.get("delete", []):
        (target / name).unlink()
    for name, text in case.change.get("replace", {}).items():
        (target / name).write_text(text)
    for name, operations in case.change.get("patch", {}).items():
        document = apply_patch(json.loads((target / name).read_text()), operations)
        (target / name).write_text(json.dumps(document, indent=2))
    return target
