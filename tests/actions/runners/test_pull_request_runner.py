"""`open_fix_pull_request` against the sandbox: one branch, one commit, one PR per signature;
refused plans push nothing; the compensation closes the PR and deletes the branch."""

from __future__ import annotations

from typing import Any

import pytest

from self_healing_bot.actions.context import ActionContext
from self_healing_bot.actions.open_fix_pull_request import (
    NothingToFixError,
    OpenFixPullRequestParameters,
    close_fix_pull_request,
    run,
)
from self_healing_bot.edits import EditError
from self_healing_bot.guardrails import GuardrailError
from tests.actions.runners.conftest import PLANTED_TOKEN, MakeContext
from tests.github.world import REPO, World

BRANCH = "self-healing-bot/gpu_oom/3f2a9c01"


def _parameters(**overrides: Any) -> OpenFixPullRequestParameters:
    fields: dict[str, Any] = {
        "branch": BRANCH,
        "title": "Halve the batch size",
        "body": f"CUDA OOM at step 12 (HF_TOKEN=hf_{'x' * 34}, {PLANTED_TOKEN})",
        "labels": ["self-healing-bot"],
        "edits": [
            {"kind": "yaml_scale", "path": "configs/train.yaml", "key": "batch_size", "factor": 0.5}
        ],
    }
    return OpenFixPullRequestParameters.model_validate(fields | overrides)


def _writes(world: World) -> list[tuple[str, str]]:
    return [
        (entry["method"], entry["path"])
        for entry in world.requests()
        if entry["method"] in {"POST", "PATCH", "PUT", "DELETE"}
        and not entry["path"].startswith("/app/")
    ]


async def test_the_fix_is_one_commit_on_the_branch_and_one_pull_request(
    world: World, make_context: MakeContext
) -> None:
    context = make_context()
    result = await run(context, _parameters())
    outputs = result.outputs
    assert outputs["branch"] == BRANCH and outputs["changed_lines"] == 2
    pull = await world.client.find_pull_request(REPO, BRANCH)
    assert pull is not None and pull.number == outputs["number"] and pull.base_ref == "main"
    assert pull.head_sha == outputs["head_sha"]
    assert "- `configs/train.yaml`: +1 -1" in pull.body
    assert "-batch_size: 64\n+batch_size: 32" in pull.body
    changed = await world.client.get_file(REPO, "configs/train.yaml", ref=BRANCH)
    assert changed is not None and changed.content == b"batch_size: 32\nlr: 0.001\n"
    main = await world.client.get_file(REPO, "configs/train.yaml", ref="main")
    assert main is not None and main.content == b"batch_size: 64\nlr: 0.001\n"
    assert len(world.requests("POST", r"/git/commits$")) == 1
    assert world.sandbox.repository(REPO).issues[pull.number].labels == ["self-healing-bot"]
    assert PLANTED_TOKEN not in world.request_log.read_text()
    assert "hf_xxxx" not in world.request_log.read_text()

    writes_before = _writes(world)
    again = await run(context, _parameters())
    assert again.outputs == outputs
    # Only the idempotent label POST repeats; no branch, commit, or pull request is made.
    assert _writes(world)[len(writes_before) :] == [("POST", f"/repos/{REPO}/issues/1/labels")]


async def test_dry_run_checks_everything_and_writes_nothing(
    world: World, make_context: MakeContext
) -> None:
    result = await run(make_context(dry_run=True), _parameters())
    assert result.summary.startswith(f"would open a pull request from {BRANCH} into main")
    assert result.outputs["number"] is None and "+batch_size: 32" in result.outputs["diff"]
    assert _writes(world) == []
    with pytest.raises(GuardrailError):
        await run(make_context(dry_run=True, allowed_paths=("*.py",)), _parameters())


SUPPRESSION = {
    "kind": "text_replace",
    "path": "train.py",
    "old": "print('train')",
    "new": "x = 1 || true",
}


@pytest.mark.parametrize(
    ("overrides", "context_fields", "error", "message"),
    [
        ({}, {"allowed_paths": ("*.py",)}, GuardrailError, "outside the playbook's allowed paths"),
        ({}, {"max_changed_lines": 1}, GuardrailError, "changes 2 lines; the cap is 1"),
        ({"branch": "main"}, {}, GuardrailError, "never pushes to the default branch"),
        ({"edits": [SUPPRESSION]}, {"allowed_paths": ("*",)}, GuardrailError, "ignored exit"),
        (
            {"edits": [{"kind": "yaml_set", "path": "missing.yaml", "key": "a", "value": 1}]},
            {},
            EditError,
            "missing.yaml: file not found",
        ),
        (
            {
                "edits": [
                    {"kind": "yaml_set", "path": "configs/train.yaml", "key": "lr", "value": 0.001}
                ]
            },
            {},
            NothingToFixError,
            "the edits change nothing",
        ),
    ],
)
async def test_a_refused_or_impossible_fix_pushes_nothing(
    world: World,
    make_context: MakeContext,
    overrides: dict[str, Any],
    context_fields: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        await run(make_context(**context_fields), _parameters(**overrides))
    assert _writes(world) == []
    assert world.sandbox.repository(REPO).branch_sha(BRANCH) is None


async def test_a_changed_plan_updates_the_same_pull_request(
    world: World, make_context: MakeContext
) -> None:
    context = make_context()
    first = await run(context, _parameters())
    quarter = [
        {"kind": "yaml_scale", "path": "configs/train.yaml", "key": "batch_size", "factor": 0.25}
    ]
    second = await run(context, _parameters(edits=quarter, title="Quarter the batch size"))
    assert second.outputs["number"] == first.outputs["number"]
    assert second.outputs["head_sha"] != first.outputs["head_sha"]
    pull = await world.client.find_pull_request(REPO, BRANCH)
    assert pull is not None and pull.title == "Quarter the batch size"
    changed = await world.client.get_file(REPO, "configs/train.yaml", ref=BRANCH)
    assert changed is not None and changed.content.startswith(b"batch_size: 16\n")


async def test_compensation_closes_the_pull_request_and_deletes_the_branch(
    world: World, make_context: MakeContext
) -> None:
    context: ActionContext = make_context()
    result = await run(context, _parameters())
    dry = await close_fix_pull_request(make_context(dry_run=True), BRANCH)
    assert dry.summary == f"would close #{result.outputs['number']} and delete {BRANCH}"
    assert world.sandbox.repository(REPO).branch_sha(BRANCH) is not None
    undone = await close_fix_pull_request(context, BRANCH)
    assert undone.summary == f"closed #{result.outputs['number']}, deleted {BRANCH}"
    assert await world.client.find_pull_request(REPO, BRANCH) is None
    assert world.sandbox.repository(REPO).branch_sha(BRANCH) is None
    writes_before = _writes(world)
    again = await close_fix_pull_request(context, BRANCH)
    assert again.summary == f"{BRANCH} is gone" and _writes(world) == writes_before
