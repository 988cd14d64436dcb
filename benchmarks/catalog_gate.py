"""Benchmark of the catalog gate (issue 6): STAC items/s of the gate's STAC step against pystac's default
`validate_dict` on the same items, in one run, and the full triplet validation time per dataset version.

Fair comparison: pystac's default validator (JsonSchemaSTACValidator) already serves the STAC core and GeoJSON
schemas from its local cache; the one schema it would fetch is the project's extension (https://kfm.dev/...), so
it is put into that same cache before timing. Both sides run with the network refused (the gate's audit hook),
which proves neither fetched anything. Usage: `.venv/bin/python benchmarks/catalog_gate.py [--items N]`.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import pystac
import pystac.validation

from kfm_operator.gates.catalog import load_triplet, netguard, stac, validate_catalog, vocabulary
from kfm_operator.gates.catalog.schemas import BUNDLED_DIR, load_registry

FIXTURE = Path(__file__).resolve().parent.parent / "tests/unit/catalog/fixtures/valid/ks-airports"


def make_items(count: int) -> list[dict[str, Any]]:
    """`count` distinct valid items: the ks-airports item with its id and footprint shifted."""
    base = json.loads((FIXTURE / vocabulary.STAC_ITEM).read_text())
    items = []
    for index in range(count):
        item = copy.deepcopy(base)
        item["id"] = f"{base['id']}-{index}"
        shift = index * 1e-4
        item["bbox"] = [value + shift for value in base["bbox"]]
        item["geometry"]["coordinates"] = [[[x + shift, y + shift] for x, y in ring]
                                           for ring in base["geometry"]["coordinates"]]
        items.append(item)
    return items


def time_per_call(run: Any, arguments: list[Any], repeat: int) -> float:
    """Best of `repeat` passes over `arguments`, seconds per call."""
    passes = []
    for _ in range(repeat):
        started = time.perf_counter()
        for argument in arguments:
            run(argument)
        passes.append((time.perf_counter() - started) / len(arguments))
    return min(passes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--triplets", type=int, default=50)
    options = parser.parse_args()
    items = make_items(options.items)

    registry = load_registry()
    validator = pystac.validation.RegisteredValidator.get_validator()
    assert isinstance(validator, pystac.validation.JsonSchemaSTACValidator)
    extension = json.loads((BUNDLED_DIR / "kfm-stac-extension-v1.0.0.json").read_text())
    validator.schema_cache[vocabulary.KFM_STAC_EXTENSION] = extension  # served locally, never fetched

    def gate_step(item: dict[str, Any]) -> None:
        findings = stac.check_stac(item, kind="item", file_name=vocabulary.STAC_ITEM, schemas=registry)
        assert not findings, findings

    def pystac_default(item: dict[str, Any]) -> None:
        pystac.validation.validate_dict(item)

    with netguard.refusing_network() as guard:
        gate_step(items[0])  # warm the compiled-validator cache, as a running operator has it
        pystac_default(items[0])
        gate = time_per_call(gate_step, items, options.repeat)
        default = time_per_call(pystac_default, items, options.repeat)
    assert not guard.refused, guard.refused

    triplet = load_triplet(FIXTURE)
    assert validate_catalog(triplet).passed  # warm-up
    durations = []
    for _ in range(options.triplets):
        started = time.perf_counter()
        result = validate_catalog(triplet)
        durations.append(time.perf_counter() - started)
        assert result.passed, result.findings

    print(f"machine: {platform.machine()} {os.cpu_count()} CPU, Python {platform.python_version()}, "
          f"pystac {pystac.__version__}")
    print(f"STAC items ({options.items} items, best of {options.repeat} passes):")
    print(f"  catalog gate STAC step : {1 / gate:9.1f} items/s  ({gate * 1e3:.2f} ms/item)")
    print(f"  pystac validate_dict   : {1 / default:9.1f} items/s  ({default * 1e3:.2f} ms/item)")
    print(f"  speed-up               : {default / gate:9.1f}x")
    print(f"full triplet (ks-airports, {options.triplets} runs): median {statistics.median(durations) * 1e3:.1f} ms, "
          f"p95 {sorted(durations)[int(0.95 * len(durations)) - 1] * 1e3:.1f} ms, "
          f"max {max(durations) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
