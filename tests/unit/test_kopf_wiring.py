"""Kopf's persistence is configured once: annotations under kopf.kfm.dev, finalizer kfm.dev/finalizer."""

from __future__ import annotations

import kopf

from kfm_operator.handlers import wiring


def test_progress_and_diffbase_live_in_annotations_under_the_kfm_prefix() -> None:
    settings = kopf.OperatorSettings()
    wiring.configure(settings)
    progress = settings.persistence.progress_storage
    diffbase = settings.persistence.diffbase_storage
    assert isinstance(progress, kopf.AnnotationsProgressStorage) and progress.prefix == "kopf.kfm.dev"
    assert isinstance(diffbase, kopf.AnnotationsDiffBaseStorage) and diffbase.prefix == "kopf.kfm.dev"
    assert settings.persistence.finalizer == "kfm.dev/finalizer"
    assert settings.watching.server_timeout is not None


def test_a_handler_outcome_is_recorded_in_annotations_not_in_status() -> None:
    settings = kopf.OperatorSettings()
    wiring.configure(settings)
    body = kopf.Body({"metadata": {"name": "x", "annotations": {}}, "status": {}})
    patch = kopf.Patch()
    settings.persistence.progress_storage.store(
        key=kopf.HandlerId("datasetversion_create"), record={"started": "2026-11-23T00:00:00", "success": True},
        body=body, patch=patch)
    assert "status" not in patch
    assert any(key.startswith("kopf.kfm.dev/") for key in patch["metadata"]["annotations"])
