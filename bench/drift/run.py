"""Whole-process time and peak memory: `self-healing-bot drift` vs Evidently DataDriftPreset.

Generates (seeded) 1,000,000 rows x 20 columns (14 numeric, 6 categorical with 5-50 levels) as
reference and current Parquet files in a temporary directory, runs both tools as child processes
on the same files, and prints one line:
`ours_s=... evidently_s=... speedup=... ours_peak_mb=... evidently_peak_mb=... same_decisions=...`.
Targets: speedup >= 10, ours_peak_mb <= 1024, same_decisions=true.
Then the streamed path alone (`--stream`) on each of `--streamed-rows` (default 1M, 4M and 10M;
the flag with no value skips it), one line each: `streamed_rows=... streamed_s=...
streamed_peak_mb=...`; flat memory means the same peak at every row count.

The tables are generated in a child process and this one imports no data library: a child's
ru_maxrss starts from its parent's peak RSS (the kernel carries the high-water mark of the
address space it had before exec, a copy of the parent's, over exec), so generating 10M rows
here made every child "peak" at 3.9 GB, even `python -c pass`.

    .venv/bin/python bench/drift/run.py [--rows N] [--streamed-rows N ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMERIC_COLUMNS = 14
CATEGORY_LEVELS = [5, 8, 12, 20, 35, 50]

EVIDENTLY_SCRIPT = """
import json, sys
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
numeric = [c for c in reference.columns if c.startswith("num")]
categorical = [c for c in reference.columns if c.startswith("cat")]
definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
snapshot = Report([DataDriftPreset()]).run(
    Dataset.from_pandas(current, data_definition=definition),
    Dataset.from_pandas(reference, data_definition=definition),
)
p_value_methods = {"K-S p_value": "<=", "chi-square p_value": "<", "Z-test p_value": "<"}
decisions = {}
for metric in snapshot.dict()["metrics"]:
    config = metric["config"]
    if config["type"].endswith("ValueDrift"):
        value, threshold = metric["value"], config["threshold"]
        rule = p_value_methods.get(config["method"])
        if rule == "<=":
            drifted = value <= threshold
        elif rule == "<":
            drifted = value < threshold
        else:
            drifted = value >= threshold
        decisions[config["column"]] = bool(drifted)
print(json.dumps(decisions))
"""


def generate(rows: int, directory: Path) -> tuple[Path, Path]:
    """Reference and current tables; half the columns shift in the current one."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(20240601)
    paths = []
    for name, shift in (("reference", 0.0), ("current", 1.0)):
        columns: dict[str, object] = {}
        for index in range(NUMERIC_COLUMNS):
            moved = shift * (0.3 if index % 2 else 0.0)
            columns[f"num_{index}"] = rng.normal(moved, 1.0 + index / 10, rows)
        for index, levels in enumerate(CATEGORY_LEVELS):
            weights = np.linspace(1.0, 2.0 + shift * (index % 2) * 3, levels)
            labels = np.array([f"level_{level}" for level in range(levels)])
            columns[f"cat_{index}"] = labels[rng.choice(levels, rows, p=weights / weights.sum())]
        path = directory / f"{name}.parquet"
        pl.DataFrame(columns).write_parquet(path, row_group_size=100_000)
        paths.append(path)
    return paths[0], paths[1]


def generate_in_child(rows: int, directory: Path) -> tuple[Path, Path]:
    """`generate` in a child process, so that this one stays small (see the module docstring)."""
    subprocess.run(
        [sys.executable, __file__, "--generate", str(rows), str(directory)],
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return directory / "reference.parquet", directory / "current.parquet"


def measure(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB (from the child's own rusage) and stdout of one process."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=output, env=environment, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{command[:3]} failed with exit status {process.returncode}")
    return seconds, usage.ru_maxrss / 1024, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--streamed-rows", type=int, nargs="*", default=[1_000_000, 4_000_000, 10_000_000]
    )
    parser.add_argument(
        "--generate", nargs=2, metavar=("ROWS", "DIRECTORY"), help=argparse.SUPPRESS
    )
    arguments = parser.parse_args()
    if arguments.generate:
        generate(int(arguments.generate[0]), Path(arguments.generate[1]))
        return
    with tempfile.TemporaryDirectory() as directory:
        reference, current = generate_in_child(arguments.rows, Path(directory))
        ours_command = [
            sys.executable,
            "-c",
            "from self_healing_bot.cli import main; main()",
            "drift",
            str(reference),
            str(current),
            "--json",
        ]
        ours_s, ours_mb, ours_text = measure(ours_command)
        evidently_command = [sys.executable, "-c", EVIDENTLY_SCRIPT, str(reference), str(current)]
        evidently_s, evidently_mb, evidently_text = measure(evidently_command)
    ours = {name: column["drifted"] for name, column in json.loads(ours_text)["columns"].items()}
    theirs = json.loads(evidently_text)
    print(
        f"ours_s={ours_s:.2f} evidently_s={evidently_s:.2f} speedup={evidently_s / ours_s:.1f} "
        f"ours_peak_mb={ours_mb:.0f} evidently_peak_mb={evidently_mb:.0f} "
        f"same_decisions={'true' if ours == theirs else 'false'}",
        flush=True,
    )
    for rows in arguments.streamed_rows:
        with tempfile.TemporaryDirectory() as directory:
            reference, current = generate_in_child(rows, Path(directory))
            streamed_s, streamed_mb, _ = measure(
                [*ours_command[:3], "drift", str(reference), str(current), "--json", "--stream"]
            )
        print(
            f"streamed_rows={rows} streamed_s={streamed_s:.2f} streamed_peak_mb={streamed_mb:.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
