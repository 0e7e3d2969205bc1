"""The executor's pure decisions on forks, recurrences and whose pull requests count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.core.remediation import bot_pull_requests, repair_level, with_occurrences
from self_healing_bot.detectors.registry import Detection
from self_healing_bot.github.models import PullRequest
from self_healing_bot.repo_config import load_repo_config
from self_healing_bot.storage.detections import SignatureHistory

AUTO = load_repo_config("automation:\n  default: auto\n")


@pytest.mark.parametrize(
    ("fork", "expected"), [(False, AutomationLevel.AUTO), (True, AutomationLevel.SUGGEST)]
)
def test_a_fork_event_is_only_ever_suggested(fork: bool, expected: AutomationLevel) -> None:
    assert repair_level(AUTO, "test_failure", fork=fork) is expected


def _history(count: int) -> SignatureHistory:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return SignatureHistory(
        "octo/ml", "test_failure:1", "test_failure", now, now, count, (), False, False
    )


@pytest.mark.parametrize(("history", "expected"), [(None, 1), (_history(1), 1), (_history(3), 3)])
def test_occurrences_come_from_the_signature_history(
    history: SignatureHistory | None, expected: int
) -> None:
    detection = Detection(
        detector_id="pipeline_failure", category="test_failure", signature="test_failure:1"
    )
    assert with_occurrences(detection, history).occurrences == expected


def _pull(number: int, head: str, state: str = "open") -> PullRequest:
    return PullRequest(number, state, "t", "", head, "a" * 40, "main", "", False)


def test_only_open_pull_requests_from_bot_branches_count() -> None:
    pulls = [
        _pull(1, "self-healing-bot/gpu_oom/3f2a9c01"),
        _pull(2, "feature/self-healing-bot"),
        _pull(3, "self-healing-bot/test_failure/1", state="closed"),
    ]
    assert [pull.number for pull in bot_pull_requests(pulls)] == [1]
