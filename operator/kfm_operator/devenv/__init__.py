"""The local environment: a real control plane, LocalNode, OPA and S3 as local processes on 127.0.0.1.

Used by the tests (tests/conftest.py), by `kfm dev` and by the demo; nothing in the operator imports it.
"""

from kfm_operator.devenv.controlplane import ControlPlane
from kfm_operator.devenv.localnode import LocalNode
from kfm_operator.devenv.opa import OpaServer
from kfm_operator.devenv.processes import DevEnvError, ManagedProcess
from kfm_operator.devenv.s3 import S3Server

__all__ = ["ControlPlane", "DevEnvError", "LocalNode", "ManagedProcess", "OpaServer", "S3Server"]
