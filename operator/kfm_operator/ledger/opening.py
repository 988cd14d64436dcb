"""Open the operator's ledger from its settings: the backend (file or S3), the signing key and the origin.

Called once at operator start-up (`handlers.main`) and by `kfm ledger`. The signing key comes from
KFM_LEDGER_SIGNING_KEY_FILE (a mounted Secret in a cluster). Unset, a development key is created next to the
ledger path (`<ledger_path>.key`, mode 0600) and reused, so `kfm dev` works without setup; in a cluster set the
file: a key that changes between restarts makes the stored checkpoint fail verification and the open fail.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from kfm_operator import stores
from kfm_operator.ledger import notes
from kfm_operator.ledger.filesystem import FileStorage
from kfm_operator.ledger.log import Ledger
from kfm_operator.ledger.s3 import S3Storage
from kfm_operator.ledger.storage import LedgerStorage
from kfm_operator.settings import Settings

__all__ = ["open_ledger", "signer_for", "storage_for", "write_new_key"]

_log = logging.getLogger(__name__)


def storage_for(settings: Settings, *, s3: Any = None) -> LedgerStorage:
    """The configured backend; `s3` is a boto3 client (required for the S3 backend)."""
    if settings.ledger_backend == "file":
        return FileStorage(settings.ledger_path)
    if s3 is None:
        raise ValueError("the S3 ledger backend needs an S3 client")
    return S3Storage(stores.ObjectStore(client=s3, bucket=settings.s3_bucket), settings.ledger_prefix)


def write_new_key(path: Path, name: str) -> notes.Signer:
    """Generate a key pair and write the signing key to `path` (create-only, mode 0600); vkey next to it."""
    signer = notes.generate_signer(name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(signer.skey() + "\n")
    path.with_name(path.name + ".pub").write_text(signer.verifier.vkey() + "\n")
    return signer


def signer_for(settings: Settings) -> notes.Signer:
    if settings.ledger_signing_key_file is not None:
        return notes.load_signer(settings.ledger_signing_key_file)
    dev_key = settings.ledger_path.with_name(settings.ledger_path.name + ".key")
    if dev_key.exists():
        return notes.load_signer(dev_key)
    _log.warning("KFM_LEDGER_SIGNING_KEY_FILE is unset: created development key %s", dev_key)
    return write_new_key(dev_key, settings.ledger_origin)


def open_ledger(settings: Settings, *, s3: Any = None) -> Ledger:
    """The operator's ledger, opened (crash leftovers completed, checkpoint checked against the tiles)."""
    return Ledger.open(storage_for(settings, s3=s3), signer=signer_for(settings), origin=settings.ledger_origin)
