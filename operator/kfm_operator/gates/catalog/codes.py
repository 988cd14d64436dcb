"""Stable finding codes of the catalog gate: what a program (the promotion policy, a dashboard) matches on.

Each constant's comment says what it means. Codes never change meaning; a new check gets a new code.
"""

from __future__ import annotations

# --- the gate itself ------------------------------------------------------------------------------------------
GATE_INTERNAL_ERROR = "gate.internal_error"  # a validator raised; the gate fails closed instead of passing
GATE_NETWORK_REFUSED = "gate.network_refused"  # a validator tried to open a network connection (refused)
GATE_UNAVAILABLE = "gate.unavailable"  # the gate could not run at all (bundled or configured schemas unusable)

# --- loading the triplet --------------------------------------------------------------------------------------
DOCUMENT_MISSING = "triplet.document_missing"  # one of the four catalog documents is absent
DOCUMENT_UNPARSEABLE = "triplet.unparseable"  # a document is not JSON, or not a JSON object
ARTIFACTS_MISSING = "triplet.artifacts_missing"  # no artifact list of the run to compare the catalog with
ARTIFACTS_INVALID = "triplet.artifacts_invalid"  # the artifact list is not a list of {name, uri, digest}

# --- STAC -----------------------------------------------------------------------------------------------------
STAC_TYPE = "stac.type"  # stac-item.json is not a Feature, or stac-collection.json not a Collection
STAC_VERSION_MISSING = "stac.version_missing"  # stac_version absent or not a string
STAC_SCHEMA_UNAVAILABLE = "stac.schema_unavailable"  # a schema (core version, extension, $ref) is not bundled
STAC_SCHEMA = "stac.schema"  # the document violates the STAC core schema of its version
STAC_EXTENSION_SCHEMA = "stac.extension_schema"  # the document violates a declared extension's schema
STAC_EXTENSION_MISSING = "stac.extension_missing"  # the KFM extension is not in stac_extensions
STAC_PARSE = "stac.parse"  # pystac cannot read the document (e.g. an unparseable datetime)

# --- DCAT -----------------------------------------------------------------------------------------------------
DCAT_CONTEXT_REMOTE = "dcat.context_remote"  # an @context (or @import) names a URL that is not bundled
DCAT_PARSE = "dcat.parse"  # the JSON-LD cannot be turned into RDF
DCAT_DATASET_COUNT = "dcat.dataset_count"  # not exactly one dcat:Dataset
DCAT_TITLE = "dcat.title"  # dct:title missing or empty
DCAT_IDENTIFIER = "dcat.identifier"  # dct:identifier missing, empty or repeated
DCAT_LICENSE = "dcat.license"  # dct:license missing, repeated or not an IRI
DCAT_ACCESS_RIGHTS = "dcat.access_rights"  # dct:accessRights missing or repeated
DCAT_LABEL = "dcat.label"  # kfm:policy_label / kfm:sensitivity / kfm:sovereignty missing or not allowed
DCAT_DISTRIBUTION = "dcat.distribution"  # no dcat:distribution, or one that is not a dcat:Distribution
DCAT_DOWNLOAD_URL = "dcat.download_url"  # a distribution's dcat:downloadURL missing, repeated or not an IRI
DCAT_MEDIA_TYPE = "dcat.media_type"  # a distribution's dcat:mediaType missing or repeated
DCAT_CHECKSUM = "dcat.checksum"  # a distribution's spdx:checksum missing or not sha256 over 64 lowercase hex
DCAT_GENERATED_BY = "dcat.generated_by"  # prov:wasGeneratedBy (the run) missing, repeated or not an IRI
DCAT_SHAPE = "dcat.shape"  # any other SHACL violation

# --- PROV -----------------------------------------------------------------------------------------------------
PROV_PARSE = "prov.parse"  # prov.json is not PROV-JSON the prov package can read
PROV_ACTIVITY_COUNT = "prov.activity_count"  # not exactly one activity (the run)
PROV_DANGLING_REFERENCE = "prov.dangling_reference"  # a relation names an element the document does not declare
PROV_DIGEST = "prov.digest"  # an entity has no kfm:digest of the form sha256:<64 hex>
PROV_INPUTS = "prov.inputs"  # the run used no entity
PROV_OUTPUTS = "prov.outputs"  # the run generated no entity
PROV_AGENT = "prov.agent"  # the run is not associated with a pipeline agent and an operator agent
PROV_LABEL = "prov.label"  # the run activity lacks one of the three labels

# --- across the documents -------------------------------------------------------------------------------------
CROSS_COLLECTION_LINK = "cross.collection_link"  # the item's collection is not the collection's id
CROSS_DATASET_LINK = "cross.dataset_link"  # the item has no kfm:dataset link to the DCAT dataset's IRI
CROSS_ACTIVITY_LINK = "cross.activity_link"  # the item has no kfm:activity link to the PROV activity's IRI
CROSS_GENERATED_BY = "cross.generated_by"  # DCAT prov:wasGeneratedBy is not the PROV activity
CROSS_DISTRIBUTION_UNMATCHED = "cross.distribution_unmatched"  # a DCAT downloadURL is no STAC asset's href
CROSS_CHECKSUM_MISMATCH = "cross.checksum_mismatch"  # a distribution and the asset at its URL differ in checksum
CROSS_ASSET_NOT_ARTIFACT = "cross.asset_not_artifact"  # a STAC asset (href, checksum) is no artifact of the run
CROSS_ARTIFACT_NOT_IN_STAC = "cross.artifact_not_in_stac"  # an artifact of the run has no STAC asset
CROSS_ARTIFACT_NOT_IN_PROV = "cross.artifact_not_in_prov"  # an artifact's digest is not generated by the run
CROSS_PROV_OUTPUT_NOT_ARTIFACT = "cross.prov_output_not_artifact"  # the run generated an entity not an artifact
CROSS_LABEL_MISMATCH = "cross.label_mismatch"  # a label differs between STAC, DCAT and PROV
