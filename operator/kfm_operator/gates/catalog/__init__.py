"""The catalog gate: offline validation of a dataset version's STAC item and collection, DCAT (JSON-LD) and PROV
(PROV-JSON) documents, their cross-links with each other and with the run's artifacts, and label consistency.

Called by the DatasetVersion handler (condition CatalogValid), the promotion gates and `kfm catalog validate`.
Nothing here touches the network: schemas, JSON-LD contexts and SHACL shapes are bundled as package data.
"""

from __future__ import annotations

from kfm_operator.domain import catalog_vocabulary as vocabulary
from kfm_operator.gates.catalog import codes
from kfm_operator.gates.catalog.gate import GATE_NAME, validate_catalog
from kfm_operator.gates.catalog.triplets import Artifact, Triplet, load_triplet, parse_artifacts, triplet_from_bytes

__all__ = [
    "GATE_NAME",
    "Artifact",
    "Triplet",
    "codes",
    "load_triplet",
    "parse_artifacts",
    "triplet_from_bytes",
    "validate_catalog",
    "vocabulary",
]
