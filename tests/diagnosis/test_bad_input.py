"""Bad input gets a clear message (exit 2) or category `unknown`, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from self_healing_bot.diagnosis import DiagnosisInputError, diagnose_file

ROOT = Path(__file__).parents[2]
OOM = b"torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.\n"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from self_healing_bot.cli import main; main()", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize(
    ("content", "category", "summary_part"),
    [
        (b"", "unknown", "empty"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 40, "unknown", "binary"),
        (b"\xff\xfe garbage \xc3\x28\n" + OOM + b"\xed\xa0\x80\n", "gpu_oom", "memory"),
        (b"x\n" * 10_000_000, "unknown", "No known failure"),
        (b"no newline at all " * 200_000, "unknown", "No known failure"),
    ],
    ids=["empty", "binary", "invalid-utf8", "ten-million-lines", "one-endless-line"],
)
def test_bad_content_is_diagnosed_not_crashed(
    tmp_path: Path, content: bytes, category: str, summary_part: str
) -> None:
    log = tmp_path / "job.log"
    log.write_bytes(content)
    diagnosis = diagnose_file(log)
    assert diagnosis.category == category
    assert summary_part.lower() in diagnosis.summary.lower()


def test_two_gigabyte_sparse_log_is_read_from_its_tail_within_the_byte_cap(
    tmp_path: Path,
) -> None:
    log = tmp_path / "huge.log"
    with log.open("wb") as handle:
        handle.write(b"##[group]Run python train.py\n" + b"Epoch 1: loss 0.25\n" * 10_000)
        handle.seek(2 << 30)
        handle.write(b"\n" + OOM)
    diagnosis = diagnose_file(log, max_scan_bytes=8 << 20)
    assert diagnosis.category == "gpu_oom"
    assert diagnosis.params["skipped_bytes"] > (2 << 30) - (8 << 20) - 1
    assert "step" not in diagnosis.params  # the step marker lay in the skipped part


def test_corrupt_zip_raises_a_clear_input_error(tmp_path: Path) -> None:
    archive = tmp_path / "logs.zip"
    archive.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 100)
    with pytest.raises(DiagnosisInputError, match="not a readable zip"):
        diagnose_file(archive)


def test_zip_with_a_corrupt_member_raises_a_clear_input_error(tmp_path: Path) -> None:
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as writer:
        writer.writestr("1_build.txt", OOM * 2000)
    data = bytearray(archive.read_bytes())
    data[60:400] = b"\x00" * 340  # inside the deflated member, headers intact
    archive.write_bytes(bytes(data))
    with pytest.raises(DiagnosisInputError, match=r"1_build\.txt"):
        diagnose_file(archive)


@pytest.mark.parametrize(
    ("make_path", "message"),
    [
        (lambda tmp: tmp / "missing.log", "no such file"),
        (lambda tmp: tmp, "is a directory"),
        (lambda tmp: _write(tmp / "bad.zip", b"PK\x03\x04broken"), "not a readable zip"),
    ],
    ids=["missing", "directory", "corrupt-zip"],
)
def test_cli_bad_input_exits_2_with_a_message_on_stderr(
    tmp_path: Path, make_path: object, message: str
) -> None:
    assert callable(make_path)
    finished = run_cli("diagnose", str(make_path(tmp_path)), "--json")
    assert finished.returncode == 2
    assert message in finished.stderr
    assert "Traceback" not in finished.stderr
    assert finished.stdout == ""


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_cli_json_follows_the_contract_and_exits_0_for_any_category(tmp_path: Path) -> None:
    log = tmp_path / "job.log"
    log.write_bytes(b"2024-05-01T10:00:00.1234567Z ##[group]Run python train.py\n" + OOM)
    finished = run_cli("diagnose", str(log), "--json")
    assert finished.returncode == 0, finished.stderr
    output = json.loads(finished.stdout)
    assert set(output) == {"category", "confidence", "summary", "evidence", "params", "signature"}
    assert output["category"] == "gpu_oom"
    assert output["evidence"] == [{"line": 2, "text": OOM.decode().strip()}]
    assert output["params"]["requested_bytes"] == 2 << 30
    assert output["params"]["step"] == "python train.py"
    assert output["signature"].startswith("gpu_oom:") and len(output["signature"]) == 16

    log.write_bytes(b"all good\n")
    unknown = run_cli("diagnose", str(log))
    assert unknown.returncode == 0
    assert "unknown" in unknown.stdout
