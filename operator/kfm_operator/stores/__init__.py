"""Stores: the object store (S3) behind our own interface and errors."""

from kfm_operator.stores.errors import AlreadyExists, NotFound, PreconditionFailed, StoreError, Unavailable
from kfm_operator.stores.objects import HashedObject, ObjectInfo, ObjectStore
from kfm_operator.stores.uris import S3Uri, cas_key, parse_s3_uri

__all__ = [
    "AlreadyExists",
    "HashedObject",
    "NotFound",
    "ObjectInfo",
    "ObjectStore",
    "PreconditionFailed",
    "S3Uri",
    "StoreError",
    "Unavailable",
    "cas_key",
    "parse_s3_uri",
]
