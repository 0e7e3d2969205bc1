"""The executor's pure decisions: whose branch and whose code."""

from __future__ import annotations

from typing import Any

import pytest

from self_healing_bot.core.remediation import from_fork, is_bot_branch


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("self-healing-bot/gpu_oom/3f2a9c01", True),
        ("self-healing-bot", False),
        ("main", False),
        ("feature/self-healing-bot/x", False),
        (None, False),
    ],
)
def test_is_bot_branch(branch: str | None, expected: bool) -> None:
    assert is_bot_branch(branch) is expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {
                "repository": {"full_name": "octo/ml"},
                "workflow_run": {"head_repository": {"full_name": "carol/ml"}},
            },
            True,
        ),
        (
            {
                "repository": {"full_name": "octo/ml"},
                "workflow_run": {"head_repository": {"full_name": "octo/ml"}},
            },
            False,
        ),
        ({"repository": {"full_name": "octo/ml"}, "workflow_run": {}}, False),
        ({"repository": {"full_name": "octo/ml"}}, False),
        ({"workflow_run": {"head_repository": {"full_name": "carol/ml"}}}, False),
    ],
    ids=["fork", "same-repository", "no-head-repository", "not-a-run", "no-repository"],
)
def test_from_fork(payload: dict[str, Any], expected: bool) -> None:
    assert from_fork(payload) is expected
