"""The gate's fail-closed behaviour: network refused during validation (and only then), crashing validators,
unusable schema configuration, operator-supplied schema directories, in-memory triplets."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import rdflib

from kfm_operator.gates.catalog import codes, load_triplet, netguard, triplet_from_bytes, validate_catalog, vocabulary
from kfm_operator.gates.catalog import dcat as dcat_module
from kfm_operator.gates.catalog.triplets import Artifact
from tests.unit.catalog.corpus import FIXTURES, apply_patch

KS = FIXTURES / "valid" / "ks-airports"
QUICK = 2.0  # seconds: a refusal is immediate; a real fetch attempt would hang or take far longer offline


def _documents(directory: Path = KS) -> dict[str, bytes | None]:
    return {name: (directory / name).read_bytes() for name in vocabulary.DOCUMENTS}


def _artifacts() -> list[Artifact]:
    return [Artifact(**a) for a in json.loads((KS / "artifacts.json").read_text())]


def test_connect_is_refused_while_validating() -> None:
    with netguard.refusing_network() as guard, pytest.raises(netguard.NetworkRefused):
        socket.create_connection(("192.0.2.1", 80), timeout=30)  # TEST-NET-1: would hang, never answer
    assert guard.refused


def test_urllib_is_refused_while_validating() -> None:
    started = time.monotonic()
    with netguard.refusing_network(), pytest.raises(netguard.NetworkRefused):
        urllib.request.urlopen("http://192.0.2.1/context.jsonld", timeout=30)
    assert time.monotonic() - started < QUICK


def test_network_is_allowed_outside_validation_and_in_other_threads() -> None:
    with netguard.refusing_network():
        pass
    socket.getaddrinfo("127.0.0.1", 80)  # after: allowed
    outcome: list[object] = []
    with netguard.refusing_network():
        thread = threading.Thread(target=lambda: outcome.append(socket.getaddrinfo("127.0.0.1", 80)))
        thread.start()
        thread.join(timeout=10)
    assert outcome, "another thread was refused while this one validated"


def test_rdflib_fetching_a_remote_context_is_refused_quickly() -> None:
    # What the backstop is for: a library's own fetch path (here rdflib's) when a remote context slips through.
    document = json.dumps({"@context": "http://192.0.2.1/context.jsonld", "@id": "urn:a", "urn:p": "v"})
    started = time.monotonic()
    with netguard.refusing_network() as guard, pytest.raises(Exception):  # noqa: B017 - rdflib may wrap it
        rdflib.Graph().parse(data=document, format="json-ld")
    assert guard.refused
    assert time.monotonic() - started < QUICK


def test_a_validator_that_reaches_the_network_fails_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    def fetching_check(document: Any) -> Any:
        socket.create_connection(("192.0.2.1", 80), timeout=30)

    monkeypatch.setattr(dcat_module, "check_dcat", fetching_check)
    started = time.monotonic()
    result = validate_catalog(load_triplet(KS))
    assert result.passed is False
    assert codes.GATE_NETWORK_REFUSED in result.codes
    assert time.monotonic() - started < QUICK * 5


def test_a_swallowed_refusal_still_fails_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    original = dcat_module.check_dcat

    def careless_check(document: Any) -> Any:
        with contextlib.suppress(Exception):  # a library that hides the error is the case under test
            socket.getaddrinfo("example.org", 443)
        return original(document)

    monkeypatch.setattr(dcat_module, "check_dcat", careless_check)
    assert codes.GATE_NETWORK_REFUSED in validate_catalog(load_triplet(KS)).codes


def test_remote_context_is_a_finding_not_a_fetch() -> None:
    documents = _documents()
    dcat = json.loads(documents[vocabulary.DCAT] or b"")
    documents[vocabulary.DCAT] = json.dumps({**dcat, "@context": "http://192.0.2.1/ctx.jsonld"}).encode()
    started = time.monotonic()
    result = validate_catalog(triplet_from_bytes(documents, _artifacts()))
    assert result.codes == (codes.DCAT_CONTEXT_REMOTE,)
    assert time.monotonic() - started < QUICK


def test_remote_ref_in_an_operator_schema_is_a_finding(tmp_path: Path) -> None:
    uri = "https://schemas.example.org/ext/v1/schema.json"
    (tmp_path / "ext.json").write_text(json.dumps({
        "$schema": "http://json-schema.org/draft-07/schema#", "$id": uri,
        "properties": {"properties": {"$ref": "http://192.0.2.1/remote.json"}}}))
    documents = _documents()
    item = apply_patch(json.loads(documents[vocabulary.STAC_ITEM] or b""),
                       [{"op": "add", "path": "/stac_extensions/-", "value": uri}])
    documents[vocabulary.STAC_ITEM] = json.dumps(item).encode()
    started = time.monotonic()
    result = validate_catalog(triplet_from_bytes(documents, _artifacts()), extra_schema_dirs=[tmp_path])
    assert result.codes == (codes.STAC_SCHEMA_UNAVAILABLE,)
    assert "http://192.0.2.1/remote.json" in result.findings[0].message
    assert time.monotonic() - started < QUICK


def test_operator_schema_dir_makes_an_extension_available(tmp_path: Path) -> None:
    uri = "https://schemas.example.org/ext/v1/schema.json"
    (tmp_path / "ext.json").write_text(json.dumps({
        "$schema": "http://json-schema.org/draft-07/schema#", "$id": uri,
        "properties": {"properties": {"required": ["ex:flavour"]}}}))
    documents = _documents()
    item = apply_patch(json.loads(documents[vocabulary.STAC_ITEM] or b""),
                       [{"op": "add", "path": "/stac_extensions/-", "value": uri}])
    documents[vocabulary.STAC_ITEM] = json.dumps(item).encode()
    assert validate_catalog(triplet_from_bytes(documents, _artifacts())).codes == (codes.STAC_SCHEMA_UNAVAILABLE,)
    result = validate_catalog(triplet_from_bytes(documents, _artifacts()), extra_schema_dirs=[tmp_path])
    assert result.codes == (codes.STAC_EXTENSION_SCHEMA,)  # found offline, and applied: ex:flavour is missing
    item["properties"]["ex:flavour"] = "vanilla"
    documents[vocabulary.STAC_ITEM] = json.dumps(item).encode()
    assert validate_catalog(triplet_from_bytes(documents, _artifacts()), extra_schema_dirs=[tmp_path]).passed


@pytest.mark.parametrize("content", ['{"type": "object"}', "not json", '{"$id": "urn:x", "type": 5}'])
def test_unusable_schema_dir_means_could_not_evaluate(tmp_path: Path, content: str) -> None:
    (tmp_path / "bad.json").write_text(content)
    result = validate_catalog(load_triplet(KS), extra_schema_dirs=[tmp_path])
    assert result.passed is None
    assert result.codes == (codes.GATE_UNAVAILABLE,)


def test_a_crashing_validator_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    def crashing_check(document: Any) -> Any:
        raise RecursionError("deep")

    monkeypatch.setattr(dcat_module, "check_dcat", crashing_check)
    result = validate_catalog(load_triplet(KS))
    assert result.passed is False
    assert result.codes == (codes.GATE_INTERNAL_ERROR,)


def test_in_memory_triplet_passes_and_records_document_digests() -> None:
    result = validate_catalog(triplet_from_bytes(_documents(), _artifacts()))
    assert result.passed is True
    assert result.evidence[vocabulary.PROV].startswith("sha256:")


def test_without_any_documents_every_one_is_reported_missing() -> None:
    result = validate_catalog(triplet_from_bytes({}, None))
    assert result.passed is False
    assert result.codes.count(codes.DOCUMENT_MISSING) == 4
    assert codes.ARTIFACTS_MISSING in result.codes


def test_codes_are_unique_dotted_lowercase() -> None:
    values = [value for key, value in vars(codes).items() if key.isupper()]
    assert len(values) == len(set(values))
    assert all(v == v.lower() and v.count(".") == 1 for v in values)
