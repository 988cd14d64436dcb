"""`kfm explain promotion <namespace>/<name>`: the gate table, the reasons, the ledger entry and how to verify."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from kubernetes import client
from kubernetes.client.rest import ApiException

from kfm_operator.devenv import kubeconfigs


def _load(kubeconfig: Path, namespace: str, name: str) -> dict[str, Any]:
    with kubeconfigs.api_client_from(kubeconfig) as api:
        try:
            found: dict[str, Any] = client.CustomObjectsApi(api).get_namespaced_custom_object(
                "kfm.dev", "v1alpha1", namespace, "promotions", name)
        except ApiException as error:
            raise click.ClickException(f"promotion {namespace}/{name}: {error.reason}") from error
    return found


@click.group()
def explain() -> None:
    """Explain what the operator decided and why."""


@explain.command()
@click.argument("reference")
@click.option("--kubeconfig", type=click.Path(path_type=Path, dir_okay=False),
              default=lambda: os.environ.get("KUBECONFIG", str(Path.home() / ".kube" / "config")))
def promotion(reference: str, kubeconfig: Path) -> None:
    """REFERENCE is <namespace>/<name>."""
    if "/" not in reference:
        raise click.BadParameter("give <namespace>/<name>", param_hint="REFERENCE")
    namespace, name = reference.split("/", 1)
    body = _load(Path(kubeconfig), namespace, name)
    spec, status = body["spec"], body.get("status") or {}
    click.echo(f"Promotion {namespace}/{name}: {spec['datasetVersion']} -> {spec['targetZone']}"
               f"{' (dry run)' if spec.get('dryRun') else ''}")
    click.echo(f"  reason given: {spec['reason']}")
    click.echo(f"  phase: {status.get('phase', 'not yet reconciled')}   from {status.get('fromZone')} "
               f"to {status.get('toZone')}")
    ready = next((c for c in status.get("conditions", []) if c["type"] == "Ready"), None)
    if ready:
        click.echo(f"  Ready={ready['status']} ({ready['reason']}): {ready['message']}")
    click.echo("\n  gate        result   detail")
    for gate in status.get("gates", []):
        click.echo(f"  {gate['name']:<11} {gate['result']:<8} {gate['message'][:160]}")
    decision = status.get("decision")
    if decision:
        click.echo(f"\n  decision: allowed={decision['allowed']} OPA decision id={decision.get('decisionId')}")
        click.echo(f"  policy revision {decision.get('policyRevision')}, input {decision.get('inputDigest')}")
        for item in decision.get("reasons", []):
            click.echo(f"   - [{item['gate']}] {item['code']}: {item['message'][:200]}")
    ledger = status.get("ledger")
    if ledger:
        click.echo(f"\n  ledger entry #{ledger['index']} leaf {ledger['leafHash']} (checkpoint size "
                   f"{ledger.get('checkpointSize')})")
        click.echo("  verify it with the ledger's public key alone:")
        click.echo(f"    kfm ledger prove {ledger['index']} --public-key <key.pub> > proof.json")
        click.echo("    kfm ledger check-proof proof.json --public-key <key.pub>")
        click.echo(f"    kfm policy replay {ledger['index']} --public-key <key.pub>   # same decision again?")
