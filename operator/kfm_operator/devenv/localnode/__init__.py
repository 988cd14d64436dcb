"""LocalNode: a one-node kubelet that runs pod commands as local processes (see node.py)."""

from kfm_operator.devenv.localnode.node import NODE_NAME, LocalNode

__all__ = ["NODE_NAME", "LocalNode"]
