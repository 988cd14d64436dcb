"""What handlers share, built once at start-up and kept in Kopf's memo: settings, API and store clients, the
ledger, and a lock per object so the object's own handler and its Jobs' events never reconcile it at once."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from kfm_operator.settings import Settings
from kfm_operator.stores import ObjectStore

__all__ = ["ObjectLock", "OperatorContext"]


class ObjectLock:
    """A lock for one object (weakly referenceable, unlike threading.Lock)."""

    __slots__ = ("__weakref__", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> ObjectLock:
        self._lock.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self._lock.release()


@dataclass
class OperatorContext:
    settings: Settings
    api: client.ApiClient
    s3: Any  # boto3 S3 client
    ledger: Any  # kfm_operator.ledger.Ledger
    trusted_keys: dict[str, Any] = field(default_factory=dict)  # signer id -> Ed25519PublicKey
    # Weak: a lock lives while some thread holds or waits for it, so the map does not grow with every object.
    locks: weakref.WeakValueDictionary[str, ObjectLock] = field(default_factory=weakref.WeakValueDictionary)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def store(self, bucket: str | None = None) -> ObjectStore:
        return ObjectStore(client=self.s3, bucket=bucket or self.settings.s3_bucket)

    def lock(self, uid: str) -> ObjectLock:
        with self._guard:
            found = self.locks.get(uid)
            if found is None:
                found = self.locks[uid] = ObjectLock()
            return found
