"""The Promotion's gates that read the store: integrity (re-hash every artifact now) and catalog (re-run the
catalog gate on the documents the run's receipt names), and the policy input they feed."""

from __future__ import annotations

import json
from typing import Any

from kfm_operator.domain.gates import Finding, GateResult
from kfm_operator.gates.catalog import validate_catalog
from kfm_operator.gates.catalog.triplets import Artifact, triplet_from_bytes
from kfm_operator.handlers.context import OperatorContext
from kfm_operator.pipeline.runspec import canonical_digest
from kfm_operator.stores import NotFound, Unavailable, parse_s3_uri

__all__ = ["catalog_gate", "integrity_gate", "policy_input"]


def _read(ctx: OperatorContext, uri: str) -> bytes:
    location = parse_s3_uri(uri)
    return ctx.store(location.bucket).get(location.key)[0]


def integrity_gate(ctx: OperatorContext, datasetversion: dict[str, Any]) -> GateResult:
    """Every artifact and the receipt still hash to what the status recorded (None when the store is down)."""
    status = datasetversion.get("status") or {}
    findings = []
    try:
        for artifact in status.get("artifacts") or []:
            location = parse_s3_uri(artifact["uri"])
            try:
                actual = ctx.store(location.bucket).hash(location.key).digest
            except NotFound:
                findings.append(Finding("integrity.missing", artifact["name"], f"{artifact['uri']} is gone"))
                continue
            if actual != artifact["digest"]:
                findings.append(Finding("integrity.digest_mismatch", artifact["name"],
                                        f"{artifact['uri']}: expected {artifact['digest']}, actual {actual}"))
        receipt = status.get("receipt") or {}
        if not receipt.get("uri"):
            findings.append(Finding("integrity.no_receipt", "status.receipt", "the version has no receipt"))
        elif canonical_digest(_read(ctx, receipt["uri"])) != receipt.get("digest"):
            findings.append(Finding("integrity.digest_mismatch", "receipt", f"{receipt['uri']} changed"))
        if not status.get("artifacts"):
            findings.append(Finding("integrity.no_artifacts", "status.artifacts", "the version has no artifacts"))
    except NotFound as error:
        findings.append(Finding("integrity.missing", "receipt", str(error)))
    except Unavailable as error:
        return GateResult("integrity", None, (Finding("integrity.unavailable", "store", str(error)),))
    return GateResult("integrity", not findings, tuple(findings))


def catalog_gate(ctx: OperatorContext, datasetversion: dict[str, Any]) -> GateResult:
    """The catalog gate again, on the documents the receipt names, each checked against its recorded digest."""
    status = datasetversion.get("status") or {}
    try:
        receipt = json.loads(_read(ctx, (status.get("receipt") or {})["uri"]))
        documents: dict[str, bytes | None] = {}
        findings = []
        for name, ref in (receipt.get("catalog") or {}).items():
            data = _read(ctx, ref["uri"])
            if canonical_digest(data) != ref["digest"]:
                findings.append(Finding("catalog.document_changed", name, f"{ref['uri']} changed since the run"))
            documents[name] = data
    except (KeyError, NotFound, ValueError) as error:
        return GateResult("catalog", False, (Finding("catalog.unreadable", "status.receipt", str(error)),))
    except Unavailable as error:
        return GateResult("catalog", None, (Finding("catalog.unavailable", "store", str(error)),))
    artifacts = [Artifact(o["name"], o["uri"], o["checksum"]) for o in receipt.get("outputs", [])]
    result = validate_catalog(triplet_from_bytes(documents, artifacts),
                              extra_schema_dirs=ctx.settings.catalog_schema_dirs)
    if findings:
        return GateResult("catalog", False if result.passed is not None else None, (*findings, *result.findings))
    return result


def policy_input(*, promotion: dict[str, Any], datasetversion: dict[str, Any], from_zone: str | None,
                 gates: list[GateResult], exception_verified: bool) -> dict[str, Any]:
    """What OPA decides on: the subject's spec and labels, every gate result, the exception, the transition."""
    meta, status = datasetversion["metadata"], datasetversion.get("status") or {}
    document: dict[str, Any] = {
        "subject": {"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"],
                    "labels": meta.get("labels") or {}, "spec": datasetversion["spec"],
                    "status": {"zone": status.get("zone"), "receipt": status.get("receipt")}},
        "transition": {"from": from_zone, "to": promotion["spec"]["targetZone"]},
        "gates": {g.name: {"passed": g.passed, "findings": [f.code for f in g.findings]} for g in gates},
        "promotion": {"namespace": promotion["metadata"]["namespace"], "name": promotion["metadata"]["name"],
                      "uid": promotion["metadata"]["uid"], "reason": promotion["spec"]["reason"],
                      "dryRun": bool(promotion["spec"].get("dryRun", False))},
    }
    exception = promotion["spec"].get("exception")
    if exception:
        document["exception"] = {"id": exception.get("id"), "waives": exception.get("waives", []),
                                 "expiresAt": exception.get("expiresAt"), "signer": exception.get("signer"),
                                 "verified": exception_verified}
    return document
