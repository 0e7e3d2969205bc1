"""Our drift numbers against Evidently 0.7.23, the tool whose definitions we promise to follow.

Each dataset is compared by Evidently's `DataDriftPreset` (test choice and value per column) and by
Evidently's own stattest functions (the drift decision); ours must choose the same test, match the
value within 1e-6 relative and reach the same decision, for small (<= 1000 rows, p-value tests) and
large (> 1000 rows, distances) references.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from self_healing_bot.drift.columns import ColumnKind
from self_healing_bot.drift.compare import ColumnOptions, DriftOptions, compare_tables
from self_healing_bot.drift.statistics import DriftTest
from self_healing_bot.drift.tables import Table

EVIDENTLY_KINDS = {
    ColumnKind.NUMERIC: "num",
    ColumnKind.CATEGORICAL: "cat",
    ColumnKind.TEXT: "text",
    ColumnKind.DATETIME: "datetime",
}
# Evidently's display name -> (our test id, its stattest object's name)
METHODS = {
    "K-S p_value": ("ks", "ks_stat_test"),
    "chi-square p_value": ("chisquare", "chi_stat_test"),
    "Z-test p_value": ("z", "z_stat_test"),
    "Wasserstein distance (normed)": ("wasserstein", "wasserstein_stat_test"),
    "Jensen-Shannon distance": ("jensenshannon", "jensenshannon_stat_test"),
}


@pytest.fixture(scope="module")
def evidently() -> dict[str, Any]:
    """Evidently imports slowly (seconds): once per module."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.core.datasets import infer_column_type
    from evidently.legacy.calculations import stattests
    from evidently.legacy.core import ColumnType
    from evidently.presets import DataDriftPreset

    return {
        "DataDefinition": DataDefinition,
        "Dataset": Dataset,
        "Report": Report,
        "DataDriftPreset": DataDriftPreset,
        "infer_column_type": infer_column_type,
        "stattests": stattests,
        "ColumnType": ColumnType,
    }


def _table(name: str, frame: pd.DataFrame) -> Table:
    polars_frame = pl.from_pandas(frame)
    return Table(name, polars_frame.lazy(), dict(polars_frame.schema), polars_frame.height)


def _synthetic(reference_rows: int, current_rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)

    def frame(rows: int, shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "steady": rng.normal(0.0, 1.0, rows),
                "shifted": rng.normal(shift, 1.0, rows),
                "scaled": rng.lognormal(0.0, 1.0 + shift, rows),
                "few_values": rng.choice([0.0, 1.0, 2.5, 4.0], rows, p=[0.4, 0.3, 0.2, 0.1]),
                "binary_steady": rng.choice(["yes", "no"], rows, p=[0.3, 0.7]),
                "binary_shifted": rng.choice(
                    ["yes", "no"], rows, p=[0.3 + shift / 2, 0.7 - shift / 2]
                ),
                "colour": rng.choice(
                    ["red", "green", "blue", "grey"], rows, p=[0.4, 0.3, 0.2, 0.1]
                ),
                "colour_shifted": rng.choice(
                    ["red", "green", "blue", "grey"], rows, p=[0.25, 0.25, 0.25, 0.25]
                )
                if shift
                else rng.choice(["red", "green", "blue", "grey"], rows, p=[0.4, 0.3, 0.2, 0.1]),
                "rating": rng.integers(1, 6, rows),
                "count": rng.poisson(30 + 10 * shift, rows),
            }
        )

    return frame(reference_rows, 0.0), frame(current_rows, 0.4)


def _wine() -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.datasets import load_wine

    data = load_wine(as_frame=True).frame
    return data[data.target != 2].drop(columns="target"), data[data.target != 0].drop(
        columns="target"
    )


def _breast_cancer() -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True).frame
    data.loc[::7, "mean radius"] = np.nan  # missing values are dropped per column
    return data.iloc[:300], data.iloc[300:]


def _digits() -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.datasets import load_digits

    data = load_digits(as_frame=True).frame.astype(np.float64)
    return data.iloc[:1200], data.iloc[1200:]


DATASETS = {
    "synthetic_small": lambda: _synthetic(800, 600),
    "synthetic_large": lambda: _synthetic(5000, 4000),
    "wine": _wine,
    "breast_cancer": _breast_cancer,
    "digits_large_reference": _digits,
}


def _evidently_results(
    evidently: dict[str, Any], reference: pd.DataFrame, current: pd.DataFrame, kinds: dict[str, str]
) -> dict[str, tuple[str, float, bool]]:
    definition = evidently["DataDefinition"](
        numerical_columns=[name for name, kind in kinds.items() if kind == "numeric"],
        categorical_columns=[name for name, kind in kinds.items() if kind == "categorical"],
    )
    dataset = evidently["Dataset"]
    snapshot = evidently["Report"]([evidently["DataDriftPreset"]()]).run(
        dataset.from_pandas(current, data_definition=definition),
        dataset.from_pandas(reference, data_definition=definition),
    )
    results = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config["type"].endswith("ValueDrift"):
            continue
        column = config["column"]
        test, stattest_name = METHODS[config["method"]]
        column_type = (
            evidently["ColumnType"].Numerical
            if kinds[column] == "numeric"
            else evidently["ColumnType"].Categorical
        )
        decision = getattr(evidently["stattests"], stattest_name)(
            reference[column].dropna(), current[column].dropna(), column_type, None
        )
        assert math.isclose(decision.drift_score, metric["value"], rel_tol=1e-12, abs_tol=1e-300)
        results[column] = (test, float(metric["value"]), bool(decision.drifted))
    return results


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_statistics_and_decisions_match_evidently(evidently: dict[str, Any], dataset: str) -> None:
    reference, current = DATASETS[dataset]()
    report = compare_tables(_table("reference", reference), _table("current", current))
    ours = {column.name: column for column in report.columns}
    for name, column in ours.items():
        inferred = evidently["infer_column_type"](reference[name]).value
        assert EVIDENTLY_KINDS[column.kind] == inferred, name
    kinds = {name: column.kind.value for name, column in ours.items()}
    theirs = _evidently_results(evidently, reference, current, kinds)

    assert set(theirs) == set(ours)
    for name, (test, value, drifted) in theirs.items():
        result = ours[name].result
        assert result is not None, name
        assert (result.test.value, result.drifted) == (test, drifted), name
        assert math.isclose(result.statistic, value, rel_tol=1e-6, abs_tol=1e-12), (
            name,
            result.statistic,
            value,
        )
    expected_share = sum(drifted for _, _, drifted in theirs.values()) / len(theirs)
    assert report.drift_share == pytest.approx(expected_share)
    assert report.dataset_drifted == (expected_share >= 0.5)


def test_the_synthetic_shift_is_found_where_it_was_made(evidently: dict[str, Any]) -> None:
    reference, current = _synthetic(800, 600)
    report = compare_tables(_table("reference", reference), _table("current", current))
    assert {"shifted", "scaled", "binary_shifted", "colour_shifted", "count"} <= set(
        report.drifted_columns
    )
    assert "steady" not in report.drifted_columns


@pytest.mark.parametrize("reference_rows", [800, 5000])
def test_psi_on_demand_matches_evidently(evidently: dict[str, Any], reference_rows: int) -> None:
    reference, current = _synthetic(reference_rows, 700)
    columns = ["shifted", "few_values", "colour"]
    options = DriftOptions(columns={name: ColumnOptions(test=DriftTest.PSI) for name in columns})
    report = compare_tables(_table("r", reference), _table("c", current), options)
    ours = {column.name: column.result for column in report.columns}
    for name in columns:
        column_type = (
            evidently["ColumnType"].Categorical
            if name == "colour"
            else evidently["ColumnType"].Numerical
        )
        theirs = evidently["stattests"].psi_stat_test(
            reference[name], current[name], column_type, None
        )
        result = ours[name]
        assert result is not None
        assert math.isclose(result.statistic, theirs.drift_score, rel_tol=1e-6)
        assert result.drifted == theirs.drifted
