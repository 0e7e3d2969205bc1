"""`detectors.data_drift.schedule`: a five-field cron expression, or a config error with the
file, the line and what to write instead."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from self_healing_bot.repo_config.cron import latest_slot
from self_healing_bot.repo_config.loading import ConfigError, load_repo_config

HEADER = "paths:\n  data: [ref.csv, cur.csv]\ndetectors:\n"


@pytest.mark.parametrize(
    ("detectors", "line", "reason"),
    [
        ("  data_drift:\n    schedule: '61 * * * *'\n", 5, "Bad minute"),
        ("  data_drift:\n    schedule: '0 3 * *'\n", 5, "has 4 fields; use five"),
        ("  data_drift:\n    schedule: '*/15 * * * * *'\n", 5, "has 6 fields; use five"),
        ("  data_drift:\n    schedule: '@daily'\n", 5, "has 1 fields; use five"),
        ("  data_drift:\n    schedule: '0 0 30 2 *'\n", 5, "Bad day-of-month"),
        ("  data_drift:\n    schedule: '* * */20 * 1L'\n", 5, "never fires"),
        ("  model_degradation:\n    schedule: '0 3 * * *'\n", 3, "only data_drift runs"),
    ],
    ids=["bad minute", "four fields", "seconds", "nickname", "feb 30", "never", "other detector"],
)
def test_a_bad_schedule_is_a_config_error_on_its_line(
    detectors: str, line: int, reason: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_repo_config(HEADER + detectors)
    [problem] = raised.value.problems
    assert (problem.file, problem.line) == (".github/self-healing-bot.yml", line)
    assert reason in problem.reason


def test_a_valid_schedule_is_kept_normalised() -> None:
    config = load_repo_config(HEADER + "  data_drift:\n    schedule: ' 0  6 * * MON'\n")
    assert config.detectors["data_drift"].schedule == "0 6 * * MON"


@pytest.mark.parametrize(
    ("expression", "now", "slot"),
    [
        ("*/15 * * * *", "2026-03-02T12:14:59", "2026-03-02T12:00:00"),
        ("*/15 * * * *", "2026-03-02T12:15:00", "2026-03-02T12:15:00"),
        ("*/15 * * * *", "2026-03-02T12:15:59.900", "2026-03-02T12:15:00"),
        ("0 6 * * MON", "2026-03-04T00:00:00", "2026-03-02T06:00:00"),
    ],
)
def test_latest_slot_is_the_last_minute_at_or_before_now(
    expression: str, now: str, slot: str
) -> None:
    moment = datetime.fromisoformat(now).replace(tzinfo=UTC)
    assert latest_slot(expression, moment) == datetime.fromisoformat(slot).replace(tzinfo=UTC)
