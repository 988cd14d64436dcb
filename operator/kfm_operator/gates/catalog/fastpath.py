"""The compiled fast path of the catalog gate's schema checks: jsonschema-rs vouches for valid documents, and
anything it does not vouch for goes to the Python jsonschema path, which writes the findings.

Only "valid" is ever taken from here, so every way this module can differ from the Python path must make it say
"not valid" (slower, same findings), never "valid" where Python reports an error. How the two are kept alike:

- Same draft: only schemas the Python path validates as draft-07 are compiled, and every resource a `$ref` reaches
  must be draft-07 too (a resource without `$schema` is pinned to draft-07, as the Python registry's default).
- Same formats: not checked on either side (the Python validators have no format checker).
- Same regexes: `pattern` is evaluated by Python's `re.search`, as jsonschema does — Rust's ECMA-like dialect
  differs (ASCII `\\w`/`\\d`, `$` before a final newline), which matters under `not`, `oneOf` and `if`.
- Constructs left to Python: `patternProperties` (its key regexes are Rust's) and `multipleOf` (float arithmetic
  differs); a schema reaching either is not compiled.
- Same retrieval: a `$ref` is served only from the registry's own schemas; anything else raises (never fetched),
  so compilation fails and the schema stays on the Python path.
- Same instance: only plain JSON is passed (dict, list, str, bool, None, finite float, int within ±2**53, nesting
  depth bounded); a tuple, a Mapping that is not a dict, NaN or a huge int goes to the Python path.

Called by gates.catalog.schemas (SchemaRegistry.accepts), which caches one compiled validator per schema URI.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema
import jsonschema.validators
import jsonschema_rs

__all__ = ["PythonPattern", "UnsupportedSchema", "compile_validator", "is_plain_json", "vouches"]

DRAFT7 = "http://json-schema.org/draft-07/schema#"
MAX_DEPTH = 64  # STAC documents nest ~8 deep; deeper input is left to the Python path (and its recursion limit)
MAX_EXACT_INT = 2**53  # beyond this jsonschema-rs may compare integers as floats
_LEFT_TO_PYTHON = frozenset({"patternProperties", "multipleOf"})


class UnsupportedSchema(Exception):
    """A schema (or a resource it refers to) the fast path does not compile; the Python path handles it."""


class PythonPattern:
    """The `pattern` keyword for jsonschema-rs, evaluated with Python's `re.search` exactly as jsonschema does."""

    def __init__(self, parent_schema: dict[str, Any], value: Any, schema_path: list[str | int]) -> None:
        if not isinstance(value, str):
            raise UnsupportedSchema(f"pattern at {schema_path} is not a string")
        self._regex = re.compile(value)  # re.error fails compilation: Python path

    def validate(self, instance: Any) -> None:
        if isinstance(instance, str) and not self._regex.search(instance):
            raise ValueError(f"{instance!r} does not match {self._regex.pattern!r}")


def _is_draft7(schema: Mapping[str, Any]) -> bool:
    # The same choice the Python path makes (schemas.SchemaRegistry.iter_errors).
    chosen = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return chosen is jsonschema.Draft7Validator


def _check_constructs(node: Any, where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _LEFT_TO_PYTHON:
                raise UnsupportedSchema(f"{where} uses {key}")
            _check_constructs(value, where)
    elif isinstance(node, list):
        for value in node:
            _check_constructs(value, where)


def _retriever(schemas: Mapping[str, Mapping[str, Any]]) -> Callable[[str], Any]:
    def retrieve(uri: str) -> Any:
        # Serve only what the registry holds; anything else raises, and jsonschema-rs then fails to compile.
        schema = schemas.get(uri.split("#", 1)[0])
        if not isinstance(schema, Mapping):
            raise UnsupportedSchema(f"not in the offline registry: {uri}")
        if "$schema" not in schema:
            schema = {**schema, "$schema": DRAFT7}
        if not _is_draft7(schema):
            raise UnsupportedSchema(f"not a draft-07 schema: {uri}")
        _check_constructs(schema, uri)
        return dict(schema)

    return retrieve


def compile_validator(uri: str, schemas: Mapping[str, Mapping[str, Any]]) -> jsonschema_rs.Validator:
    """The compiled validator of the schema at `uri`, `$ref`s served from `schemas` only.

    Raises UnsupportedSchema, also when jsonschema-rs cannot compile it (e.g. a `$ref` the registry cannot serve).
    """
    schema = schemas.get(uri)
    if schema is None:
        raise UnsupportedSchema(f"not in the offline registry: {uri}")
    if not _is_draft7(schema):
        raise UnsupportedSchema(f"not a draft-07 schema: {uri}")
    _check_constructs(schema, uri)
    try:
        return jsonschema_rs.Draft7Validator(dict(schema), validate_formats=False, retriever=_retriever(schemas),
                                             keywords={"pattern": PythonPattern})
    except (ValueError, jsonschema_rs.ReferencingError) as error:  # its ValidationError is a ValueError
        raise UnsupportedSchema(f"{uri}: {error}") from error


def is_plain_json(node: Any, depth: int = 0) -> bool:
    """Whether `node` is JSON as json.loads builds it, with values both validators read alike."""
    kind = type(node)
    if kind is str or kind is bool or node is None:
        return True
    if kind is int:
        return bool(-MAX_EXACT_INT <= node <= MAX_EXACT_INT)
    if kind is float:
        return math.isfinite(node)
    if depth >= MAX_DEPTH:
        return False
    if kind is dict:
        return all(type(key) is str and is_plain_json(value, depth + 1) for key, value in node.items())
    if kind is list:
        return all(is_plain_json(value, depth + 1) for value in node)
    return False


def vouches(validator: jsonschema_rs.Validator, document: Any) -> bool:
    """True only when `document` is plain JSON and the compiled validator finds it valid; False on any doubt."""
    try:
        return is_plain_json(document) and validator.is_valid(document)
    except Exception:  # conversion (e.g. lone surrogates) or a keyword callback failed: not vouched for
        return False
