"""A repair that dispatched a workflow (data drift's retraining) follows that run to its
conclusion, in process against the sandbox: the run passes or fails by the simulated CI's rule
over the commit it runs on."""

from __future__ import annotations

import pytest

from self_healing_bot.sandbox.ci_rules import JobSpec
from tests.core.remediation_fixtures import remediation, repairs, settle
from tests.detectors.drift_fixtures import table_csv
from tests.detectors.pipeline_fixtures import (
    CONFIG,
    REPO,
    Bot,
    bot,
    detectors_loaded,
    org_config,
    sqlite_url,
)

__all__ = ["bot", "detectors_loaded", "org_config", "remediation", "sqlite_url"]

DRIFT_CONFIG = """\
automation:
  default: auto
paths:
  data: [data/reference.csv, data/current.csv]
retraining:
  workflow: retrain.yml
"""
RETRAIN_LOG = """\
##[group]Run python retrain.py
ValueError: label column 'churned' is missing from data/current.csv
##[error]Process completed with exit code 1.
"""
# Retraining whose failure pages through a compensation: the escalation lands in its issue.
RETRAIN_OR_PAGE = """\
name: retrain-or-page
trigger:
  categories: [data_drift]
steps:
  - uses: dispatch_workflow
    with: {workflow: retrain.yml}
on_failure:
  - uses: create_or_update_issue
    with:
      key: "retraining-{{ detection.signature }}"
      title: Retraining failed
      body: "{{ report }}"
"""


def _issues(bot: Bot) -> dict[int, str]:
    repository = bot.sandbox.repository(REPO)
    return {n: issue.title for n, issue in repository.issues.items() if not issue.is_pull_request}


def _add_retraining(bot: Bot) -> None:
    """A dispatch-only workflow that fails when retrain.py hands it no labels."""
    retrain = JobSpec.parse(
        {
            "name": "retrain",
            "failures": [{"when": {"file": "retrain.py", "contains": "None"}, "log": RETRAIN_LOG}],
        }
    )
    bot.sandbox.add_workflow(REPO, "retrain", [retrain], triggers=("workflow_dispatch",))


def _drifted(files: dict[str, str]) -> dict[str, bytes | str | None]:
    return {
        "data/reference.csv": table_csv(600, seed=1),
        "data/current.csv": table_csv(600, shift=1.5, seed=3),
        **files,
    }


def _comments(bot: Bot, number: int) -> list[str]:
    repository = bot.sandbox.repository(REPO)
    return [c.body for c in repository.comments.values() if c.issue_number == number]


@pytest.mark.parametrize(
    ("retrain_script", "state", "said"),
    [
        ("train(labels='churned')\n", "verified", "The dispatched workflow run succeeded"),
        ("train(labels=None)\n", "escalated", "The dispatched workflow run did not succeed"),
    ],
    ids=["retraining-passes", "retraining-fails"],
)
async def test_drift_dispatches_retraining_and_follows_the_run(
    bot: Bot, retrain_script: str, state: str, said: str
) -> None:
    _add_retraining(bot)
    bot.push(_drifted({CONFIG: DRIFT_CONFIG, "retrain.py": retrain_script}))
    await settle(bot)

    (repair,) = await repairs(bot)
    assert (repair.category, repair.playbook, repair.state) == ("data_drift", "data-drift", state)
    (run,) = bot.sandbox.repository(REPO).runs.values()
    assert run.event == "workflow_dispatch" and repair.dispatched_run_id == run.id
    assert repair.dispatched_run_url is not None
    assert repair.dispatched_run_url.endswith(f"/{REPO}/actions/runs/{run.id}")
    # one issue, the drift report's: a failed retraining is neither a second repair nor issue
    assert repair.issue is not None and list(_issues(bot)) == [repair.issue]
    (comment,) = _comments(bot, repair.issue)
    assert said in comment and repair.dispatched_run_url in comment
    assert (repair.verified_at is not None) is (state == "verified")


async def test_a_failed_dispatched_run_runs_the_compensations_and_escalates(bot: Bot) -> None:
    _add_retraining(bot)
    bot.push(
        _drifted(
            {
                CONFIG: DRIFT_CONFIG + "playbooks:\n  extra: [.github/retrain-or-page.yml]\n"
                "  overrides: {data_drift: retrain-or-page}\n",
                ".github/retrain-or-page.yml": RETRAIN_OR_PAGE,
                "retrain.py": "train(labels=None)\n",
            }
        )
    )
    await settle(bot)

    (repair,) = await repairs(bot)
    assert (repair.playbook, repair.state) == ("retrain-or-page", "escalated")
    assert repair.reason is not None
    assert repair.reason.startswith(
        f"CI concluded failure: workflow run {repair.dispatched_run_id}"
    )
    assert _issues(bot) == {repair.issue: "Retraining failed"}
