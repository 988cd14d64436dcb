"""`kfm pipeline run`: the command of every pipeline Job (see kfm_operator.pipeline.runner)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

import click

from kfm_operator.pipeline.runner import RunError, describe, run_pipeline
from kfm_operator.settings import Settings
from kfm_operator.stores import ObjectStore, StoreError
from kfm_operator.stores.clients import s3_client

TERMINATION_LOG = Path("/dev/termination-log")


@click.group()
def pipeline() -> None:
    """Pipeline runs (the Job side)."""


@pipeline.command()
@click.option("--spec", "spec_uri", required=True, help="s3:// URI of the run spec the operator wrote.")
@click.option("--spec-digest", required=True, help="sha256:<hex> the spec's bytes must hash to.")
@click.option("--termination-log", type=click.Path(path_type=Path), default=TERMINATION_LOG, show_default=True)
def run(spec_uri: str, spec_digest: str, termination_log: Path) -> None:
    """Run one pipeline spec: verify inputs, transform, write artifacts, catalog and receipt (create-only)."""
    settings = Settings()
    client = s3_client(endpoint=settings.s3_endpoint, region=settings.s3_region)
    job = os.environ.get("KFM_JOB_NAME", "local")
    try:
        result = run_pipeline(stores=lambda bucket: ObjectStore(client=client, bucket=bucket), spec_uri=spec_uri,
                              spec_digest=spec_digest, job=job)
    except (RunError, StoreError) as error:
        click.echo(f"kfm pipeline run: {error}", err=True)
        sys.exit(1)
    summary = json.dumps(describe(result), sort_keys=True)
    click.echo(summary)
    if termination_log.parent.is_dir():
        with contextlib.suppress(OSError):  # outside a pod there may be no termination log to write
            termination_log.write_text(summary)
