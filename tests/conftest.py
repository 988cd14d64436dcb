"""Test layers and the real servers they run against.

`tests/unit/` is pure; `tests/integration/` (marked `integration`) runs against one control plane, LocalNode, OPA
and S3 per session, started here, with a fresh namespace and bucket per test. With KFM_USE_EXISTING_CLUSTER=true
the control plane is the cluster in KUBECONFIG and no LocalNode is started.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kfm_operator.api.crds import KINDS
from kfm_operator.api.fields import GROUP, VERSION
from kfm_operator.devenv import ControlPlane, LocalNode, OpaServer, S3Server
from kfm_operator.devenv.tools import tool_path
from tests.support import wait_for

REPO_ROOT = Path(__file__).resolve().parent.parent
INTEGRATION_TIMEOUT = 180


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(INTEGRATION_TIMEOUT))


@pytest.fixture(scope="session")
def devenv_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kfm-devenv")


@pytest.fixture(scope="session")
def control_plane(devenv_root: Path) -> Iterator[ControlPlane]:
    with ControlPlane.from_environment(devenv_root / "control-plane") as plane:
        yield plane


@pytest.fixture(scope="session")
def local_node(control_plane: ControlPlane, devenv_root: Path) -> Iterator[LocalNode | None]:
    if control_plane.existing:
        yield None  # a real cluster has real kubelets
        return
    with LocalNode(control_plane.kubeconfig, devenv_root / "localnode") as node:
        yield node


@pytest.fixture(scope="session")
def api_client(control_plane: ControlPlane) -> Iterator[client.ApiClient]:
    with control_plane.api_client() as api:
        yield api


@pytest.fixture(scope="session")
def s3_server(devenv_root: Path) -> Iterator[S3Server]:
    with S3Server(devenv_root / "s3") as server:
        yield server


@pytest.fixture(scope="session")
def opa_server(devenv_root: Path) -> Iterator[OpaServer]:
    with OpaServer(devenv_root / "opa", REPO_ROOT / "policies") as server:
        yield server


@pytest.fixture
def namespace(api_client: client.ApiClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards (without waiting for it to go)."""
    name = f"t-{request.node.name[:40].lower().replace('_', '-').strip('-')}-{secrets.token_hex(3)}"
    name = "".join(c for c in name if c.isalnum() or c == "-")
    core = client.CoreV1Api(api_client)
    core.create_namespace({"metadata": {"name": name, "labels": {"kfm.dev/test": "true"}}})
    yield name
    with contextlib.suppress(ApiException):
        core.delete_namespace(name)


@pytest.fixture
def bucket(s3_server: S3Server) -> Iterator[str]:
    """A fresh versioned bucket for one test, emptied and removed afterwards."""
    name = f"t-{secrets.token_hex(6)}"
    s3_server.create_bucket(name)
    yield name
    s3 = s3_server.client()
    with contextlib.suppress(Exception):
        listing: dict[str, Any] = s3.list_object_versions(Bucket=name)
        for version in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]:
            s3.delete_object(Bucket=name, Key=version["Key"], VersionId=version["VersionId"])
        s3.delete_bucket(Bucket=name)


def kubectl(control_plane: ControlPlane, *args: str, stdin: str | None = None, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The pinned kubectl against the session's control plane; a failure (with check) shows kubectl's stderr."""
    result = subprocess.run([str(tool_path("kubectl")), "--kubeconfig", str(control_plane.kubeconfig),
                             f"--cache-dir={_kubectl_cache(control_plane)}", *args],
                            input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return result


def _kubectl_cache(control_plane: ControlPlane) -> Path:
    return control_plane.workdir / "kubectl-cache"


@pytest.fixture(scope="session")
def kfm_crds(control_plane: ControlPlane, api_client: client.ApiClient) -> None:
    """The project's CRDs from crds/ (as Argo CD would apply them), Established and served."""
    kubectl(control_plane, "apply", "--server-side", "--field-manager=kfm-tests", "-k", str(REPO_ROOT / "crds"))
    objects = client.CustomObjectsApi(api_client)

    def served() -> bool:
        try:
            for info in KINDS:
                objects.list_cluster_custom_object(GROUP, VERSION, info.plural)
        except ApiException:
            return False
        return True

    wait_for("the kfm.dev kinds to be served", served, timeout=60)
    shutil.rmtree(_kubectl_cache(control_plane), ignore_errors=True)  # its discovery predates the CRDs
