"""The executor in process against the sandbox: recurrences, the open-PR budget, a broken
config (each webhook processed as a worker would, CI completing at once)."""

from __future__ import annotations

from collections.abc import Iterator

from tests.core.remediation_fixtures import remediation, repairs, settle
from tests.detectors.pipeline_fixtures import (
    BIG_BATCH,
    CONFIG,
    CUDA_OOM_LOG,
    REPO,
    Bot,
    add_ci,
    bot,
    detectors_loaded,
    org_config,
    sqlite_url,
)
from tests.e2e.logs import CODE_ERROR, NUMPY_RELEASE

__all__ = ["bot", "detectors_loaded", "org_config", "remediation", "sqlite_url"]


def _issues(bot: Bot) -> Iterator[int]:
    repository = bot.sandbox.repository(REPO)
    return (number for number, issue in repository.issues.items() if not issue.is_pull_request)


async def test_a_recurring_test_failure_counts_its_occurrences_and_opens_the_issue(
    bot: Bot,
) -> None:
    add_ci(bot.sandbox, [{"when": {"file": "train.py", "contains": "+"}, "log": CODE_ERROR}])
    bot.push({CONFIG: "automation:\n  default: pr\n"})
    bot.push({"train.py": "print(1 + '1')\n"})
    await settle(bot)
    bot.push({"train.py": "print(2 + '1')\n"})
    await settle(bot)

    first, second = await repairs(bot)
    assert (first.detection["occurrences"], second.detection["occurrences"]) == (1, 2)
    assert second.signature == first.signature
    (number,) = _issues(bot)
    assert second.issue == number


async def test_a_verified_but_open_bot_pull_request_counts_against_the_budget(bot: Bot) -> None:
    add_ci(bot.sandbox, [{"when": {**BIG_BATCH, "file": "params.yaml"}, "log": CUDA_OOM_LOG}])
    add_ci(
        bot.sandbox,
        [{"when": {"file": "requirements.txt", "contains": ">="}, "log": NUMPY_RELEASE}],
        name="test",
    )
    bot.push(
        {
            CONFIG: "automation:\n  default: pr\nbudgets:\n  open_pull_requests: 1\n",
            "params.yaml": "batch_size: 64\ngradient_accumulation_steps: 1\n",
        }
    )
    await settle(bot)
    (fix,) = await repairs(bot)
    assert fix.state == "verified" and fix.category == "gpu_oom"  # its PR stays open (level pr)

    bot.push({"requirements.txt": "numpy>=1.23\n"})
    await settle(bot)
    capped = [repair for repair in await repairs(bot) if repair.category != "gpu_oom"]
    assert [(repair.state, repair.pull_request) for repair in capped] == [("ignored", None)]
    assert "1 bot pull requests are open (budget 1)" in (capped[0].reason or "")
    assert len(bot.sandbox.repository(REPO).pulls) == 1


async def test_a_broken_config_is_reported_and_the_last_valid_one_stays_in_force(
    bot: Bot,
) -> None:
    add_ci(bot.sandbox, [{"when": {"file": "train.py", "contains": "+"}, "log": CODE_ERROR}])
    bot.push({CONFIG: "automation:\n  default: pr\n"})
    await settle(bot)
    bot.push({CONFIG: "automation:\n  default: pr\nbudgets:\n  nonsense: 1\n"})
    bot.push({"train.py": "print(1 + '1')\n"})
    await settle(bot)

    repository = bot.sandbox.repository(REPO)
    (check,) = [c for c in repository.check_runs.values() if c.name == "self-healing-bot config"]
    assert check.conclusion == "failure"
    config_issue, bug_issue = sorted(_issues(bot))
    text = (repository.issues[config_issue].body or "") + "".join(
        c.body for c in repository.comments.values() if c.issue_number == config_issue
    )
    assert f"{REPO}/{CONFIG}:4:" in text and "nonsense" in text
    (repair,) = await repairs(bot)
    assert repair.level == "pr" and repair.issue == bug_issue  # the last valid config acted
