"""Benchmark: diagnose a generated 100 MB GitHub Actions log with the whole CLI process.

    .venv/bin/python bench/diagnose/run.py [--mb 100] [--seed 7]

Goal: >= 100 MB/s and <= 150 MB peak RSS for the `self-healing-bot diagnose` process.
Prints one line: `mb_per_s=... peak_rss_mb=... category=...`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["numpy", "pandas", "torch", "transformers", "scikit-learn", "xgboost", "mlflow", "dvc"]


def _noise_line(rng: random.Random, step: int) -> str:
    kind = rng.random()
    package = rng.choice(PACKAGES)
    major, minor = rng.randint(1, 3), rng.randint(0, 20)
    if kind < 0.3:
        site = "/opt/hostedtoolcache/Python/3.11.9/x64/lib/python3.11/site-packages"
        return f"Requirement already satisfied: {package}>={major}.0 in {site} ({major}.{minor})"
    if kind < 0.5:
        size = rng.uniform(0.1, 90)
        return f"  Downloading {package}-{major}.{minor}.0-py3-none-any.whl ({size:.1f} MB)"
    if kind < 0.7:
        frames = (f"Epoch {step}: {p:3d}%|{'█' * (p // 10):<10}|" for p in range(0, 101, 25))
        return "\r".join(frames)
    if kind < 0.85:
        test = f"tests/test_{package}.py::test_case_{rng.randint(1, 999)}"
        return f"{test} \x1b[32mPASSED\x1b[0m [{rng.randint(1, 99)}%]"
    loss, grad_norm = rng.uniform(0.1, 3), rng.uniform(0.1, 9)
    return f"{{'loss': {loss:.4f}, 'grad_norm': {grad_norm:.3f}, 'epoch': {step / 10:.2f}}}"


def write_log(path: Path, megabytes: int, seed: int) -> None:
    """A realistic job log: set-up noise, many steps, the decisive OOM near the end."""
    rng = random.Random(seed)
    moment = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
    target = megabytes * 1_000_000
    written = 0
    step = 0
    with path.open("w", encoding="utf-8") as handle:
        while written < target:
            step += 1
            lines = [f"##[group]Run python train.py --stage {step}", "##[endgroup]"]
            lines += [_noise_line(rng, step) for _ in range(2000)]
            if step == 3:
                lines.append(
                    "WARNING: Retrying (Retry(total=4)) after connection broken by 'ReadTimeout'"
                )
            block = []
            for line in lines:
                moment += dt.timedelta(milliseconds=rng.randint(1, 50))
                block.append(moment.strftime("%Y-%m-%dT%H:%M:%S.%f0Z ") + line)
            text = "\n".join(block) + "\n"
            handle.write(text)
            written += len(text.encode())
        handle.write(
            "2024-05-01T23:59:59.0000000Z batch_size=128\n"
            "2024-05-01T23:59:59.1000000Z torch.OutOfMemoryError: CUDA out of memory. "
            "Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 14.75 GiB\n"
            "2024-05-01T23:59:59.2000000Z [rank0]: NCCL error in: ProcessGroupNCCL.cpp:1414\n"
            "2024-05-01T23:59:59.3000000Z ##[error]Process completed with exit code 1.\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "job.log"
        write_log(log, args.mb, args.seed)
        size_mb = log.stat().st_size / 1_000_000
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-c", "from self_healing_bot.cli import main; main()"]
        started = time.perf_counter()
        finished = subprocess.run(
            [*command, "diagnose", str(log), "--json"], capture_output=True, text=True, env=env
        )
        elapsed = time.perf_counter() - started
    if finished.returncode != 0:
        sys.exit(f"diagnose failed ({finished.returncode}): {finished.stderr}")
    category = json.loads(finished.stdout)["category"]
    peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"mb_per_s={size_mb / elapsed:.1f} peak_rss_mb={peak_rss_mb:.1f} "
        f"category={category} size_mb={size_mb:.1f} seconds={elapsed:.2f}"
    )


if __name__ == "__main__":
    main()
