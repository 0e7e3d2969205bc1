"""Metrics files (JSON or YAML, including DVC's nested `metrics.json`) as flat `{name: value}`.

Nested keys are joined with dots, so DVC's `{"eval": {"accuracy": 0.9}}` becomes
`{"eval.accuracy": 0.9}`; list items are indexed (`folds.0.auc`). Non-numeric leaves are ignored.

    >>> parse_metrics("metrics.json", b'{"eval": {"accuracy": 0.9, "note": "ok"}}')
    {'eval.accuracy': 0.9}
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError


class MetricsFileError(ValueError):
    """A metrics file that is missing, unparseable or holds no numbers."""


def read_metrics_file(path: Path) -> dict[str, float]:
    """The metrics in a JSON or YAML file on disk."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise MetricsFileError(f"{path}: cannot read the metrics file: {error}") from error
    return parse_metrics(str(path), data)


def parse_metrics(name: str, data: bytes) -> dict[str, float]:
    """The metrics in file content; YAML for `.yaml`/`.yml`, JSON otherwise."""
    try:
        if Path(name).suffix.lower() in (".yaml", ".yml"):
            document = YAML(typ="safe", pure=True).load(io.BytesIO(data))
        else:
            document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, YAMLError) as error:
        raise MetricsFileError(f"{name}: not valid JSON or YAML: {error}") from error
    metrics: dict[str, float] = {}
    _flatten("", document, metrics)
    if not metrics:
        raise MetricsFileError(f"{name}: no numeric metrics found")
    return metrics


def _flatten(prefix: str, node: object, into: dict[str, float]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, into)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _flatten(f"{prefix}.{index}" if prefix else str(index), value, into)
    elif isinstance(node, int | float) and not isinstance(node, bool) and math.isfinite(node):
        into[prefix] = float(node)
