"""The compiled fast path never says "valid" where the Python path reports an error (it may only be more cautious):
on the invalid corpus, on many mutations of the ks-airports item and collection, and on the constructs where
jsonschema-rs and jsonschema differ (regex dialect, non-JSON values, drafts, retrieval)."""

from __future__ import annotations

import collections
import copy
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfm_operator.gates.catalog import fastpath, netguard, schemas, vocabulary
from tests.unit.catalog.corpus import FIXTURES, INVALID, VALID, apply_patch, invalid_case

STAC_DOCUMENTS = (vocabulary.STAC_ITEM, vocabulary.STAC_COLLECTION)
SCHEMA_URIS = (schemas.core_schema_uri("item", vocabulary.STAC_VERSION),
               schemas.core_schema_uri("collection", vocabulary.STAC_VERSION), vocabulary.KFM_STAC_EXTENSION)
KS = FIXTURES / "valid" / "ks-airports"
DRAFT7 = "http://json-schema.org/draft-07/schema#"


def python_rejects(registry: schemas.SchemaRegistry, uri: str, document: Any) -> bool:
    try:
        return any(True for _ in registry.iter_errors(uri, document))
    except schemas.SchemaUnavailable:
        return True


def fail_open(registry: schemas.SchemaRegistry, document: Any, uris: tuple[str, ...] = SCHEMA_URIS) -> list[str]:
    """The schemas for which the compiled path vouches for `document` although the Python path rejects it."""
    return [uri for uri in uris if python_rejects(registry, uri, document) and registry.accepts(uri, document)]


def _load(name: str, directory: Path = KS) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((directory / name).read_text())
    return loaded


# --- fixtures and corpus ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", VALID)
def test_both_paths_accept_the_valid_fixtures(case: str) -> None:
    registry = schemas.load_registry()
    for name, kind in ((vocabulary.STAC_ITEM, "item"), (vocabulary.STAC_COLLECTION, "collection")):
        document = _load(name, FIXTURES / "valid" / case)
        for uri in (schemas.core_schema_uri(kind, document["stac_version"]), *document["stac_extensions"]):
            assert not python_rejects(registry, uri, document), (case, name, uri)
            assert registry.accepts(uri, document), (case, name, uri)


def _corpus_documents(name: str) -> dict[str, Any]:
    """The STAC documents of invalid case `name` that parse as JSON, built in memory from its base."""
    case = invalid_case(name)
    base = FIXTURES / "valid" / case.base
    documents: dict[str, Any] = {n: json.loads((base / n).read_text()) for n in STAC_DOCUMENTS}
    for deleted in case.change.get("delete", []):
        documents.pop(deleted, None)
    for replaced, text in case.change.get("replace", {}).items():
        if replaced in STAC_DOCUMENTS:
            try:
                documents[replaced] = json.loads(text)
            except ValueError:
                documents.pop(replaced)
    for patched, operations in case.change.get("patch", {}).items():
        if patched in documents:
            documents[patched] = apply_patch(documents[patched], operations)
    return documents


def test_the_invalid_corpus_never_passes_the_fast_path_where_python_fails() -> None:
    registry = schemas.load_registry()
    item_uri, collection_uri, kfm_uri = SCHEMA_URIS
    own_kind = {vocabulary.STAC_ITEM: (item_uri, kfm_uri), vocabulary.STAC_COLLECTION: (collection_uri, kfm_uri)}
    rejected: list[tuple[str, str, str]] = []
    problems = []
    for name in INVALID:
        for file_name, document in _corpus_documents(name).items():
            for uri in SCHEMA_URIS:  # every document against every schema: the other kind's schema rejects it too
                if python_rejects(registry, uri, document):
                    rejected.append((name, file_name, uri))
                    if registry.accepts(uri, document):
                        problems.append((name, file_name, uri))
    assert problems == []
    # The comparison is exercised: the schema-level cases of the corpus, and more across kinds.
    assert len({name for name, file_name, uri in rejected if uri in own_kind[file_name]}) >= 15
    assert len(rejected) >= 150


# --- generated mutations ---------------------------------------------------------------------------------------

HEX = "e2a31c3d517c98d170020633cde4935d1f6ab8923ef667d3ef1e70f24930d484"
TRICKY = [
    "", " ", "none", "none\n", "public", "PUBLIC", "secret", "low", "high\n", "ks:kansas", "ks:kansas\n", "KS:Kansas",
    "-ks:x", "ks:", "ks:x-", "a:b:c", "é", "٣", "Ⅸ", "ǅ", "x\u0301", "\u00a0", "\ufeff",
    "2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z\n", "2024-05-01T12:00:00+00:00", "2024-05-01T12:00:00+01:00",
    "2024-05-01T12:00:00", "2024-13-45T00:00:00Z", "2024-05-01", "٢٠٢٤-05-01T12:00:00Z", "2024-05-01t12:00:00z",
    f"sha256:{HEX}", f"sha256:{HEX.upper()}", f"sha256:{HEX}\n", f"sha256:{HEX[:-1]}", f"sha256:{HEX}0",
    "sha256:" + "٣" * 64, f"SHA256:{HEX}", f"md5:{HEX[:32]}", f"sha256: {HEX[1:]}",
    "CC0-1.0", "CC0-1.0\n", "Zürich-1.0", "CC BY 4.0", "proprietary", "various", "other",
    vocabulary.KFM_STAC_EXTENSION, vocabulary.KFM_STAC_EXTENSION + "\n", "https://kfm.dev/stac/extensions/kfm/v2.0.0/schema.json",
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json", "not a uri", "GET", "get", "GET\n", "PÖST",
    "Feature", "Collection", "Catalog", "FeatureCollection", "Point", "MultiPoint", "LineString", "Polygon",
    "MultiPolygon", "GeometryCollection", "collection", "self", "item", "kfm:dataset", "1.1.0", "1.0.0", "1.1.0\n",
]
SUFFIXES = ["", "\n", "é", "٣", " ", "\u0301", "\r", "\x1c", "\u2028"]

strings = st.one_of(st.sampled_from(TRICKY),
                    st.builds(str.__add__, st.sampled_from(TRICKY), st.sampled_from(SUFFIXES)),
                    st.text(max_size=12))
numbers = st.one_of(st.integers(-(2**60), 2**60), st.integers(-3, 200), st.floats(allow_nan=False),
                    st.sampled_from([0, -0.0, 1.0, 1.5, -1, 91.0, -181.0, 1e308, 2**53 + 1]))
leaves = st.one_of(st.none(), st.booleans(), numbers, strings)
json_values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(strings, inner,
                                                                                               max_size=4),
                           max_leaves=10)
positions = st.lists(st.floats(-200, 200, allow_nan=False) | st.integers(-200, 200), max_size=4)
geometry_types = st.sampled_from(["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                                  "GeometryCollection", "Feature", "point", "Nope"])
geometries = st.fixed_dictionaries(
    {"type": geometry_types},
    optional={"coordinates": st.one_of(positions, st.lists(positions, max_size=5),
                                       st.lists(st.lists(positions, max_size=5), max_size=3), json_values),
              "geometries": st.lists(st.fixed_dictionaries({"type": geometry_types, "coordinates": positions}),
                                     max_size=2),
              "bbox": positions})
structures = st.one_of(
    st.lists(numbers, max_size=7),  # bbox-like
    st.lists(st.lists(numbers, max_size=6), max_size=2),  # extent bboxes
    geometries,
    st.lists(st.sampled_from(TRICKY) | strings, max_size=4),  # stac_extensions, roles
    st.fixed_dictionaries({"rel": strings, "href": strings}, optional={"type": strings, "method": strings}),  # link
    st.fixed_dictionaries({"href": strings}, optional={"kfm:checksum": strings, "roles": json_values}),  # asset
    st.lists(st.lists(st.none() | strings, max_size=3), max_size=2),  # temporal interval
)
values = st.one_of(leaves, structures, json_values)
KEYS = ["type", "stac_version", "stac_extensions", "id", "collection", "geometry", "bbox", "properties", "links",
        "assets", "datetime", "start_datetime", "end_datetime", "created", "updated", "title", "description",
        "license", "extent", "spatial", "temporal", "interval", "summaries", "providers", "keywords", "bands",
        "kfm:policy_label", "kfm:sensitivity", "kfm:sovereignty", "kfm:rows", "kfm:checksum", "href", "rel",
        "method", "roles", "coordinates", "geometries", "unknown:field"]
keys = st.sampled_from(KEYS) | strings


def _nodes(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        found += _nodes(child, (*path, key))
    return found


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


def mutate(document: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """One to four edits: replace a value, delete a key or element, add a key, append to a list."""
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        path = data.draw(st.sampled_from(_nodes(document)), label="at")
        target = _at(document, path)
        action = data.draw(st.sampled_from(["replace", "delete", "add", "append"]), label="action")
        if action == "replace" and path:
            _at(document, path[:-1])[path[-1]] = data.draw(values, label="value")
        elif action == "delete" and path:
            del _at(document, path[:-1])[path[-1]]
        elif action == "add" and isinstance(target, dict):
            target[data.draw(keys, label="key")] = data.draw(values, label="value")
        elif action == "append" and isinstance(target, list):
            target.append(data.draw(values, label="value"))
    return document


MUTATIONS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                              HealthCheck.data_too_large])


@MUTATIONS
@given(data=st.data())
def test_mutated_items_never_pass_the_fast_path_where_python_fails(data: st.DataObject) -> None:
    document = mutate(copy.deepcopy(_load(vocabulary.STAC_ITEM)), data)
    assert fail_open(schemas.load_registry(), document) == []


@MUTATIONS
@given(data=st.data())
def test_mutated_collections_never_pass_the_fast_path_where_python_fails(data: st.DataObject) -> None:
    document = mutate(copy.deepcopy(_load(vocabulary.STAC_COLLECTION)), data)
    assert fail_open(schemas.load_registry(), document) == []


# --- the known differences, one by one -------------------------------------------------------------------------

def _registry_with(tmp_path: Path, *documents: dict[str, Any]) -> schemas.SchemaRegistry:
    for index, schema in enumerate(documents):
        (tmp_path / f"schema-{index}.json").write_text(json.dumps(schema))
    return schemas.build_registry((tmp_path,))


@pytest.mark.parametrize(("pattern", "text"), [
    ("^[\\w\\-\\.\\+]+$", "Zürich-1.0"),  # Python's \w is Unicode, jsonschema-rs's is ASCII
    ("^\\d+$", "٣"),  # likewise \d
    ("^none$", "none\n"),  # Python's $ also matches before a final newline
])
def test_regexes_are_python_regexes_even_where_failing_one_means_passing(tmp_path: Path, pattern: str,
                                                                         text: str) -> None:
    uri = "https://kfm.test/regex.json"
    schema = {"$schema": DRAFT7, "$id": uri, "properties": {"label": {"not": {"pattern": pattern}}}}
    registry = _registry_with(tmp_path, schema)
    document = {"label": text}
    assert jsonschema_rs.Draft7Validator(schema).is_valid(document)  # the dialect difference exists
    assert python_rejects(registry, uri, document)
    assert not registry.accepts(uri, document)
    assert registry.accepts(uri, {"label": "!"})  # and the fast path still works for valid documents


@pytest.mark.parametrize("value", [(1.0, 2.0), float("nan"), float("inf"), 2**60, "\ud800",
                                   collections.UserDict(type="Point"), collections.OrderedDict(type="Point")])
def test_values_json_does_not_produce_go_to_the_python_path(value: Any) -> None:
    document = copy.deepcopy(_load(vocabulary.STAC_ITEM))
    document["properties"]["kfm:rows"] = value
    assert not fastpath.is_plain_json(document) or isinstance(value, str)  # a lone surrogate fails conversion
    assert not schemas.load_registry().accepts(vocabulary.KFM_STAC_EXTENSION, document)


def test_tuples_would_pass_as_arrays_in_jsonschema_rs_but_not_here() -> None:
    document = copy.deepcopy(_load(vocabulary.STAC_ITEM))
    document["bbox"] = tuple(document["bbox"])
    uri = schemas.core_schema_uri("item", vocabulary.STAC_VERSION)
    registry = schemas.load_registry()
    assert fastpath.compile_validator(uri, registry.schemas).is_valid(document)  # jsonschema-rs alone: valid
    assert python_rejects(registry, uri, document)
    assert not registry.accepts(uri, document)


def test_deep_nesting_goes_to_the_python_path() -> None:
    deep: Any = "x"
    for _ in range(fastpath.MAX_DEPTH + 1):
        deep = [deep]
    assert not fastpath.is_plain_json({"a": deep})


@pytest.mark.parametrize("schema", [
    {"$schema": DRAFT7, "$id": "https://kfm.test/pp.json", "patternProperties": {"^\\w+$": {"type": "string"}}},
    {"$schema": DRAFT7, "$id": "https://kfm.test/mo.json", "properties": {"x": {"multipleOf": 0.1}}},
    {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://kfm.test/new.json"},
    {"$schema": DRAFT7, "$id": "https://kfm.test/ref.json", "$ref": "https://kfm.test/other-draft.json"},
])
def test_constructs_left_to_python_are_not_compiled(tmp_path: Path, schema: dict[str, Any]) -> None:
    other = {"$schema": "http://json-schema.org/draft-04/schema#", "id": "https://kfm.test/other-draft.json",
             "$id": "https://kfm.test/other-draft.json"}
    registry = _registry_with(tmp_path, schema, other)
    with pytest.raises(fastpath.UnsupportedSchema):
        fastpath.compile_validator(schema["$id"], registry.schemas)
    assert not registry.accepts(schema["$id"], {"x": 1})


def test_referenced_schemas_without_schema_keyword_are_draft7_as_in_python(tmp_path: Path) -> None:
    root = {"$schema": DRAFT7, "$id": "https://kfm.test/root.json", "$ref": "https://kfm.test/deps.json"}
    deps = {"$id": "https://kfm.test/deps.json", "dependencies": {"start": ["end"]}}  # ignored by 2019-09+
    registry = _registry_with(tmp_path, root, deps)
    assert python_rejects(registry, root["$id"], {"start": 1})
    assert not registry.accepts(root["$id"], {"start": 1})
    assert registry.accepts(root["$id"], {"start": 1, "end": 2})


def test_only_the_registry_is_consulted_and_nothing_is_fetched(tmp_path: Path) -> None:
    schema: dict[str, Any] = {"$schema": DRAFT7, "$id": "https://kfm.test/remote.json",
                              "properties": {"x": {"$ref": "https://schemas.example.org/elsewhere.json"}}}
    registry = _registry_with(tmp_path, schema)
    with netguard.refusing_network() as guard:
        with pytest.raises(fastpath.UnsupportedSchema, match=r"elsewhere\.json"):
            fastpath.compile_validator(schema["$id"], registry.schemas)
        assert not registry.accepts(schema["$id"], {"x": 1})
        with pytest.raises(schemas.SchemaUnavailable):
            list(registry.iter_errors(schema["$id"], {"x": 1}))
    assert guard.refused == []
