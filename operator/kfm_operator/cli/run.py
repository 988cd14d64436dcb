"""`kfm run`: the operator itself (Kopf) against the cluster in KUBECONFIG or the in-cluster config."""

from __future__ import annotations

import importlib

import click
import kopf


@click.command()
@click.option("--namespace", "-n", "namespaces", multiple=True, help="Watch only these namespaces.")
@click.option("--all-namespaces", "-A", "clusterwide", is_flag=True, help="Watch every namespace.")
@click.option("--standalone/--with-peering", default=True, show_default=True,
              help="Run without Kopf peering (one replica with leader election off).")
@click.option("--liveness", default="http://0.0.0.0:8080/healthz", show_default=True,
              help="Liveness endpoint for the Deployment's probe.")
@click.option("--log-format", type=click.Choice(["json", "plain"]), default="json", show_default=True,
              help="json: one JSON object per line (for log pipelines); plain: for people.")
@click.option("--verbose", is_flag=True, help="Debug logging.")
def run(namespaces: tuple[str, ...], clusterwide: bool, standalone: bool, liveness: str, log_format: str,
        verbose: bool) -> None:
    """Run the operator."""
    if not namespaces and not clusterwide:
        raise click.UsageError("give --namespace (repeatable) or --all-namespaces")
    kopf.configure(verbose=verbose, log_format=kopf.LogFormat.JSON if log_format == "json" else kopf.LogFormat.FULL)
    importlib.import_module("kfm_operator.handlers.main")  # registers the handlers (only when running)

    kopf.run(standalone=standalone, namespaces=list(namespaces), clusterwide=clusterwide,
             liveness_endpoint=liveness)
