"""The data-drift detector against the GitHub sandbox: pushes, dispatches, broken tables."""

from __future__ import annotations

from typing import get_args

import pytest

from self_healing_bot.core.bot import detect
from self_healing_bot.detectors.data_drift import (
    Dataset,
    DatasetConfigError,
    compare_contents,
    configured_datasets,
    drift_options,
    drift_signature,
)
from self_healing_bot.detectors.registry import detectors_for
from self_healing_bot.drift.columns import ColumnKind
from self_healing_bot.drift.compare import DriftConfigError
from self_healing_bot.drift.statistics import DriftTest
from self_healing_bot.repo_config import load_repo_config
from self_healing_bot.repo_config.model import COLUMN_KINDS, ColumnKindName, DriftTestName
from self_healing_bot.storage.drift_reports import latest_report
from tests.detectors.drift_fixtures import (
    CONFIG,
    Harness,
    harness,
    migrated_template,
    table_csv,
)
from tests.github.world import REPO

__all__ = ["harness", "migrated_template"]

DATASET = "data/current.csv"


async def test_a_shifted_push_stores_a_report_and_detects_drift(harness: Harness) -> None:
    sha = harness.push({DATASET: table_csv(600, shift=1.5, seed=3)})
    detections = await harness.detect("data_drift", "push", harness.last_push_payload())

    assert len(detections) == 1
    detection = detections[0]
    assert detection.category == "data_drift"
    assert detection.head_sha == sha and detection.branch == "main"
    assert set(detection.params["drifted_columns"]) == {"age", "income", "city"}
    assert detection.params["drifted_columns"]["age"]["test"] == "ks"
    assert detection.params["drifted_columns"]["age"]["p_value"] < 0.05
    assert detection.signature == drift_signature(REPO, DATASET, ["age", "income", "city"])
    async with harness.database.session() as session:
        stored = await latest_report(session, REPO, DATASET)
    assert stored is not None and stored.id == detection.params["report_id"]
    assert stored.ref == sha
    assert stored.report["dataset_drifted"] is True
    assert "Dataset drift detected" in stored.html


async def test_the_signature_is_stable_across_pushes_with_the_same_drifted_columns(
    harness: Harness,
) -> None:
    harness.push({DATASET: table_csv(600, shift=1.5, seed=3)})
    first = await harness.detect("data_drift", "push", harness.last_push_payload())
    harness.push({DATASET: table_csv(600, shift=2.0, seed=4)})
    second = await harness.detect("data_drift", "push", harness.last_push_payload())
    assert [d.signature for d in first] == [d.signature for d in second]
    assert first[0].params["report_id"] != second[0].params["report_id"]


async def test_an_unshifted_push_stores_a_report_without_a_detection(harness: Harness) -> None:
    harness.push({DATASET: table_csv(600, seed=5)})
    assert await harness.detect("data_drift", "push", harness.last_push_payload()) == []
    async with harness.database.session() as session:
        stored = await latest_report(session, REPO, DATASET)
    assert stored is not None and stored.report["dataset_drifted"] is False


async def test_a_push_that_touches_no_data_file_is_not_compared(harness: Harness) -> None:
    harness.push({"README.md": b"# ml, now documented\n"})
    assert await harness.detect("data_drift", "push", harness.last_push_payload()) == []
    async with harness.database.session() as session:
        assert await latest_report(session, REPO, DATASET) is None


async def test_a_push_to_another_branch_does_not_apply(harness: Harness) -> None:
    payload = {**harness.last_push_payload(), "ref": "refs/heads/feature"}
    context = harness.context("push", payload)
    assert "data_drift" not in [detector.id for detector in detectors_for(context.event)]


@pytest.mark.parametrize(
    "client_payload",
    [
        {"dataset": "churn", "reference": "data/reference.csv", "current": "data/current.csv"},
        {"dataset": DATASET},  # a configured dataset, by name
    ],
    ids=["explicit-paths", "configured-name"],
)
async def test_a_dispatch_naming_a_dataset_compares_it_at_the_branch_head(
    harness: Harness, client_payload: dict[str, str]
) -> None:
    sha = harness.push({DATASET: table_csv(600, shift=1.5, seed=3)})
    payload = harness.dispatch_payload(client_payload)
    detections = await harness.detect("data_drift", "repository_dispatch", payload)
    assert [d.head_sha for d in detections] == [sha]
    assert detections[0].params["dataset"] == client_payload["dataset"]


async def test_a_dispatch_naming_an_unknown_dataset_says_what_is_configured(
    harness: Harness,
) -> None:
    payload = harness.dispatch_payload({"dataset": "nope"})
    with pytest.raises(DatasetConfigError, match=r"configured: \['data/current.csv'\]"):
        await harness.detect("data_drift", "repository_dispatch", payload)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"data/current\.csv@[0-9a-f]{12}: the file is empty"),
        (None, r"data/current\.csv does not exist at [0-9a-f]{40}"),
        (b"PAR1 not really parquet", r"data/current\.csv@[0-9a-f]{12}: cannot read the table"),
    ],
    ids=["empty", "deleted", "corrupt-parquet"],
)
async def test_a_broken_table_is_an_error_on_the_detect_stage_not_a_crash(
    harness: Harness, content: bytes | None, message: str
) -> None:
    harness.push({DATASET: content})
    context = harness.context("push", harness.last_push_payload())
    detector = [d for d in detectors_for(context.event) if d.id == "data_drift"]
    outcome = await detect(context, detector)
    assert outcome.status == "failed"
    assert outcome.value == []
    assert outcome.detail["errors"]["data_drift"]
    with pytest.raises(Exception, match=message):
        await detector[0].detect(context)


async def test_text_in_a_numeric_column_is_a_type_mismatch_in_the_report(
    harness: Harness,
) -> None:
    broken = table_csv(600, seed=6).replace(b"\n4", b"\nforty", 1)
    harness.push({DATASET: broken})
    await harness.detect("data_drift", "push", harness.last_push_payload())
    async with harness.database.session() as session:
        stored = await latest_report(session, REPO, DATASET)
    assert stored is not None
    assert stored.report["columns"]["age"]["status"] == "type_mismatch"
    assert "not numbers" in stored.report["columns"]["age"]["message"]


def test_datasets_are_reference_current_pairs() -> None:
    assert configured_datasets(["a/ref.csv", "a/cur.csv", "b/ref.pq", "b/cur.pq"]) == [
        Dataset("a/cur.csv", "a/ref.csv", "a/cur.csv"),
        Dataset("b/cur.pq", "b/ref.pq", "b/cur.pq"),
    ]
    with pytest.raises(DatasetConfigError, match="list each dataset as a pair"):
        configured_datasets(["a/ref.csv"])


@pytest.mark.parametrize(
    ("thresholds", "drift_share", "require_effect_size"),
    [("{}", 0.5, False), ("{drift_share: 0.3, require_effect_size: 1}", 0.3, True)],
)
def test_thresholds_come_from_the_repository_config(
    thresholds: str, drift_share: float, require_effect_size: bool
) -> None:
    config = load_repo_config(f"detectors: {{data_drift: {{thresholds: {thresholds}}}}}\n")
    options = drift_options(config)
    assert (options.drift_share, options.require_effect_size) == (drift_share, require_effect_size)


@pytest.mark.parametrize(
    ("columns", "test", "threshold", "drifted"),
    [
        ("{}", "ks", 0.05, True),
        ("{age: {test: wasserstein, threshold: 5.0}}", "wasserstein", 5.0, False),
        ("{age: {test: psi}}", "psi", 0.1, True),
        ("{age: {kind: categorical, threshold: 0.01}}", "chisquare", 0.01, True),
        ("{age: {kind: text}}", None, None, False),
    ],
    ids=["default", "test-and-threshold", "test-only", "kind-and-threshold", "ignored-kind"],
)
async def test_the_repository_config_sets_a_columns_test_and_threshold(
    harness: Harness, columns: str, test: str | None, threshold: float | None, drifted: bool
) -> None:
    config = CONFIG + f"detectors: {{data_drift: {{columns: {columns}}}}}\n".encode()
    harness.push(
        {".github/self-healing-bot.yml": config, DATASET: table_csv(600, shift=1.5, seed=3)}
    )
    detections = await harness.detect("data_drift", "push", harness.last_push_payload())
    async with harness.database.session() as session:
        stored = await latest_report(session, REPO, DATASET)
    assert stored is not None
    age = stored.report["columns"]["age"]
    assert (age["test"], age["threshold"], age["drifted"]) == (test, threshold, drifted)
    assert ("age" in detections[0].params["drifted_columns"]) is drifted


def test_binary_columns_are_compared_as_categorical() -> None:
    config = load_repo_config("detectors: {data_drift: {columns: {churned: {kind: binary}}}}\n")
    assert drift_options(config).columns["churned"].kind is ColumnKind.CATEGORICAL


def test_the_config_names_every_kind_and_test_of_the_drift_core() -> None:
    assert set(COLUMN_KINDS.values()) == set(ColumnKind)
    assert set(get_args(DriftTestName)) == set(DriftTest)
    assert set(get_args(ColumnKindName)) == set(COLUMN_KINDS)


def test_a_test_the_columns_kind_cannot_take_fails_the_comparison_by_name() -> None:
    config = load_repo_config(
        "detectors: {data_drift: {columns: {city: {kind: categorical, test: ks}}}}\n"
    )
    with pytest.raises(DriftConfigError, match="column 'city': test ks needs a numeric column"):
        compare_contents(
            Dataset("d", "r.csv", "c.csv"),
            "0" * 40,
            table_csv(50, seed=1),
            table_csv(50, seed=2),
            drift_options(config),
        )


def test_an_unknown_threshold_is_named() -> None:
    config = load_repo_config("detectors: {data_drift: {thresholds: {drift_shar: 0.3}}}\n")
    with pytest.raises(DatasetConfigError, match=r"unknown keys \['drift_shar'\]"):
        drift_options(config)


async def test_a_disabled_detector_says_so_on_the_detect_stage(harness: Harness) -> None:
    harness.push(
        {
            ".github/self-healing-bot.yml": (
                b"paths: {data: [data/reference.csv, data/current.csv]}\n"
                b"detectors: {data_drift: {enabled: false}}\n"
            ),
            DATASET: table_csv(600, shift=1.5, seed=3),
        }
    )
    context = harness.context("push", harness.last_push_payload())
    outcome = await detect(
        context, [d for d in detectors_for(context.event) if d.id == "data_drift"]
    )
    assert outcome.value == []
    assert outcome.detail["skipped"] == {
        "data_drift": "data_drift is disabled in the repository's config"
    }
