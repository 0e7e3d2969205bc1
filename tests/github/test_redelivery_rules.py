"""Which deliveries the recovery job asks GitHub to send again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from self_healing_bot.github.models import HookDelivery
from self_healing_bot.github.redelivery import missed_deliveries

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def attempt(
    guid: str, minutes_ago: float, status_code: int, redelivery: bool = False, id: int = 0
) -> HookDelivery:
    return HookDelivery(
        id=id or abs(hash((guid, minutes_ago))) % 10_000_000,
        guid=guid,
        delivered_at=NOW - timedelta(minutes=minutes_ago),
        redelivery=redelivery,
        status_code=status_code,
        event="workflow_run",
        action="completed",
    )


@pytest.mark.parametrize(
    ("attempts", "known", "expected_guids"),
    [
        ([attempt("a", 5, 200)], {"a"}, []),
        ([attempt("a", 5, 0)], set(), ["a"]),  # failed (bot down) and unknown
        ([attempt("a", 5, 502)], {"a"}, ["a"]),  # failed by GitHub's record
        ([attempt("a", 5, 200)], set(), ["a"]),  # 2xx but never stored (e.g. a proxy answered)
        ([attempt("a", 5, 0), attempt("a", 3, 0, redelivery=True)], set(), []),  # asked once
        ([attempt("a", 60 * 24 * 3 + 1, 0)], set(), []),  # outside GitHub's 3-day window
        ([attempt("b", 1, 0), attempt("a", 9, 0), attempt("c", 4, 200)], {"c"}, ["a", "b"]),
    ],
)
def test_missed_deliveries(
    attempts: list[HookDelivery], known: set[str], expected_guids: list[str]
) -> None:
    assert [d.guid for d in missed_deliveries(attempts, known, now=NOW)] == expected_guids


def test_the_original_attempt_is_the_one_redelivered() -> None:
    original = attempt("a", 9, 0, id=11)
    retried_by_hand_elsewhere = attempt("a", 2, 0, id=12)
    assert missed_deliveries([retried_by_hand_elsewhere, original], set(), now=NOW) == [original]
