"""`create_or_update_issue`: one open issue per signature, a recurrence counted once."""

from __future__ import annotations

from self_healing_bot.actions.create_or_update_issue import CreateOrUpdateIssueParameters, run
from tests.actions.runners.conftest import PLANTED_TOKEN, SIGNATURE, MakeContext
from tests.github.world import REPO, World

PARAMETERS = CreateOrUpdateIssueParameters(
    key=SIGNATURE,
    title="GPU out of memory",
    body=f"CUDA OOM; env had GITHUB_TOKEN={PLANTED_TOKEN}",
    labels=["self-healing-bot"],
)


def _issues(world: World) -> list[tuple[int, str, str]]:
    issues = world.sandbox.repository(REPO).issues.values()
    return [(issue.number, issue.state, issue.body or "") for issue in issues]


def _comment_bodies(world: World, number: int) -> list[str]:
    comments = world.sandbox.repository(REPO).comments.values()
    return [comment.body for comment in comments if comment.issue_number == number]


async def test_one_issue_per_signature_and_a_recurrence_is_counted_once(
    world: World, make_context: MakeContext
) -> None:
    first = await run(make_context(), PARAMETERS)
    assert first.outputs["created"] is True
    number = first.outputs["number"]
    repeat = await run(make_context(), PARAMETERS)  # the same delivery, redelivered
    assert repeat.outputs == {**first.outputs, "created": False}
    [(_, state, body)] = _issues(world)
    assert state == "open" and "Seen 1 times." in body
    assert _comment_bodies(world, number) == []

    recurrence = make_context(delivery_id="delivery-2")
    await run(recurrence, PARAMETERS)
    await run(recurrence, PARAMETERS)
    [(_, _, body)] = _issues(world)
    assert "Seen 2 times." in body
    [comment] = _comment_bodies(world, number)
    assert comment.startswith("This failure happened again (occurrence 2).")

    assert PLANTED_TOKEN not in world.request_log.read_text()
    assert all(PLANTED_TOKEN not in body for _, _, body in _issues(world))


async def test_a_closed_issue_is_not_reopened_but_replaced(
    world: World, make_context: MakeContext
) -> None:
    first = await run(make_context(), PARAMETERS)
    await world.client.update_issue(REPO, first.outputs["number"], state="closed")
    again = await run(make_context(delivery_id="delivery-2"), PARAMETERS)
    assert again.outputs["created"] is True
    assert [state for _, state, _ in _issues(world)] == ["closed", "open"]


async def test_dry_run_writes_nothing(world: World, make_context: MakeContext) -> None:
    result = await run(make_context(dry_run=True), PARAMETERS)
    assert result.summary == f"would open an issue for {SIGNATURE}"
    assert _issues(world) == []
    await run(make_context(), PARAMETERS)
    await run(make_context(delivery_id="delivery-2", dry_run=True), PARAMETERS)
    [(number, _, body)] = _issues(world)
    assert "Seen 1 times." in body and _comment_bodies(world, number) == []
