"""`self-healing-bot drift` as a user runs it: JSON contract, HTML file, exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from self_healing_bot.cli import app


@pytest.fixture
def tables(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(11)
    reference = pl.DataFrame(
        {"score": rng.normal(0, 1, 1500), "plan": rng.choice(["free", "pro", "team"], 1500)}
    )
    current = pl.DataFrame(
        {"score": rng.normal(0.8, 1, 1200), "plan": rng.choice(["free", "pro", "team"], 1200)}
    )
    reference.write_parquet(tmp_path / "reference.parquet")
    current.write_csv(tmp_path / "current.csv")
    return tmp_path / "reference.parquet", tmp_path / "current.csv"


def test_json_report_has_the_promised_shape(tables: tuple[Path, Path], tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    result = CliRunner().invoke(
        app, ["drift", str(tables[0]), str(tables[1]), "--json", "--html", str(html)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    score, plan = report["columns"]["score"], report["columns"]["plan"]
    assert {key: score[key] for key in ("test", "p_value", "threshold", "drifted")} == {
        "test": "wasserstein",
        "p_value": None,
        "threshold": 0.1,
        "drifted": True,
    }
    assert score["statistic"] > 0.5
    assert (plan["test"], plan["drifted"]) == ("jensenshannon", False)
    assert (report["drift_share"], report["dataset_drifted"]) == (0.5, True)

    page = html.read_text()
    assert page.count("<svg") == 2
    assert "<script" not in page and "http" not in page
    assert page.index("score (drifted)") < page.index("plan (no drift)")


@pytest.mark.parametrize(
    ("make_current", "message"),
    [
        (lambda directory: directory / "absent.parquet", "no such file"),
        (
            lambda directory: _write(directory / "broken.parquet", b"PAR1garbagePAR1"),
            "cannot read the table",
        ),
        (lambda directory: _write(directory / "empty.csv", b""), "the file is empty"),
    ],
)
def test_bad_input_files_exit_2_with_a_message(
    tables: tuple[Path, Path], tmp_path: Path, make_current, message: str
) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, ["drift", str(tables[0]), str(make_current(tmp_path))])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_an_html_path_in_a_missing_directory_is_refused_before_comparing(
    tables: tuple[Path, Path], tmp_path: Path
) -> None:
    html = tmp_path / "no-such-directory" / "report.html"
    result = CliRunner().invoke(app, ["drift", str(tables[0]), str(tables[1]), "--html", str(html)])
    assert result.exit_code == 2
    assert f"the directory {html.parent} does not exist" in result.stderr
    assert result.stdout == ""


def test_an_unwritable_html_path_keeps_the_printed_report_and_exits_2(
    tables: tuple[Path, Path], tmp_path: Path
) -> None:
    html = tmp_path / "report.html"
    html.mkdir()  # a directory where the file should go: the write fails whoever runs it
    result = CliRunner().invoke(
        app, ["drift", str(tables[0]), str(tables[1]), "--json", "--html", str(html)]
    )
    assert result.exit_code == 2
    assert f"--html {html}: cannot write" in result.stderr
    assert json.loads(result.stdout)["dataset_drifted"] is True


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], {"score": "wasserstein", "plan": "jensenshannon"}),
        (["--kind", "score=categorical"], {"score": "jensenshannon", "plan": "jensenshannon"}),
        (["--kind", "plan=text"], {"score": "wasserstein", "plan": None}),
        (
            ["--kind", "score=numeric", "--column", "score=psi:0.3", "--kind", "plan=binary"],
            {"score": "psi", "plan": "jensenshannon"},
        ),
    ],
    ids=["inferred", "numbers-as-categories", "ignored-as-text", "kind-and-test"],
)
def test_a_columns_kind_flag_decides_its_test(
    tables: tuple[Path, Path], flags: list[str], expected: dict[str, str | None]
) -> None:
    result = CliRunner().invoke(app, ["drift", str(tables[0]), str(tables[1]), "--json", *flags])
    assert result.exit_code == 0, result.output
    columns = json.loads(result.stdout)["columns"]
    assert {name: columns[name]["test"] for name in expected} == expected


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--kind", "score=integer"],
            "--kind 'score=integer': expected NAME=KIND with KIND one of",
        ),
        (["--kind", "categorical"], "--kind 'categorical': expected NAME=KIND"),
        (["--kind", "plan=text", "--kind", "plan=categorical"], "--kind names 'plan' twice"),
        (["--kind", "ghost=numeric"], "column options name columns not in the reference"),
        (["--kind", "plan=categorical", "--column", "plan=ks"], "test ks needs a numeric column"),
    ],
    ids=["unknown-kind", "no-name", "twice", "unknown-column", "test-for-another-kind"],
)
def test_a_bad_kind_flag_exits_2_with_a_message(
    tables: tuple[Path, Path], flags: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["drift", str(tables[0]), str(tables[1]), *flags])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert result.stdout == ""
