"""Chart geometry for the dashboard's inline SVG (pure functions; `charts.html` draws them).

Each builder turns figures into shapes in a fixed viewBox: no script, no network, and every
label goes through Jinja2's autoescape when drawn.

    chart = stacked_bars("Incidents per day", ["05-13", "05-14"],
                         [("healed", "healed", [2, 1]), ("open", "unhealed", [1, 0])])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 200
LEFT = 64
BOTTOM = 22
TOP = 10
PLOT_HEIGHT = HEIGHT - BOTTOM - TOP


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css_class: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Chart:
    """Shapes in a `width` by `height` viewBox; `lines` are runs of points joined by a polyline."""

    title: str
    width: int
    height: int
    rects: tuple[Rect, ...] = ()
    lines: tuple[tuple[Point, ...], ...] = ()
    labels: tuple[Label, ...] = ()
    gridlines: tuple[float, ...] = ()
    plot_left: float = LEFT


def _plain(value: float) -> str:
    return f"{value:g}"


def _slot(labels: Sequence[str]) -> float:
    """The width each label's column gets on the x axis."""
    return (WIDTH - LEFT) / max(len(labels), 1)


def _labelled_chart(
    title: str,
    labels: Sequence[str],
    top_value: float,
    fmt: Callable[[float], str],
    rects: Sequence[Rect] = (),
    lines: Sequence[tuple[Point, ...]] = (),
) -> Chart:
    """`rects` or `lines` over one x slot per label, with a y axis from 0 to `top_value`."""
    # At most ~8 labels fit under the chart; show every n-th.
    step = max(1, -(-len(labels) // 8))
    slot = _slot(labels)
    x_axis = [
        Label(LEFT + slot * (index + 0.5), HEIGHT - 6, text)
        for index, text in enumerate(labels)
        if index % step == 0
    ]
    fractions = (0.0, 0.5, 1.0)
    gridlines = [TOP + PLOT_HEIGHT * (1 - fraction) for fraction in fractions]
    y_axis = [
        Label(LEFT - 4, y + 4, fmt(top_value * fraction), "end")
        for fraction, y in zip(fractions, gridlines, strict=True)
    ]
    return Chart(
        title,
        WIDTH,
        HEIGHT,
        rects=tuple(rects),
        lines=tuple(lines),
        labels=tuple(x_axis + y_axis),
        gridlines=tuple(gridlines),
    )


def stacked_bars(
    title: str,
    labels: Sequence[str],
    stacks: Sequence[tuple[str, str, Sequence[float]]],
    fmt: Callable[[float], str] = _plain,
) -> Chart:
    """One bar per label, its segments stacked bottom-up; `stacks` are (name, css class, values)."""
    totals = [sum(values[index] for _, _, values in stacks) for index in range(len(labels))]
    top_value = max([*totals, 1.0])
    slot = _slot(labels)
    rects = []
    for index, label in enumerate(labels):
        base = float(HEIGHT - BOTTOM)
        for name, css_class, values in stacks:
            height = PLOT_HEIGHT * values[index] / top_value
            if height > 0:
                base -= height
                x = LEFT + slot * index + slot * 0.15
                title_text = f"{label}: {fmt(values[index])} {name}"
                rects.append(Rect(x, base, slot * 0.7, height, css_class, title_text))
    return _labelled_chart(title, labels, top_value, fmt, rects=rects)


def line(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    top_value: float | None = None,
    fmt: Callable[[float], str] = _plain,
) -> Chart:
    """A line through the known values; a None breaks the line (no data that day)."""
    known = [value for value in values if value is not None]
    top = top_value if top_value is not None else max([*known, 1.0])
    slot = _slot(labels)
    runs: list[tuple[Point, ...]] = []
    current: list[Point] = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        if value is None:
            if current:
                runs.append(tuple(current))
            current = []
            continue
        y = TOP + PLOT_HEIGHT * (1 - value / top)
        current.append(Point(LEFT + slot * (index + 0.5), y, f"{label}: {fmt(value)}"))
    if current:
        runs.append(tuple(current))
    return _labelled_chart(title, labels, top, fmt, lines=runs)


def horizontal_bars(
    title: str,
    rows: Sequence[tuple[str, float, str]],
    fmt: Callable[[float], str] = _plain,
) -> Chart:
    """One bar per (label, value, css class) row, e.g. each pipeline stage's duration."""
    row_height = 22
    label_width = 130
    height = row_height * len(rows) + TOP
    top_value = max([value for _, value, _ in rows] + [1e-9])
    span = WIDTH - label_width - 90
    rects, labels = [], []
    for index, (name, value, css_class) in enumerate(rows):
        y = TOP + row_height * index
        width = span * value / top_value
        rects.append(Rect(label_width, y, max(width, 1.0), row_height - 6, css_class, name))
        labels.append(Label(label_width - 6, y + 12, name, "end"))
        labels.append(Label(label_width + max(width, 1.0) + 6, y + 12, fmt(value), "start"))
    return Chart(title, WIDTH, height, rects=tuple(rects), labels=tuple(labels))
