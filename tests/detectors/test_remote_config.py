"""The repository config as the bot fetches it from the sandbox: default branch over org
defaults, and an invalid file refused with its line while the last valid config stays."""

from __future__ import annotations

import pytest

from self_healing_bot.repo_config.remote import InvalidRepoConfigError, fetch_repo_config
from tests.detectors.pipeline_fixtures import (
    CONFIG,
    INSTALLATION_ID,
    REPO,
    SHARD_LOG,
    Bot,
    add_ci,
    bot,
    detectors_loaded,
    sqlite_url,
)
from tests.detectors.test_pipeline_failure import SHARD_RULE, stored_detections

__all__ = ["bot", "detectors_loaded", "sqlite_url"]

ORG_DEFAULTS = "budgets: {reruns_per_hour: 2, cooldown_minutes: 15}\n" + SHARD_RULE


@pytest.fixture
def org_config() -> str:
    return ORG_DEFAULTS


@pytest.mark.parametrize(
    ("repository_file", "reruns", "cooldown", "automation", "rules"),
    [
        (None, 2, 15, "suggest", 1),  # org defaults apply, but never automation
        ("automation: {default: pr}\n", 2, 15, "pr", 1),
        ("budgets: {reruns_per_hour: 9}\n", 9, 15, "suggest", 1),
        ("diagnosis_rules: []\n", 2, 15, "suggest", 0),  # lists replace, not extend
    ],
)
async def test_the_repository_file_merges_over_org_defaults(
    bot: Bot, repository_file: str | None, reruns: int, cooldown: int, automation: str, rules: int
) -> None:
    if repository_file is not None:
        bot.push({CONFIG: repository_file})
    config = await fetch_repo_config(bot.github.installation(INSTALLATION_ID), REPO)
    assert config.budgets.reruns_per_hour == reruns
    assert config.budgets.cooldown_minutes == cooldown
    assert config.automation.default.value == automation
    assert len(config.diagnosis_rules) == rules


async def test_org_rules_reach_the_diagnosis(bot: Bot) -> None:
    add_ci(
        bot.sandbox,
        [{"when": {"file": "configs/train.yaml", "contains": "shards"}, "log": SHARD_LOG}],
    )
    bot.push({"configs/train.yaml": "shards: 8\n"})
    await bot.process_webhooks()
    assert [category for category, _, _ in await stored_detections(bot)] == ["data_missing"]


@pytest.mark.parametrize(
    ("broken", "line", "reason"),
    [
        ("automation:\n  default: pr\n  categories: {gpu_oom: [\n", 4, "invalid YAML"),
        ("budgets:\n  reruns_per_hour: lots\n", 2, "integer"),
        ("automation:\n  categories:\n    gpu_om: pr\n", 2, "unknown categories gpu_om"),
    ],
)
async def test_a_broken_file_is_refused_with_its_line_and_the_last_valid_config(
    bot: Bot, broken: str, line: int, reason: str
) -> None:
    client = bot.github.installation(INSTALLATION_ID)
    bot.push({CONFIG: "budgets: {reruns_per_hour: 7}\n"})
    valid = await fetch_repo_config(client, REPO, bot.database)
    bot.push({CONFIG: broken})

    with pytest.raises(InvalidRepoConfigError) as raised:
        await fetch_repo_config(client, REPO, bot.database)
    (problem,) = raised.value.problems
    assert (problem.file, problem.line) == (f"{REPO}/{CONFIG}", line)
    assert reason in problem.reason
    assert raised.value.last_valid == valid
    assert raised.value.last_valid.budgets.reruns_per_hour == 7


async def test_a_broken_file_never_valid_before_leaves_the_built_in_config(bot: Bot) -> None:
    shards = {"file": "configs/train.yaml", "contains": "shards"}
    add_ci(bot.sandbox, [{"when": shards, "log": SHARD_LOG}])
    bot.push({CONFIG: "budgets: [\n", "configs/train.yaml": "shards: 8\n"})
    await bot.process_webhooks()
    # Still diagnosed, but without the org's rule: nothing valid was ever stored.
    (stored,) = await stored_detections(bot)
    assert stored[0] != "data_missing"
