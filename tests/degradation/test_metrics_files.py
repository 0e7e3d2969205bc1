"""Metrics files in the shapes teams commit: flat JSON, DVC's nested metrics.json, YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from self_healing_bot.degradation.metrics_files import (
    MetricsFileError,
    parse_metrics,
    read_metrics_file,
)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("metrics.json", b'{"accuracy": 0.91, "loss": 0.3}', {"accuracy": 0.91, "loss": 0.3}),
        (
            "metrics.json",
            b'{"train": {"loss": 0.2}, "eval": {"accuracy": 0.9, "note": "ok", "ok": true}}',
            {"train.loss": 0.2, "eval.accuracy": 0.9},
        ),
        (
            "scores.yaml",
            b"eval:\n  f1: 0.8\n  folds: [0.7, 0.9]\n",
            {"eval.f1": 0.8, "eval.folds.0": 0.7, "eval.folds.1": 0.9},
        ),
        ("m.yml", b"auc: 1\nnan_value: .nan\n", {"auc": 1.0}),
    ],
)
def test_metrics_are_flattened_to_dotted_names(
    name: str, content: bytes, expected: dict[str, float]
) -> None:
    assert parse_metrics(name, content) == expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("metrics.json", b'{"accuracy": ', "not valid JSON or YAML"),
        ("metrics.yaml", b"a: [1, 2\n", "not valid JSON or YAML"),
        ("metrics.json", b'{"note": "none"}', "no numeric metrics"),
        ("metrics.json", b"", "not valid JSON or YAML"),
    ],
)
def test_bad_metrics_files_are_refused_with_the_file_name(
    name: str, content: bytes, message: str
) -> None:
    with pytest.raises(MetricsFileError, match=message) as error:
        parse_metrics(name, content)
    assert name in str(error.value)


def test_a_missing_file_is_a_metrics_file_error(tmp_path: Path) -> None:
    with pytest.raises(MetricsFileError, match="cannot read"):
        read_metrics_file(tmp_path / "metrics.json")
