"""A signed exception counts only when genuine, current and scoped to exactly this promotion."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kfm_operator.gates.exception import sign_exception, verify_exception

BOARD = Ed25519PrivateKey.generate()
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SCOPE = {"namespace": "geo", "dataset_version_uid": "uid-1", "target_zone": "published"}


def signed(**overrides: Any) -> dict[str, Any]:
    fields = {"waives": ["label.restricted"], "expires_at": "2026-12-31T00:00:00Z", "exception_id": "EXC-1", **SCOPE}
    signature = sign_exception(BOARD, **fields)
    exception = {"id": "EXC-1", "waives": ["label.restricted"], "expiresAt": "2026-12-31T00:00:00Z",
                 "signer": "board", "signature": signature}
    exception.update(overrides)
    return exception


def check(exception: dict[str, Any] | None, **scope: Any) -> Any:
    return verify_exception(exception, trusted_keys={"board": BOARD.public_key()}, now=NOW, **{**SCOPE, **scope})


def test_a_genuine_current_exception_passes() -> None:
    result = check(signed())
    assert result.passed is True and result.findings == ()


def test_no_exception_has_nothing_to_verify() -> None:
    assert check(None).passed is True


@pytest.mark.parametrize(("exception", "scope", "code"), [
    (signed(signer="intern"), {}, "exception.unknown_signer"),
    (signed(signature=sign_exception(Ed25519PrivateKey.generate(), waives=["label.restricted"],
                                     expires_at="2026-12-31T00:00:00Z", exception_id="EXC-1", **SCOPE)), {},
     "exception.bad_signature"),
    (signed(waives=["label.restricted", "sovereignty.requires_exception"]), {}, "exception.bad_signature"),
    (signed(), {"dataset_version_uid": "uid-2"}, "exception.bad_signature"),
    (signed(), {"target_zone": "processed"}, "exception.bad_signature"),
    (signed(), {"namespace": "other"}, "exception.bad_signature"),
    (signed(id="EXC-2"), {}, "exception.bad_signature"),
    (signed(expiresAt="2027-06-30T00:00:00Z"), {}, "exception.bad_signature"),
    (signed(signature="not base64!"), {}, "exception.malformed"),
])
def test_a_forged_misused_or_unreadable_exception_fails(exception: dict[str, Any], scope: dict[str, Any],
                                                        code: str) -> None:
    result = check(exception, **scope)
    assert result.passed is False and code in result.codes


def test_an_expired_exception_fails_even_with_a_good_signature() -> None:
    fields = {"waives": ["label.restricted"], "expires_at": "2026-11-01T00:00:00Z", "exception_id": "EXC-1", **SCOPE}
    exception = signed(expiresAt="2026-11-01T00:00:00Z", signature=sign_exception(BOARD, **fields))
    result = check(exception)
    assert result.codes == ("exception.expired",)
