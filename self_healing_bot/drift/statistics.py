"""Two-sample drift tests with Evidently's definitions, so the numbers mean what ML teams expect.

Pure functions of numpy arrays. Numeric tests take *sorted* finite arrays: one sort per column
serves KS, Wasserstein, the Sturges histogram and the distinct-value counts. Categorical tests
take aligned count vectors (one entry per value seen on either side).

    >>> ref, cur = np.sort(np.array([1.0, 2.0, 3.0])), np.sort(np.array([2.0, 3.0, 4.0]))
    >>> round(wasserstein_normed(ref, cur, 0.1).statistic, 6)
    1.224745

Every result carries an effect size (KS D, Cramér's V, Cohen's h, or the distance itself), so a
repository can require a practically meaningful change, not only a small p-value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.spatial import distance

FloatArray = npt.NDArray[np.float64]
NumberArray = npt.NDArray[np.float64] | npt.NDArray[np.int64]
CountArray = npt.NDArray[np.int64]


class DriftTest(StrEnum):
    """The drift tests we compute; names follow Evidently's stattest ids."""

    KS = "ks"
    CHI_SQUARE = "chisquare"
    Z = "z"
    WASSERSTEIN = "wasserstein"
    JENSEN_SHANNON = "jensenshannon"
    PSI = "psi"


DEFAULT_THRESHOLDS: dict[DriftTest, float] = {
    DriftTest.KS: 0.05,
    DriftTest.CHI_SQUARE: 0.05,
    DriftTest.Z: 0.05,
    DriftTest.WASSERSTEIN: 0.1,
    DriftTest.JENSEN_SHANNON: 0.1,
    DriftTest.PSI: 0.1,
}

# Conventional "small effect" boundaries: KS D, Cramér's V (0.1), Cohen's h (0.2).
DEFAULT_MIN_EFFECT: dict[DriftTest, float] = {
    DriftTest.KS: 0.1,
    DriftTest.CHI_SQUARE: 0.1,
    DriftTest.Z: 0.2,
    DriftTest.WASSERSTEIN: 0.1,
    DriftTest.JENSEN_SHANNON: 0.1,
    DriftTest.PSI: 0.1,
}

P_VALUE_TESTS = frozenset({DriftTest.KS, DriftTest.CHI_SQUARE, DriftTest.Z})
# Above this many reference rows Evidently switches from p-value tests to distances.
SMALL_REFERENCE_ROWS = 1000
# Numeric columns with more distinct reference values than this are binned (Sturges).
MAX_DISTINCT_FOR_VALUE_BINS = 20


@dataclass(frozen=True)
class TestResult:
    """One test on one column: `statistic` is the p-value for p-value tests (as in Evidently)."""

    test: DriftTest
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool
    effect_size: float
    effect_size_name: str


def default_test(numeric: bool, reference_rows: int, distinct_values: int) -> DriftTest:
    """Evidently's default test for a column (after missing values are dropped).

    `distinct_values` counts the values of reference and current together.
    """
    if reference_rows <= SMALL_REFERENCE_ROWS:
        if numeric and distinct_values > 5:
            return DriftTest.KS
        return DriftTest.CHI_SQUARE if distinct_values > 2 else DriftTest.Z
    if numeric and distinct_values > 5:
        return DriftTest.WASSERSTEIN
    return DriftTest.JENSEN_SHANNON


def _decide(test: DriftTest, value: float, threshold: float) -> bool:
    if test is DriftTest.KS:
        return value <= threshold
    if test in P_VALUE_TESTS:
        return value < threshold
    return value >= threshold


def _result(
    test: DriftTest, value: float, p_value: float | None, threshold: float, effect: float, name: str
) -> TestResult:
    return TestResult(
        test, value, p_value, threshold, _decide(test, value, threshold), effect, name
    )


def require_effect(result: TestResult, min_effect: float) -> TestResult:
    """The same result, drifted only when the effect size also reaches `min_effect`."""
    return replace(result, drifted=result.drifted and result.effect_size >= min_effect)


def ks(reference_sorted: NumberArray, current_sorted: NumberArray, threshold: float) -> TestResult:
    """Two-sample Kolmogorov-Smirnov (scipy's exact/asymptotic choice, as Evidently uses it)."""
    outcome = stats.ks_2samp(reference_sorted, current_sorted)
    p_value = float(outcome.pvalue)
    return _result(DriftTest.KS, p_value, p_value, threshold, float(outcome.statistic), "ks_d")


def chi_square(
    reference_counts: CountArray, current_counts: CountArray, threshold: float
) -> TestResult:
    """Goodness of fit of current counts to reference proportions; effect: Cramér's V of the 2xk
    table. A value absent from the reference gives p = 0, as in Evidently."""
    n_reference, n_current = int(reference_counts.sum()), int(current_counts.sum())
    expected = reference_counts * (n_current / n_reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = float(stats.chisquare(current_counts, expected).pvalue)
    return _result(
        DriftTest.CHI_SQUARE,
        p_value,
        p_value,
        threshold,
        _cramers_v(reference_counts, current_counts),
        "cramers_v",
    )


def _cramers_v(reference_counts: CountArray, current_counts: CountArray) -> float:
    table = np.vstack([reference_counts, current_counts]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0
    total = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return math.sqrt(chi2 / total)


def z_test(
    reference_counts: CountArray, current_counts: CountArray, threshold: float
) -> TestResult:
    """Two-proportion z-test on the share of the first value (in sorted order); effect: Cohen's h.

    Counts are aligned to the sorted values; one or two entries.
    """
    n_reference, n_current = int(reference_counts.sum()), int(current_counts.sum())
    p_reference = 1.0 - reference_counts[0] / n_reference
    p_current = 1.0 - current_counts[0] / n_current
    effect = abs(2 * math.asin(math.sqrt(p_reference)) - 2 * math.asin(math.sqrt(p_current)))
    if len(reference_counts) == 1:  # both sides hold one identical value
        return _result(DriftTest.Z, 1.0, 1.0, threshold, effect, "cohens_h")
    pooled = (p_reference * n_reference + p_current * n_current) / (n_reference + n_current)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p_reference - p_current) / np.sqrt(
            pooled * (1 - pooled) * (1.0 / n_reference + 1.0 / n_current)
        )
        p_value = float(2 * (1 - stats.norm.cdf(np.abs(z))))
    return _result(DriftTest.Z, p_value, p_value, threshold, effect, "cohens_h")


def wasserstein_normed(
    reference_sorted: NumberArray,
    current_sorted: NumberArray,
    threshold: float,
    reference_std: float | None = None,
) -> TestResult:
    """First Wasserstein distance divided by the reference standard deviation (floor 0.001).

    `reference_std` is the exact deviation when the arrays are samples of a larger column.
    """
    merged = np.sort(np.concatenate([reference_sorted, current_sorted]), kind="stable")
    deltas = np.diff(merged)
    reference_cdf = reference_sorted.searchsorted(merged[:-1], "right") / reference_sorted.size
    current_cdf = current_sorted.searchsorted(merged[:-1], "right") / current_sorted.size
    distance_value = float(np.vecdot(np.abs(reference_cdf - current_cdf), deltas))
    if reference_std is None:
        reference_std = float(np.std(reference_sorted))
    norm = max(reference_std, 0.001)
    value = distance_value / norm
    return _result(DriftTest.WASSERSTEIN, value, None, threshold, value, "wasserstein_normed")


def jensen_shannon(
    reference_proportions: FloatArray, current_proportions: FloatArray, threshold: float
) -> TestResult:
    """Jensen-Shannon distance (natural log) of binned proportions, no zero filling."""
    value = float(distance.jensenshannon(reference_proportions, current_proportions))
    return _result(DriftTest.JENSEN_SHANNON, value, None, threshold, value, "jensen_shannon")


def psi(
    reference_proportions: FloatArray, current_proportions: FloatArray, threshold: float
) -> TestResult:
    """Population stability index with Evidently's zero filling on each side."""
    reference = _fill_zeros(reference_proportions)
    current = _fill_zeros(current_proportions)
    value = float(np.sum((reference - current) * np.log(reference / current)))
    return _result(DriftTest.PSI, value, None, threshold, value, "psi")


def _fill_zeros(proportions: FloatArray) -> FloatArray:
    filled = proportions.astype(np.float64, copy=True)
    nonzero = filled[filled != 0]
    smallest = float(nonzero.min())
    filled[filled == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return filled


def sturges_edges(smallest: float, largest: float, size: int, integer: bool) -> FloatArray:
    """`np.histogram_bin_edges(data, bins="sturges")` from the data's extremes and size alone."""
    first, last = smallest, largest
    if first == last:
        first, last = first - 0.5, last + 0.5
    width = (largest - smallest) / (math.log2(size) + 1.0)
    if integer and width < 1:
        width = 1.0
    bins = math.ceil((last - first) / width) if width else 1
    return np.linspace(first, last, bins + 1, endpoint=True)


def histogram_counts(values_sorted: NumberArray, edges: FloatArray) -> CountArray:
    """`np.histogram(values, edges)[0]` for sorted values, by binary search (last bin closed)."""
    positions = values_sorted.searchsorted(edges, "left")
    positions[-1] = values_sorted.searchsorted(edges[-1], "right")
    return np.diff(positions).astype(np.int64)


def distinct_counts(values_sorted: NumberArray) -> tuple[NumberArray, CountArray]:
    """The distinct values of a sorted array and how often each occurs."""
    if values_sorted.size == 0:
        return values_sorted, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], values_sorted[1:] != values_sorted[:-1]]))
    counts = np.diff(np.append(starts, values_sorted.size)).astype(np.int64)
    return values_sorted[starts], counts


def align_counts(
    reference_values: NumberArray,
    reference_counts: CountArray,
    current_values: NumberArray,
    current_counts: CountArray,
) -> tuple[NumberArray, CountArray, CountArray]:
    """Counts of both sides over the sorted union of their values (zeros where a side lacks one)."""
    keys = np.union1d(reference_values, current_values)
    reference = np.zeros(keys.size, dtype=np.int64)
    current = np.zeros(keys.size, dtype=np.int64)
    reference[np.searchsorted(keys, reference_values)] = reference_counts
    current[np.searchsorted(keys, current_values)] = current_counts
    return keys, reference, current


def sample_counts(counts: CountArray, limit: int, seed: int) -> CountArray:
    """A seeded sample of `limit` rows drawn without replacement, expressed as counts."""
    if int(counts.sum()) <= limit:
        return counts
    generator = np.random.default_rng(seed)
    return generator.multivariate_hypergeometric(counts, limit).astype(np.int64)


def sample_sorted(values_sorted: NumberArray, limit: int, seed: int) -> NumberArray:
    """A seeded sample of `limit` values drawn without replacement, kept sorted."""
    if values_sorted.size <= limit:
        return values_sorted
    generator = np.random.default_rng(seed)
    chosen = np.sort(generator.choice(values_sorted.size, size=limit, replace=False))
    return values_sorted[chosen]
