"""Carrying out an allowed Promotion: publish (write the published zone manifest) or withdraw (record the
withdrawal, then remove the published manifest), then set the DatasetVersion's zone.

Both are arbitrated by create-only writes: of two Promotions racing for the same transition exactly one writes
first; the other learns it lost and says so. Publishing copies no bytes: the manifest names the artifacts.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from kfm_operator.domain import names
from kfm_operator.handlers import statuses
from kfm_operator.handlers.context import OperatorContext
from kfm_operator.observability.faults import crash_point
from kfm_operator.stores import AlreadyExists, NotFound

__all__ = ["carry_out"]

def _set_zone(ctx: OperatorContext, datasetversion: dict[str, Any], zone: str) -> None:
    statuses.patch_status(ctx, "datasetversions", datasetversion, {"zone": zone})


def carry_out(ctx: OperatorContext, *, promotion: dict[str, Any], datasetversion: dict[str, Any],
              ledger: dict[str, Any]) -> str | None:
    """Move the version; None when this Promotion did it (or had done it before a crash), else why it lost."""
    spec = datasetversion["spec"]
    store = ctx.store()
    published_key = names.zone_manifest_key("published", spec["dataset"], spec["version"])
    me = {"namespace": promotion["metadata"]["namespace"], "name": promotion["metadata"]["name"],
          "uid": promotion["metadata"]["uid"], "ledger": ledger}
    if promotion["spec"]["targetZone"] == "published":
        processed = json.loads(store.get(names.zone_manifest_key("processed", spec["dataset"], spec["version"]))[0])
        manifest = {**processed, "zone": "published", "promotion": me}
        try:
            store.put_if_absent(published_key, bytes(rfc8785.dumps(manifest)), content_type="application/json")
        except AlreadyExists:
            holder = json.loads(store.get(published_key)[0]).get("promotion", {})
            if holder.get("uid") != me["uid"]:
                return (f"already published by Promotion {holder.get('name')} (ledger index "
                        f"{holder.get('ledger', {}).get('index')}); nothing changed")
        crash_point("promotion.published")
        _set_zone(ctx, datasetversion, "published")
        return None
    try:
        current, etag = store.get(published_key)
    except NotFound:
        current, etag = b"", "none"
    record_key = f"zones/withdrawals/{names.dataset_name(spec['dataset'])}/{spec['version']}/{etag.strip(chr(34))}.json"
    try:
        store.put_if_absent(record_key, bytes(rfc8785.dumps({"withdrawn": json.loads(current or b"{}"),
                                                              "promotion": me})), content_type="application/json")
    except AlreadyExists:
        holder = json.loads(store.get(record_key)[0]).get("promotion", {})
        if holder.get("uid") != me["uid"]:
            return f"already withdrawn by Promotion {holder.get('name')}; nothing changed"
    if current:
        store.delete(published_key)  # the bucket is versioned: the published manifest's history stays
    _set_zone(ctx, datasetversion, "processed")
    return None
