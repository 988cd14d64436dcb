"""The deploy manifests (kustomize/) are accepted by the real API server, and their RBAC is enough for the whole
flow and no more: the operator runs as its ServiceAccount's identity; Secrets stay out of its reach."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import vega_datasets
from kubernetes import client
from kubernetes.client.rest import ApiException

from kfm_operator.devenv import ControlPlane
from kfm_operator.devenv.kubeconfigs import api_client_from
from tests.conftest import REPO_ROOT, kubectl
from tests.integration.operator_support import Harness, datasetversion, operator_running, promotion

pytestmark = [pytest.mark.usefixtures("kfm_crds", "local_node"), pytest.mark.timeout(300)]
AIRPORTS = (Path(vega_datasets.__file__).parent / "_data" / "airports.csv").read_bytes()
OPERATOR_USER = "system:serviceaccount:kfm-system:kfm-operator"
OPERATOR_GROUPS = ("system:serviceaccounts", "system:serviceaccounts:kfm-system", "system:authenticated")


@pytest.fixture(scope="module")
def deployed(control_plane: ControlPlane) -> str:
    """The dev overlay applied as Argo CD would (server-side); returns the rendered objects' kinds."""
    rendered = kubectl(control_plane, "kustomize", str(REPO_ROOT / "kustomize" / "overlays" / "dev")).stdout
    kubectl(control_plane, "apply", "--server-side", "--force-conflicts", "--field-manager=argocd-controller",
            "-f", "-", stdin=rendered)
    return rendered


def test_the_manifests_are_accepted_and_restricted(deployed: str, control_plane: ControlPlane) -> None:
    deployment = json.loads(kubectl(control_plane, "get", "deployment", "kfm-operator", "-n", "kfm-system",
                                    "-o", "json").stdout)
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert "kind: Secret" not in deployed  # credentials come from Secrets created out of band, never from Git
    namespace = json.loads(kubectl(control_plane, "get", "namespace", "kfm-system", "-o", "json").stdout)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_operator_role_is_enough_for_the_whole_flow_and_no_more(
    deployed: str, control_plane: ControlPlane, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    if control_plane.existing:
        pytest.skip("minting the ServiceAccount's identity needs the local control plane's CA")
    operator_kubeconfig = control_plane.mint_user(OPERATOR_USER, OPERATOR_GROUPS)
    with api_client_from(operator_kubeconfig) as as_operator:
        with pytest.raises(ApiException) as secrets:
            client.CoreV1Api(as_operator).list_namespaced_secret(harness.namespace)
        assert secrets.value.status == 403
        with pytest.raises(ApiException) as jobs:
            client.BatchV1Api(as_operator).delete_collection_namespaced_job(harness.namespace)
        assert jobs.value.status == 403
    harness.env["KUBECONFIG"] = str(operator_kubeconfig)
    raw = harness.upload_raw("ks-airports", AIRPORTS)
    harness.create("datasetversions", datasetversion("ks-rbac", [{"name": "airports", **raw}]))
    harness.create("promotions", promotion("publish-rbac", "ks-rbac"))
    with operator_running(harness, monkeypatch):
        dsv = harness.wait_settled("datasetversions", "ks-rbac")
        promoted = harness.wait_settled("promotions", "publish-rbac")
    assert dsv["status"]["phase"] == "Ready", dsv["status"]
    assert promoted["status"]["phase"] == "Promoted", promoted["status"]
