"""The diagnosis core with plain data: normalising, signatures, zips, extra rules, backends."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from self_healing_bot.diagnosis import (
    DEFAULT_RULES,
    RuleError,
    diagnose_bytes,
    diagnose_lines,
    rules_from_config,
)
from self_healing_bot.diagnosis.matcher import compile_matcher
from self_healing_bot.diagnosis.reading import (
    LogSource,
    blocks_from_chunks,
    normalise_line,
    sources_from_path,
)
from self_healing_bot.diagnosis.scanning import scan_sources
from self_healing_bot.diagnosis.selection import select_root_cause

CORPUS = Path(__file__).parents[1] / "corpus"


@pytest.mark.parametrize(
    ("raw", "text", "annotation"),
    [
        (b"2024-05-01T10:00:00.1234567Z plain\n", "plain", None),
        (b"2024-05-01T10:00:00.1Z ##[error]\x1b[31mboom\x1b[0m\r\n", "boom", "error"),
        (b"##[warning]careful", "careful", "warning"),
        (b" 10%|#   | 1/10\r 50%|#####| 5/10\r100%|#####| 10/10\n", "100%|#####| 10/10", None),
        (b"caf\xc3\xa9 \xff\n", "caf\u00e9 \ufffd", None),
    ],
    ids=["timestamp", "ansi-annotation", "warning", "progress-bar", "invalid-utf8"],
)
def test_normalise_line(raw: bytes, text: str, annotation: str | None) -> None:
    assert normalise_line(raw) == (normalise_line(raw).__class__(text, annotation))


def _job(repository: str, stamp: str, temp: str, address: str, gib: str) -> str:
    return "\n".join(
        [
            f"{stamp} ##[group]Run python train.py",
            f'{stamp} File "/home/runner/work/{repository}/{repository}/train.py", line 3',
            f"{stamp} RuntimeError: CUDA error: out of memory at {address} in {temp}/x.py",
            f"{stamp} torch.OutOfMemoryError: CUDA out of memory. Tried to allocate {gib} GiB",
        ]
    )


def test_signature_is_stable_across_runs_and_repositories_but_not_across_failures() -> None:
    first = diagnose_bytes(
        _job("alpha", "2024-01-01T00:00:00.1Z", "/tmp/tmpa1", "0x7f00aa", "2.00").encode()
    )
    second = diagnose_bytes(
        _job("beta", "2025-06-30T23:59:59.9Z", "/tmp/tmpzz9", "0x7fffbb", "4.50").encode()
    )
    assert first.category == second.category == "gpu_oom"
    assert first.signature == second.signature
    other = diagnose_lines(["ModuleNotFoundError: No module named 'timm'"])
    assert other.signature != first.signature
    assert other.signature.startswith("missing_dependency:")


def test_root_cause_far_above_later_errors_and_cascades() -> None:
    lines = ["step 1", "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.00 GiB"]
    lines += [f"noise {i}" for i in range(5000)]
    lines += ["[rank0]: NCCL error in: ProcessGroupNCCL.cpp:1414", "ValueError: I/O on closed file"]
    diagnosis = diagnose_lines(lines)
    assert diagnosis.category == "gpu_oom"
    assert diagnosis.evidence[0].line == 2


def test_warnings_never_decide() -> None:
    lines = [
        "##[warning]No space left on device for the cache; skipping save",
        "src/x.py:3: UserWarning: CUDA out of memory guard enabled",
        "all tests passed",
    ]
    assert diagnose_lines(lines).category == "unknown"


def test_repository_rules_join_the_defaults_and_can_outrank_them() -> None:
    extra = rules_from_config(
        [
            {
                "id": "quality-gate",
                "pattern": r"quality gate not met",
                "category": "test_failure",
                "priority": 99,
                "params": [r"metric=(?P<metric>\w+)"],
            }
        ]
    )
    lines = ["Model quality gate not met metric=auc", "ValueError: something else"]
    diagnosis = diagnose_lines(lines, extra)
    assert diagnosis.category == "test_failure"
    assert diagnosis.params["metric"] == "auc"
    assert diagnose_lines(lines).category == "code_error"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"id": "x", "pattern": "a", "category": "bogus"}, "unknown category 'bogus'"),
        ({"id": "x", "pattern": "(", "category": "gpu_oom"}, "invalid pattern"),
        ({"id": "x", "pattern": "a", "category": "gpu_oom", "priority": 500}, "outside 0..100"),
        ({"id": "x", "pattern": "a", "category": "gpu_oom", "colour": 1}, "unknown keys"),
        ({"pattern": "a", "category": "gpu_oom"}, "must be strings"),
    ],
    ids=["category", "pattern", "priority", "unknown-key", "missing-id"],
)
def test_invalid_repository_rules_name_the_problem(entry: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        rules_from_config([entry])


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_run_log_zip_uses_job_files_and_names_the_job() -> None:
    data = _zip(
        {
            "1_lint.txt": b"All checks passed!\n",
            "2_train.txt": b"ok\nModuleNotFoundError: No module named 'cv2'\n",
            "train/3_Run tests.txt": b"ModuleNotFoundError: No module named 'cv2'\n",
        }
    )
    diagnosis = diagnose_bytes(data)
    assert diagnosis.category == "missing_dependency"
    assert diagnosis.params["log_file"] == "2_train.txt"
    assert diagnosis.params["package"] == "opencv-python"
    assert diagnosis.evidence[0].line == 2


def test_run_log_zip_of_step_files_names_the_step() -> None:
    data = _zip({"train/1_Set up job.txt": b"ok\n", "train/4_Run tests.txt": b"\n\nKilled\n"})
    diagnosis = diagnose_bytes(data)
    assert diagnosis.category == "host_oom"
    assert diagnosis.params["step"] == "tests"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=400), max_size=8))
def test_line_numbers_do_not_depend_on_how_the_stream_is_chunked(cuts: list[int]) -> None:
    text = b"".join(b"line %d\n" % i for i in range(300)) + b"No space left on device\n"
    positions = sorted({min(cut * 8, len(text)) for cut in cuts})
    pieces = [text[a:b] for a, b in zip([0, *positions], [*positions, len(text)], strict=True)]
    source = LogSource(None, blocks_from_chunks(pieces))
    rules = DEFAULT_RULES
    diagnosis = select_root_cause(scan_sources(iter([source]), rules, compile_matcher(rules)))
    assert diagnosis.category == "disk_full"
    assert [item.line for item in diagnosis.evidence] == [301]


def test_re2_fallback_agrees_with_hyperscan_on_the_training_corpus() -> None:
    labels = json.loads((CORPUS / "labels.json").read_text())
    names = sorted(name for name, label in labels.items() if label["split"] == "train")[::3]
    rules = DEFAULT_RULES
    for name in names:
        results = []
        for backend in ("hyperscan", "re2"):
            sources = sources_from_path(CORPUS / "logs" / name)
            scan = scan_sources(sources, rules, compile_matcher(rules, backend))
            results.append(select_root_cause(scan).as_json())
        assert results[0] == results[1], name


@pytest.mark.parametrize(
    ("lines", "category", "params"),
    [
        (
            ["ERROR: failed to solve: write /var/lib/x/libtorch.so: no space left on device"],
            "disk_full",
            {},
        ),
        (
            [
                "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, "
                "status=None)) after connection broken by "
                "'ReadTimeoutError(\"...\")': /simple/torch/",
                "ERROR: Could not find a version that satisfies the requirement torch (from "
                "versions: none)",
                "ERROR: No matching distribution found for torch",
            ],
            "network_transient",
            {"error": "ReadTimeoutError"},
        ),
        (
            [
                "E       AssertionError: request should not timeout: got 504 Gateway Timeout",
                "FAILED tests/test_client.py::test_retry - AssertionError: got 504 Gateway Timeout",
            ],
            "test_failure",
            {"test_ids": ["tests/test_client.py::test_retry"]},
        ),
        (
            ["ImportError: Missing optional dependency 'openpyxl'.  Use pip or conda to install."],
            "missing_dependency",
            {"package": "openpyxl"},
        ),
        (
            ["ImportError: Using the `Trainer` with `PyTorch` requires `accelerate>=0.20.1`: ..."],
            "missing_dependency",
            {"package": "accelerate", "spec": ">=0.20.1"},
        ),
        (
            ["MemoryError: Unable to allocate 201. GiB for an array with shape (2999, 2999)"],
            "host_oom",
            {"requested_bytes": 201 << 30},
        ),
    ],
    ids=[
        "lowercase-no-space",
        "pip-retries-exhausted-is-network",
        "assertion-quoting-a-timeout-is-a-test-failure",
        "pandas-optional-dependency",
        "transformers-requires-package",
        "numpy-size-with-trailing-dot",
    ],
)
def test_real_formats(lines: list[str], category: str, params: dict[str, object]) -> None:
    diagnosis = diagnose_lines(lines)
    assert diagnosis.category == category
    assert {key: diagnosis.params.get(key) for key in params} == params
