"""`csv-points`: a CSV with latitude/longitude columns -> a deterministic GeoJSON FeatureCollection of points.

Parameters: `latitude`, `longitude` (column names, default latitude/longitude), `filter` ({column: [values]}, rows
kept when every listed column has one of the values), `id` (column used as feature id, optional), `time`
(column with RFC 3339 timestamps for the temporal extent, optional). Output: `points.geojson`, keys sorted,
coordinates as given (rounded to 7 decimals), rows in input order.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kfm_operator.pipeline.transforms.base import Output, Spatial, TransformError, TransformResult

__all__ = ["csv_points"]


def _number(value: str, column: str, line: int, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError as error:
        raise TransformError(f"line {line}: {column} {value!r} is not a number") from error
    if not math.isfinite(number) or not low <= number <= high:
        raise TransformError(f"line {line}: {column} {value} is outside [{low}, {high}]")
    return round(number, 7)


def csv_points(inputs: Mapping[str, Path], parameters: Mapping[str, Any], workdir: Path) -> TransformResult:
    if len(inputs) != 1:
        raise TransformError(f"csv-points takes exactly one input, got {len(inputs)}")
    ((_, source),) = inputs.items()
    lat_column = str(parameters.get("latitude", "latitude"))
    lon_column = str(parameters.get("longitude", "longitude"))
    id_column = parameters.get("id")
    time_column = parameters.get("time")
    wanted = {str(k): {str(v) for v in (vs if isinstance(vs, list) else [vs])}
              for k, vs in dict(parameters.get("filter") or {}).items()}
    features, times = [], []
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        for needed in [lat_column, lon_column, *wanted, *([id_column] if id_column else []),
                       *([time_column] if time_column else [])]:
            if needed not in columns:
                raise TransformError(f"column {needed!r} not in the CSV (columns: {', '.join(columns)})")
        for line, row in enumerate(reader, start=2):
            if any(row.get(column) not in values for column, values in wanted.items()):
                continue
            lat = _number(row[lat_column], lat_column, line, -90, 90)
            lon = _number(row[lon_column], lon_column, line, -180, 180)
            properties = {k: v for k, v in row.items() if k not in (lat_column, lon_column)}
            feature: dict[str, Any] = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                                       "properties": properties}
            if id_column:
                feature["id"] = row[id_column]
            if time_column:
                times.append(row[time_column])
            features.append(feature)
    if not features:
        raise TransformError("no rows left after the filter: nothing to publish")
    lons = [f["geometry"]["coordinates"][0] for f in features]
    lats = [f["geometry"]["coordinates"][1] for f in features]
    bbox = (min(lons), min(lats), max(lons), max(lats))
    target = workdir / "points.geojson"
    collection = {"type": "FeatureCollection", "bbox": list(bbox), "features": features}
    target.write_text(json.dumps(collection, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n",
                      encoding="utf-8")
    west, south, east, north = bbox
    footprint = {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north],
                                                     [west, south]]]}
    if west == east or south == north:
        footprint = {"type": "Point", "coordinates": [west, south]}
    return TransformResult(
        outputs=[Output("points.geojson", target, "application/geo+json")],
        spatial=Spatial(bbox, footprint),
        temporal=(min(times), max(times)) if times else None,
        properties={"kfm:rows": len(features)},
    )
