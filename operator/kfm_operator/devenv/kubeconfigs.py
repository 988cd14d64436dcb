"""Kubeconfig files and API clients for the local control plane (or an existing cluster)."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml
from kubernetes import client, config

__all__ = ["api_client_from", "write_kubeconfig"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def write_kubeconfig(
    path: Path, *, server: str, ca_pem: bytes, cert_pem: bytes, key_pem: bytes, user: str, context: str = "kfm-dev"
) -> Path:
    """Write a self-contained kubeconfig (certificates inlined) readable only by its owner."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{"name": user,
                   "user": {"client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem)}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": user}}],
        "current-context": context,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def api_client_from(kubeconfig: Path) -> client.ApiClient:
    """A new kubernetes ApiClient for `kubeconfig` (its current context)."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    return client.ApiClient(configuration)
