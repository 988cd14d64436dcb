"""An S3 bucket as the operator uses it: create-only writes, compare-and-swap, streamed hashing.

Used by the pipeline runner, the ledger's S3 backend and the handlers. Every boto3/botocore error is translated
here into kfm_operator.stores.errors, chained with `from`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from kfm_operator.stores import errors

__all__ = ["HashedObject", "ObjectInfo", "ObjectStore"]

_CHUNK = 1024 * 1024
_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "404", "NotFound", "NoSuchVersion"}
_PRECONDITION = {"PreconditionFailed", "412"}
_CONFLICT = {"ConditionalRequestConflict", "409", "OperationAborted"}


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    etag: str
    size: int | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class HashedObject:
    digest: str  # sha256:<hex>
    size: int


def _translate(error: Exception, what: str) -> errors.StoreError:
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _NOT_FOUND or status == 404:
            return errors.NotFound(f"{what}: not found")
        if code in _PRECONDITION or status == 412:
            return errors.PreconditionFailed(f"{what}: precondition failed ({code})")
        if code in _CONFLICT or status == 409:
            return errors.PreconditionFailed(f"{what}: concurrent write ({code})")
        if status is not None and status >= 500:
            return errors.Unavailable(f"{what}: store error {status} {code}")
        return errors.StoreError(f"{what}: {code or status}: {error.response.get('Error', {}).get('Message', '')}")
    return errors.Unavailable(f"{what}: {type(error).__name__}: {error}")


class ObjectStore:
    """One bucket through a boto3 S3 client (the client is passed in; see `kfm_operator.settings`)."""

    def __init__(self, *, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _call(self, what: str, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **kwargs)
        except (ClientError, BotoCoreError) as error:
            raise _translate(error, what) from error

    # -- writes ------------------------------------------------------------------------------------------------

    def put_if_absent(self, key: str, data: bytes | IO[bytes], *, content_type: str | None = None) -> ObjectInfo:
        """Create `key`; AlreadyExists if it exists (If-None-Match: *)."""
        extra = {"ContentType": content_type} if content_type else {}
        try:
            response = self._call(self.uri(key), "put_object", Key=key, Body=data, IfNoneMatch="*", **extra)
        except errors.PreconditionFailed as error:
            raise errors.AlreadyExists(f"{self.uri(key)}: already exists") from error
        return ObjectInfo(key, response["ETag"], None, response.get("VersionId"))

    def put_if_match(self, key: str, data: bytes, *, etag: str, content_type: str | None = None) -> ObjectInfo:
        """Replace `key` only if its ETag is still `etag` (If-Match); PreconditionFailed otherwise."""
        extra = {"ContentType": content_type} if content_type else {}
        response = self._call(self.uri(key), "put_object", Key=key, Body=data, IfMatch=etag, **extra)
        return ObjectInfo(key, response["ETag"], len(data), response.get("VersionId"))

    def put(self, key: str, data: bytes, *, content_type: str | None = None) -> ObjectInfo:
        """Unconditional write (mutable objects only: indexes, never canonical records)."""
        extra = {"ContentType": content_type} if content_type else {}
        response = self._call(self.uri(key), "put_object", Key=key, Body=data, **extra)
        return ObjectInfo(key, response["ETag"], len(data), response.get("VersionId"))

    def put_file_if_absent(self, key: str, path: Path, *, content_type: str | None = None) -> ObjectInfo:
        with path.open("rb") as handle:
            return self.put_if_absent(key, handle, content_type=content_type)

    def delete(self, key: str) -> None:
        """Delete `key` (in a versioned bucket the history stays: a delete marker is added)."""
        self._call(self.uri(key), "delete_object", Key=key)

    # -- reads -------------------------------------------------------------------------------------------------

    def get(self, key: str) -> tuple[bytes, str]:
        """The object's bytes and ETag; NotFound if absent."""
        response = self._call(self.uri(key), "get_object", Key=key)
        try:
            return response["Body"].read(), response["ETag"]
        except (BotoCoreError, OSError) as error:
            raise errors.Unavailable(f"{self.uri(key)}: read failed: {error}") from error

    def head(self, key: str) -> ObjectInfo:
        response = self._call(self.uri(key), "head_object", Key=key)
        return ObjectInfo(key, response["ETag"], response.get("ContentLength"), response.get("VersionId"))

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
        except errors.NotFound:
            return False
        return True

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix`, in lexicographic order."""
        token: dict[str, str] = {}
        while True:
            page = self._call(self.uri(prefix), "list_objects_v2", Prefix=prefix, **token)
            yield from (item["Key"] for item in page.get("Contents", []))
            if not page.get("IsTruncated"):
                return
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def hash(self, key: str, *, into: IO[bytes] | None = None) -> HashedObject:
        """sha256 of the object's bytes, streamed (the ETag is never trusted); optionally copied into `into`."""
        response = self._call(self.uri(key), "get_object", Key=key)
        digest, size = hashlib.sha256(), 0
        try:
            for chunk in response["Body"].iter_chunks(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if into is not None:
                    into.write(chunk)
        except (BotoCoreError, OSError) as error:
            raise errors.Unavailable(f"{self.uri(key)}: read failed: {error}") from error
        return HashedObject(f"sha256:{digest.hexdigest()}", size)
