"""Writers killed with SIGKILL at random points: the log opens, verifies and holds every acknowledged entry."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

from kfm_operator.ledger import FileStorage, Ledger, LedgerReader, notes, verify
from tests.unit.ledger.support import APPENDER

REPO = Path(__file__).resolve().parents[3]


def acknowledged(output: str) -> dict[str, int]:
    """key -> index of every append the writer reported as returned (complete lines only)."""
    result: dict[str, int] = {}
    for line in output.splitlines(keepends=True):
        if line.startswith("acked ") and line.endswith("\n"):
            for pair in line.split()[1:]:
                key, _, index = pair.partition("=")
                result[key] = int(index)
    return result


def kill_writer_at_random(where: str, signer: notes.Signer, worker: str, *, delay: float,
                          env: dict[str, str] | None = None, batch: int = 3) -> dict[str, int]:
    process = subprocess.Popen(
        [sys.executable, "-c", APPENDER, where, worker, "100000", str(batch)], cwd=REPO, stdout=subprocess.PIPE,
        env={**os.environ, **(env or {}), "TEST_SKEY": signer.skey()}, text=True)
    time.sleep(delay)
    process.kill()
    output, _ = process.communicate(timeout=30)
    assert process.returncode == -9
    return acknowledged(output)


def test_sigkill_at_random_points_loses_no_acknowledged_entry(tmp_path: Path) -> None:
    signer = notes.generate_signer("kfm.dev/ledger/crash")
    rng = random.Random(os.getpid())  # noqa: S311 - test timing, not cryptography
    acked: dict[str, int] = {}
    for round_number in range(6):
        acked |= kill_writer_at_random(str(tmp_path), signer, f"w{round_number}", delay=rng.uniform(0.9, 1.6),
                                       batch=rng.choice([1, 3, 40]))
        ledger = Ledger.open(FileStorage(tmp_path), signer=signer)  # completes whatever the kill interrupted
        result = verify(FileStorage(tmp_path), signer.verifier)
        assert result.ok and not result.pending, result
        for key, index in acked.items():
            found = ledger.find(key)
            assert found is not None and found.index == index, (key, index, found)
    assert len(acked) > 20, "the writers should have got some appends acknowledged"
    reader = LedgerReader(FileStorage(tmp_path), verifier=signer.verifier)
    keys = [reader.entry(i).key for i in range(reader.tree_size())]
    assert len(keys) == len(set(keys))
