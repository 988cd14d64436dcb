"""A real Kubernetes control plane as local processes, the way controller-runtime's envtest runs one.

etcd + kube-apiserver (secure port, RBAC, client-certificate users, service-account signing) +
kube-controller-manager (Job controller, garbage collector, namespaces, service accounts, TTL after finished).
Everything binds 127.0.0.1 on free ports. `ControlPlane.existing(kubeconfig)` uses a cluster someone else runs
instead, through the same interface. Used by the test fixtures and by `kfm dev`.
"""

from __future__ import annotations

import os
import ssl
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from kubernetes import client
from kubernetes.client.rest import ApiException

from kfm_operator.devenv import kubeconfigs, pki
from kfm_operator.devenv.ports import LOOPBACK, free_port
from kfm_operator.devenv.processes import DevEnvError, ManagedProcess
from kfm_operator.devenv.tools import tool_path

__all__ = ["CONTROLLERS", "ControlPlane"]

# The controllers a kubelet-less local cluster needs; nothing that expects nodes, clouds or volumes.
CONTROLLERS = "job,garbagecollector,namespace,serviceaccount,serviceaccount-token,ttl-after-finished"
ADMIN_USER = "kfm-admin"
START_TIMEOUT = 60.0


def _https_ok(url: str, context: ssl.SSLContext) -> bool:
    with urllib.request.urlopen(url, context=context, timeout=2) as response:  # noqa: S310 - loopback https only
        return bool(response.status == 200)


class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager in `workdir`; a context manager.

    After `start()`: `kubeconfig` (admin, `system:masters`), `server` (https URL), `api_client()`, and
    `mint_user(name, groups)` for RBAC tests. With `existing=True` nothing is started and `kubeconfig` is used as is.
    """

    def __init__(self, workdir: Path, *, kubeconfig: Path | None = None) -> None:
        self.workdir = workdir
        self.existing = kubeconfig is not None
        self.kubeconfig = kubeconfig or workdir / "admin.kubeconfig"
        self.server = ""
        self.processes: list[ManagedProcess] = []
        self._ca: pki.CertificateAuthority | None = None

    @classmethod
    def from_environment(cls, workdir: Path) -> ControlPlane:
        """An existing cluster when KFM_USE_EXISTING_CLUSTER=true (its KUBECONFIG), else a local one in `workdir`."""
        if os.environ.get("KFM_USE_EXISTING_CLUSTER", "").lower() in {"1", "true", "yes"}:
            path = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
            return cls(workdir, kubeconfig=Path(path))
        return cls(workdir)

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> ControlPlane:
        if self.existing:
            self._wait_for_default_namespace(START_TIMEOUT)
            return self
        try:
            self._start_local()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    # -- clients -----------------------------------------------------------------------------------------------

    def api_client(self) -> client.ApiClient:
        return kubeconfigs.api_client_from(self.kubeconfig)

    def mint_user(self, user: str, groups: tuple[str, ...] = ()) -> Path:
        """A kubeconfig for a client-certificate user `user` in `groups` (local control plane only)."""
        if self._ca is None:
            raise DevEnvError("control plane: minting users needs the local control plane, not an existing cluster")
        pair = self._ca.client(user, groups)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user)
        return kubeconfigs.write_kubeconfig(
            self.workdir / "users" / f"{safe}.kubeconfig",
            server=self.server, ca_pem=self._ca.cert_pem, cert_pem=pair.cert_pem, key_pem=pair.key_pem, user=user,
        )

    # -- the local processes -----------------------------------------------------------------------------------

    def _start_local(self) -> None:
        pki_dir = self.workdir / "pki"
        logs = self.workdir / "logs"
        self._ca = ca = pki.CertificateAuthority()
        ca_file = pki_dir / "ca.crt"
        pki_dir.mkdir(parents=True, exist_ok=True)
        ca_file.write_bytes(ca.cert_pem)
        serving_cert, serving_key = ca.serving().write(pki_dir, "apiserver")
        sa_key, sa_pub = pki.write_service_account_keys(pki_dir)

        etcd_port, etcd_peer_port = free_port(), free_port()
        etcd = ManagedProcess(
            "etcd",
            [
                str(tool_path("etcd")),
                "--name=default",
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls=http://{LOOPBACK}:{etcd_port}",
                f"--advertise-client-urls=http://{LOOPBACK}:{etcd_port}",
                f"--listen-peer-urls=http://{LOOPBACK}:{etcd_peer_port}",
                f"--initial-advertise-peer-urls=http://{LOOPBACK}:{etcd_peer_port}",
                f"--initial-cluster=default=http://{LOOPBACK}:{etcd_peer_port}",
                "--unsafe-no-fsync=true",  # throwaway data; fsync only slows tests down
                "--log-level=warn",
            ],
            log_path=logs / "etcd.log",
        )
        self.processes.append(etcd.start())
        etcd.wait_until(
            lambda: b'"health":"true"' in urllib.request.urlopen(
                f"http://{LOOPBACK}:{etcd_port}/health", timeout=2
            ).read(),
            timeout=START_TIMEOUT, what="healthy",
        )

        api_port = free_port()
        self.server = f"https://{LOOPBACK}:{api_port}"
        apiserver = ManagedProcess(
            "kube-apiserver",
            [
                str(tool_path("kube-apiserver")),
                f"--etcd-servers=http://{LOOPBACK}:{etcd_port}",
                f"--bind-address={LOOPBACK}",
                f"--advertise-address={LOOPBACK}",
                f"--secure-port={api_port}",
                f"--cert-dir={pki_dir}",
                f"--tls-cert-file={serving_cert}",
                f"--tls-private-key-file={serving_key}",
                f"--client-ca-file={ca_file}",
                "--authorization-mode=RBAC",
                "--anonymous-auth=false",
                "--service-cluster-ip-range=10.0.0.0/24",
                f"--service-account-issuer={self.server}",
                f"--service-account-key-file={sa_pub}",
                f"--service-account-signing-key-file={sa_key}",
                "--allow-privileged=true",
                "--endpoint-reconciler-type=none",  # 127.0.0.1 is no valid endpoint for the `kubernetes` Service
                "--v=1",
            ],
            log_path=logs / "kube-apiserver.log",
        )
        self.processes.append(apiserver.start())
        admin = ca.client(ADMIN_USER, ("system:masters",))
        kubeconfigs.write_kubeconfig(
            self.kubeconfig, server=self.server, ca_pem=ca.cert_pem, cert_pem=admin.cert_pem, key_pem=admin.key_pem,
            user=ADMIN_USER,
        )
        tls = ssl.create_default_context(cafile=str(ca_file))
        tls.load_cert_chain(*admin.write(pki_dir, "admin"))
        apiserver.wait_until(lambda: _https_ok(f"{self.server}/readyz", tls), timeout=START_TIMEOUT, what="ready")

        kcm_identity = ca.client("system:kube-controller-manager", ("system:masters",))
        kcm_kubeconfig = kubeconfigs.write_kubeconfig(
            self.workdir / "kube-controller-manager.kubeconfig", server=self.server, ca_pem=ca.cert_pem,
            cert_pem=kcm_identity.cert_pem, key_pem=kcm_identity.key_pem, user="system:kube-controller-manager",
        )
        kcm_port = free_port()
        kcm = ManagedProcess(
            "kube-controller-manager",
            [
                str(tool_path("kube-controller-manager")),
                f"--kubeconfig={kcm_kubeconfig}",
                f"--authentication-kubeconfig={kcm_kubeconfig}",
                f"--authorization-kubeconfig={kcm_kubeconfig}",
                f"--bind-address={LOOPBACK}",
                f"--secure-port={kcm_port}",
                f"--cert-dir={self.workdir / 'kcm-certs'}",
                f"--controllers={CONTROLLERS}",
                "--leader-elect=false",
                "--use-service-account-credentials=false",
                f"--service-account-private-key-file={sa_key}",
                f"--root-ca-file={ca_file}",
                "--concurrent-job-syncs=10",
                "--v=1",
            ],
            log_path=logs / "kube-controller-manager.log",
        )
        self.processes.append(kcm.start())
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE  # its serving cert is self-signed; only /healthz on loopback is read
        kcm.wait_until(
            lambda: _https_ok(f"https://{LOOPBACK}:{kcm_port}/healthz", insecure), timeout=START_TIMEOUT, what="healthy"
        )
        self._wait_for_default_namespace(START_TIMEOUT, watch=[apiserver, kcm])

    def _wait_for_default_namespace(self, timeout: float, watch: list[ManagedProcess] | None = None) -> None:
        """The `default` namespace and its `default` ServiceAccount exist: apiserver and controllers are working."""
        deadline = time.monotonic() + timeout
        with self.api_client() as api:
            core = client.CoreV1Api(api)
            while True:
                for process in watch or []:
                    if not process.running():
                        raise process.failure(f"exited with code {process.returncode} during start")
                try:
                    core.read_namespaced_service_account("default", "default")
                    return
                except ApiException as error:
                    if error.status not in (404, 429, 500, 503):
                        raise
                except OSError:
                    pass
                if time.monotonic() >= deadline:
                    where = f" at {self.server}" if self.server else f" ({self.kubeconfig})"
                    raise DevEnvError(f"control plane{where}: default namespace/ServiceAccount not there after "
                                      f"{timeout:.0f} s")
                time.sleep(0.2)
