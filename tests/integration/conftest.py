"""Fixtures for the operator flow tests: a harness per test (its namespace, bucket, ledger key, trusted keys)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from kfm_operator.devenv import ControlPlane, OpaServer, S3Server
from tests.integration.operator_support import Harness, make_harness


@pytest.fixture
def harness(control_plane: ControlPlane, s3_server: S3Server, opa_server: OpaServer, bucket: str, namespace: str,
            api_client: client.ApiClient, tmp_path: Path) -> Harness:
    return make_harness(control_plane=control_plane, s3_server=s3_server, opa_server=opa_server, bucket=bucket,
                        namespace=namespace, api_client=api_client, workdir=tmp_path)
