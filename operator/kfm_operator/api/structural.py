"""Pydantic JSON Schema -> structural OpenAPI v3 schema as a CRD needs it.

Refs are inlined, Optional[X] becomes X (not required), titles go, `propertyNames` becomes a CEL rule. The result
is checked: every property has a description, every string, list, map and number is bounded — the API server's CEL
cost estimate needs the bounds, and `kubectl explain` shows the descriptions. A violation raises SchemaError with
the field's path, so a model cannot ship undocumented or unbounded.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["SchemaError", "structural_schema"]

_KEEP = {
    "type", "description", "properties", "required", "items", "enum", "format", "pattern", "minLength",
    "maxLength", "minItems", "maxItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "maxProperties", "minProperties", "default", "additionalProperties",
    "x-kubernetes-validations", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-map-type",
}


class SchemaError(ValueError):
    """A model cannot be expressed as a structural, documented, bounded CRD schema."""


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Inline a $ref / single allOf / Optional anyOf; sibling keys (e.g. the field's description) win."""
    node = dict(node)
    if "$ref" in node:
        target = defs[node.pop("$ref").rsplit("/", 1)[-1]]
        return _resolve({**target, **node}, defs)
    if "allOf" in node and len(node["allOf"]) == 1:
        inner = node.pop("allOf")[0]
        return _resolve({**_resolve(inner, defs), **node}, defs)
    if "anyOf" in node:
        options = [o for o in node.pop("anyOf") if o.get("type") != "null"]
        if len(options) != 1:
            raise SchemaError(f"unions are not supported: {json.dumps(options)[:200]}")
        if node.get("default", 0) is None:
            del node["default"]
        return _resolve({**_resolve(options[0], defs), **node}, defs)
    if node.get("default", 0) is None:
        del node["default"]
    return node


def _cel_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _convert(node: dict[str, Any], defs: dict[str, Any], path: str) -> dict[str, Any]:
    node = _resolve(node, defs)
    out: dict[str, Any] = {}
    if "const" in node:
        node["enum"] = [node.pop("const")]
    for key, value in node.items():
        if key in _KEEP:
            out[key] = value
    if "properties" in node:
        out["properties"] = {
            name: _convert(child, defs, f"{path}.{name}") for name, child in node["properties"].items()
        }
        out.pop("additionalProperties", None)  # CRDs do not allow it next to properties; unknown fields are pruned
    elif isinstance(node.get("additionalProperties"), dict) or node.get("patternProperties"):
        keys = dict(node.get("propertyNames") or {})
        values = node.get("additionalProperties")
        if node.get("patternProperties"):  # pydantic's form for a dict whose key type has a pattern
            ((key_pattern, values),) = node["patternProperties"].items()
            keys["pattern"] = key_pattern
        if not isinstance(values, dict):
            raise SchemaError(f"{path}: map values need a schema")
        out["additionalProperties"] = _convert(values, defs, f"{path}[*]")
        if keys:
            checks = []
            if "minLength" in keys:
                checks.append(f"size(k) >= {keys['minLength']}")
            if "maxLength" in keys:
                checks.append(f"size(k) <= {keys['maxLength']}")
            if "pattern" in keys:
                checks.append(f"k.matches({_cel_string(keys['pattern'])})")
            out.setdefault("x-kubernetes-validations", []).append({
                "rule": f"self.all(k, {' && '.join(checks)})",
                "message": f"every key must match {keys.get('pattern', '')} and be at most "
                           f"{keys.get('maxLength')} characters",
            })
    elif node.get("additionalProperties") is True or out.get("x-kubernetes-preserve-unknown-fields"):
        out.pop("additionalProperties", None)
        out["x-kubernetes-preserve-unknown-fields"] = True
    if "items" in node:
        out["items"] = _convert(node["items"], defs, f"{path}[]")
    if out.get("type") == "object" and "properties" not in out and "additionalProperties" not in out:
        out["x-kubernetes-preserve-unknown-fields"] = True
    _check(out, path)
    return out


def _check(schema: dict[str, Any], path: str) -> None:
    if not path.endswith("[]") and not path.endswith("[*]") and not schema.get("description"):
        raise SchemaError(f"{path}: no description (put one on the pydantic field)")
    kind = schema.get("type")
    if kind == "string" and "maxLength" not in schema and "enum" not in schema and schema.get("format") != "date-time":
        raise SchemaError(f"{path}: string without maxLength or enum")
    if kind == "array" and "maxItems" not in schema:
        raise SchemaError(f"{path}: list without maxItems")
    if kind == "integer" and "minimum" not in schema:
        raise SchemaError(f"{path}: integer without a minimum")
    if kind == "object" and "additionalProperties" in schema and "maxProperties" not in schema:
        raise SchemaError(f"{path}: map without maxProperties")
    if kind == "object" and schema.get("x-kubernetes-preserve-unknown-fields") and "maxProperties" not in schema:
        raise SchemaError(f"{path}: free-form object without maxProperties")
    if kind is None:
        raise SchemaError(f"{path}: no type")


def structural_schema(json_schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The structural schema for a pydantic `model_json_schema(by_alias=True)` result."""
    defs = json_schema.get("$defs", {})
    return _convert({k: v for k, v in json_schema.items() if k != "$defs"}, defs, path)
