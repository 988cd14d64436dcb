"""The operator's entry point for Kopf (`kfm run`, or `kopf run -m kfm_operator.handlers.main`): start-up wiring
in one place, then the handler modules."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import kopf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from kubernetes import client, config

from kfm_operator.handlers import datasetversions, promotions, wiring  # noqa: F401 - registers handlers
from kfm_operator.handlers.context import OperatorContext
from kfm_operator.ledger import open_ledger
from kfm_operator.settings import Settings
from kfm_operator.stores.clients import s3_client


def _api_client() -> client.ApiClient:
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config(config_file=os.environ.get("KUBECONFIG"))
    return client.ApiClient()


@kopf.on.startup()
def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    wiring.configure(settings)
    operator_settings = Settings()
    s3 = s3_client(endpoint=operator_settings.s3_endpoint, region=operator_settings.s3_region)
    memo.context = OperatorContext(settings=operator_settings, api=_api_client(), s3=s3,
                                   ledger=open_ledger(operator_settings, s3=s3),
                                   trusted_keys=_trusted_keys(operator_settings))


def _trusted_keys(settings: Settings) -> dict[str, Ed25519PublicKey]:
    """Signer id -> public key, from the JSON file named by KFM_TRUSTED_KEYS_FILE (none: no exception verifies)."""
    if settings.trusted_keys_file is None:
        return {}
    raw = json.loads(settings.trusted_keys_file.read_text())
    return {key_id: Ed25519PublicKey.from_public_bytes(base64.b64decode(value)) for key_id, value in raw.items()}


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    return kopf.login_via_client(**kwargs)
