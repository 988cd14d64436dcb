"""PROV checks of the catalog gate: prov.json must be PROV-JSON the `prov` package reads, with exactly one
activity (the run) that used input entities and generated output entities (each with kfm:digest), associated with
a pipeline agent and an operator agent, carrying the three labels, and with no relation naming an undeclared
element. Reduced to the facts the cross-link checks compare. Called by gates.catalog.gate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import prov.model

from kfm_operator.domain import catalog_vocabulary as vocabulary
from kfm_operator.domain.gates import Finding
from kfm_operator.gates.catalog import codes
from kfm_operator.gates.catalog.findings import bounded, pointer

__all__ = ["ProvFacts", "check_prov"]

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_ELEMENTS = ("entity", "activity", "agent")
# PROV-JSON relation -> its attributes that name an element, and the kind of element each must name.
_REFERENCES: dict[str, dict[str, str]] = {
    "used": {"prov:activity": "activity", "prov:entity": "entity"},
    "wasGeneratedBy": {"prov:entity": "entity", "prov:activity": "activity"},
    "wasAssociatedWith": {"prov:activity": "activity", "prov:agent": "agent", "prov:plan": "entity"},
    "wasAttributedTo": {"prov:entity": "entity", "prov:agent": "agent"},
    "wasDerivedFrom": {"prov:generatedEntity": "entity", "prov:usedEntity": "entity", "prov:activity": "activity"},
    "wasInformedBy": {"prov:informed": "activity", "prov:informant": "activity"},
    "actedOnBehalfOf": {"prov:delegate": "agent", "prov:responsible": "agent", "prov:activity": "activity"},
    "wasStartedBy": {"prov:activity": "activity", "prov:trigger": "entity", "prov:starter": "activity"},
    "wasEndedBy": {"prov:activity": "activity", "prov:trigger": "entity", "prov:ender": "activity"},
    "wasInvalidatedBy": {"prov:entity": "entity", "prov:activity": "activity"},
    "specializationOf": {"prov:specificEntity": "entity", "prov:generalEntity": "entity"},
    "alternateOf": {"prov:alternate1": "entity", "prov:alternate2": "entity"},
    "hadMember": {"prov:collection": "entity", "prov:entity": "entity"},
}
_DEFAULT_PREFIXES = {"prov": vocabulary.PROV_NS, "xsd": "http://www.w3.org/2001/XMLSchema#"}


@dataclass(frozen=True)
class ProvFacts:
    activity: str | None  # the run activity's IRI, None unless there is exactly one activity
    labels: Mapping[str, str] = field(default_factory=dict)
    used: frozenset[str] = frozenset()  # digests of the entities the run used
    generated: frozenset[str] = frozenset()  # digests of the entities the run generated


def _expand(name: Any, prefixes: Mapping[str, str]) -> str:
    text = str(name)
    prefix, sep, local = text.partition(":")
    return prefixes[prefix] + local if sep and prefix in prefixes else text


def _records(section: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    # PROV-JSON allows a list of attribute maps under one id (several records sharing it).
    if not isinstance(section, dict):
        return
    for record_id, body in section.items():
        for attributes in body if isinstance(body, list) else [body]:
            if isinstance(attributes, dict):
                yield record_id, attributes


def _dangling(document: Mapping[str, Any]) -> list[Finding]:
    raw_prefixes = document.get("prefix")
    prefixes = {**_DEFAULT_PREFIXES, **(raw_prefixes if isinstance(raw_prefixes, dict) else {})}
    declared = {kind: {_expand(i, prefixes) for i, _ in _records(document.get(kind))} for kind in _ELEMENTS}
    findings = []
    for relation, references in _REFERENCES.items():
        for record_id, attributes in _records(document.get(relation)):
            for attribute, kind in references.items():
                target = attributes.get(attribute)
                if target is not None and _expand(target, prefixes) not in declared[kind]:
                    findings.append(Finding(codes.PROV_DANGLING_REFERENCE,
                                            pointer(vocabulary.PROV, [relation, record_id, attribute]),
                                            f"{relation} {record_id} names {kind} {target!r}, which is not "
                                            "declared in the document"))
    return findings


def _kfm_attribute(record: prov.model.ProvRecord, name: str) -> str | None:
    for key, value in record.attributes:
        if isinstance(key, prov.model.QualifiedName) and key.uri == vocabulary.KFM_NS + name:
            return str(value)
    return None


def _formal_uri(record: prov.model.ProvRecord, index: int) -> str | None:
    value = record.formal_attributes[index][1]
    return value.uri if isinstance(value, prov.model.QualifiedName) else None


def _run_facts(document: prov.model.ProvDocument) -> tuple[ProvFacts, list[Finding]]:
    activities = list(document.get_records(prov.model.ProvActivity))
    if len(activities) != 1:
        return ProvFacts(activity=None), [Finding(codes.PROV_ACTIVITY_COUNT, pointer(vocabulary.PROV, ["activity"]),
                                                  f"expected exactly one activity (the run), found {len(activities)}")]
    run = activities[0]
    run_uri = str(run.identifier.uri) if run.identifier is not None else None
    findings = []
    labels = {name: value for name in vocabulary.LABELS if (value := _kfm_attribute(run, name)) is not None}
    for name in vocabulary.LABELS:
        if name not in labels:
            findings.append(Finding(codes.PROV_LABEL, pointer(vocabulary.PROV, ["activity", str(run.identifier)]),
                                    f"the run activity has no kfm:{name}"))
    digests: dict[str, str | None] = {}
    for entity in document.get_records(prov.model.ProvEntity):
        digest = _kfm_attribute(entity, "digest")
        if entity.identifier is not None:
            digests[entity.identifier.uri] = digest
        if digest is None or not _DIGEST.match(digest):
            findings.append(Finding(codes.PROV_DIGEST, pointer(vocabulary.PROV, ["entity", str(entity.identifier)]),
                                    "an entity needs kfm:digest 'sha256:<64 lowercase hex>'"))
    # Formal attributes: Usage (activity, entity, time), Generation (entity, activity, time),
    # Association (activity, agent, plan).
    used = {_formal_uri(r, 1) for r in document.get_records(prov.model.ProvUsage) if _formal_uri(r, 0) == run_uri}
    generated = {_formal_uri(r, 0) for r in document.get_records(prov.model.ProvGeneration)
                 if _formal_uri(r, 1) == run_uri}
    agents = {a.identifier.uri: _kfm_attribute(a, "role") for a in document.get_records(prov.model.ProvAgent)
              if a.identifier is not None}
    roles = {agents.get(_formal_uri(r, 1) or "") for r in document.get_records(prov.model.ProvAssociation)
             if _formal_uri(r, 0) == run_uri}
    where = pointer(vocabulary.PROV, ["activity", str(run.identifier)])
    if not used:
        findings.append(Finding(codes.PROV_INPUTS, where, "the run used no entity (its inputs by digest)"))
    if not generated:
        findings.append(Finding(codes.PROV_OUTPUTS, where, "the run generated no entity (its outputs by digest)"))
    for role in vocabulary.AGENT_ROLES:
        if role not in roles:
            findings.append(Finding(codes.PROV_AGENT, where,
                                    f"the run is not associated with an agent with kfm:role {role!r}"))
    facts = ProvFacts(activity=run_uri, labels=labels,
                      used=frozenset(d for uri in used if uri and (d := digests.get(uri))),
                      generated=frozenset(d for uri in generated if uri and (d := digests.get(uri))))
    return facts, findings


def check_prov(document: Mapping[str, Any]) -> tuple[ProvFacts | None, list[Finding]]:
    """Findings for prov.json and its facts (None when the prov package cannot read it)."""
    try:
        parsed = prov.model.ProvDocument.deserialize(content=json.dumps(document), format="json")
    except Exception as error:  # the prov package raises assorted types on malformed PROV-JSON
        return None, [Finding(codes.PROV_PARSE, pointer(vocabulary.PROV),
                              bounded(f"not PROV-JSON the prov package can read: {type(error).__name__}: {error}"))]
    dangling = _dangling(document)
    facts, findings = _run_facts(parsed)
    return facts, dangling + findings
