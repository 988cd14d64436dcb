"""`kfm dev up | status | down`: the local environment for a person (see kfm_operator.devenv.stack)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kfm_operator.devenv import stack
from kfm_operator.devenv.processes import DevEnvError

DEFAULT_DIR = Path(".kfm-dev")
DEFAULT_POLICIES = Path("policies")


@click.group()
def dev() -> None:
    """Run a local control plane, LocalNode, OPA and S3 on 127.0.0.1 (no Docker, no root)."""


_dir_option = click.option("--dir", "state_dir", type=click.Path(path_type=Path), default=DEFAULT_DIR,
                           show_default=True, help="Where state, kubeconfig, env file and logs go.")


@dev.command()
@_dir_option
@click.option("--policies", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_POLICIES,
              show_default=True, help="Rego policy directory OPA serves (and watches).")
def up(state_dir: Path, policies: Path) -> None:
    """Start everything in the background (or report it already runs)."""
    policies.mkdir(parents=True, exist_ok=True)
    try:
        state = stack.up(state_dir.resolve(), policies.resolve())
    except DevEnvError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    click.echo(f"kfm dev: running (supervisor pid {state['supervisor']})")
    click.echo(f"  API server  {state['apiServer']}")
    click.echo(f"  S3          {state['s3']['endpoint']}  bucket {state['s3']['bucket']}")
    click.echo(f"  OPA         {state['opa']['url']}  policies {state['opa']['policies']}")
    click.echo(f"  logs        {state['logs']}")
    click.echo("Use it:")
    click.echo(f"  export KUBECONFIG={state['kubeconfig']}")
    click.echo(f"  source {state_dir / 'env'}     # KUBECONFIG, KFM_S3_*, AWS_* and KFM_OPA_URL")
    click.echo("Stop it:  kfm dev down")


@dev.command()
@_dir_option
def status(state_dir: Path) -> None:
    """Each component and its health (exit 1 if anything is unhealthy or nothing runs)."""
    health = stack.status(state_dir.resolve())
    if not health:
        click.echo("kfm dev: not running (start it with `kfm dev up`)")
        sys.exit(1)
    for component in health:
        mark = "ok  " if component.healthy else "DOWN"
        click.echo(f"{mark} {component.name:<24} {component.detail}")
    if not all(c.healthy for c in health):
        sys.exit(1)


@dev.command()
@_dir_option
def down(state_dir: Path) -> None:
    """Stop everything `kfm dev up` started."""
    if stack.down(state_dir.resolve()):
        click.echo("kfm dev: stopped")
    else:
        click.echo("kfm dev: was not running")


@dev.command(hidden=True)
@_dir_option
@click.option("--policies", type=click.Path(path_type=Path), default=DEFAULT_POLICIES)
def serve(state_dir: Path, policies: Path) -> None:
    """The supervisor behind `up` (runs in the foreground until SIGTERM)."""
    sys.exit(stack.serve(state_dir.resolve(), policies.resolve()))
