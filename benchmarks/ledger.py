"""Ledger benchmark (issue 5): durable appends/s on the file backend (batched and single), verify of N entries,
proof generation and verification. Run: `.venv/bin/python benchmarks/ledger.py [--entries 100000] [--batch 256]`.
Results go to stdout as a Markdown table (copied into benchmarks/README.md by hand)."""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from kfm_operator.ledger import Entry, FileStorage, Ledger, Subject, notes, proofs, verify


def _entries(start: int, count: int) -> list[Entry]:
    subject = Subject(apiVersion="kfm.dev/v1alpha1", kind="DatasetVersion", namespace="bench", name="dsv",
                      uid="00000000-0000-0000-0000-000000000000")
    return [Entry(kind="run.receipt", key=f"run/bench-{n}/1", time="2024-05-01T12:00:00Z", subject=subject,
                  payload={"outcome": "Succeeded", "outputs": [{"name": "points.parquet", "size": n}]},
                  digests={"points.parquet": f"sha256:{n:064x}"}, correlation={"run_id": f"{n:016x}"})
            for n in range(start, start + count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--singles", type=int, default=500)
    args = parser.parse_args()
    signer = notes.generate_signer("kfm.dev/ledger/bench")
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as workdir:
        root = Path(workdir) / "log"
        ledger = Ledger.open(FileStorage(root), signer=signer)
        prepared = [_entries(n, min(args.batch, args.entries - n)) for n in range(0, args.entries, args.batch)]
        started = time.perf_counter()
        for batch in prepared:
            ledger.append_many(batch)
        elapsed = time.perf_counter() - started
        rows.append((f"durable appends, batches of {args.batch} (fsync'd, {args.entries} entries)",
                     f"{args.entries / elapsed:,.0f} entries/s ({elapsed:.1f} s)"))

        singles = _entries(args.entries, args.singles)
        started = time.perf_counter()
        for entry in singles:
            ledger.append(entry)
        elapsed = time.perf_counter() - started
        rows.append(("durable appends, one per checkpoint", f"{args.singles / elapsed:,.0f} entries/s"))

        started = time.perf_counter()
        result = verify(FileStorage(root), signer.verifier)
        elapsed = time.perf_counter() - started
        assert result.ok, result.error
        rows.append((f"verify {result.tree_size:,} entries (everything, incl. key index)", f"{elapsed:.2f} s"))
        started = time.perf_counter()
        result = verify(FileStorage(root), signer.verifier, check_index=False)
        rows.append(("verify, without the key index", f"{time.perf_counter() - started:.2f} s"))

        prove_times, check_times = [], []
        size = ledger.tree_size()
        for index in range(0, size, max(1, size // 200)):
            started = time.perf_counter()
            document = json.dumps(ledger.prove_inclusion(index).to_json())
            prove_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            proofs.check_proof(document, signer.verifier)
            check_times.append(time.perf_counter() - started)
        rows.append(("inclusion proof: generate (median, cold tile reads)",
                     f"{statistics.median(prove_times) * 1000:.2f} ms"))
        rows.append(("inclusion proof: verify offline incl. checkpoint signature (median)",
                     f"{statistics.median(check_times) * 1000:.2f} ms"))
        started = time.perf_counter()
        document = json.dumps(ledger.prove_consistency(size // 3).to_json())
        middle = time.perf_counter()
        proofs.check_proof(document, signer.verifier)
        rows.append(("consistency proof: generate / verify",
                     f"{(middle - started) * 1000:.2f} ms / {(time.perf_counter() - middle) * 1000:.2f} ms"))
    print(f"Machine: {platform.machine()}, Python {platform.python_version()}, {platform.platform()}")
    print("| measurement | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
