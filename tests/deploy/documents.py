"""Reading the deployment artifacts the tests check: YAML files and the metric catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"


def load_yaml(path: Path) -> Any:
    """The one YAML document in `path` (YAML 1.2, merge keys resolved)."""
    return YAML(typ="safe").load(path.read_text())


def load_yaml_documents(path: Path) -> list[Any]:
    """Every document in a multi-document YAML file, skipping empty ones."""
    return [doc for doc in YAML(typ="safe").load_all(path.read_text()) if doc is not None]


@dataclass(frozen=True)
class Metric:
    name: str
    type: str
    labels: frozenset[str]


def metric_catalogue() -> dict[str, Metric]:
    """`deploy/metric_names.txt`: every metric the bot exports, by name."""
    metrics = {}
    for line in (DEPLOY / "metric_names.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, kind, labels = line.split()
        labelset = frozenset() if labels == "-" else frozenset(labels.split(","))
        metrics[name] = Metric(name, kind, labelset)
    return metrics
