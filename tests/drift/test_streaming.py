"""Large tables streamed in bounded memory: same answers as the exact path, bad input named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from self_healing_bot.cli import app
from self_healing_bot.drift import chunks
from self_healing_bot.drift.chunked import compare_large
from self_healing_bot.drift.compare import DriftOptions, compare_tables
from self_healing_bot.drift.report import ColumnStatus
from self_healing_bot.drift.tables import TableReadError, open_table


def _frame(rows: int, shift: float, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    gaps = pl.Series(rng.normal(0, 1, rows)).scatter(
        np.flatnonzero(rng.random(rows) < 0.1 + shift), None
    )
    return pl.DataFrame(
        {
            "normal": rng.normal(shift, 1, rows),
            "level": rng.integers(0, 4, rows),
            "plan": rng.choice(
                ["free", "pro", "team"], rows, p=[0.5, 0.3 + shift / 5, 0.2 - shift / 5]
            ),
            "count": rng.poisson(30 + 5 * shift, rows),
            "few": rng.choice([1.0, 2.0, 3.0], rows),
            "id": [f"row-{index}" for index in range(rows)],
            "gaps": gaps,
        }
    )


def _write(frame: pl.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.write_parquet(path, row_group_size=700)
    elif path.suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_ndjson(path)
    return path


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 500)
    monkeypatch.setattr(chunks, "BLOCK_BYTES", 20_000)


@pytest.mark.parametrize(("reference_name", "current_name"), [
    ("r.parquet", "c.csv"), ("r.csv", "c.jsonl"), ("r.jsonl", "c.parquet"),
])  # fmt: skip
def test_streaming_matches_the_exact_path_when_the_sample_holds_every_row(
    tmp_path: Path, small_chunks: None, reference_name: str, current_name: str
) -> None:
    reference = _write(_frame(5000, 0.0, 1), tmp_path / reference_name)
    current = _write(_frame(4000, 0.2, 2), tmp_path / current_name)
    options = DriftOptions(sample_limit=10_000)
    exact = compare_tables(open_table(reference), open_table(current), options).to_dict()
    streamed = compare_large(reference, current, options).to_dict()
    assert streamed["drifted_columns"] == exact["drifted_columns"] != []
    for name, column in exact["columns"].items():
        ours = streamed["columns"][name]
        for key, value in column.items():
            if isinstance(value, float):
                assert ours[key] == pytest.approx(value, rel=1e-9), (name, key)
            else:
                assert ours[key] == value, (name, key)


def test_above_the_sample_size_ks_and_wasserstein_are_estimates_and_say_so(
    tmp_path: Path, small_chunks: None
) -> None:
    reference = _write(_frame(5000, 0.0, 1), tmp_path / "r.parquet")
    current = _write(_frame(4000, 0.5, 2), tmp_path / "c.parquet")
    options = DriftOptions(sample_limit=1000)
    exact = compare_tables(open_table(reference), open_table(current), options)
    streamed = compare_large(reference, current, options)
    exact_columns = {column.name: column for column in exact.columns}
    for column in streamed.columns:
        if column.result is None:
            continue
        exact_result = exact_columns[column.name].result
        assert exact_result is not None
        if column.result.test.value == "wasserstein":
            assert column.sampled == 1000
            assert column.result.statistic == pytest.approx(exact_result.statistic, abs=0.05)
        else:  # counts: exact however large the table
            assert column.sampled is None
            assert column.result.statistic == pytest.approx(exact_result.statistic, rel=1e-9)
    again = compare_large(reference, current, options)
    assert again.to_dict() == streamed.to_dict()  # seeded


def test_text_in_a_numeric_column_in_a_later_chunk_is_a_type_mismatch(
    tmp_path: Path, small_chunks: None
) -> None:
    reference = _write(_frame(3000, 0.0, 1), tmp_path / "r.csv")
    frame = _frame(3000, 0.0, 2).with_columns(pl.col("normal").cast(pl.String))
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 2900)
        .then(pl.lit("n/a"))
        .otherwise(pl.col("normal"))
        .alias("normal")
    )
    current = _write(frame, tmp_path / "c.csv")
    report = compare_large(reference, current)
    columns = {column.name: column for column in report.columns}
    assert columns["normal"].status is ColumnStatus.TYPE_MISMATCH
    assert "1 current values are not numbers, e.g. 'n/a'" in columns["normal"].message
    assert columns["count"].status is ColumnStatus.TESTED


def test_a_parquet_file_corrupt_mid_way_is_a_clear_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frame = pl.DataFrame({"x": rng.normal(0, 1, 20_000), "k": rng.choice(["a", "b"], 20_000)})
    path = _write(frame, tmp_path / "r.parquet")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = b"\xff" * 2000  # compressed pages no longer decode
    path.write_bytes(bytes(data))
    with pytest.raises(
        TableReadError, match=r"cannot read the rows after row \d+: .*corrupt or truncated"
    ):
        compare_large(path, path)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("huge.csv", "no line end within 32 MiB after byte 0"),
        ("huge.jsonl", "no line end within 32 MiB after byte 0"),
        ("huge.parquet", "cannot read the table"),
    ],
)
def test_a_5_gb_file_without_records_is_refused_after_one_block(
    tmp_path: Path, name: str, message: str
) -> None:
    path = tmp_path / name
    with path.open("wb") as sparse:  # 5 GB on paper, nothing on disk
        sparse.truncate(5 * 1024**3)
    result = CliRunner().invoke(app, ["drift", str(path), str(path), "--json"])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_cli_streams_with_clean_json_and_column_overrides(tmp_path: Path) -> None:
    reference = _write(_frame(3000, 0.0, 1), tmp_path / "r.parquet")
    current = _write(_frame(3000, 0.2, 2), tmp_path / "c.csv")
    result = CliRunner().invoke(
        app,
        [
            "drift", str(reference), str(current), "--json", "--stream", "--sample-limit", "500",
            "--column", "normal=ks:0.01", "--column", "plan=psi:0.5",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # no progress bar drawn into a pipe
    report = json.loads(result.stdout)
    normal, plan = report["columns"]["normal"], report["columns"]["plan"]
    assert (normal["test"], normal["threshold"], normal["sampled"]) == ("ks", 0.01, 500)
    assert (plan["test"], plan["threshold"], plan["sampled"]) == ("psi", 0.5, None)
