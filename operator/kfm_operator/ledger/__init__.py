"""The audit ledger: an append-only RFC 9162 Merkle log of canonical JSON entries with signed C2SP checkpoints,
stored in the C2SP tlog-tiles layout on a filesystem or in S3, verifiable offline with the public key alone.

Handlers append entries (`Ledger.append`) and read where a key landed (`Ledger.find`); `kfm ledger` verifies,
shows and proves. Open a ledger on a backend:

    signer = notes.load_signer(Path("ledger.key"))            # or notes.signer_from_secret(secret.data)
    ledger = Ledger.open(FileStorage(Path(".kfm-ledger")), signer=signer)
    ledger = Ledger.open(S3Storage(ObjectStore(client=..., bucket=...), "ledger/"), signer=signer)
"""

from kfm_operator.ledger import merkle, notes, proofs, tiles
from kfm_operator.ledger.entries import Correlation, Entry, EntryError, EntryKind, Subject, format_time
from kfm_operator.ledger.errors import LedgerBusy, LedgerCorrupt, LedgerError
from kfm_operator.ledger.filesystem import FileStorage
from kfm_operator.ledger.log import Appended, Ledger, LedgerReader
from kfm_operator.ledger.notes import NoteError, Signer, Verifier, generate_signer, load_signer, signer_from_secret
from kfm_operator.ledger.opening import open_ledger
from kfm_operator.ledger.s3 import S3Storage
from kfm_operator.ledger.storage import LedgerStorage
from kfm_operator.ledger.verifying import VerifyResult, verify

__all__ = [
    "Appended",
    "Correlation",
    "Entry",
    "EntryError",
    "EntryKind",
    "FileStorage",
    "Ledger",
    "LedgerBusy",
    "LedgerCorrupt",
    "LedgerError",
    "LedgerReader",
    "LedgerStorage",
    "NoteError",
    "S3Storage",
    "Signer",
    "Subject",
    "Verifier",
    "VerifyResult",
    "format_time",
    "generate_signer",
    "load_signer",
    "merkle",
    "notes",
    "open_ledger",
    "proofs",
    "signer_from_secret",
    "tiles",
    "verify",
]
