"""The drift report as one self-contained HTML page: inline CSS and SVG, no script, no network.

A summary table comes first, then one section per column with reference and current
distributions side by side; drifted columns lead, then columns with schema or quality findings.

    >>> Path("drift.html").write_text(render_html(report))
"""

from __future__ import annotations

from html import escape

from self_healing_bot.drift.report import ColumnDrift, Distribution, DriftReport

REFERENCE_COLOUR = "#4c78a8"
CURRENT_COLOUR = "#f58518"
CHART_WIDTH = 640
CHART_HEIGHT = 180

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:70rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;
text-align:left}th{background:#f3f3f3}.drifted{color:#b00020;font-weight:600}
.ok{color:#176b2c}section{border-top:1px solid #ddd;margin-top:1.5rem}.issues{color:#8a5a00}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem}
"""


def render_html(report: DriftReport) -> str:
    """The whole page."""
    verdict = "Dataset drift detected" if report.dataset_drifted else "No dataset drift"
    columns = report.ordered_columns()
    schema = []
    if report.added_columns:
        schema.append(f"Columns only in current: {', '.join(report.added_columns)}")
    if report.removed_columns:
        schema.append(f"Columns missing from current: {', '.join(report.removed_columns)}")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Drift report: {escape(report.current_name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1 class='{'drifted' if report.dataset_drifted else 'ok'}'>{escape(verdict)}</h1>",
        f"<p>Reference <code>{escape(report.reference_name)}</code>, current "
        f"<code>{escape(report.current_name)}</code>: {len(report.drifted_columns)} of "
        f"{len(report.tested_columns)} tested columns drifted (share {report.drift_share:.2f}, "
        f"threshold {report.drift_share_threshold:.2f}).</p>",
        *(f"<p class='issues'>{escape(line)}</p>" for line in schema),
        _summary_table(columns),
        "<p class='legend'>",
        f"<span style='background:{REFERENCE_COLOUR}'></span>reference",
        f"<span style='background:{CURRENT_COLOUR}'></span>current</p>",
        *(_column_section(column) for column in columns),
        "</body></html>",
    ]
    return "\n".join(parts)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _summary_table(columns: list[ColumnDrift]) -> str:
    rows = [
        "<table><tr><th>column</th><th>kind</th><th>status</th><th>test</th><th>statistic</th>"
        "<th>p-value</th><th>threshold</th><th>effect size</th><th>drifted</th></tr>"
    ]
    for column in columns:
        result = column.result
        rows.append(
            f"<tr><td><a href='#column-{escape(column.name)}'>{escape(column.name)}</a></td>"
            f"<td>{column.kind.value}</td><td>{column.status.value}</td>"
            f"<td>{result.test.value if result else '-'}</td>"
            f"<td>{_number(result.statistic if result else None)}</td>"
            f"<td>{_number(result.p_value if result else None)}</td>"
            f"<td>{_number(result.threshold if result else None)}</td>"
            f"<td>{_number(result.effect_size if result else None)}</td>"
            f"<td class='{'drifted' if column.drifted else 'ok'}'>"
            f"{'yes' if column.drifted else 'no'}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _column_section(column: ColumnDrift) -> str:
    heading = f"{column.name} ({'drifted' if column.drifted else 'no drift'})"
    parts = [
        f"<section id='column-{escape(column.name)}'>",
        f"<h2 class='{'drifted' if column.drifted else 'ok'}'>{escape(heading)}</h2>",
    ]
    if column.message:
        parts.append(f"<p>{escape(column.message)}</p>")
    parts.extend(f"<p class='issues'>{escape(issue)}</p>" for issue in column.issues)
    if column.distribution is not None:
        parts.append(bar_chart_svg(column.distribution))
    parts.append("</section>")
    return "\n".join(parts)


def bar_chart_svg(distribution: Distribution) -> str:
    """Reference and current proportions as paired bars per bin or category."""
    count = max(len(distribution.labels), 1)
    tallest = max([*distribution.reference, *distribution.current, 1e-12])
    slot = CHART_WIDTH / count
    bar = max(slot * 0.4, 1.0)
    bars = []
    for index, label in enumerate(distribution.labels):
        for offset, value, colour, side in (
            (0.1, distribution.reference[index], REFERENCE_COLOUR, "reference"),
            (0.5, distribution.current[index], CURRENT_COLOUR, "current"),
        ):
            height = CHART_HEIGHT * value / tallest
            bars.append(
                f"<rect x='{index * slot + offset * slot:.1f}' y='{CHART_HEIGHT - height:.1f}' "
                f"width='{bar:.1f}' height='{height:.1f}' fill='{colour}'>"
                f"<title>{escape(label)}: {side} {value:.2%}</title></rect>"
            )
    first, last = escape(distribution.labels[0]), escape(distribution.labels[-1])
    return (
        f"<svg width='{CHART_WIDTH}' "
        f"height='{CHART_HEIGHT + 20}' role='img'>{''.join(bars)}"
        f"<text x='0' y='{CHART_HEIGHT + 15}' font-size='11'>{first}</text>"
        f"<text x='{CHART_WIDTH}' y='{CHART_HEIGHT + 15}' font-size='11' "
        f"text-anchor='end'>{last}</text></svg>"
    )
