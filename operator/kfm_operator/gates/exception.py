"""The exception gate: is a Promotion's signed waiver genuine, current and meant for exactly this promotion?

The signature (Ed25519, base64) covers the canonical JSON (RFC 8785) of {namespace, datasetVersion (uid),
targetZone, waives, expiresAt, id}: a waiver signed for another version, zone or rule set does not verify. The
signer must be one of the trusted keys from configuration. Pure: keys and the current time are arguments.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import datetime

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kfm_operator.domain.gates import Finding, GateResult

__all__ = ["exception_payload", "sign_exception", "verify_exception"]

UNKNOWN_SIGNER = "exception.unknown_signer"  # the signer is not among the trusted keys
BAD_SIGNATURE = "exception.bad_signature"  # forged, or signed for another version/zone/waives/expiry/id
EXPIRED = "exception.expired"  # expiresAt is in the past
MALFORMED = "exception.malformed"  # a field is missing or cannot be read


def exception_payload(*, namespace: str, dataset_version_uid: str, target_zone: str, waives: Sequence[str],
                      expires_at: str, exception_id: str) -> bytes:
    """The exact bytes a signer signs."""
    return bytes(rfc8785.dumps({"namespace": namespace, "datasetVersion": dataset_version_uid,
                                "targetZone": target_zone, "waives": sorted(waives), "expiresAt": expires_at,
                                "id": exception_id}))


def sign_exception(key: Ed25519PrivateKey, **fields: object) -> str:
    """base64 signature over exception_payload(**fields) (for the governance board's tooling and tests)."""
    return base64.b64encode(key.sign(exception_payload(**fields))).decode()  # type: ignore[arg-type]


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def verify_exception(exception: Mapping[str, object] | None, *, namespace: str, dataset_version_uid: str,
                     target_zone: str, trusted_keys: Mapping[str, Ed25519PublicKey], now: datetime) -> GateResult:
    """Passed when there is no exception (nothing to waive) or it verifies; findings say why not otherwise."""
    if not exception:
        return GateResult("exception", True, evidence={"exception": "none"})
    try:
        exception_id, signer = str(exception["id"]), str(exception["signer"])
        waives = [str(code) for code in exception["waives"]]  # type: ignore[attr-defined]
        expires_at = str(exception["expiresAt"])
        signature = base64.b64decode(str(exception["signature"]), validate=True)
        expiry = _parse_time(expires_at)
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        return GateResult("exception", False, (Finding(MALFORMED, "spec.exception", f"cannot read: {error}"),))
    findings = []
    key = trusted_keys.get(signer)
    if key is None:
        findings.append(Finding(UNKNOWN_SIGNER, "spec.exception.signer",
                                f"signer {signer!r} is not a trusted key (trusted: {', '.join(sorted(trusted_keys))})"))
    else:
        payload = exception_payload(namespace=namespace, dataset_version_uid=dataset_version_uid,
                                    target_zone=target_zone, waives=waives, expires_at=expires_at,
                                    exception_id=exception_id)
        try:
            key.verify(signature, payload)
        except InvalidSignature:
            findings.append(Finding(BAD_SIGNATURE, "spec.exception.signature",
                                    "the signature does not verify for this namespace, DatasetVersion, target zone, "
                                    "waived rules, expiry and id"))
    if expiry <= now:
        findings.append(Finding(EXPIRED, "spec.exception.expiresAt", f"expired at {expires_at}"))
    return GateResult("exception", not findings, tuple(findings), {"exception": exception_id, "signer": signer})
