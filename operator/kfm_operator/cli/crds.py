"""`kfm crds generate | check`: keep crds/ equal to what the pydantic models say."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from kfm_operator.api.crds import render_crds

DEFAULT_DIR = Path("crds")


def crd_drift(directory: Path) -> list[str]:
    """Human-readable differences between `directory` and the generated CRDs (empty when equal)."""
    expected = render_crds()
    problems = []
    for name, text in expected.items():
        path = directory / name
        if not path.exists():
            problems.append(f"{path}: missing")
            continue
        actual = path.read_text()
        if actual != text:
            diff = difflib.unified_diff(actual.splitlines(), text.splitlines(), f"{path} (on disk)",
                                        f"{path} (from the models)", lineterm="", n=1)
            problems.append("\n".join(list(diff)[:40]))
    for path in sorted(directory.glob("*.yaml")):
        if path.name not in expected:
            problems.append(f"{path}: not generated from any model (remove it)")
    return problems


@click.group()
def crds() -> None:
    """The CRDs in crds/, generated from the pydantic models in kfm_operator.api."""


_dir = click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_DIR,
                    show_default=True, help="The CRD directory.")


@crds.command()
@_dir
def generate(directory: Path) -> None:
    """Write the CRDs (and their kustomization.yaml) from the models."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in render_crds().items():
        (directory / name).write_text(text)
        click.echo(f"wrote {directory / name}")


@crds.command()
@_dir
def check(directory: Path) -> None:
    """Fail (exit 1) when the CRDs on disk differ from the models."""
    problems = crd_drift(directory)
    if problems:
        click.echo("\n".join(problems), err=True)
        click.echo(f"{directory} is out of date with kfm_operator.api: run `kfm crds generate`", err=True)
        sys.exit(1)
    click.echo(f"{directory} matches the models")
