"""`kfm ledger`: verify, show, prove and check the audit ledger offline; generate its signing key.

Reads need only the public key (`--public-key`: a vkey or a file holding one). The ledger is `--path DIR` (file
backend) or `--s3-bucket/--s3-prefix` (endpoint and region from KFM_S3_ENDPOINT/KFM_S3_REGION, credentials from
boto3's chain); without either, the operator's settings (KFM_LEDGER_BACKEND, ...) decide.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kfm_operator import ledger as ledger_pkg
from kfm_operator import stores
from kfm_operator.ledger import opening, proofs
from kfm_operator.settings import Settings
from kfm_operator.stores.clients import s3_client

__all__ = ["ledger"]

F = TypeVar("F", bound=Callable[..., Any])
_PROGRESS_FROM = 20_000  # entries; below this a progress bar is noise


def location_options(command: F) -> F:
    for option in reversed([
        click.option("--path", type=click.Path(path_type=Path, file_okay=False), help="File-backend ledger directory."),
        click.option("--s3-bucket", help="Bucket of an S3 ledger."),
        click.option("--s3-prefix", default="ledger/", show_default=True, help="Prefix of the S3 ledger."),
        click.option("--public-key", "public_key", required=True,
                     help="Verifier key (<name>+<id>+<key>) or a file holding it."),
        click.option("--origin", help="Expected checkpoint origin (default: the key name)."),
    ]):
        command = option(command)
    return command


def _storage(path: Path | None, s3_bucket: str | None, s3_prefix: str) -> ledger_pkg.LedgerStorage:
    if path is not None and s3_bucket is not None:
        raise click.UsageError("give --path or --s3-bucket, not both")
    settings = Settings()
    if path is not None:
        if not path.is_dir():
            raise click.BadParameter(f"{path} is not a ledger directory", param_hint="--path")
        return ledger_pkg.FileStorage(path)
    client = s3_client(endpoint=settings.s3_endpoint, region=settings.s3_region)
    if s3_bucket is not None:
        return ledger_pkg.S3Storage(stores.ObjectStore(client=client, bucket=s3_bucket), s3_prefix)
    return opening.storage_for(settings, s3=client)


def _verifier(public_key: str) -> ledger_pkg.Verifier:
    text = public_key
    if "+" not in public_key or Path(public_key).is_file():
        text = Path(public_key).read_text()
    try:
        return ledger_pkg.Verifier.from_vkey(text)
    except ledger_pkg.NoteError as error:
        raise click.BadParameter(str(error), param_hint="--public-key") from error


def open_reader(path: Path | None, s3_bucket: str | None, s3_prefix: str, public_key: str,
            origin: str | None) -> ledger_pkg.LedgerReader:
    return ledger_pkg.LedgerReader(_storage(path, s3_bucket, s3_prefix), verifier=_verifier(public_key),
                                   origin=origin)


def failing(command: F) -> F:
    """Turn the ledger's and the store's errors into a one-line message and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ledger_pkg.LedgerError, stores.StoreError, ledger_pkg.merkle.ProofError, ledger_pkg.NoteError,
                ledger_pkg.EntryError, IndexError) as error:
            click.echo(f"kfm ledger: {error}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def index_of(reader: ledger_pkg.LedgerReader, target: str) -> int:
    if target.isdigit():
        return int(target)
    found = reader.find(target)
    if found is None:
        raise ledger_pkg.LedgerError(f"no entry with key {target!r}")
    return found.index


@click.group()
def ledger() -> None:
    """The audit ledger: an append-only, signed, verifiable log (RFC 9162, C2SP tlog-tiles)."""


@ledger.command()
@location_options
@click.option("--checkpoint", "held", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="A checkpoint you held earlier: the log must still contain that tree (detects truncation).")
@click.option("--skip-index", is_flag=True, help="Do not check the key index (one read per entry on S3).")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@failing
def verify(*, path: Path | None, s3_bucket: str | None, s3_prefix: str, public_key: str, origin: str | None,
           held: Path | None, skip_index: bool, output: str) -> None:
    """Recompute every hash and tile from storage; the checkpoint's signature is checked first."""
    storage, verifier = _storage(path, s3_bucket, s3_prefix), _verifier(public_key)
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if output != "text" or total < _PROGRESS_FROM:
            return
        if bar is None:
            bar = click.progressbar(length=total, label="verifying", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        result = ledger_pkg.verify(storage, verifier, origin=origin, check_index=not skip_index, progress=progress,
                                   previous_checkpoint=held.read_text() if held else None)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if output == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    elif result.ok:
        click.echo(f"ok: {result.location}: {result.tree_size} entries, root {result.root_hash}"
                   + (f"; pending (a batch being appended): {len(result.pending)} objects" if result.pending else ""))
    else:
        where = f" at entry {result.bad_index}" if result.bad_index is not None else ""
        click.echo(f"FAILED{where}: {result.error}", err=True)
    if not result.ok:
        sys.exit(1)


@ledger.command()
@location_options
@click.argument("target")
@failing
def show(*, path: Path | None, s3_bucket: str | None, s3_prefix: str, public_key: str, origin: str | None,
         target: str) -> None:
    """Print the entry at TARGET (an index, or an idempotency key) with its index and leaf hash."""
    reader = open_reader(path, s3_bucket, s3_prefix, public_key, origin)
    index = index_of(reader, target)
    entry = reader.entry(index)
    document = {"index": index, "leaf_hash": ledger_pkg.merkle.hash_leaf(entry.canonical_bytes()).hex(),
                "entry": entry.model_dump(mode="json", by_alias=True)}
    click.echo(json.dumps(document, indent=2))


@ledger.command()
@location_options
@click.argument("target")
@click.option("--tree-size", type=int, help="Prove against this tree size (default: the checkpoint's).")
@failing
def prove(*, path: Path | None, s3_bucket: str | None, s3_prefix: str, public_key: str, origin: str | None,
          target: str, tree_size: int | None) -> None:
    """Print an inclusion proof (JSON) for TARGET (an index or key), checkable with `check-proof`."""
    reader = open_reader(path, s3_bucket, s3_prefix, public_key, origin)
    click.echo(json.dumps(reader.prove_inclusion(index_of(reader, target), tree_size).to_json(), indent=2))


@ledger.command()
@location_options
@click.argument("old_size", type=int)
@click.option("--new-size", type=int, help="Default: the checkpoint's size.")
@failing
def consistency(*, path: Path | None, s3_bucket: str | None, s3_prefix: str, public_key: str, origin: str | None,
                old_size: int, new_size: int | None) -> None:
    """Print a consistency proof (JSON) that the log at NEW_SIZE extends the log at OLD_SIZE."""
    reader = open_reader(path, s3_bucket, s3_prefix, public_key, origin)
    click.echo(json.dumps(reader.prove_consistency(old_size, new_size).to_json(), indent=2))


@ledger.command("check-proof")
@click.argument("proof_file", type=click.File("r"))
@click.option("--public-key", "public_key", required=True, help="Verifier key or a file holding it.")
@click.option("--checkpoint", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="The signed checkpoint to check against (default: the one in the proof).")
@click.option("--old-checkpoint", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="For a consistency proof: the older checkpoint you held.")
@failing
def check_proof(proof_file: Any, public_key: str, checkpoint: Path | None, old_checkpoint: Path | None) -> None:
    """Check a proof from `prove` or `consistency` offline, with the public key alone (- reads stdin)."""
    message = proofs.check_proof(proof_file.read(), _verifier(public_key),
                                 checkpoint=checkpoint.read_text() if checkpoint else None,
                                 old_checkpoint=old_checkpoint.read_text() if old_checkpoint else None)
    click.echo(f"ok: {message}")


@ledger.command()
@click.option("--name", required=True, help="Key name; by convention the checkpoint origin (KFM_LEDGER_ORIGIN).")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Signing key file to create (mode 0600); the verifier key goes to <out>.pub.")
@failing
def keygen(name: str, out: Path) -> None:
    """Generate an Ed25519 key pair for signing checkpoints; prints the verifier key."""
    try:
        signer = opening.write_new_key(out, name)
    except FileExistsError as error:
        raise click.BadParameter(f"{out} exists; not overwriting a key", param_hint="--out") from error
    click.echo(signer.verifier.vkey())
