"""`self-healing-bot drift REFERENCE CURRENT [--json] [--html FILE]`: a data-drift report.

Tables above 2,000,000 rows (Parquet) or 256 MiB (CSV, JSON Lines) are streamed in bounded
memory (`--stream`/`--no-stream` forces the choice); the progress bar is drawn on stderr only
when stderr is a terminal, so redirected output and `--json` stay clean.

`--column NAME=TEST[:THRESHOLD]` sets a column's test and `--kind NAME=KIND` its kind, as
`detectors.data_drift.columns` does in the repository config. The kind is its own flag because
`--column` puts a threshold after the colon: `age=kind:numeric` would read like `age=ks:0.01`
but mean something else, and one column may need both (`--kind zip=numeric --column zip=psi`).

Exit status 0 whether or not drift is found (drift is a finding, not a failure), 2 when an input
file is missing, empty, corrupt or unreadable, or the options are invalid.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from self_healing_bot.command_errors import fail

if TYPE_CHECKING:
    from rich.console import Console

    from self_healing_bot.drift.compare import ColumnOptions, DriftOptions
    from self_healing_bot.drift.report import DriftReport


class ReportPathError(Exception):
    """`--html` names a file that cannot be written."""


# Tables this large get a progress bar on stderr (stdout stays clean for --json).
PROGRESS_ROWS = 100_000


def drift(
    reference: Annotated[Path, typer.Argument(help="Reference table: CSV, Parquet or JSON Lines.")],
    current: Annotated[Path, typer.Argument(help="Current table to compare with the reference.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML report here.")
    ] = None,
    drift_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of drifted columns for dataset drift.")
    ] = 0.5,
    require_effect_size: Annotated[
        bool, typer.Option(help="A column drifts only if its effect size is also large enough.")
    ] = False,
    sample_limit: Annotated[
        int, typer.Option(min=100, help="Rows per side for p-value tests (seeded sample).")
    ] = 200_000,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            help="Per-column test, e.g. age=ks or city=psi:0.2 (repeatable). Tests: "
            "ks, chisquare, z, wasserstein, jensenshannon, psi.",
        ),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            help="Per-column kind instead of the inferred one, e.g. zip=categorical "
            "(repeatable). Kinds: numeric, categorical, binary, datetime, text.",
        ),
    ] = None,
    stream: Annotated[
        bool | None,
        typer.Option(
            help="Stream the tables in bounded memory (default: only when one is large); "
            "KS and Wasserstein then read a seeded sample of --sample-limit rows per side.",
        ),
    ] = None,
) -> None:
    """Compare CURRENT with REFERENCE column by column (Evidently's tests and thresholds)."""
    from rich.console import Console

    from self_healing_bot.drift.compare import DriftConfigError, DriftOptions
    from self_healing_bot.drift.html_report import render_html
    from self_healing_bot.drift.tables import TableReadError

    errors = Console(stderr=True)
    if html is not None and not html.parent.is_dir():
        # Checked before comparing, so a typo costs no comparison of two large tables.
        fail(ReportPathError(f"--html {html}: the directory {html.parent} does not exist"), 2)
    try:
        options = DriftOptions(
            drift_share=drift_share,
            columns=parse_column_options(column or [], kind or []),
            require_effect_size=require_effect_size,
            sample_limit=sample_limit,
            seed=seed,
        )
        report = _compare(reference, current, options, stream, errors)
    except (TableReadError, DriftConfigError) as error:
        fail(error, 2)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    else:
        _print_summary(report)
    if html is not None:
        # After the report is printed, so a failed write loses nothing that was computed.
        try:
            html.write_text(render_html(report), encoding="utf-8")
        except OSError as error:
            fail(ReportPathError(f"--html {html}: cannot write ({error.strerror})"), 2)


def parse_column_options(tests: list[str], kinds: list[str]) -> dict[str, ColumnOptions]:
    """`--column NAME=TEST[:THRESHOLD]` and `--kind NAME=KIND` flags as column options.

    >>> parse_column_options(["age=psi:0.2"], ["zip=categorical"])
    {'age': ColumnOptions(kind=None, test=<DriftTest.PSI: 'psi'>, threshold=0.2),
     'zip': ColumnOptions(kind=<ColumnKind.CATEGORICAL: 'categorical'>, test=None, threshold=None)}
    """
    from self_healing_bot.drift.columns import ColumnKind
    from self_healing_bot.drift.compare import ColumnOptions, DriftConfigError
    from self_healing_bot.drift.statistics import DriftTest
    from self_healing_bot.repo_config.model import COLUMN_KINDS

    test_names = ", ".join(test.value for test in DriftTest)
    columns: dict[str, ColumnOptions] = {}
    for specification in tests:
        name, equals, rule = specification.rpartition("=")
        test_name, _, threshold_text = rule.partition(":")
        if not equals or not name or test_name not in set(DriftTest):
            raise DriftConfigError(
                f"--column {specification!r}: expected NAME=TEST[:THRESHOLD] with TEST one of "
                f"{test_names}"
            )
        try:
            threshold = float(threshold_text) if threshold_text else None
        except ValueError as error:
            raise DriftConfigError(
                f"--column {specification!r}: threshold {threshold_text!r} is not a number"
            ) from error
        if name in columns:
            raise DriftConfigError(f"--column names {name!r} twice")
        columns[name] = ColumnOptions(test=DriftTest(test_name), threshold=threshold)
    kinds_given: set[str] = set()
    for specification in kinds:
        name, equals, kind = specification.rpartition("=")
        if not equals or not name or kind not in COLUMN_KINDS:
            raise DriftConfigError(
                f"--kind {specification!r}: expected NAME=KIND with KIND one of "
                f"{', '.join(COLUMN_KINDS)}"
            )
        if name in kinds_given:
            raise DriftConfigError(f"--kind names {name!r} twice")
        kinds_given.add(name)
        columns[name] = replace(
            columns.get(name, ColumnOptions()), kind=ColumnKind(COLUMN_KINDS[kind])
        )
    return columns


def _compare(
    reference: Path, current: Path, options: DriftOptions, stream: bool | None, errors: Console
) -> DriftReport:
    """The exact comparison for tables that fit, the streamed one for large tables."""
    from rich.progress import Progress

    from self_healing_bot.drift.chunked import compare_large
    from self_healing_bot.drift.chunks import is_large
    from self_healing_bot.drift.compare import compare_tables
    from self_healing_bot.drift.tables import format_of, open_table

    if stream is None:
        stream = any(is_large(path, format_of(path.name)) for path in (reference, current))
    if stream:
        with Progress(console=errors, transient=True, disable=not errors.is_terminal) as progress:
            task = progress.add_task("Streaming tables", total=1.0)
            return compare_large(
                reference,
                current,
                options,
                on_progress=lambda done, total: progress.update(task, completed=done / total),
            )
    reference_table, current_table = open_table(reference), open_table(current)
    if max(reference_table.rows, current_table.rows) < PROGRESS_ROWS:
        return compare_tables(reference_table, current_table, options)
    with Progress(console=errors, transient=True, disable=not errors.is_terminal) as progress:
        task = progress.add_task("Comparing columns", total=len(reference_table.schema))
        return compare_tables(
            reference_table,
            current_table,
            options,
            on_column=lambda _name: progress.advance(task),
        )


def _print_summary(report: DriftReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Data drift")
    for heading in ("column", "status", "test", "statistic", "p-value", "threshold", "drifted"):
        table.add_column(heading)
    for column in report.ordered_columns():
        result = column.result
        table.add_row(
            column.name,
            column.status.value,
            result.test.value if result else "-",
            f"{result.statistic:.4g}" if result else "-",
            f"{result.p_value:.4g}" if result and result.p_value is not None else "-",
            f"{result.threshold:.4g}" if result else "-",
            "[red]yes[/red]" if column.drifted else "no",
        )
    console = Console()
    console.print(table)
    verdict = "DRIFT" if report.dataset_drifted else "no drift"
    console.print(
        f"{verdict}: {len(report.drifted_columns)} of {len(report.tested_columns)} tested columns "
        f"drifted (share {report.drift_share:.2f})"
    )


def register(app: typer.Typer) -> None:
    """Add the `drift` command to the CLI."""
    app.command("drift")(drift)
