"""One lock per object while it is in use; none kept for objects nobody is reconciling."""

from __future__ import annotations

import gc
from typing import Any

from kfm_operator.handlers.context import OperatorContext
from kfm_operator.settings import Settings


def context() -> OperatorContext:
    none: Any = None
    return OperatorContext(settings=Settings(), api=none, s3=none, ledger=none)


def test_the_same_object_gets_the_same_lock_while_it_is_held() -> None:
    ctx = context()
    with ctx.lock("uid-1") as held:
        assert ctx.lock("uid-1") is held
        assert ctx.lock("uid-2") is not held


def test_locks_of_objects_no_one_reconciles_are_not_kept() -> None:
    ctx = context()
    for number in range(100):
        with ctx.lock(f"uid-{number}"):
            pass
    gc.collect()
    assert len(ctx.locks) == 0
