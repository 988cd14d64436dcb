"""What handlers share, built once at start-up and kept in Kopf's memo: settings, API and store clients, the
ledger, and a lock per object so the object's own handler and its Jobs' events never reconcile it at once."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from kfm_operator.settings import Settings
from kfm_operator.stores import ObjectStore

__all__ = ["OperatorContext"]


@dataclass
class OperatorContext:
    settings: Settings
    api: client.ApiClient
    s3: Any  # boto3 S3 client
    ledger: Any  # kfm_operator.ledger.Ledger
    trusted_keys: dict[str, Any] = field(default_factory=dict)  # signer id -> Ed25519PublicKey
    locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def store(self, bucket: str | None = None) -> ObjectStore:
        return ObjectStore(client=self.s3, bucket=bucket or self.settings.s3_bucket)

    def lock(self, uid: str) -> threading.Lock:
        with self._guard:
            return self.locks.setdefault(uid, threading.Lock())
