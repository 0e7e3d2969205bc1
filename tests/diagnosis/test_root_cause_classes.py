"""Root-cause classes that the words alone do not decide, and the parameters playbooks read.

An `AttributeError` is the project's bug, or a library's API break when the object is the
library's; a `KeyError` is a missing config key, or a missing column when pandas raised it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from self_healing_bot.diagnosis import CATEGORIES, diagnose_lines

PLAYBOOKS = Path(__file__).parents[2] / "self_healing_bot" / "playbooks"
PROJECT = "/home/runner/work/shop/shop"
SITE = "/opt/hostedtoolcache/Python/3.11.9/x64/lib/python3.11/site-packages"


def _traceback(*frames: str) -> list[str]:
    lines = ["Traceback (most recent call last):"]
    for frame in frames:
        path, line, function = frame.split(":")
        lines += [f'  File "{path}", line {line}, in {function}', "    call()"]
    return lines


@pytest.mark.parametrize(
    ("lines", "category", "params"),
    [
        (
            [
                "Successfully installed numpy-1.26.4 pandas-2.0.0",
                *_traceback(
                    f"{PROJECT}/src/report.py:41:build",
                    f"{SITE}/pandas/core/generic.py:6299:__getattr__",
                ),
                "AttributeError: 'DataFrame' object has no attribute 'append'. "
                "Did you mean: '_append'?",
            ],
            "dependency_api_change",
            {
                "package": "pandas",
                "installed_version": "2.0.0",
                "version": "2.0.0",
                "file": "src/report.py",
                "line": 41,
            },
        ),
        (
            [
                f"Requirement already satisfied: numpy in {SITE} (1.24.0)",
                *_traceback(
                    f"{PROJECT}/train.py:12:main", f"{SITE}/numpy/__init__.py:324:__getattr__"
                ),
                "AttributeError: module 'numpy' has no attribute 'float'.",
            ],
            "dependency_api_change",
            {"package": "numpy", "installed_version": "1.24.0", "version": "1.24.0"},
        ),
        (
            [
                *_traceback(f"{PROJECT}/data/coco.py:9:<module>"),
                "ModuleNotFoundError: No module named 'torch._six'",
            ],
            "dependency_api_change",
            {"package": "torch", "module": "torch._six"},
        ),
        (
            ["ModuleNotFoundError: No module named 'torchvision.transforms.v2'"],
            "missing_dependency",
            {"package": "torchvision"},
        ),
        (
            [
                *_traceback(f"{PROJECT}/src/eval.py:30:score"),
                "AttributeError: 'NoneType' object has no attribute 'shape'",
            ],
            "code_error",
            {"file": "src/eval.py", "line": 30},
        ),
        (
            [*_traceback(f"{PROJECT}/src/config.py:18:load_config"), "KeyError: 'lr'"],
            "code_error",
            {"key": "lr", "file": "src/config.py", "line": 18},
        ),
        (
            [
                *_traceback(
                    f"{PROJECT}/src/fit.py:27:<module>",
                    f"{SITE}/pandas/core/indexes/base.py:3812:get_loc",
                ),
                "KeyError: 'target'",
            ],
            "data_validation",
            {"column": "target", "file": "src/fit.py"},
        ),
        (
            ["KeyError: \"['petal_width'] not in index\""],
            "data_validation",
            {"column": "petal_width"},
        ),
    ],
    ids=[
        "pandas-object-api-break",
        "numpy-module-api-break",
        "private-submodule-removed",
        "public-submodule-missing",
        "none-attribute-is-a-bug",
        "config-keyerror-is-a-bug",
        "keyerror-raised-by-pandas",
        "pandas-not-in-index",
    ],
)
def test_category_and_parameters(lines: list[str], category: str, params: dict[str, Any]) -> None:
    diagnosis = diagnose_lines(lines)
    assert diagnosis.category == category
    assert {key: diagnosis.params.get(key) for key in params} == params


# One representative failure per playbook category, as its tool prints it.
_REPRESENTATIVE = {
    "dependency_api_change": [
        "Successfully installed jax-0.4.14 jaxlib-0.4.14",
        "AttributeError: module 'jax.numpy' has no attribute 'DeviceArray'",
    ],
    "dependency_resolution": [
        "ERROR: Could not find a version that satisfies the requirement torch==2.9.1 "
        "(from versions: 2.4.0, 2.5.1)",
        "ERROR: No matching distribution found for torch==2.9.1",
    ],
    "missing_dependency": ["ModuleNotFoundError: No module named 'cv2'"],
    "cuda_error": [
        "[rank0]:[E311 08:51:08.408271257 ProcessGroupNCCL.cpp:607] [Rank 0] Watchdog caught "
        "collective operation timeout: WorkNCCL(SeqNum=1580, OpType=ALLREDUCE) ran for 600060 "
        "milliseconds before timing out."
    ],
    "data_missing": [
        "OSError: We couldn't connect to 'https://huggingface.co' to load this file, couldn't "
        "find it in the cached files and it looks like acme/bert-tiny is not the path to a "
        "directory containing a file named config.json."
    ],
    "timeout": [
        "##[error]The job running on runner GitHub Actions 3 has exceeded the maximum execution "
        "time of 45 minutes."
    ],
    "code_error": [
        *_traceback(f"{PROJECT}/src/train.py:7:main"),
        "NameError: name 'np' is not defined",
    ],
}
# Set by the pipeline detector from the event, not by the diagnosis of the log.
_FROM_THE_EVENT = {"job"}


def _params_read_by(playbook: Path) -> tuple[str, set[str]]:
    text = playbook.read_text()
    category = re.search(r"categories: \[(\w+)\]", text)
    assert category is not None, playbook
    return category.group(1), set(re.findall(r"detection\.params\.(\w+)", text)) - _FROM_THE_EVENT


@pytest.mark.parametrize(
    "playbook",
    [
        p
        for p in sorted(PLAYBOOKS.glob("*.yml"))
        if _params_read_by(p)[1] and _params_read_by(p)[0] in CATEGORIES
    ],
    ids=lambda p: p.stem,
)
def test_every_parameter_a_playbook_reads_is_produced_for_its_category(playbook: Path) -> None:
    category, read = _params_read_by(playbook)
    diagnosis = diagnose_lines(_REPRESENTATIVE[category])
    assert diagnosis.category == category
    assert read - set(diagnosis.params) == set()
