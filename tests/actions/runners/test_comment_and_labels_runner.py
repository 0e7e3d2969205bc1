"""`comment` and `add_labels` against the sandbox: one comment per key, edited in place."""

from __future__ import annotations

import pytest

from self_healing_bot.actions.add_labels import AddLabelsParameters
from self_healing_bot.actions.add_labels import run as add_labels
from self_healing_bot.actions.comment import CommentParameters
from self_healing_bot.actions.comment import run as comment
from self_healing_bot.actions.context import ActionError
from tests.actions.runners.conftest import PLANTED_TOKEN, MakeContext
from tests.github.world import REPO, World


async def _issue(world: World) -> int:
    return (await world.client.create_issue(REPO, "Training fails", "body", [])).number


async def _comments(world: World, number: int) -> list[str]:
    response = world.requests("POST", rf"/issues/{number}/comments$")
    edits = world.requests("PATCH", r"/issues/comments/")
    return [entry["body"]["body"] for entry in response + edits]


async def test_a_comment_is_made_once_and_edited_when_its_text_changes(
    world: World, make_context: MakeContext
) -> None:
    number = await _issue(world)
    context = make_context(issue_number=number)
    first = await comment(context, CommentParameters(body="Diagnosis: OOM"))
    again = await comment(context, CommentParameters(body="Diagnosis: OOM"))
    assert again.outputs == first.outputs
    assert len(world.requests("POST", rf"/issues/{number}/comments$")) == 1
    assert not world.requests("PATCH", r"/issues/comments/")

    edited = await comment(context, CommentParameters(body="Diagnosis: OOM, fixed in #9"))
    assert edited.outputs["comment_id"] == first.outputs["comment_id"]
    found = await world.client.find_comment_by_marker(REPO, number, context.idempotency_key)
    assert found is not None and found.body.startswith("Diagnosis: OOM, fixed in #9")


async def test_comment_redacts_secrets_and_dry_run_writes_nothing(
    world: World, make_context: MakeContext
) -> None:
    number = await _issue(world)
    body = f"Log: token {PLANTED_TOKEN} failed"
    dry = await comment(
        make_context(issue_number=number, dry_run=True), CommentParameters(body=body)
    )
    assert dry.outputs == {"comment_id": None, "url": None}
    assert not world.requests("POST", r"/comments$")
    await comment(make_context(issue_number=number), CommentParameters(body=body))
    posted = await _comments(world, number)
    assert len(posted) == 1 and "[REDACTED]" in posted[0]
    assert PLANTED_TOKEN not in world.request_log.read_text()


async def test_an_event_without_issue_needs_an_issue_number(make_context: MakeContext) -> None:
    with pytest.raises(ActionError, match="issue_number"):
        await comment(make_context(), CommentParameters(body="x"))


async def test_labels_are_added_once(world: World, make_context: MakeContext) -> None:
    number = await _issue(world)
    parameters = AddLabelsParameters(labels=["self-healing-bot", "gpu"], issue_number=number)
    dry = await add_labels(make_context(dry_run=True), parameters)
    assert dry.outputs == {"labels": None} and not world.requests("POST", r"/labels$")
    first = await add_labels(make_context(), parameters)
    second = await add_labels(make_context(), parameters)
    assert first.outputs == second.outputs == {"labels": ["self-healing-bot", "gpu"]}
    assert world.sandbox.repository(REPO).issues[number].labels == ["self-healing-bot", "gpu"]
