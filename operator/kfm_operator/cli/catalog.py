"""`kfm catalog validate <dir>`: run the catalog gate on a triplet directory (catalog/<dataset>/<version>/ as the
pipeline writes it) and print the findings. Exit 0 when it passes, 1 on findings, 3 when the gate cannot run.

Registered on the `kfm` group by kfm_operator.cli.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kfm_operator.gates.catalog import load_triplet, validate_catalog

__all__ = ["catalog"]

EXIT_FINDINGS = 1
EXIT_CANNOT_EVALUATE = 3  # 2 is click's usage error


@click.group()
def catalog() -> None:
    """The catalog gate: offline STAC, DCAT and PROV validation of a dataset version's catalog."""


@catalog.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--artifacts", "artifacts_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="The run's artifact list: JSON list of {name, uri, digest}, or the run receipt. "
                   "[default: DIRECTORY/artifacts.json]")
@click.option("--schema-dir", "schema_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="A directory of extra JSON Schemas keyed by $id (e.g. more STAC extensions); repeatable.")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def validate(directory: Path, artifacts_file: Path | None, schema_dirs: tuple[Path, ...], output: str) -> None:
    """Validate stac-item.json, stac-collection.json, dcat.jsonld and prov.json in DIRECTORY."""
    result = validate_catalog(load_triplet(directory, artifacts_file=artifacts_file), extra_schema_dirs=schema_dirs)
    if output == "json":
        click.echo(json.dumps({"gate": result.name, "passed": result.passed,
                               "findings": [{"code": f.code, "path": f.path, "message": f.message}
                                            for f in result.findings],
                               "evidence": dict(result.evidence)}, indent=2))
    else:
        for finding in result.findings:
            click.echo(f"{finding.code}\t{finding.path}\t{finding.message}")
        verdict = {True: "passed", False: f"failed ({len(result.findings)} findings)", None: "could not evaluate"}
        click.echo(f"catalog gate {verdict[result.passed]}: {directory}", err=True)
    if result.passed is None:
        sys.exit(EXIT_CANNOT_EVALUATE)
    if not result.passed:
        sys.exit(EXIT_FINDINGS)
