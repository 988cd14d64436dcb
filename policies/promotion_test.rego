package kfm.promotion_test

import data.kfm.promotion
import rego.v1

good := {
	"subject": {
		"spec": {
			"license": "CC0-1.0",
			"governance": {"policyLabel": "public", "sensitivity": "none", "sovereignty": "none"},
		},
		"status": {"receipt": {"digest": "sha256:00"}},
	},
	"transition": {"from": "processed", "to": "published"},
	"gates": {"integrity": {"passed": true}, "catalog": {"passed": true}},
}

codes(decision) := {rule.code | some rule in decision.deny}

with_governance(overrides) := object.union(good, {"subject": object.union(good.subject, {"spec": object.union(good.subject.spec, {"governance": object.union(good.subject.spec.governance, overrides)})})})

# object.union merges recursively and cannot remove a key: build the reduced input explicitly.
without_label(name) := {
	"subject": {
		"spec": {"license": good.subject.spec.license, "governance": object.remove(good.subject.spec.governance, [name])},
		"status": good.subject.status,
	},
	"transition": good.transition,
	"gates": good.gates,
}

exception(waives, verified) := object.union(
	with_governance({"policyLabel": "restricted", "sovereignty": "tribal:wichita"}),
	{
		"exception": {"id": "EXC-1", "waives": waives, "verified": verified},
		"gates": object.union(good.gates, {"exception": {"passed": verified}}),
	},
)

test_public_data_with_everything_in_place_is_allowed if {
	d := promotion.decision with input as good
	d.allow == true
	d.deny == []
	d.obligations == []
}

test_withdrawal_is_an_allowed_transition if {
	d := promotion.decision with input as object.union(good, {"transition": {"from": "published", "to": "processed"}})
	d.allow
}

test_each_missing_label_denies_with_its_name if {
	every name in ["policyLabel", "sensitivity", "sovereignty"] {
		d := promotion.decision with input as without_label(name)
		not d.allow
		{"code": "label.missing", "message": sprintf("governance label %s is missing", [name])} in d.deny
	}
}

test_missing_governance_denies_all_three_labels if {
	d := promotion.decision with input as {"transition": good.transition, "gates": good.gates}
	count([r | some r in d.deny; r.code == "label.missing"]) == 3
	"receipt.missing" in codes(d)
	"license.missing" in codes(d)
}

# A rule building its message from a missing field would be undefined and never fire; the missing-field rules
# must deny on their own.
test_a_missing_policy_label_is_denied_even_though_value_rules_cannot_fire if {
	d := promotion.decision with input as without_label("policyLabel")
	not "label.unknown" in codes(d)
	"label.missing" in codes(d)
	not d.allow
}

test_unknown_label_values_deny if {
	d1 := promotion.decision with input as with_governance({"policyLabel": "secret"})
	"label.unknown" in codes(d1)
	d2 := promotion.decision with input as with_governance({"sensitivity": "extreme"})
	"label.unknown" in codes(d2)
	d3 := promotion.decision with input as with_governance({"sovereignty": "Tribal"})
	"label.unknown" in codes(d3)
}

test_an_empty_input_is_denied if {
	d := promotion.decision with input as {}
	not d.allow
	{"label.missing", "transition.missing", "gate.integrity_failed", "gate.catalog_failed", "receipt.missing"} - codes(d) == set()
}

test_other_transitions_are_not_allowed if {
	every pair in [["raw", "published"], ["processed", "processed"], ["quarantine", "published"]] {
		d := promotion.decision with input as object.union(good, {"transition": {"from": pair[0], "to": pair[1]}})
		"transition.not_allowed" in codes(d)
	}
}

test_failed_or_unevaluated_gates_deny if {
	d1 := promotion.decision with input as object.union(good, {"gates": {"integrity": {"passed": false}, "catalog": {"passed": true}}})
	codes(d1) == {"gate.integrity_failed"}
	d2 := promotion.decision with input as object.union(good, {"gates": {"integrity": {"passed": true}, "catalog": {"passed": null}}})
	codes(d2) == {"gate.catalog_failed"}
}

test_a_missing_receipt_denies if {
	d := promotion.decision with input as {"subject": {"spec": good.subject.spec}, "transition": good.transition, "gates": good.gates}
	codes(d) == {"receipt.missing"}
}

test_public_data_needs_an_open_license if {
	d := promotion.decision with input as object.union(good, {"subject": object.union(good.subject, {"spec": object.union(good.subject.spec, {"license": "LicenseRef-internal-only"})})})
	codes(d) == {"license.not_allowed"}
}

test_internal_data_may_use_a_license_ref if {
	base := with_governance({"policyLabel": "internal"})
	ok := promotion.decision with input as object.union(base, {"subject": object.union(base.subject, {"spec": object.union(base.subject.spec, {"license": "LicenseRef-kfm-internal"})})})
	ok.allow
	bad := promotion.decision with input as object.union(base, {"subject": object.union(base.subject, {"spec": object.union(base.subject.spec, {"license": "Proprietary"})})})
	"license.not_allowed" in codes(bad)
}

test_restricted_data_without_an_exception_is_denied if {
	d := promotion.decision with input as with_governance({"policyLabel": "restricted"})
	codes(d) == {"label.restricted"}
}

test_sovereign_data_without_an_exception_is_denied if {
	d := promotion.decision with input as with_governance({"sovereignty": "tribal:wichita"})
	codes(d) == {"sovereignty.requires_exception"}
}

test_a_verified_exception_waives_exactly_what_it_names if {
	d := promotion.decision with input as exception(["label.restricted", "sovereignty.requires_exception"], true)
	d.allow
	count(d.obligations) == 2
	partial := promotion.decision with input as exception(["label.restricted"], true)
	codes(partial) == {"sovereignty.requires_exception"}
}

test_an_unverified_exception_waives_nothing_and_denies if {
	d := promotion.decision with input as exception(["label.restricted", "sovereignty.requires_exception"], false)
	not d.allow
	{"label.restricted", "sovereignty.requires_exception", "exception.invalid"} == codes(d)
}

test_an_exception_cannot_waive_a_failed_gate if {
	base := exception(["gate.integrity_failed", "label.restricted", "sovereignty.requires_exception"], true)
	d := promotion.decision with input as object.union(base, {"gates": object.union(base.gates, {"integrity": {"passed": false}})})
	codes(d) == {"gate.integrity_failed"}
}

test_withdrawing_restricted_data_needs_no_exception if {
	base := with_governance({"policyLabel": "confidential", "sovereignty": "tribal:wichita"})
	d := promotion.decision with input as object.union(base, {"transition": {"from": "published", "to": "processed"}})
	d.allow
}
