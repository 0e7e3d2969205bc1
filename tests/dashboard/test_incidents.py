"""Success rate, MTTR, daily figures and signature counts over plain incidents."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from self_healing_bot.web.dashboard.incidents import (
    Finding,
    Incident,
    by_signature,
    findings_of,
    human_duration,
    summarize,
)

DAY = datetime(2024, 5, 14, 9, 0, tzinfo=UTC)


def incident(
    received: datetime, end_state: str | None, seconds: float = 60, signature: str = "s1"
) -> Incident:
    return Incident(
        execution_id=int(received.timestamp()) + len(signature),
        delivery_id=f"d-{received.isoformat()}-{signature}",
        repository="octo/train",
        event="workflow_run",
        received_at=received,
        finished_at=received + timedelta(seconds=seconds) if end_state else None,
        end_state=end_state,
        findings=(Finding("pipeline_failure", "cuda_oom", signature),),
    )


@pytest.mark.parametrize(
    ("case", "incidents", "rate", "mttr", "today_counts"),
    [
        ("none", [], None, None, (0, 0)),
        ("one healed", [incident(DAY, "verified", 30)], 1.0, 30.0, (1, 1)),
        (
            "healed and escalated: only healed count towards MTTR",
            [incident(DAY, "verified", 30), incident(DAY, "escalated", 3000)],
            0.5,
            30.0,
            (2, 1),
        ),
        (
            "rolled back and remediated are healed; in progress is not",
            [
                incident(DAY, "rolled_back", 10),
                incident(DAY, "remediated", 50),
                incident(DAY, None),
            ],
            2 / 3,
            30.0,
            (3, 2),
        ),
        (
            "yesterday counts in the totals but not today",
            [incident(DAY - timedelta(days=1), "verified", 90)],
            1.0,
            90.0,
            (0, 0),
        ),
        (
            "older than the window: in totals, in no day",
            [incident(DAY - timedelta(days=20), "failed")],
            0.0,
            None,
            (0, 0),
        ),
    ],
)
def test_summarize(
    case: str,
    incidents: list[Incident],
    rate: float | None,
    mttr: float | None,
    today_counts: tuple[int, int],
) -> None:
    overview = summarize(incidents, today=date(2024, 5, 14), days=14)
    if rate is None:
        assert overview.success_rate is None, case
    else:
        assert overview.success_rate == pytest.approx(rate), case
    assert overview.mttr_seconds == mttr, case
    assert len(overview.daily) == 14
    assert overview.daily[0].day == date(2024, 5, 1) and overview.daily[-1].day == DAY.date()
    assert (overview.daily[-1].incidents, overview.daily[-1].healed) == today_counts, case
    assert sum(day.incidents for day in overview.daily) <= overview.incidents


def test_a_day_without_incidents_has_no_success_rate_rather_than_zero() -> None:
    overview = summarize([incident(DAY, "verified")], today=date(2024, 5, 14), days=2)
    assert [day.success_rate for day in overview.daily] == [None, 1.0]


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        ({}, ()),
        ({"detect": {"status": "skipped", "detail": {"reason": "x"}}}, ()),
        ({"detect": {"detail": {"detections": None}}}, ()),
        ({"detect": {"detail": {"detections": ["garbage", {"signature": ""}]}}}, ()),
        (
            {"detect": {"detail": {"detections": [{"signature": "s", "category": "oom"}]}}},
            (Finding("", "oom", "s"),),
        ),
    ],
)
def test_findings_of_reads_what_the_detect_stage_recorded(
    stages: dict[str, object], expected: tuple[Finding, ...]
) -> None:
    assert findings_of(stages) == expected  # type: ignore[arg-type]


def test_by_signature_counts_occurrences_most_frequent_first() -> None:
    rows = by_signature(
        [
            incident(DAY - timedelta(days=2), "verified", signature="rare"),
            incident(DAY - timedelta(days=1), "escalated", signature="common"),
            incident(DAY, "verified", signature="common"),
        ]
    )
    assert [(row.signature, row.occurrences, row.healed) for row in rows] == [
        ("common", 2, 1),
        ("rare", 1, 1),
    ]
    assert rows[0].first_seen == DAY - timedelta(days=1) and rows[0].last_seen == DAY


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0.25, "250 ms"), (42, "42 s"), (185, "3 min 5 s"), (7440, "2 h 4 min")],
)
def test_human_duration(seconds: float | None, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    ("case", "end_state", "repair_state", "repaired_in", "healed", "seconds"),
    [
        ("the repair's own time wins", "verified", "verified", 42.0, True, 42.0),
        (
            "verified after its execution ended",
            "awaiting_verification",
            "verified",
            42.0,
            True,
            42.0,
        ),
        ("no repair time: reception to the end", "verified", None, None, True, 60.0),
        ("an escalated repair is not healed", "escalated", "escalated", None, False, None),
    ],
)
def test_repairs_decide_healing_and_repair_time(
    case: str,
    end_state: str,
    repair_state: str | None,
    repaired_in: float | None,
    healed: bool,
    seconds: float | None,
) -> None:
    base = incident(DAY, end_state, 60)
    item = dataclasses.replace(base, repair_state=repair_state, repaired_in_seconds=repaired_in)
    assert (item.healed, item.repair_seconds) == (healed, seconds), case
