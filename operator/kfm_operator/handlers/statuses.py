"""Writing a kind's status the one way every recipe does: the domain's StatusUpdate (plus extra fields) merged
into /status with observedGeneration, then its Events. Shared by the DatasetVersion and Promotion recipes and
the transitions."""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from kfm_operator.api.fields import GROUP, VERSION
from kfm_operator.domain.conditions import Condition
from kfm_operator.domain.datasetversion import StatusUpdate
from kfm_operator.handlers.context import OperatorContext

__all__ = ["MERGE", "apply", "conditions_of", "now", "patch_status", "post_event"]

MERGE = "application/merge-patch+json"  # the client would default a dict body to JSON Patch


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def conditions_of(body: dict[str, Any]) -> list[Condition]:
    return [Condition.from_dict(c) for c in (body.get("status") or {}).get("conditions") or []]


def post_event(ctx: OperatorContext, obj: dict[str, Any], kind: str, reason: str, message: str) -> None:
    meta = obj["metadata"]
    event = {
        "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
        "involvedObject": {"apiVersion": obj.get("apiVersion", "kfm.dev/v1alpha1"), "kind": obj.get("kind"),
                           "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
                           "resourceVersion": meta.get("resourceVersion")},
        "type": kind, "reason": reason, "message": message[:1024],
        "source": {"component": "kfm-operator"}, "reportingComponent": "kfm-operator",
        "firstTimestamp": now(), "lastTimestamp": now(), "count": 1,
    }
    with contextlib.suppress(ApiException):  # Events are best effort: the status carries the same facts
        client.CoreV1Api(ctx.api).create_namespaced_event(meta["namespace"], event)


def patch_status(ctx: OperatorContext, plural: str, body: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    meta = body["metadata"]
    written: dict[str, Any] = client.CustomObjectsApi(ctx.api).patch_namespaced_custom_object_status(
        GROUP, VERSION, meta["namespace"], plural, meta["name"], {"status": status}, _content_type=MERGE)
    return written


def apply(ctx: OperatorContext, plural: str, body: dict[str, Any], update: StatusUpdate,
          extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write `update` (and `extra` fields) to the object's status, then post the update's Events."""
    status = {**update.as_status(int(body["metadata"]["generation"])), **(extra or {})}
    written = patch_status(ctx, plural, body, status)
    for kind, reason, message in update.events:
        post_event(ctx, written, kind, reason, message)
    return written
