"""Chart geometry: bar heights in proportion, stacked bottom-up, lines broken at gaps."""

from __future__ import annotations

import pytest

from self_healing_bot.web.dashboard import charts


def test_stacked_bars_are_proportional_and_stack_bottom_up() -> None:
    chart = charts.stacked_bars(
        "Incidents", ["a", "b"], [("healed", "healed", [2, 1]), ("open", "unhealed", [2, 0])]
    )
    first_healed, first_open, second_healed = chart.rects
    assert first_healed.height == pytest.approx(first_open.height)
    assert first_healed.height == pytest.approx(2 * second_healed.height)
    assert first_open.y + first_open.height == pytest.approx(first_healed.y)
    assert first_healed.y + first_healed.height == charts.HEIGHT - charts.BOTTOM
    assert [rect.title for rect in chart.rects] == ["a: 2 healed", "a: 2 open", "b: 1 healed"]


def test_all_zero_bars_draw_nothing_but_keep_their_axis() -> None:
    chart = charts.stacked_bars("Empty", ["a", "b"], [("healed", "healed", [0, 0])])
    assert chart.rects == ()
    assert [label.text for label in chart.labels if label.anchor == "end"] == ["0", "0.5", "1"]


def test_a_missing_value_breaks_the_line() -> None:
    chart = charts.line("Rate", ["a", "b", "c", "d"], [50, None, 100, 0], top_value=100)
    assert [len(run) for run in chart.lines] == [1, 2]
    top = charts.TOP
    bottom = charts.HEIGHT - charts.BOTTOM
    assert [point.y for point in chart.lines[1]] == [top, bottom]


def test_only_about_eight_day_labels_fit_under_a_chart() -> None:
    labels = [f"05-{day:02d}" for day in range(1, 31)]
    chart = charts.line("Rate", labels, [None] * 30)
    assert len([label for label in chart.labels if label.anchor == "middle"]) <= 8


def test_horizontal_bars_scale_to_the_longest() -> None:
    chart = charts.horizontal_bars("Stages", [("parse", 1.0, "ok"), ("act", 4.0, "failed")])
    parse, act = chart.rects
    assert act.width == pytest.approx(4 * parse.width)
    assert chart.height == 2 * 22 + charts.TOP
