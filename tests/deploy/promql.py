"""A light check of PromQL expressions against the metric catalogue (no Prometheus runs here).

It finds the `shbot_*` series an expression reads and the label names it uses in selectors and
`by`/`without` clauses, and reports any that the catalogue does not define.

    >>> from tests.deploy.documents import metric_catalogue
    >>> problems("max by (installation) (shbot_github_circuit_state) == 2", metric_catalogue())
    []
"""

from __future__ import annotations

import re

from tests.deploy.documents import Metric

SERIES = re.compile(r"\bshbot_[a-z0-9_]+\b")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
SELECTOR = re.compile(r"\{([^}]*)\}")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
PAIRS = {"(": ")", "[": "]", "{": "}"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def series_names(catalogue: dict[str, Metric]) -> dict[str, Metric]:
    """Every series name Prometheus stores for the catalogue, mapped to its metric.

    A histogram is stored only as `_bucket`, `_sum` and `_count` series, never by its bare name.
    """
    names = {}
    for metric in catalogue.values():
        if metric.type == "histogram":
            names.update({metric.name + suffix: metric for suffix in HISTOGRAM_SUFFIXES})
        else:
            names[metric.name] = metric
    return names


def grouping_labels(expr: str) -> set[str]:
    """Label names in the expression's `by (...)` and `without (...)` clauses."""
    return {
        label.strip()
        for clause in GROUPING.findall(expr)
        for label in clause.split(",")
        if label.strip()
    }


def balanced(expr: str) -> bool:
    """True when every bracket and parenthesis outside string literals is closed in order."""
    stack: list[str] = []
    for token in re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr):
        if token in PAIRS:
            stack.append(PAIRS[token])
        elif token in PAIRS.values() and (not stack or stack.pop() != token):
            return False
    return not stack


def problems(expr: str, catalogue: dict[str, Metric]) -> list[str]:
    """What in `expr` the catalogue does not define; empty when the expression checks out."""
    found = []
    if not balanced(expr):
        found.append(f"unbalanced brackets in {expr!r}")
    known = series_names(catalogue)
    used = SERIES.findall(expr)
    if not used:
        found.append(f"no shbot_ metric in {expr!r}")
    unknown = sorted(set(used) - known.keys())
    found.extend(f"unknown series {name}" for name in unknown)
    allowed = {label for name in used if name in known for label in known[name].labels}
    if any(name.endswith("_bucket") for name in used):
        allowed.add("le")
    matchers = {label for selector in SELECTOR.findall(expr) for label in MATCHER.findall(selector)}
    found.extend(
        f"label {label!r} is not on {sorted(set(used))}"
        for label in sorted((matchers | grouping_labels(expr)) - allowed)
    )
    return found
