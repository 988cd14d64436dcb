"""The `kfm` command line: one group, subcommands per concern (dev environment, and more as they land)."""

from __future__ import annotations

import click

from kfm_operator import __version__
from kfm_operator.cli import catalog, crds, demo, dev, explain, ledger, pipeline, policy, raw, run

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="kfm")
def main() -> None:
    """KFM Dataset Operator: datasets as Kubernetes resources (kfm.dev/v1alpha1)."""


main.add_command(dev.dev)
main.add_command(explain.explain)
main.add_command(ledger.ledger)
main.add_command(catalog.catalog)
main.add_command(crds.crds)
main.add_command(demo.demo)
main.add_command(pipeline.pipeline)
main.add_command(policy.policy)
main.add_command(raw.raw)
main.add_command(run.run)
