"""The ledger in an S3 bucket under a prefix, through `kfm_operator.stores.ObjectStore`.

Used by `Ledger` through the `LedgerStorage` protocol. Every object but the checkpoint is written create-only
(If-None-Match: *); the checkpoint is advanced by compare-and-swap (If-Match on its ETag). An ETag is a content
hash, so the CAS is sound only because no two checkpoints of one log have equal bytes: each names a larger tree
size. Several writers (processes, replicas) may append at once; no lock is needed (see `log` for the protocol).

What the bucket guarantees: with S3 Object Lock (COMPLIANCE retention) on the bucket, stored versions of tiles,
bundles, batches and key records cannot be deleted or overwritten for the retention period, and conditional writes
stop a writer from replacing them. SeaweedFS enforces both only at its S3 gateway: a process with access to the
filer's gRPC port can still delete or rewrite objects, so there `verify` (and checkpoints held by others) is what
detects tampering, not prevention. Without object lock, anyone with write credentials can replace objects;
`verify` detects it, nothing prevents it. Superseded partial tiles are kept (never deleted) here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

from kfm_operator import stores
from kfm_operator.ledger.storage import CHECKPOINT

__all__ = ["S3Storage"]

_CONTENT_TYPES = {CHECKPOINT: "text/plain; charset=utf-8"}


class S3Storage:
    """A ledger at `s3://<bucket>/<prefix>`; `workers` parallel PUTs per batch of objects."""

    def __init__(self, store: stores.ObjectStore, prefix: str = "ledger/", *, workers: int = 8) -> None:
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self.store = store
        self.prefix = prefix
        self.workers = workers

    @property
    def location(self) -> str:
        return self.store.uri(self.prefix)

    def read(self, path: str) -> bytes | None:
        try:
            return self.store.get(self.prefix + path)[0]
        except stores.NotFound:
            return None

    def _create(self, path: str, data: bytes) -> bool:
        try:
            self.store.put_if_absent(self.prefix + path, data,
                                     content_type=_CONTENT_TYPES.get(path, "application/octet-stream"))
        except stores.AlreadyExists:
            return False
        return True

    def create_many(self, objects: Mapping[str, bytes]) -> set[str]:
        if len(objects) <= 1:
            return {path for path, data in objects.items() if not self._create(path, data)}
        with ThreadPoolExecutor(max_workers=min(self.workers, len(objects))) as pool:
            created = dict(zip(objects, pool.map(self._create, objects, objects.values()), strict=True))
        return {path for path, ok in created.items() if not ok}

    def read_checkpoint(self) -> tuple[bytes, str] | None:
        try:
            return self.store.get(self.prefix + CHECKPOINT)
        except stores.NotFound:
            return None

    def swap_checkpoint(self, data: bytes, expected: str | None) -> bool:
        key = self.prefix + CHECKPOINT
        try:
            if expected is None:
                self.store.put_if_absent(key, data, content_type=_CONTENT_TYPES[CHECKPOINT])
            else:
                self.store.put_if_match(key, data, etag=expected, content_type=_CONTENT_TYPES[CHECKPOINT])
        except (stores.AlreadyExists, stores.PreconditionFailed):
            return False
        except stores.NotFound:  # AWS answers If-Match on a missing key with 404 (SeaweedFS with 412)
            return False
        return True

    def list(self, prefix: str) -> Iterator[str]:
        for key in self.store.keys(self.prefix + prefix):
            yield key[len(self.prefix):]

    def writer_lock(self) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()
