"""Ask OPA for the promotion decision, failing closed.

- OPA unreachable, timing out or answering 5xx -> not evaluated (`allowed is None`): the Promotion is Blocked and
  retried, never promoted.
- No result (undefined), or a result that is not {allow: bool, deny: [{code, message}], obligations: [...]} ->
  denied with reason PolicyUndefined.
- allow true with a non-empty deny list -> denied (the policy contradicts itself).
Every decision records OPA's decision id, the revision of the loaded policies (sha256 over their sources) and the
sha256 of the canonical input, so `kfm policy replay` can re-evaluate it later. Uses opa-python-client's async
client; called by the Promotion handler.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import rfc8785
from opa_client.opa_async import AsyncOpaClient

__all__ = ["POLICY_UNAVAILABLE", "POLICY_UNDEFINED", "PolicyDecision", "evaluate", "input_digest",
           "policy_revision"]

PACKAGE = "kfm.promotion"
RULE = "decision"
POLICY_UNAVAILABLE = "PolicyUnavailable"  # could not ask OPA: Blocked, retried
POLICY_UNDEFINED = "PolicyUndefined"  # OPA answered, but not with a decision: Denied


@dataclass(frozen=True)
class PolicyDecision:
    allowed: bool | None  # None: not evaluated
    reason: str  # PolicyAllowed, PolicyDenied, PolicyUndefined, PolicyUnavailable
    deny: tuple[tuple[str, str], ...] = ()  # (code, message)
    obligations: tuple[dict[str, Any], ...] = ()
    decision_id: str | None = None
    policy_revision: str | None = None
    input_digest: str = ""
    detail: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    policy_sources: tuple[tuple[str, str], ...] = ()  # (id, Rego source) of every loaded policy: the revision


def input_digest(document: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def _client(url: str, timeout: float) -> AsyncOpaClient:
    parts = urlsplit(url)
    return AsyncOpaClient(host=parts.hostname or "127.0.0.1", port=parts.port or 8181, ssl=parts.scheme == "https",
                          timeout=timeout, retries=0)


def _well_formed(result: Any) -> str | None:
    """None if `result` is a decision document, else what is wrong with it."""
    if not isinstance(result, dict):
        return f"the decision is {type(result).__name__}, not an object"
    if not isinstance(result.get("allow"), bool):
        return "allow is missing or not a boolean"
    deny = result.get("deny", [])
    if not isinstance(deny, list) or not all(
            isinstance(d, dict) and isinstance(d.get("code"), str) and isinstance(d.get("message"), str) for d in deny):
        return "deny is not a list of {code, message}"
    if not isinstance(result.get("obligations", []), list):
        return "obligations is not a list"
    return None


def policy_revision(sources: tuple[tuple[str, str], ...]) -> str:
    """sha256 over the sorted (id, source) pairs of the loaded policies."""
    return "sha256:" + hashlib.sha256(rfc8785.dumps([list(pair) for pair in sorted(sources)])).hexdigest()


async def _sources(client: AsyncOpaClient) -> tuple[tuple[str, str], ...]:
    async with client._request("GET", f"{client.root_url}/policies") as response:
        response.raise_for_status()
        policies = (await response.json()).get("result", [])
    return tuple(sorted((str(p.get("id", "")), str(p.get("raw", ""))) for p in policies))


async def evaluate(document: dict[str, Any], *, url: str, timeout: float = 5.0, package: str = PACKAGE,
                   rule: str = RULE) -> PolicyDecision:
    """The decision for `document` (the promotion input) from the OPA server at `url`."""
    digest = input_digest(document)
    try:
        async with _client(url, timeout) as client:
            answer = await asyncio.wait_for(
                client.query_rule(document, package, rule, query_params={"metrics": False}), timeout)
            sources = await asyncio.wait_for(_sources(client), timeout)
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        detail = f"OPA at {url} could not be asked: {type(error).__name__}: {error}"[:500]
        return PolicyDecision(None, POLICY_UNAVAILABLE, input_digest=digest, detail=detail)
    decision_id = answer.get("decision_id")
    revision = policy_revision(sources)
    if "result" not in answer:
        return PolicyDecision(False, POLICY_UNDEFINED, (("policy.undefined", f"{package}.{rule} is undefined"),),
                              decision_id=decision_id, policy_revision=revision, input_digest=digest,
                              detail=f"data.{package}.{rule} is undefined: no policy decided", raw=answer,
                              policy_sources=sources)
    result = answer["result"]
    problem = _well_formed(result)
    if problem is not None:
        return PolicyDecision(False, POLICY_UNDEFINED, (("policy.malformed", problem),), decision_id=decision_id,
                              policy_revision=revision, input_digest=digest, detail=problem, raw=answer,
                              policy_sources=sources)
    deny = tuple((d["code"], d["message"]) for d in result.get("deny", []))
    allowed = bool(result["allow"]) and not deny
    if result["allow"] and deny:
        deny = (*deny, ("policy.contradiction", "allow is true but deny is not empty"))
    return PolicyDecision(allowed, "PolicyAllowed" if allowed else "PolicyDenied", deny,
                          tuple(result.get("obligations", [])), decision_id, revision, digest, raw=answer,
                          policy_sources=sources)
