"""Helpers for the ledger tests: entries, keys, and a script that appends and reports each acknowledged index."""

from __future__ import annotations

from kfm_operator.ledger import Entry, Subject

APPENDER = r"""
import os, sys
from pathlib import Path
from kfm_operator.ledger import Entry, FileStorage, Ledger, S3Storage, Subject, notes
from kfm_operator.stores import ObjectStore
from kfm_operator.stores.clients import s3_client

signer = notes.Signer.from_skey(os.environ["TEST_SKEY"])
where, worker, count, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if where.startswith("s3://"):
    bucket, _, prefix = where[5:].partition("/")
    client = s3_client(endpoint=os.environ["KFM_S3_ENDPOINT"], region=os.environ["KFM_S3_REGION"])
    storage = S3Storage(ObjectStore(client=client, bucket=bucket), prefix)
else:
    storage = FileStorage(Path(where))
ledger = Ledger.open(storage, signer=signer)
subject = Subject(apiVersion="kfm.dev/v1alpha1", kind="DatasetVersion", namespace="ns", name="n", uid=worker)
for start in range(0, count, batch):
    entries = [Entry(kind="run.receipt", key=f"{worker}/{i}", time="2024-01-01T00:00:00Z", subject=subject,
                     payload={"i": i}) for i in range(start, min(count, start + batch))]
    results = ledger.append_many(entries)
    print("acked " + " ".join(f"{e.key}={a.index}" for e, a in zip(entries, results)), flush=True)
"""


def make_entry(number: int, *, key: str | None = None, payload: dict[str, object] | None = None) -> Entry:
    return Entry(
        kind="run.receipt", key=key or f"run/uid-{number}/1", time="2024-05-01T12:00:00Z",
        subject=Subject(apiVersion="kfm.dev/v1alpha1", kind="DatasetVersion", namespace="ns", name=f"dsv-{number}",
                        uid=f"uid-{number}"),
        payload=payload if payload is not None else {"number": number},
        digests={"out": "sha256:" + f"{number:064x}"[-64:]},
        correlation={"run_id": f"{number:016x}", "dataset_version_id": f"uid-{number}"},
    )
