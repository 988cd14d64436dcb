"""What can go wrong with a store, by meaning. Callers never see botocore's exceptions."""

from __future__ import annotations

__all__ = ["AlreadyExists", "NotFound", "PreconditionFailed", "StoreError", "Unavailable"]


class StoreError(Exception):
    """Base of every store error; the message names the object."""


class NotFound(StoreError):
    """The object (or bucket) does not exist."""


class AlreadyExists(StoreError):
    """A create-only write found the key taken: someone wrote it first (for content-addressed keys: the same bytes)."""


class PreconditionFailed(StoreError):
    """A compare-and-swap write lost: the object changed since it was read. Read again and retry."""


class Unavailable(StoreError):
    """The store could not be reached or failed (network, timeout, 5xx). Temporary: retry later."""
