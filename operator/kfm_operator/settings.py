"""Operator and runner configuration: environment variables KFM_* (a ConfigMap via envFrom in a cluster).

Credentials are never settings: boto3 reads AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (from a Secret) or its
credentials file; keys for signing are read from files named here. Defaults serve the local environment
(`kfm dev`). Read once at start-up (handlers keep it in Kopf's memo), never at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KFM_", extra="ignore")

    s3_endpoint: str | None = Field(default=None, description="S3 endpoint URL; unset means AWS.")
    s3_region: str = "us-east-1"
    s3_bucket: str = Field(default="kfm-dev", description="The environment's bucket (zones, cas, catalog, ...).")
    opa_url: str = "http://127.0.0.1:8181"
    opa_timeout_seconds: float = 5.0
    ledger_backend: str = Field(default="s3", pattern="^(s3|file)$")
    ledger_path: Path = Path(".kfm-ledger")
    ledger_prefix: str = "ledger/"
    ledger_origin: str = "kfm.dev/ledger/dev"
    ledger_signing_key_file: Path | None = None
    trusted_keys_file: Path | None = Field(default=None, description=(
        "JSON file {key id: base64 Ed25519 public key} of the signers whose promotion exceptions are trusted."))
    catalog_schema_dirs: list[Path] = Field(default_factory=list, description=(
        "Extra directories of JSON Schemas (keyed by $id) the catalog gate may use, e.g. more STAC extensions."))
    runner_image: str = "ghcr.io/kfm/kfm-operator:0.1.0"
    runner_credentials_secret: str = Field(default="kfm-s3-credentials", description=(
        "Secret (in the DatasetVersion's namespace) with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for Jobs."))
