"""Incidents as the dashboard counts them, and the figures over them (pure functions).

An incident is a delivery whose latest execution detected something. It is healed when that
execution, or the repair it planned, ended in one of `HEALED_STATES`. Its repair time is the
repair's own, from the failure to the verified fix, where the repair recorded it; otherwise it
runs from the webhook's reception to the end of that execution.

    overview = summarize(incidents, today=date(2024, 5, 14), days=14)
    overview.success_rate, overview.mttr_seconds, overview.daily[-1].incidents
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import fmean
from typing import Any

HEALED_STATES = frozenset({"verified", "rolled_back", "remediated"})


@dataclass(frozen=True)
class Finding:
    """One detection as the execution's `detect` stage recorded it."""

    detector: str
    category: str
    signature: str


@dataclass(frozen=True)
class Incident:
    execution_id: int
    delivery_id: str
    repository: str | None
    event: str
    received_at: datetime
    finished_at: datetime | None
    end_state: str | None
    findings: tuple[Finding, ...]
    repair_state: str | None = None
    repaired_in_seconds: float | None = None  # the repair's failure-to-verified time

    @property
    def healed(self) -> bool:
        return self.end_state in HEALED_STATES or self.repair_state in HEALED_STATES

    @property
    def repair_seconds(self) -> float | None:
        """The repair's recorded time, else reception to the end of processing; healed only."""
        if not self.healed:
            return None
        if self.repaired_in_seconds is not None:
            return max(0.0, self.repaired_in_seconds)
        if self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.received_at).total_seconds())


def findings_of(stages: dict[str, Any]) -> tuple[Finding, ...]:
    """The detections an execution's `stages` record lists; () when nothing was detected.

    >>> findings_of({"detect": {"detail": {"detections": [
    ...     {"detector": "ci", "category": "cuda_oom", "signature": "a1"}]}}})
    (Finding(detector='ci', category='cuda_oom', signature='a1'),)
    """
    detail = (stages.get("detect") or {}).get("detail") or {}
    return tuple(
        Finding(
            str(item.get("detector", "")), str(item.get("category", "")), str(item["signature"])
        )
        for item in detail.get("detections") or []
        if isinstance(item, dict) and item.get("signature")
    )


@dataclass(frozen=True)
class DayFigures:
    day: date
    incidents: int
    healed: int
    mttr_seconds: float | None

    @property
    def success_rate(self) -> float | None:
        return self.healed / self.incidents if self.incidents else None


@dataclass(frozen=True)
class Overview:
    incidents: int
    healed: int
    mttr_seconds: float | None
    daily: tuple[DayFigures, ...]

    @property
    def success_rate(self) -> float | None:
        return self.healed / self.incidents if self.incidents else None


def _mttr(incidents: Iterable[Incident]) -> float | None:
    times = [seconds for item in incidents if (seconds := item.repair_seconds) is not None]
    return fmean(times) if times else None


def summarize(incidents: Sequence[Incident], today: date, days: int) -> Overview:
    """Totals over `incidents`, and one `DayFigures` per day of the `days` ending `today`."""
    first = today - timedelta(days=days - 1)
    by_day: dict[date, list[Incident]] = {first + timedelta(days=n): [] for n in range(days)}
    for incident in incidents:
        bucket = by_day.get(incident.received_at.date())
        if bucket is not None:
            bucket.append(incident)
    daily = tuple(
        DayFigures(day, len(items), sum(item.healed for item in items), _mttr(items))
        for day, items in by_day.items()
    )
    return Overview(
        incidents=len(incidents),
        healed=sum(item.healed for item in incidents),
        mttr_seconds=_mttr(incidents),
        daily=daily,
    )


@dataclass(frozen=True)
class SignatureFigures:
    """How often one failure signature occurred, and how it ended."""

    signature: str
    category: str
    repositories: tuple[str, ...]
    occurrences: int
    healed: int
    first_seen: datetime
    last_seen: datetime
    last_execution_id: int


def by_signature(incidents: Iterable[Incident]) -> list[SignatureFigures]:
    """One row per failure signature, the most frequent first."""
    groups: dict[str, list[Incident]] = {}
    categories: dict[str, str] = {}
    for incident in incidents:
        for finding in incident.findings:
            groups.setdefault(finding.signature, []).append(incident)
            categories.setdefault(finding.signature, finding.category)
    rows = []
    for signature, items in groups.items():
        latest = max(items, key=lambda item: item.received_at)
        rows.append(
            SignatureFigures(
                signature=signature,
                category=categories[signature],
                repositories=tuple(sorted({item.repository or "-" for item in items})),
                occurrences=len(items),
                healed=sum(item.healed for item in items),
                first_seen=min(item.received_at for item in items),
                last_seen=latest.received_at,
                last_execution_id=latest.execution_id,
            )
        )
    return sorted(rows, key=lambda row: (-row.occurrences, row.signature))


def human_duration(seconds: float | None) -> str:
    """'-', '850 ms', '42 s', '3 min 5 s', '2 h 4 min'.

    >>> human_duration(185)
    '3 min 5 s'
    """
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
