"""The policy gate: OPA decides on the promotion input (see opa.py)."""

from kfm_operator.gates.policy.opa import PolicyDecision, evaluate, input_digest, policy_revision

__all__ = ["PolicyDecision", "evaluate", "input_digest", "policy_revision"]
