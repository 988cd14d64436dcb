"""Kopf settings decided once, before the first deploy (see ../shared/facts/kopf-on-k8s-1.37.md).

Changing any of these on a running fleet re-runs every create handler and strands the old finalizer, so they are
constants here and nowhere else.
"""

from __future__ import annotations

import kopf

__all__ = ["DIFFBASE_KEY", "FINALIZER", "PROGRESS_PREFIX", "configure"]

# A sub-prefix of kfm.dev: Kopf drops every annotation under its own prefix from the diff essence, and kfm.dev/
# annotations may carry a person's intent that must still count as a change.
PROGRESS_PREFIX = "kopf.kfm.dev"
DIFFBASE_KEY = "last-handled-configuration"
FINALIZER = "kfm.dev/finalizer"


def configure(settings: kopf.OperatorSettings) -> None:
    """Progress and diff-base in annotations only (the status schema is fully structural and would prune Kopf's
    status fields), our finalizer name, and watches that reconnect instead of hanging on a silent connection."""
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PROGRESS_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=PROGRESS_PREFIX,
                                                                            key=DIFFBASE_KEY)
    settings.persistence.finalizer = FINALIZER
    # Without a server timeout a watch can sit on a dead connection for ever (nolar/kopf#585, #847).
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 30
