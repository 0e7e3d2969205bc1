"""`/heal` in issue comments: who may say it, and what each command does on the sandbox."""

from __future__ import annotations

from tests.e2e.conftest import BOT, Seeded, Stack, seed
from tests.e2e.logs import CODE_ERROR

CONFIG = b"automation:\n  default: pr\nplaybooks:\n  extra: [.github/playbooks/careful.yml]\n"
CAREFUL = b"""name: careful-code
trigger: {detector: pipeline_failure, categories: [code_error]}
require_approval: true
steps:
  - id: issue
    uses: create_or_update_issue
    with:
      key: "{{ detection.signature }}"
      title: "Bug: {{ detection.summary | truncate(80) }}"
      body: "{{ report }}"
      labels: [self-healing-bot, bug]
"""


def _states(stack: Stack) -> list[str]:
    return [repair["state"] for repair in stack.repairs()]


def _bot_replies(repo: Seeded, number: int) -> list[str]:
    return [c.body for c in repo.comments(number) if c.user.login == BOT]


async def _say(stack: Stack, repo: Seeded, number: int, login: str, text: str) -> list[str]:
    """Comment as `login` and return the bot's new replies on that thread."""
    before = len(_bot_replies(repo, number))
    issue = repo.repository.issues[number]
    stack.sandbox.create_comment(repo.repository, issue, text, stack.sandbox.user(login))
    await stack.settle()
    return _bot_replies(repo, number)[before:]


async def test_heal_commands_from_writers_work_and_readers_are_refused(stack: Stack) -> None:
    repo = seed(
        stack,
        "octo/chat",
        {
            ".github/self-healing-bot.yml": CONFIG,
            ".github/playbooks/careful.yml": CAREFUL,
            "train.py": b"print(1)\n",
        },
        {"test": [{"when": {"file": "train.py", "contains": "+"}, "log": CODE_ERROR}]},
        collaborators={"alice": "write", "bob": "read"},
    )
    repo.push({"train.py": b"print(1 + '1')\n"}, "Add one")
    await stack.wait_for(lambda: _states(stack) == ["awaiting_approval"], "the approval request")
    await stack.settle()
    (approval,) = repo.issues()
    assert "Comment `/heal approve`" in (approval.body or "")

    (refused,) = await _say(stack, repo, approval.number, "bob", "/heal approve")
    assert refused.startswith(
        "@bob `/heal approve` needs write permission on this repository; you have read."
    )
    assert _states(stack) == ["awaiting_approval"] and len(repo.issues()) == 1

    (explained,) = await _say(stack, repo, approval.number, "alice", "/heal explain")
    assert "The project's own code raised an error" in explained

    (approved,) = await _say(stack, repo, approval.number, "alice", "/heal approve")
    assert approved.startswith("Approved by @alice; the repair is now escalated")
    bug = next(issue for issue in repo.issues() if issue.number != approval.number)
    assert bug.title.startswith("Bug: The project's own code raised an error")
    assert _states(stack) == ["escalated"]

    (retried,) = await _say(stack, repo, bug.number, "alice", "/heal retry")
    assert "the repair is now awaiting_approval" in retried
    assert _states(stack) == ["escalated", "awaiting_approval"]

    (silenced,) = await _say(stack, repo, bug.number, "alice", "/heal ignore")
    assert silenced.startswith("Silenced `code_error:")
    issues_before, comments_before = len(repo.issues()), len(repo.comments())
    repo.push({"train.py": b"print(2 + '1')\n"}, "Add two")
    await stack.settle()
    assert len(repo.issues()) == issues_before and len(repo.comments()) == comments_before
    assert "awaiting_approval" not in _states(stack) and "acting" not in _states(stack)
