"""`kfm raw add`: deliver a local file into the raw zone and print the DatasetVersion input for it."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import click
import yaml

from kfm_operator.settings import Settings
from kfm_operator.stores import AlreadyExists, ObjectStore, StoreError
from kfm_operator.stores.clients import s3_client

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_MEDIA_TYPES = {".csv": "text/csv", ".json": "application/json", ".geojson": "application/geo+json",
                ".parquet": "application/vnd.apache.parquet", ".tif": "image/tiff", ".txt": "text/plain"}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


@click.group()
def raw() -> None:
    """The raw zone: inputs as delivered, immutable."""


@raw.command()
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--dataset", required=True, help="Dataset name (a DNS label), e.g. ks-airports.")
@click.option("--name", "input_name", help="Input name in the DatasetVersion (default: the file's stem).")
@click.option("--bucket", help="Bucket (default: KFM_S3_BUCKET).")
@click.option("--output", type=click.Choice(["input", "yaml"]), default="input", show_default=True,
              help="input: the inputs entry; yaml: a whole DatasetVersion skeleton.")
def add(file: Path, dataset: str, input_name: str | None, bucket: str | None, output: str) -> None:
    """Stream FILE into raw/<dataset>/<sha256> (create-only) and print its inputs entry."""
    if not _DNS_LABEL.match(dataset):
        raise click.BadParameter("must be a DNS label (lowercase letters, digits, '-')", param_hint="--dataset")
    name = input_name or re.sub(r"[^a-z0-9-]+", "-", file.stem.lower()).strip("-") or "input"
    settings = Settings()
    store = ObjectStore(client=s3_client(endpoint=settings.s3_endpoint, region=settings.s3_region),
                        bucket=bucket or settings.s3_bucket)
    hexdigest = _sha256(file)
    key = f"raw/{dataset}/{hexdigest}"
    media_type = _MEDIA_TYPES.get(file.suffix.lower(), "application/octet-stream")
    try:
        store.put_file_if_absent(key, file, content_type=media_type)
        click.echo(f"uploaded {file} to {store.uri(key)}", err=True)
    except AlreadyExists:
        click.echo(f"{store.uri(key)} already holds these bytes", err=True)
    except StoreError as error:
        click.echo(f"kfm raw add: {error}", err=True)
        sys.exit(1)
    entry = {"name": name, "uri": store.uri(key), "digest": f"sha256:{hexdigest}", "mediaType": media_type}
    if output == "input":
        click.echo(yaml.safe_dump([entry], sort_keys=False), nl=False)
        return
    skeleton = {
        "apiVersion": "kfm.dev/v1alpha1", "kind": "DatasetVersion",
        "metadata": {"name": f"{dataset}-{hexdigest[:8]}", "labels": {"kfm.dev/dataset": dataset}},
        "spec": {"dataset": f"kfm://dataset/{dataset}", "version": "0.1.0", "title": f"{dataset} (edit me)",
                 "license": "CC-BY-4.0",
                 "governance": {"policyLabel": "internal", "sensitivity": "none", "sovereignty": "none"},
                 "inputs": [entry], "pipeline": {"transform": "copy"}},
    }
    click.echo(yaml.safe_dump(skeleton, sort_keys=False), nl=False)
