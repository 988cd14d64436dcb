"""`kfm policy replay`: re-evaluate a recorded promotion decision with the policy sources that made it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from kfm_operator.cli import ledger as ledger_cli
from kfm_operator.devenv.tools import PINNED, tools_dir
from kfm_operator.domain import names
from kfm_operator.gates.policy import input_digest, policy_revision
from kfm_operator.settings import Settings
from kfm_operator.stores import NotFound, ObjectStore
from kfm_operator.stores.clients import s3_client


def _opa() -> str:
    pinned = tools_dir() / f"opa-{PINNED['opa'].version}" / "opa"
    found = str(pinned) if pinned.exists() else shutil.which("opa")
    if found is None:
        raise click.ClickException("no opa binary: run scripts/install-tools or put opa on PATH")
    return found


def _evaluate(sources: list[list[str]], document: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kfm-replay-") as scratch:
        root = Path(scratch)
        for number, (_, source) in enumerate(sources):
            (root / f"policy-{number}.rego").write_text(source)
        (root / "input.json").write_text(json.dumps(document))
        result = subprocess.run([_opa(), "eval", "--format=json", "--data", str(root), "--input",
                                 str(root / "input.json"), "data.kfm.promotion.decision"], capture_output=True,
                                text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise click.ClickException(f"opa eval failed: {result.stderr.strip()[:2000]}")
    values = json.loads(result.stdout).get("result", [])
    decision: dict[str, Any] = values[0]["expressions"][0]["value"] if values else {}
    return decision


@click.group()
def policy() -> None:
    """Promotion policy tools."""


@policy.command()
@ledger_cli.location_options
@click.argument("target")
@click.option("--bucket", help="Bucket holding the policy archive (default: KFM_S3_BUCKET).")
@ledger_cli.failing
def replay(*, path: Path | None, s3_bucket: str | None, s3_prefix: str, public_key: str, origin: str | None,
           target: str, bucket: str | None) -> None:
    """Re-evaluate the decision at ledger TARGET (index or key) against its recorded policy revision; exit 1 if
    the outcome differs."""
    reader = ledger_cli.open_reader(path, s3_bucket, s3_prefix, public_key, origin)
    entry = reader.entry(ledger_cli.index_of(reader, target))
    if entry.kind not in ("promotion.decision", "promotion.whatif"):
        raise click.ClickException(f"entry {target} is a {entry.kind}, not a promotion decision")
    recorded = entry.payload
    revision, document = recorded.get("policyRevision"), recorded.get("input")
    if not revision or document is None:
        raise click.ClickException("the entry records no policy revision or input (decided before OPA was asked)")
    if input_digest(document) != recorded.get("inputDigest"):
        raise click.ClickException("the recorded input does not hash to the recorded inputDigest")
    settings = Settings()
    store = ObjectStore(client=s3_client(endpoint=settings.s3_endpoint, region=settings.s3_region),
                        bucket=bucket or s3_bucket or settings.s3_bucket)
    try:
        sources = json.loads(store.get(names.policy_archive_key(revision))[0])
    except NotFound as error:
        raise click.ClickException(f"policy revision {revision} is not archived at "
                                   f"{store.uri(names.policy_archive_key(revision))}") from error
    if policy_revision(tuple((s[0], s[1]) for s in sources)) != revision:
        raise click.ClickException(f"the archived sources do not hash to {revision}")
    again = _evaluate(sources, document)
    before = (recorded["policy"]["allowed"], sorted(code for code, _ in recorded["policy"]["deny"]))
    after = (again.get("allow") is True and not again.get("deny"), sorted(d["code"] for d in again.get("deny", [])))
    click.echo(f"entry {entry.key}: policy {revision}")
    click.echo(f"  recorded: allowed={before[0]} deny={before[1]}")
    click.echo(f"  replayed: allowed={after[0]} deny={after[1]}")
    if before != after:
        click.echo("DIFFERENT: the recorded decision does not follow from its input and policy", err=True)
        sys.exit(1)
    click.echo("same decision")
