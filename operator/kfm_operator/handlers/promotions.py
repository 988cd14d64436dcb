"""Kopf handlers for Promotions: thin; the recipe is in promotion_flow."""

from __future__ import annotations

from typing import Any

import kopf
from kubernetes.client.rest import ApiException

from kfm_operator.api.fields import GROUP, VERSION
from kfm_operator.handlers import promotion_flow
from kfm_operator.handlers.context import OperatorContext
from kfm_operator.stores import StoreError

RETRY_DELAY = 5


@kopf.on.resume(GROUP, VERSION, "promotions")
@kopf.on.create(GROUP, VERSION, "promotions")
def promotion_reconcile(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    context: OperatorContext = memo.context
    try:
        promotion_flow.reconcile(context, dict(body))
    except promotion_flow.Retry as waiting:
        raise kopf.TemporaryError(str(waiting), delay=RETRY_DELAY) from waiting
    except (ApiException, StoreError) as error:
        raise kopf.TemporaryError(f"will retry: {error}", delay=RETRY_DELAY) from error
