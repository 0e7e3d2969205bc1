"""What became of an incident, decided from the bot's own records (never assumed).

An incident is a commit; the deliveries that mention it (its push, its runs, their re-runs)
lead to the repair the bot opened for it, whose state is the incident's end state. Without a
repair, once every such delivery was processed and the sandbox is quiet, the end state is what
the bot's execution recorded (for example `no_detection`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from self_healing_bot.storage.repairs import FINAL_STATES

TIMEOUT = "timeout"
_FINISHED_DELIVERIES = frozenset({"done", "failed", "dead"})
_COMMIT_FIELDS = (
    ("after",),
    ("workflow_run", "head_sha"),
    ("workflow_job", "head_sha"),
    ("check_run", "head_sha"),
    ("check_suite", "head_sha"),
)


@dataclass(frozen=True)
class DeliveryRecord:
    delivery_id: str
    status: str
    payload: Mapping[str, Any]
    end_state: str | None  # of its latest execution


@dataclass(frozen=True)
class RepairRecord:
    delivery_id: str
    state: str
    category: str
    playbook: str | None
    pull_request: int | None
    issue: int | None
    rerun_run_id: int | None


@dataclass(frozen=True)
class Outcome:
    """An incident's result as the summary shows it; `url` is a PR, issue or run page."""

    end_state: str
    diagnosis: str
    action: str
    url: str


def mentions_commit(payload: Mapping[str, Any], sha: str) -> bool:
    """True when a webhook payload is about commit `sha` (a push of it, or a run on it)."""
    for path in _COMMIT_FIELDS:
        node: Any = payload
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node == sha:
            return True
    return False


def incident_outcome(
    sha: str,
    deliveries: Sequence[DeliveryRecord],
    repairs: Iterable[RepairRecord],
    html_root: str,
    quiet: bool,
) -> Outcome | None:
    """The incident's outcome, or None while the bot is still working on it.

    `quiet` says the sandbox has no CI run pending and no webhook unsent; `html_root` is the
    sandbox's `https://github.com/<owner>/<repo>` equivalent.
    """
    related = [delivery for delivery in deliveries if mentions_commit(delivery.payload, sha)]
    related_ids = {delivery.delivery_id for delivery in related}
    found = [repair for repair in repairs if repair.delivery_id in related_ids]
    if found:
        repair = found[0]
        if repair.state not in FINAL_STATES:
            return None
        return Outcome(repair.state, repair.category, _action(repair), _url(repair, html_root))
    if not quiet or not related or any(d.status not in _FINISHED_DELIVERIES for d in related):
        return None
    states = [d.end_state for d in related if d.end_state not in (None, "ignored")]
    return Outcome(states[-1] if states else "ignored", "", "none", "")


def summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The `demo --json` document (INTERFACES.md) for rows of incident results."""
    incidents = [
        {
            key: row[key]
            for key in (
                "name",
                "diagnosis",
                "action",
                "url",
                "end_state",
                "expected_end_state",
                "seconds",
            )
        }
        for row in rows
    ]
    return {
        "incidents": incidents,
        "all_expected": bool(incidents)
        and all(row["end_state"] == row["expected_end_state"] for row in incidents),
    }


def _action(repair: RepairRecord) -> str:
    made = []
    if repair.pull_request is not None:
        made.append(f"pull request #{repair.pull_request}")
    if repair.issue is not None:
        made.append(f"issue #{repair.issue}")
    if repair.rerun_run_id is not None:
        made.append(f"re-ran run {repair.rerun_run_id}")
    done = ", ".join(made) or "no change"
    return f"{repair.playbook}: {done}" if repair.playbook else done


def _url(repair: RepairRecord, html_root: str) -> str:
    if repair.pull_request is not None:
        return f"{html_root}/pull/{repair.pull_request}"
    if repair.issue is not None:
        return f"{html_root}/issues/{repair.issue}"
    if repair.rerun_run_id is not None:
        return f"{html_root}/actions/runs/{repair.rerun_run_id}"
    return ""
