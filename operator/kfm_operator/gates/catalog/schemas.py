"""The offline JSON Schema registry of the catalog gate: STAC 1.1.0 core and GeoJSON (as pystac ships them), the
project's STAC extension (bundled in schemas/), and any directories an operator configures.

Built once per set of extra directories (`load_registry` is memoised); retrieving any URI that is not bundled
raises `referencing.exceptions.NoSuchResource` — it is never fetched — so an unknown `$ref` surfaces as
`SchemaUnavailable` with its URI. Compiled validators are cached per schema URI: jsonschema's (which report the
errors) and jsonschema-rs's (gates.catalog.fastpath, which only vouch for valid documents). Called by
gates.catalog.stac.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.validators
import jsonschema_rs
import referencing
import referencing.exceptions
import referencing.jsonschema
from pystac.validation.local_validator import get_local_schema_cache

from kfm_operator.gates.catalog import fastpath

__all__ = ["SchemaConfigError", "SchemaRegistry", "SchemaUnavailable", "core_schema_uri", "load_registry"]

BUNDLED_DIR = Path(__file__).parent / "schemas"
_CORE_PATHS = {"item": "item-spec/json-schema/item.json", "collection": "collection-spec/json-schema/collection.json"}


class SchemaUnavailable(Exception):
    """A schema (or something it refers to) is not available offline."""

    def __init__(self, uri: str) -> None:
        super().__init__(f"schema not available offline: {uri}")
        self.uri = uri


class SchemaConfigError(Exception):
    """A bundled or configured schema file cannot be used (unreadable, no $id, not a valid schema)."""


def core_schema_uri(kind: str, stac_version: str) -> str:
    """The STAC core schema URI of `kind` ("item" or "collection") at `stac_version`."""
    return f"https://schemas.stacspec.org/v{stac_version}/{_CORE_PATHS[kind]}"


def _refuse_retrieval(uri: str) -> referencing.Resource[Any]:
    # Never fetch: the registry holds everything this gate may use.
    raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs field


@dataclass(frozen=True)
class SchemaRegistry:
    """Schemas by URI plus a cache of compiled validators (filled on first use, safe to share between threads)."""

    schemas: Mapping[str, Mapping[str, Any]]
    registry: referencing.Registry[Any]
    _validators: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _compiled: dict[str, jsonschema_rs.Validator | None] = field(default_factory=dict, compare=False,
                                                                   repr=False)  # None: not compilable

    def has(self, uri: str) -> bool:
        return uri in self.schemas

    def accepts(self, uri: str, document: Mapping[str, Any]) -> bool:
        """True only when the compiled fast path vouches that `document` is valid against the schema at `uri`.

        False says nothing (invalid, or not compilable, or not plain JSON): ask `iter_errors`, which is the
        authority. Never raises.
        """
        if uri not in self.schemas:
            return False
        if uri not in self._compiled:
            try:
                self._compiled[uri] = fastpath.compile_validator(uri, self.schemas)
            except Exception:  # unresolvable $ref, unsupported construct, anything: the Python path decides
                self._compiled[uri] = None
        validator = self._compiled[uri]
        return validator is not None and fastpath.vouches(validator, document)

    def iter_errors(self, uri: str, document: Mapping[str, Any]) -> Iterator[jsonschema.ValidationError]:
        """Validation errors of `document` against the schema at `uri`.

        Raises SchemaUnavailable when `uri`, or a `$ref` met while validating, is not in the registry.
        """
        if uri not in self.schemas:
            raise SchemaUnavailable(uri)
        validator = self._validators.get(uri)
        if validator is None:
            schema = self.schemas[uri]
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
            validator = cls(schema, registry=self.registry)
            self._validators[uri] = validator
        try:
            yield from validator.iter_errors(document)
        except referencing.exceptions.Unresolvable as error:
            raise SchemaUnavailable(str(getattr(error, "ref", error))) from error


def _read_directory(directory: Path) -> dict[str, dict[str, Any]]:
    """Every *.json under `directory`, keyed by its `$id` (fragment and trailing '#' removed)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.rglob("*.json")):
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SchemaConfigError(f"{path}: cannot read a JSON schema: {error}") from error
        uri = schema.get("$id") if isinstance(schema, dict) else None
        if not isinstance(uri, str) or not uri:
            raise SchemaConfigError(f"{path}: a schema needs an absolute $id to be found by")
        try:
            jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator).check_schema(schema)
        except jsonschema.SchemaError as error:
            raise SchemaConfigError(f"{path}: not a valid JSON Schema: {error.message}") from error
        found[uri.split("#", 1)[0]] = schema
    return found


def build_registry(extra_dirs: tuple[Path, ...] = ()) -> SchemaRegistry:
    """A registry of the bundled schemas plus those in `extra_dirs` (later directories win on equal $id)."""
    schemas: dict[str, dict[str, Any]] = dict(get_local_schema_cache())
    for directory in (BUNDLED_DIR, *extra_dirs):
        if not directory.is_dir():
            raise SchemaConfigError(f"{directory}: schema directory not found")
        schemas.update(_read_directory(directory))
    resources = [(uri, referencing.Resource.from_contents(schema, default_specification=referencing.jsonschema.DRAFT7))
                 for uri, schema in schemas.items()]
    registry: referencing.Registry[Any] = referencing.Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]
    return SchemaRegistry(schemas=schemas, registry=registry.with_resources(resources).crawl())


@functools.cache
def load_registry(extra_dirs: tuple[Path, ...] = ()) -> SchemaRegistry:
    """The shared registry for `extra_dirs` (resolved paths), built on first use."""
    return build_registry(extra_dirs)
