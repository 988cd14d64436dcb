"""The boto3 S3 client, configured once for path-style SigV4 (what SeaweedFS and most S3 servers need)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

__all__ = ["s3_client"]


def s3_client(*, endpoint: str | None, region: str, connect_timeout: float = 5.0, read_timeout: float = 30.0) -> Any:
    """A boto3 S3 client; credentials come from boto3's usual chain (env from a Secret, or a file)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, connect_timeout=connect_timeout,
                      read_timeout=read_timeout, retries={"max_attempts": 3, "mode": "standard"}),
    )
