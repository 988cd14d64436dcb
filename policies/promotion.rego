# Promotion decisions for kfm.dev DatasetVersions.
#
# One decision document: {allow, deny: [{code, message}], obligations}. allow is true only when nothing denies.
# Fail closed: a missing or unknown label, an unknown transition, a gate that did not pass, a missing receipt
# each deny with their own code. A deny message is built only from fields the rule has already checked exist:
# a rule whose message reads a missing field would never fire (Rego: undefined), so missing fields have their
# own rules below.
package kfm.promotion

import rego.v1

policy_labels := {"public", "internal", "restricted", "confidential"}

sensitivities := {"none", "low", "moderate", "high"}

required_labels := ["policyLabel", "sensitivity", "sovereignty"]

# Allowed (from, to) zone transitions: promote, and withdraw.
transitions := {["processed", "published"], ["published", "processed"]}

# Licenses (SPDX) allowed for each policy label; restricted and confidential data may carry any license.
open_licenses := {
	"CC0-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "ODbL-1.0", "ODC-By-1.0", "PDDL-1.0",
	"OGL-UK-3.0", "MIT", "Apache-2.0", "BSD-3-Clause", "etalab-2.0",
}

governance := object.get(input, ["subject", "spec", "governance"], {})

label(name) := governance[name]

# -- labels -----------------------------------------------------------------------------------------------------

deny_rules contains {"code": "label.missing", "message": sprintf("governance label %s is missing", [name])} if {
	some name in required_labels
	not governance[name]
}

deny_rules contains {"code": "label.unknown", "message": sprintf("policyLabel %q is not one of public, internal, restricted, confidential", [value])} if {
	value := label("policyLabel")
	not value in policy_labels
}

deny_rules contains {"code": "label.unknown", "message": sprintf("sensitivity %q is not one of none, low, moderate, high", [value])} if {
	value := label("sensitivity")
	not value in sensitivities
}

deny_rules contains {"code": "label.unknown", "message": sprintf("sovereignty %q is not none or <authority>:<name>", [value])} if {
	value := label("sovereignty")
	not regex.match(`^(none|[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9]*[a-z0-9])?)$`, value)
}

# -- transition -------------------------------------------------------------------------------------------------

deny_rules contains {"code": "transition.missing", "message": "the transition (from and to zone) is missing"} if {
	not input.transition.from
}

deny_rules contains {"code": "transition.missing", "message": "the transition (from and to zone) is missing"} if {
	not input.transition.to
}

deny_rules contains {"code": "transition.not_allowed", "message": sprintf("moving from %s to %s is not allowed (only processed -> published, and published -> processed to withdraw)", [from, to])} if {
	from := input.transition.from
	to := input.transition.to
	not [from, to] in transitions
}

# -- gates and evidence -----------------------------------------------------------------------------------------

deny_rules contains {"code": sprintf("gate.%s_failed", [name]), "message": sprintf("the %s gate did not pass", [name])} if {
	some name in ["integrity", "catalog"]
	object.get(input, ["gates", name, "passed"], false) != true
}

deny_rules contains {"code": "receipt.missing", "message": "the DatasetVersion has no run receipt"} if {
	not input.subject.status.receipt.digest
}

# -- license ----------------------------------------------------------------------------------------------------

deny_rules contains {"code": "license.missing", "message": "the license is missing"} if {
	not input.subject.spec.license
}

deny_rules contains {"code": "license.not_allowed", "message": sprintf("license %s is not an open license; public data needs one of the open licenses", [license])} if {
	label("policyLabel") == "public"
	license := input.subject.spec.license
	not license in open_licenses
}

deny_rules contains {"code": "license.not_allowed", "message": sprintf("license %s is neither an open license nor a LicenseRef for internal data", [license])} if {
	label("policyLabel") == "internal"
	license := input.subject.spec.license
	not license in open_licenses
	not startswith(license, "LicenseRef-")
}

# -- rules an exception may waive -------------------------------------------------------------------------------

deny_rules contains {"code": "label.restricted", "message": sprintf("%s data is published only with an exception that waives label.restricted", [value])} if {
	input.transition.to == "published"
	value := label("policyLabel")
	value in {"restricted", "confidential"}
}

deny_rules contains {"code": "sovereignty.requires_exception", "message": sprintf("data under sovereignty %s is published only with an exception that waives sovereignty.requires_exception", [value])} if {
	input.transition.to == "published"
	value := label("sovereignty")
	value != "none"
}

waivable := {"label.restricted", "sovereignty.requires_exception", "license.not_allowed"}

# An exception counts only when the exception gate verified it (signature, signer, expiry, scope).
waived contains code if {
	input.gates.exception.passed == true
	input.exception.verified == true
	some code in input.exception.waives
	code in waivable
}

deny contains rule if {
	some rule in deny_rules
	not rule.code in waived
}

deny contains {"code": "exception.invalid", "message": "the exception could not be verified"} if {
	input.exception
	object.get(input, ["gates", "exception", "passed"], false) != true
}

allow if {
	count(deny) == 0
}

default allow := false

obligations contains {"code": "exception.used", "message": sprintf("exception %s waived %s", [input.exception.id, code])} if {
	some code in waived
	some rule in deny_rules
	rule.code == code
}

decision := {
	"allow": allow,
	"deny": [rule | some rule in deny],
	"obligations": [item | some item in obligations],
}
