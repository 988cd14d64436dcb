"""The real OPA server answers Rego v1 queries over REST; the real S3 server does conditional writes and versions."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from kfm_operator.devenv import DevEnvError, OpaServer, S3Server
from kfm_operator.devenv.ports import LOOPBACK, free_port

POLICY = """package kfm.example

default allow := false

allow if {
    input.label in {"public", "internal"}
    count(deny) == 0
}

deny contains msg if {
    some name in input.missing
    msg := sprintf("missing %s", [name])
}
"""


def test_opa_loads_a_rego_v1_policy_and_answers_over_rest(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "example.rego").write_text(POLICY)
    with OpaServer(tmp_path / "opa", policies) as opa:
        allowed = opa.query("kfm/example", {"label": "public", "missing": []})
        assert allowed["result"] == {"allow": True, "deny": []}
        assert allowed["decision_id"]  # decision logging is on
        denied = opa.query("kfm/example", {"label": "public", "missing": ["license"]})
        assert denied["result"] == {"allow": False, "deny": ["missing license"]}
        undefined = opa.query("kfm/nothing/here", {})
        assert "result" not in undefined
    log_lines = [json.loads(line) for line in opa.log_path.read_text().splitlines() if line.startswith("{")]
    assert any(line.get("msg") == "Decision Log" and line.get("decision_id") == allowed["decision_id"]
               for line in log_lines)


def test_opa_refuses_a_policy_that_is_not_rego_v1(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "old.rego").write_text("package old\nallow { true }\n")  # Rego v0 syntax
    with pytest.raises(DevEnvError) as caught:
        OpaServer(tmp_path / "opa", policies).start()
    assert "opa: exited with code" in str(caught.value) and "old.rego" in str(caught.value)


def test_a_taken_port_is_a_clear_error_naming_the_component(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as squatter:
        squatter.bind((LOOPBACK, port))
        squatter.listen()
        with pytest.raises(DevEnvError) as caught:
            OpaServer(tmp_path / "opa", tmp_path, port=port).start()
    message = str(caught.value)
    assert message.startswith("opa: exited with code")
    assert str(tmp_path / "opa" / "logs" / "opa.log") in message
    assert "address already in use" in message


def test_s3_if_none_match_refuses_a_second_write(s3_server: S3Server, bucket: str) -> None:
    s3 = s3_server.client()
    s3.put_object(Bucket=bucket, Key="cas/sha256/abc", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="cas/sha256/abc", Body=b"second", IfNoneMatch="*")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert s3.get_object(Bucket=bucket, Key="cas/sha256/abc")["Body"].read() == b"first"


def test_s3_versioning_keeps_every_version(s3_server: S3Server, bucket: str) -> None:
    s3 = s3_server.client()
    first = s3.put_object(Bucket=bucket, Key="zones/published/x.json", Body=b"v1")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="zones/published/x.json", Body=b"v2")["VersionId"]
    assert first != second
    versions = s3.list_object_versions(Bucket=bucket, Prefix="zones/")["Versions"]
    assert {v["VersionId"] for v in versions} == {first, second}
    assert s3.get_object(Bucket=bucket, Key="zones/published/x.json", VersionId=first)["Body"].read() == b"v1"
    assert s3.get_object(Bucket=bucket, Key="zones/published/x.json")["Body"].read() == b"v2"


def test_s3_refuses_unsigned_requests_and_does_not_create_buckets_implicitly(s3_server: S3Server) -> None:
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{s3_server.endpoint}/kfm-nonexistent/key", timeout=5)  # noqa: S310
    assert anonymous.value.code in (403, 404)
    s3 = s3_server.client()
    with pytest.raises(ClientError) as missing:
        s3.put_object(Bucket="kfm-never-created", Key="k", Body=b"x")
    assert missing.value.response["Error"]["Code"] == "NoSuchBucket"
