"""Top-1 accuracy of the diagnosis on the labelled corpus, per split, with the confusion matrix.

Rules are tuned on the training split only; the validation split shows how well they generalise.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from self_healing_bot.diagnosis import CATEGORIES, diagnose_file

CORPUS = Path(__file__).parents[1] / "corpus"
LABELS: dict[str, dict[str, object]] = json.loads((CORPUS / "labels.json").read_text())
MIN_ACCURACY = 0.90
# Parameters compared exactly; the rest of each label is informational.
CHECKED_PARAMS = ("package", "module", "path", "requested_bytes", "step", "test_ids", "file")


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


@pytest.mark.parametrize("split", ["train", "validation"])
def test_top1_accuracy_per_split(split: str) -> None:
    names = sorted(name for name, label in LABELS.items() if label["split"] == split)
    pairs = []
    misses = []
    for name in names:
        diagnosis = diagnose_file(CORPUS / "logs" / name)
        expected = str(LABELS[name]["category"])
        pairs.append((expected, diagnosis.category))
        if expected != diagnosis.category:
            misses.append(f"{name}: expected {expected}, got {diagnosis.category}")
    print(_report(split, pairs))
    print("\n".join(misses))
    accuracy = sum(e == p for e, p in pairs) / len(pairs)
    assert accuracy >= MIN_ACCURACY, f"{split} top-1 accuracy {accuracy:.1%}\n" + "\n".join(misses)


def test_corpus_covers_every_category_six_times_and_half_are_actions_logs() -> None:
    counts = Counter(str(label["category"]) for label in LABELS.values())
    assert len(LABELS) >= 150
    assert {c: counts[c] for c in CATEGORIES if counts[c] < 6} == {}
    actions = [n for n in LABELS if "##[group]" in (CORPUS / "logs" / n).read_text()]
    assert len(actions) >= len(LABELS) / 2


def test_key_parameters_match_labels_on_training_split() -> None:
    wrong = []
    for name, label in sorted(LABELS.items()):
        if label["split"] != "train":
            continue
        diagnosis = diagnose_file(CORPUS / "logs" / name)
        if diagnosis.category != label["category"]:
            continue
        expected_params = label["params"]
        assert isinstance(expected_params, dict)
        for key in CHECKED_PARAMS:
            if key in expected_params and diagnosis.params.get(key) != expected_params[key]:
                got = diagnosis.params.get(key)
                wrong.append(f"{name}: {key} expected {expected_params[key]!r}, got {got!r}")
    assert wrong == []
