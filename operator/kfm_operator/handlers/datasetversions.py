"""Kopf handlers for DatasetVersions and their Jobs: thin; the recipe is in datasetversion_flow."""

from __future__ import annotations

import time
from typing import Any

import kopf
from kubernetes import client
from kubernetes.client.rest import ApiException

from kfm_operator.api.fields import GROUP, VERSION
from kfm_operator.handlers import datasetversion_flow
from kfm_operator.handlers.context import OperatorContext
from kfm_operator.pipeline.jobs import LABEL_DATASET_VERSION
from kfm_operator.stores import StoreError, Unavailable

RETRY_DELAY = 5
EVENT_ATTEMPTS = 4


@kopf.on.resume(GROUP, VERSION, "datasetversions")
@kopf.on.create(GROUP, VERSION, "datasetversions")
def datasetversion_reconcile(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    context: OperatorContext = memo.context
    try:
        datasetversion_flow.reconcile(context, dict(body))
    except (Unavailable, ApiException) as error:
        raise kopf.TemporaryError(f"will retry: {error}", delay=RETRY_DELAY) from error
    except StoreError as error:
        raise kopf.TemporaryError(f"object store: {error}", delay=RETRY_DELAY * 6) from error


@kopf.on.event("batch", "v1", "jobs", labels={LABEL_DATASET_VERSION: kopf.PRESENT})
def pipeline_job_event(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """A pipeline Job changed: when it has finished, take its DatasetVersion further.

    Kopf does not retry event handlers, so a temporary failure is retried here a few times; a run finished while
    the operator was down is picked up at start, when Kopf replays an event for every listed Job."""
    conditions = (body.get("status") or {}).get("conditions") or []
    if not any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True" for c in conditions):
        return
    owner = next((o for o in body["metadata"].get("ownerReferences", []) if o.get("kind") == "DatasetVersion"), None)
    if owner is None:
        return
    context: OperatorContext = memo.context
    for attempt in range(1, EVENT_ATTEMPTS + 1):
        try:
            parent = client.CustomObjectsApi(context.api).get_namespaced_custom_object(
                GROUP, VERSION, body["metadata"]["namespace"], "datasetversions", owner["name"])
            if parent["metadata"]["uid"] != owner["uid"]:
                return  # the owner is gone; a new object has its name
            datasetversion_flow.reconcile(context, parent)
            return
        except ApiException as error:
            if error.status == 404:
                return
            failure: Exception = error
        except StoreError as error:
            failure = error
        logger.warning(f"finishing run of {owner['name']} failed (attempt {attempt}): {failure}")
        time.sleep(RETRY_DELAY * attempt)
