"""The ledger on the real S3 server: create-only objects, CAS'd checkpoint, concurrent writers, crashes."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kfm_operator.cli.ledger import ledger as ledger_cli
from kfm_operator.devenv import S3Server
from kfm_operator.ledger import Ledger, LedgerReader, S3Storage, notes, proofs, verify
from kfm_operator.stores import ObjectStore
from tests.unit.ledger.support import APPENDER, make_entry
from tests.unit.ledger.test_crashes import acknowledged, kill_writer_at_random

REPO = Path(__file__).resolve().parents[3]
ORIGIN = "kfm.dev/ledger/s3-test"


@pytest.fixture(scope="module")
def signer() -> notes.Signer:
    return notes.generate_signer(ORIGIN)


def _storage(s3_server: S3Server, bucket: str) -> S3Storage:
    return S3Storage(ObjectStore(client=s3_server.client(), bucket=bucket), "ledger/")


def test_appends_are_exactly_once_and_verify(s3_server: S3Server, bucket: str, signer: notes.Signer) -> None:
    ledger = Ledger.open(_storage(s3_server, bucket), signer=signer)
    first = ledger.append(make_entry(1))
    batch = ledger.append_many([make_entry(n) for n in range(2, 300)])
    assert first.index == 0 and [a.index for a in batch] == list(range(1, 299))
    again = Ledger.open(_storage(s3_server, bucket), signer=signer).append(make_entry(150))
    assert (again.index, again.existing, again.tree_size) == (149, True, 299)
    result = verify(_storage(s3_server, bucket), signer.verifier)
    assert result.ok and result.tree_size == 299, result.error
    listing = s3_server.client().list_objects_v2(Bucket=bucket, Prefix="ledger/tile/1/")
    assert [item["Key"] for item in listing["Contents"]] == ["ledger/tile/1/000.p/1"]
    document = json.dumps(ledger.prove_inclusion(200).to_json())
    assert "included" in proofs.check_proof(document, signer.verifier)


def test_a_replaced_object_is_detected(s3_server: S3Server, bucket: str, signer: notes.Signer) -> None:
    ledger = Ledger.open(_storage(s3_server, bucket), signer=signer)
    ledger.append_many([make_entry(n) for n in range(20)])
    s3 = s3_server.client()
    key = "ledger/tile/entries/000.p/20"
    data = bytearray(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    data[100] ^= 0x20
    s3.put_object(Bucket=bucket, Key=key, Body=bytes(data))  # an unconditional overwrite (no object lock here)
    result = verify(_storage(s3_server, bucket), signer.verifier)
    assert not result.ok and result.bad_path == "tile/entries/000.p/20" and result.bad_index is not None


@pytest.mark.timeout(240)
def test_two_processes_appending_concurrently_make_one_linear_log(s3_server: S3Server, bucket: str,
                                                                   signer: notes.Signer) -> None:
    Ledger.open(_storage(s3_server, bucket), signer=signer)
    env = {**os.environ, **s3_server.environment(), "TEST_SKEY": signer.skey()}
    writers = [subprocess.Popen([sys.executable, "-c", APPENDER, f"s3://{bucket}/ledger/", name, "40", "2"],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
               for name in ("a", "b")]
    outputs = [writer.communicate(timeout=180) for writer in writers]
    for writer, (_, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr[-2000:]
    acked = acknowledged(outputs[0][0]) | acknowledged(outputs[1][0])
    assert len(acked) == 80
    reader = LedgerReader(_storage(s3_server, bucket), verifier=signer.verifier)
    assert reader.tree_size() == 80
    keys = [reader.entry(i).key for i in range(80)]
    assert sorted(keys) == sorted(acked) and all(keys[index] == key for key, index in acked.items())
    result = verify(_storage(s3_server, bucket), signer.verifier)
    assert result.ok and not result.pending, result.error


@pytest.mark.timeout(240)
def test_sigkill_during_s3_appends_loses_no_acknowledged_entry(s3_server: S3Server, bucket: str,
                                                               signer: notes.Signer) -> None:
    rng = random.Random(os.getpid())  # noqa: S311 - test timing, not cryptography
    acked: dict[str, int] = {}
    for round_number in range(3):
        acked |= kill_writer_at_random(f"s3://{bucket}/ledger/", signer, f"k{round_number}",
                                       delay=rng.uniform(1.5, 3.0), env=s3_server.environment(), batch=2)
        ledger = Ledger.open(_storage(s3_server, bucket), signer=signer)
        result = verify(_storage(s3_server, bucket), signer.verifier)
        assert result.ok and not result.pending, result
        for key, index in acked.items():
            found = ledger.find(key)
            assert found is not None and found.index == index
    assert acked, "the writers should have got some appends acknowledged"


def test_cli_verifies_an_s3_ledger(s3_server: S3Server, bucket: str, signer: notes.Signer,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    Ledger.open(_storage(s3_server, bucket), signer=signer).append_many([make_entry(n) for n in range(5)])
    for name, value in s3_server.environment().items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(ledger_cli, ["verify", "--s3-bucket", bucket, "--public-key",
                                             signer.verifier.vkey()])
    assert result.exit_code == 0 and "5 entries" in result.output, result.output
