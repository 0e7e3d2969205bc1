"""Edits to GitHub Actions workflow files."""

from __future__ import annotations

from ruamel.yaml.comments import CommentedMap

from self_healing_bot.edits.error import EditError
from self_healing_bot.edits.structured import dump_round_trip, load_round_trip

# GitHub's own ceiling for a job on a self-hosted runner (hosted runners stop at 360).
MAX_TIMEOUT_MINUTES = 4320


def workflow_timeout(text: str, job: str, minutes: int) -> str:
    """Set `timeout-minutes` on `job`, found by its id or its `name:`; placed after `runs-on`.

    >>> workflow_timeout("jobs:\\n  train:\\n    runs-on: gpu\\n", "train", 90)
    'jobs:\\n  train:\\n    runs-on: gpu\\n    timeout-minutes: 90\\n'
    """
    if not 1 <= minutes <= MAX_TIMEOUT_MINUTES:
        raise EditError(
            f"timeout-minutes must be between 1 and {MAX_TIMEOUT_MINUTES}, not {minutes}"
        )
    yaml, root = load_round_trip(text)
    jobs = root.get("jobs") if isinstance(root, dict) else None
    if not isinstance(jobs, dict):
        raise EditError("the workflow has no 'jobs' mapping")
    matches = [
        body
        for job_id, body in jobs.items()
        if isinstance(body, CommentedMap) and job in (job_id, body.get("name"))
    ]
    if not matches:
        raise EditError(
            f"job {job!r} not found; the workflow has jobs: {', '.join(map(str, jobs))}"
        )
    body = matches[0]
    if "timeout-minutes" in body:
        body["timeout-minutes"] = minutes
    else:
        keys = list(body)
        position = keys.index("runs-on") + 1 if "runs-on" in keys else 0
        body.insert(position, "timeout-minutes", minutes)
    return dump_round_trip(yaml, root, text)
