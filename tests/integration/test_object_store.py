"""The object store against the real S3 server: create-only, compare-and-swap, streamed hashing, our errors."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest

from kfm_operator.devenv import S3Server
from kfm_operator.devenv.ports import free_port
from kfm_operator.stores import AlreadyExists, NotFound, ObjectStore, PreconditionFailed, Unavailable
from kfm_operator.stores.clients import s3_client


@pytest.fixture
def store(s3_server: S3Server, bucket: str) -> ObjectStore:
    return ObjectStore(client=s3_server.client(), bucket=bucket)


def test_create_only_write_refuses_a_second_writer(store: ObjectStore) -> None:
    store.put_if_absent("cas/sha256/x", b"one")
    with pytest.raises(AlreadyExists, match=f"s3://{store.bucket}/cas/sha256/x: already exists"):
        store.put_if_absent("cas/sha256/x", b"two")
    assert store.get("cas/sha256/x")[0] == b"one"


def test_compare_and_swap_has_exactly_one_winner(store: ObjectStore) -> None:
    # The initial bytes differ from every writer's: an ETag is a content hash, equal bytes would match again (ABA).
    etag = store.put_if_absent("ledger/checkpoint", b"initial").etag
    winners, losers = [], []

    def writer(number: int) -> None:
        try:
            store.put_if_match("ledger/checkpoint", f"size {number}".encode(), etag=etag)
            winners.append(number)
        except PreconditionFailed:
            losers.append(number)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(winners) == 1 and len(losers) == 7
    assert store.get("ledger/checkpoint")[0] == f"size {winners[0]}".encode()


def test_hash_streams_the_bytes_and_can_copy_them(store: ObjectStore) -> None:
    data = bytes(range(256)) * 9000  # > 2 MiB: several chunks
    store.put_if_absent("raw/blob", data)
    copy = io.BytesIO()
    hashed = store.hash("raw/blob", into=copy)
    assert hashed.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert hashed.size == len(data) and copy.getvalue() == data


def test_missing_objects_and_buckets_are_not_found(s3_server: S3Server, store: ObjectStore) -> None:
    with pytest.raises(NotFound, match="raw/none: not found"):
        store.get("raw/none")
    with pytest.raises(NotFound):
        store.hash("raw/none")
    assert not store.exists("raw/none")
    with pytest.raises(NotFound):
        ObjectStore(client=s3_server.client(), bucket="kfm-no-such-bucket").get("k")


def test_keys_lists_only_the_prefix_in_order(store: ObjectStore) -> None:
    for number in range(5):
        store.put_if_absent(f"zones/published/d/{number}.json", b"{}")
    store.put_if_absent("zones/processed/d/9.json", b"{}")
    assert list(store.keys("zones/published/")) == [f"zones/published/d/{n}.json" for n in range(5)]


def test_an_unreachable_store_is_unavailable() -> None:
    client = s3_client(endpoint=f"http://127.0.0.1:{free_port()}", region="us-east-1", connect_timeout=1)
    with pytest.raises(Unavailable, match="s3://kfm-dev/k"):
        ObjectStore(client=client, bucket="kfm-dev").get("k")
