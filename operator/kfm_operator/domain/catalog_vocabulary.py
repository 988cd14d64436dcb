"""The names the catalog triplet is written with: file names, namespaces, label names, link relations.

Shared by the catalog gate's checks (gates.catalog) and the pipeline's writer (pipeline.catalogdocs), which are
siblings that may not import each other: living in domain/, one source serves both and they cannot drift apart.
"""

from __future__ import annotations

STAC_ITEM = "stac-item.json"
STAC_COLLECTION = "stac-collection.json"
DCAT = "dcat.jsonld"
PROV = "prov.json"
DOCUMENTS = (STAC_ITEM, STAC_COLLECTION, DCAT, PROV)
ARTIFACTS = "artifacts.json"  # optional beside the documents: the run's artifact list (the CLI's default)

STAC_VERSION = "1.1.0"  # the version the pipeline writes and whose schemas are bundled
KFM_STAC_EXTENSION = "https://kfm.dev/stac/extensions/kfm/v1.0.0/schema.json"
KFM_CONTEXT = "https://kfm.dev/contexts/catalog/v1.0.0/context.jsonld"  # the bundled JSON-LD context

KFM_NS = "https://kfm.dev/ns/kfm#"  # DCAT predicates and PROV attributes kfm:<name>
DCAT_NS = "http://www.w3.org/ns/dcat#"
DCT_NS = "http://purl.org/dc/terms/"
PROV_NS = "http://www.w3.org/ns/prov#"
SPDX_NS = "http://spdx.org/rdf/terms#"

# The governance labels, identical in STAC (properties["kfm:<name>"]), DCAT (kfm:<name>) and PROV (the run
# activity's kfm:<name>); values as in DatasetVersion spec.governance.
LABELS = ("policy_label", "sensitivity", "sovereignty")

# STAC item links that tie the triplet together; each href is an IRI, not a file.
LINK_DATASET = "kfm:dataset"  # href = the DCAT dataset's @id
LINK_ACTIVITY = "kfm:activity"  # href = the PROV run activity's IRI (also DCAT prov:wasGeneratedBy)

CHECKSUM_PREFIX = "sha256:"  # STAC kfm:checksum, PROV kfm:digest and artifact digests: sha256:<64 lowercase hex>
AGENT_ROLES = ("pipeline", "operator")  # PROV agents' kfm:role; the run must be associated with both
