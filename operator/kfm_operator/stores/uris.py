"""s3:// URIs and content-addressed keys."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["S3Uri", "cas_key", "parse_s3_uri"]

_S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(\S+)$")
_SHA256 = re.compile(r"^sha256:([a-f0-9]{64})$")


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(uri: str) -> S3Uri:
    """s3://bucket/key -> S3Uri; ValueError naming the URI otherwise."""
    match = _S3_URI.match(uri)
    if not match:
        raise ValueError(f"not an s3://<bucket>/<key> URI: {uri!r}")
    return S3Uri(match.group(1), match.group(2))


def cas_key(digest: str) -> str:
    """The content-addressed key of `digest` (sha256:<hex>): cas/sha256/<hex>."""
    match = _SHA256.match(digest)
    if not match:
        raise ValueError(f"not a sha256:<64 hex> digest: {digest!r}")
    return f"cas/sha256/{match.group(1)}"
