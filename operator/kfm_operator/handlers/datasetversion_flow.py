"""The DatasetVersion recipe: observe, ask domain.datasetversion what the status says, act, record.

Level-based and idempotent: every step can run twice and the operator may die at any line. Order of durable
effects: input hashes -> status (verified, Job launching) -> run spec (create-only) -> Job (409 = adopt) ... Job
finished -> receipt and outputs verified -> catalog gate -> ledger entry (idempotent by key) -> zone manifest
(create-only) -> status with the ledger index. Called from the DatasetVersion's own handlers and from its Jobs'
events (see datasetversions.py), always under the object's lock.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from kfm_operator import __version__
from kfm_operator.api.fields import GROUP, VERSION
from kfm_operator.domain import datasetversion as flow
from kfm_operator.domain import names
from kfm_operator.domain.conditions import Condition
from kfm_operator.handlers import evidence, statuses
from kfm_operator.handlers.context import OperatorContext
from kfm_operator.observability.faults import crash_point
from kfm_operator.pipeline import jobs, transforms
from kfm_operator.pipeline.runspec import RunInput, RunSpec, RunSubject
from kfm_operator.stores import AlreadyExists, NotFound, parse_s3_uri

__all__ = ["reconcile"]

log = logging.getLogger(__name__)
PLURAL = "datasetversions"
_now = statuses.now
_conditions = statuses.conditions_of


def _apply(ctx: OperatorContext, body: dict[str, Any], update: flow.StatusUpdate,
           extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return statuses.apply(ctx, PLURAL, body, update, extra)


def reconcile(ctx: OperatorContext, body: dict[str, Any]) -> None:
    """Take the DatasetVersion in `body` one or more steps further; raises stores.Unavailable and ApiException
    for the caller to retry."""
    meta = body["metadata"]
    generation, uid = int(meta["generation"]), meta["uid"]
    with ctx.lock(uid):
        body = client.CustomObjectsApi(ctx.api).get_namespaced_custom_object(
            GROUP, VERSION, meta["namespace"], PLURAL, meta["name"])  # fresh: another thread may have moved it
        if body["metadata"]["uid"] != uid or int(body["metadata"]["generation"]) != generation:
            return
        conds = _conditions(body)
        step = flow.next_step(conds, generation)
        if step is flow.Step.DONE:
            return
        if step is flow.Step.VERIFY_INPUTS:
            body = _verify_inputs(ctx, body, conds)
            if flow.next_step(_conditions(body), generation) is not flow.Step.RUN:
                return
        _run(ctx, body)


def _record_failure(ctx: OperatorContext, body: dict[str, Any], update: flow.StatusUpdate, errors: list[str], *,
                    job: str | None = None, attempts: int | None = None) -> None:
    run = names.run_id(body["metadata"]["uid"], int(body["metadata"]["generation"]))
    appended = evidence.append_run_receipt(ctx, body, run_id=run, receipt={
        "run_id": run, "job_id": job, "status": "failed", "errors": errors}, outcome=update.fields["phase"])
    run_status: dict[str, Any] = {"id": run, **({"job": job} if job else {})}
    if attempts is not None:
        run_status["attempt"] = attempts
    _apply(ctx, body, update, {"ledger": appended, "run": run_status})
    log.warning("run failed: %s", json.dumps({"run_id": run, "dataset_version_id": body["metadata"]["uid"],
                                              "ledger_index": appended["index"], "phase": update.fields["phase"]}),
                extra={"run_id": run, "dataset_version_id": body["metadata"]["uid"],
                       "ledger_index": appended["index"]})


def _verify_inputs(ctx: OperatorContext, body: dict[str, Any], conds: list[Condition]) -> dict[str, Any]:
    generation = int(body["metadata"]["generation"])
    spec = body["spec"]
    body = _apply(ctx, body, flow.started(conds, generation=generation, now=_now()))
    conds = _conditions(body)
    if spec["pipeline"]["transform"] not in transforms.registered():
        update = flow.unknown_transform(conds, spec["pipeline"]["transform"], transforms.registered(),
                                        generation=generation, now=_now())
        _record_failure(ctx, body, update, [update.conditions[-1].message])
        return body
    holder = evidence.version_holder(ctx, spec["dataset"], spec["version"])
    if holder is not None and holder["uid"] != body["metadata"]["uid"]:
        update = flow.version_taken(conds, spec["dataset"], spec["version"],
                                    f"{holder['namespace']}/{holder['name']}", generation=generation, now=_now())
        _record_failure(ctx, body, update, [update.conditions[-1].message])
        return body
    checks = []
    for item in spec["inputs"]:
        location = parse_s3_uri(item["uri"])
        try:
            actual: str | None = ctx.store(location.bucket).hash(location.key).digest
        except NotFound:
            actual = None
        checks.append(flow.InputCheck(item["name"], item["digest"], actual))
    update = flow.inputs_checked(conds, checks, generation=generation, now=_now())
    crash_point("dsv.inputs-hashed")
    if update.terminal:
        _record_failure(ctx, body, update, [c.message for c in update.conditions if c.type == "InputsVerified"])
        return body
    return _apply(ctx, body, update)


def _run_spec(ctx: OperatorContext, body: dict[str, Any], run: str) -> RunSpec:
    meta, spec = body["metadata"], body["spec"]
    return RunSpec(
        run_id=run,
        subject=RunSubject(namespace=meta["namespace"], name=meta["name"], uid=meta["uid"],
                           generation=int(meta["generation"])),
        requested_at=meta["creationTimestamp"],
        dataset=spec["dataset"], version=spec["version"], title=spec["title"],
        description=spec.get("description"), license=spec["license"], governance=spec["governance"],
        inputs=[RunInput(name=i["name"], uri=i["uri"], digest=i["digest"], media_type=i.get("mediaType"))
                for i in spec["inputs"]],
        transform=spec["pipeline"]["transform"], parameters=spec["pipeline"].get("parameters") or {},
        bucket=ctx.settings.s3_bucket, image=spec["pipeline"].get("image") or ctx.settings.runner_image,
        operator_version=__version__,
    )


def _run(ctx: OperatorContext, body: dict[str, Any]) -> None:
    meta, spec = body["metadata"], body["spec"]
    generation = int(meta["generation"])
    run = names.run_id(meta["uid"], generation)
    job_name = names.job_name(meta["name"], run)
    batch = client.BatchV1Api(ctx.api)
    try:
        job = batch.read_namespaced_job(job_name, meta["namespace"])
    except ApiException as error:
        if error.status != 404:
            raise
        job = None
    if job is None:
        run_spec = _run_spec(ctx, body, run)
        store = ctx.store()
        key = names.run_spec_key(run)
        with contextlib.suppress(AlreadyExists):  # an earlier attempt wrote it: same object and generation, same bytes
            store.put_if_absent(key, run_spec.canonical(), content_type="application/json")
        crash_point("dsv.run-spec-written")
        body = _apply(ctx, body, flow.job_running(_conditions(body), job_name, generation=generation, now=_now()),
                      {"run": {"id": run, "job": job_name}})
        pipeline = spec["pipeline"]
        manifest = jobs.build_job(
            name=job_name, namespace=meta["namespace"],
            owner={"apiVersion": f"{GROUP}/{VERSION}", "kind": "DatasetVersion", "name": meta["name"],
                   "uid": meta["uid"]},
            run_id=run, spec_uri=store.uri(key), spec_digest=run_spec.digest, image=run_spec.image,
            timeout_seconds=int(pipeline.get("timeoutSeconds", 3600)),
            backoff_limit=int(pipeline.get("backoffLimit", 2)), pool=pipeline.get("pool", "default"),
            resources=pipeline.get("resources"), store_env=evidence.runner_env(ctx),
            credentials_secret=ctx.settings.runner_credentials_secret)
        crash_point("dsv.before-job-create")
        try:
            batch.create_namespaced_job(meta["namespace"], manifest)
        except ApiException as error:
            if error.status != 409:  # 409: it exists already — adopt it, never a second Job
                raise
        crash_point("dsv.job-created")
        return
    state = evidence.job_state(job)
    if not state.finished:
        return
    if not state.succeeded:
        errors = evidence.pod_errors(ctx, meta["namespace"], job_name)
        update = flow.job_failed(_conditions(body), state, errors, generation=generation, now=_now())
        _record_failure(ctx, body, update, errors or [state.message], job=job_name,
                        attempts=evidence.job_attempts(job))
        return
    _finish(ctx, body, run, job_name, attempts=evidence.job_attempts(job))


def _finish(ctx: OperatorContext, body: dict[str, Any], run: str, job_name: str, *, attempts: int) -> None:
    generation = int(body["metadata"]["generation"])
    verified = evidence.verify_run(ctx, run, body)
    if verified.problems:
        update = flow.receipt_invalid(_conditions(body), verified.problems, generation=generation, now=_now())
        _record_failure(ctx, body, update, verified.problems, job=job_name)
        return
    gate = evidence.catalog_gate(ctx, verified)
    update = flow.run_validated(_conditions(body), gate, generation=generation, now=_now())
    appended = evidence.append_run_receipt(ctx, body, run_id=run, receipt=verified.receipt,
                                           outcome=update.fields["phase"],
                                           findings=[f.code for f in gate.findings])
    crash_point("dsv.ledger-appended")
    evidence.write_zone_manifest(ctx, body, zone=update.fields["zone"], verified=verified, ledger=appended)
    crash_point("dsv.zone-manifest-written")
    _apply(ctx, body, update, {
        "ledger": appended,
        "run": {"id": run, "job": job_name, "attempt": attempts, "startedAt": verified.receipt["started_at"],
                "finishedAt": verified.receipt["finished_at"]},
        "artifacts": verified.artifacts,
        "catalog": verified.catalog_status,
        "receipt": {"uri": verified.receipt_uri, "digest": verified.receipt_digest},
    })
    log.info("run finished: %s", json.dumps({"run_id": run, "dataset_version_id": body["metadata"]["uid"],
                                              "ledger_index": appended["index"], "phase": update.fields["phase"]}),
             extra={"run_id": run, "dataset_version_id": body["metadata"]["uid"], "ledger_index": appended["index"]})
