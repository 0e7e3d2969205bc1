"""Top-1 accuracy of the diagnosis on the labelled corpora, per split, with the confusion matrix.

Four corpora: `tests/corpus/logs` is generated from scenario templates (train/validation), and
`tests/corpus/real`, `real2` and `real3` hold hand-curated excerpts in the formats of real
public failure logs (tune/holdout; real2 favours newer tools: Keras 3, JAX, vLLM, DeepSpeed,
uv, poetry 2, pytest-xdist, ruff's full output, Docker builds, HF/S3/GCS/MLflow errors; real3
whole CI jobs: setup noise, deprecation warnings that say "error", retries that succeed first,
chained tracebacks, progress bars, Windows/macOS/self-hosted runners, tox/nox/make/conda run
wrappers, notebooks under papermill/nbconvert, Jenkins timestamps).
Rules are tuned on `train` and `tune` only; `validation` and `holdout` show how they generalise.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from self_healing_bot.diagnosis import CATEGORIES, diagnose_file

CORPUS = Path(__file__).parents[1] / "corpus"
LABELS: dict[str, dict[str, object]] = json.loads((CORPUS / "labels.json").read_text())
REAL = CORPUS / "real"
REAL_LABELS: dict[str, dict[str, object]] = json.loads((REAL / "labels.json").read_text())
REAL2 = CORPUS / "real2"
REAL2_LABELS: dict[str, dict[str, object]] = json.loads((REAL2 / "labels.json").read_text())
REAL3 = CORPUS / "real3"
REAL3_LABELS: dict[str, dict[str, object]] = json.loads((REAL3 / "labels.json").read_text())
# Issue 4: the test fails below 90 % top-1 accuracy on EACH split, the untuned holdouts
# included (measured: real 40/40, real2 33/33, real3 25/27).
MIN_ACCURACY = 0.90
# Parameters compared exactly; the rest of each label is informational.
CHECKED_PARAMS = (
    "package",
    "module",
    "path",
    "requested_bytes",
    "step",
    "test_ids",
    "file",
    "version",
    "installed_version",
    "timeout_minutes",
    "transient",
    "column",
    "per_device_train_batch_size",
    "batch_size",
    "learning_rate",
    "line",
    "spec",
    "name",
    "library",
)


def _report(split: str, pairs: list[tuple[str, str]]) -> str:
    confusion = Counter(pairs)
    used = [c for c in CATEGORIES if any(c in pair for pair in pairs)]
    width = max(len(c) for c in used)
    lines = [f"\n== {split}: {sum(e == p for e, p in pairs)}/{len(pairs)} correct"]
    for category in used:
        true_positive = confusion[(category, category)]
        predicted = sum(n for (_, p), n in confusion.items() if p == category)
        expected = sum(n for (e, _), n in confusion.items() if e == category)
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / expected if expected else 0.0
        lines.append(
            f"{category:<{width}}  precision {precision:5.2f}  recall {recall:5.2f}  n={expected}"
        )
    lines.append("confusion (rows expected, columns predicted by index):")
    lines.append(" " * (width + 2) + " ".join(f"{i:>3}" for i in range(len(used))))
    for index, expected in enumerate(used):
        row = " ".join(f"{confusion[(expected, predicted)]:>3}" for predicted in used)
        lines.append(f"{index:>2} {expected:<{width}}{row}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("directory", "labels", "split"),
    [
        (CORPUS / "logs", LABELS, "train"),
        (CORPUS / "logs", LABELS, "validation"),
        (REAL, REAL_LABELS, "tune"),
        (REAL, REAL_LABELS, "holdout"),
        (REAL2, REAL2_LABELS, "tune"),
        (REAL2, REAL2_LABELS, "holdout"),
        (REAL3, REAL3_LABELS, "tune"),
        (REAL3, REAL3_LABELS, "holdout"),
    ],
    ids=[
        "generated-train",
        "generated-validation",
        "real-tune",
        "real-holdout",
        "real2-tune",
        "real2-holdout",
        "real3-tune",
        "real3-holdout",
    ],
)
def test_top1_accuracy_per_split(
    directory: Path, labels: dict[str, dict[str, object]], split: str
) -> None:
    names = sorted(name for name, label in labels.items() if label["split"] == split)
    pairs = []
    misses = []
    for name in names:
        diagnosis = diagnose_file(directory / name)
        expected = str(labels[name]["category"])
        pairs.append((expected, diagnosis.category))
        if expected != diagnosis.category:
            misses.append(f"{name}: expected {expected}, got {diagnosis.category}")
    print(_report(f"{directory.name}/{split}", pairs))
    print("\n".join(misses))
    accuracy = sum(e == p for e, p in pairs) / len(pairs)
    assert accuracy >= MIN_ACCURACY, f"{split} top-1 accuracy {accuracy:.1%}\n" + "\n".join(misses)


def test_corpus_covers_every_category_six_times_and_half_are_actions_logs() -> None:
    counts = Counter(str(label["category"]) for label in LABELS.values())
    assert len(LABELS) >= 150
    assert {c: counts[c] for c in CATEGORIES if counts[c] < 6} == {}
    actions = [n for n in LABELS if "##[group]" in (CORPUS / "logs" / n).read_text()]
    assert len(actions) >= len(LABELS) / 2


@pytest.mark.parametrize(
    ("directory", "labels", "minimum_logs"),
    [(REAL, REAL_LABELS, 60), (REAL2, REAL2_LABELS, 60), (REAL3, REAL3_LABELS, 50)],
    ids=["real", "real2", "real3"],
)
def test_real_corpus_covers_every_category_three_times_with_sources_and_a_third_actions(
    directory: Path, labels: dict[str, dict[str, object]], minimum_logs: int
) -> None:
    sources: dict[str, str] = json.loads((directory / "sources.json").read_text())
    counts = Counter(str(label["category"]) for label in labels.values())
    assert len(labels) >= minimum_logs
    assert {c: counts[c] for c in CATEGORIES if c != "unknown" and counts[c] < 3} == {}
    assert set(sources) == set(labels) == {p.name for p in directory.glob("*.log")}
    splits = Counter(str(label["split"]) for label in labels.values())
    assert abs(splits["tune"] - splits["holdout"]) <= 1
    assert splits["tune"] + splits["holdout"] == len(labels)
    actions = [n for n in labels if "##[group]Run " in (directory / n).read_text()]
    assert len(actions) >= len(labels) / 3


@pytest.mark.parametrize(
    ("directory", "labels", "split"),
    [
        (CORPUS / "logs", LABELS, "train"),
        (REAL, REAL_LABELS, "tune"),
        (REAL2, REAL2_LABELS, "tune"),
        (REAL3, REAL3_LABELS, "tune"),
    ],
    ids=["generated-train", "real-tune", "real2-tune", "real3-tune"],
)
def test_key_parameters_match_labels_on_tuning_splits(
    directory: Path, labels: dict[str, dict[str, object]], split: str
) -> None:
    wrong = []
    for name, label in sorted(labels.items()):
        if label["split"] != split:
            continue
        diagnosis = diagnose_file(directory / name)
        if diagnosis.category != label["category"]:
            continue
        expected_params = label["params"]
        assert isinstance(expected_params, dict)
        for key in CHECKED_PARAMS:
            if key in expected_params and diagnosis.params.get(key) != expected_params[key]:
                got = diagnosis.params.get(key)
                wrong.append(f"{name}: {key} expected {expected_params[key]!r}, got {got!r}")
    assert wrong == []
