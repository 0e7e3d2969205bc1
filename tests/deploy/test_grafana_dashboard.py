"""deploy/grafana/self-healing-bot.json: a loadable dashboard that shows every metric."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.deploy.documents import DEPLOY, metric_catalogue
from tests.deploy.promql import SERIES, problems, series_names

DASHBOARD = DEPLOY / "grafana" / "self-healing-bot.json"
GRID_WIDTH = 24


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels() -> list[dict[str, Any]]:
    return list(dashboard()["panels"])


def test_dashboard_has_identity_and_a_prometheus_datasource_variable() -> None:
    board = dashboard()
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    variables = {var["name"]: var for var in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_panel_ids_are_unique() -> None:
    ids = [panel["id"] for panel in panels()]
    assert len(ids) == len(set(ids))


def test_panels_fit_the_grid_without_overlapping() -> None:
    taken: dict[tuple[int, int], str] = {}
    for panel in panels():
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= GRID_WIDTH, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in taken, f"{panel['title']} overlaps {taken[(x, y)]}"
                taken[(x, y)] = panel["title"]


@pytest.mark.parametrize("panel", panels(), ids=lambda panel: panel["title"])
def test_panel_queries_use_known_metrics(panel: dict[str, Any]) -> None:
    assert panel["targets"], "a panel without a query shows nothing"
    assert panel["datasource"]["uid"] == "${datasource}"
    for target in panel["targets"]:
        assert problems(target["expr"], metric_catalogue()) == []


def test_every_metric_is_on_the_dashboard() -> None:
    known = series_names(metric_catalogue())
    shown = {
        known[name].name
        for panel in panels()
        for target in panel["targets"]
        for name in SERIES.findall(target["expr"])
    }
    assert shown == set(metric_catalogue())
