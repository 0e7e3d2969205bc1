"""Cron schedules in the repository config: five fields, minute granularity, UTC.

Parsing is cronsim's (it follows Debian's cron); we only insist on the classic five fields,
because a scheduled run is keyed by its minute, and on an expression that ever fires.

    >>> latest_slot("*/15 * * * *", datetime(2026, 1, 1, 12, 20, tzinfo=UTC))
    datetime.datetime(2026, 1, 1, 12, 15, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cronsim import CronSim, CronSimError

FIELDS = "minute hour day-of-month month day-of-week"


class CronExpressionError(ValueError):
    """A schedule is not a five-field cron expression that ever fires."""


def validate_cron(expression: str) -> str:
    """The expression, whitespace-normalised; raises `CronExpressionError` saying what is wrong.

    >>> validate_cron("0  3 * * 1")
    '0 3 * * 1'
    """
    fields = expression.split()
    if len(fields) != 5:
        raise CronExpressionError(
            f"cron expression {expression!r} has {len(fields)} fields; "
            f"use five: {FIELDS} (e.g. '0 3 * * *' for 03:00 UTC daily)"
        )
    normalised = " ".join(fields)
    try:
        next(CronSim(normalised, datetime(2000, 1, 1, tzinfo=UTC)))
    except CronSimError as error:
        raise CronExpressionError(f"cron expression {normalised!r}: {error}") from error
    except StopIteration as error:
        raise CronExpressionError(
            f"cron expression {normalised!r} never fires (no matching date)"
        ) from error
    return normalised


def latest_slot(expression: str, now: datetime) -> datetime:
    """The latest minute at or before `now` (UTC) that the expression names."""
    start = now.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    # reverse=True yields the slots strictly before `start`, newest first.
    return next(CronSim(expression, start, reverse=True))
