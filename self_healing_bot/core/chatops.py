"""`/heal` commands in issue and pull request comments, honoured only from permitted users.

    /heal approve   run a repair that waits for approval
    /heal retry     plan the signature's repair again (a new attempt)
    /heal ignore    silence the signature: the bot stops acting on it
    /heal explain   post the diagnosis

The command applies to the repair linked to the thread (its pull request, issue or approval
issue). Permission is read through the API (`get_collaborator_permission`); anyone else gets a
short refusal.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import IssueCommentEvent
from self_healing_bot.core.playbook import detection_report
from self_healing_bot.detectors.registry import Detection
from self_healing_bot.github.markers import with_marker
from self_healing_bot.repo_config import RepoConfig
from self_healing_bot.storage import repairs as store
from self_healing_bot.storage.detections import mark_ignored
from self_healing_bot.storage.models import utc_now
from self_healing_bot.storage.repairs import OPEN_STATES, Repair, RepairState

if TYPE_CHECKING:
    from self_healing_bot.core.remediation import PlaybookRemediation

COMMAND = re.compile(r"^\s*/heal\s+(approve|retry|ignore|explain)\b", re.MULTILINE)
Reply = Callable[[str], Awaitable[None]]
_RANK = {"none": 0, "read": 1, "triage": 1, "write": 2, "maintain": 3, "admin": 4}


def parse_command(body: str | None) -> str | None:
    """The first `/heal` command in a comment, or None.

    >>> parse_command("thanks!\\n/heal approve")
    'approve'
    """
    found = COMMAND.search(body or "")
    return found.group(1) if found else None


def permitted(config: RepoConfig, login: str, permission: str) -> bool:
    """Listed approvers, or anyone at the configured minimum permission or above."""
    if login in config.approvers.users:
        return True
    required = _RANK[config.approvers.minimum_permission]
    return _RANK.get(permission, 0) >= required


async def handle_command(
    remediation: PlaybookRemediation, context: ExecutionContext, event: IssueCommentEvent
) -> str | None:
    """Carry out a `/heal` command; returns what happened, or None when there is none."""
    command = parse_command(event.comment.body)
    github, repository = context.github, context.repository
    if command is None or event.action != "created" or github is None or repository is None:
        return None
    author = event.comment.user.login if event.comment.user else ""
    if author.endswith("[bot]"):
        return None
    number = event.issue.number
    async with context.database.session() as session:
        repair = await store.repair_for_thread(session, repository, number)
    reply_key = f"heal:{event.comment.id}"
    if await github.find_comment_by_marker(repository, number, reply_key) is not None:
        return f"{command}: already answered"

    async def reply(text: str) -> None:
        await github.create_comment(repository, number, with_marker(text, reply_key))

    if repair is None:
        await reply(f"`/heal {command}`: no repair of the bot is linked to this thread.")
        return f"{command}: no repair"
    config = RepoConfig.model_validate(repair.config)
    permission = await github.get_collaborator_permission(repository, author)
    if not permitted(config, author, permission):
        await reply(
            f"@{author} `/heal {command}` needs {config.approvers.minimum_permission} "
            f"permission on this repository; you have {permission}."
        )
        return f"{command}: refused"
    if command == "explain":
        await reply(detection_report(Detection.from_template_value(repair.detection)))
        return "explain: posted"
    if command == "ignore":
        async with context.database.session() as session:
            await ignore_signature(
                session, repair.repository, repair.signature, f"/heal ignore by {author}"
            )
        await reply(f"Silenced `{repair.signature}`: the bot will not act on it again.")
        return "ignore: silenced"
    if command == "approve":
        return await _approve(remediation, context, repair, author, reply)
    return await _retry(remediation, context, repair, author, reply)


async def approve(
    remediation: PlaybookRemediation, context: ExecutionContext, repair_id: int, approver: str
) -> str | None:
    """Run a repair that waits for approval, as `approver`; its new state, or None when it
    was not waiting (what `/heal approve` and `POST /api/v1/repairs/{id}/approve` do)."""
    async with context.database.session() as session:
        moved = await store.transition(
            session,
            repair_id,
            {RepairState.AWAITING_APPROVAL},
            RepairState.ACTING,
            reason=f"approved by {approver}",
        )
    if not moved:
        return None
    return await remediation.execute(context, repair_id)


async def ignore_signature(
    session: AsyncSession, repository: str, signature: str, reason: str
) -> bool:
    """Silence a failure signature: its open repairs stop, no new one is planned and it is
    marked ignored (what `/heal ignore` does). False when the repository never saw it."""
    repairs = await store.repairs_for_signature(session, repository, signature)
    for repair in repairs:
        await store.record_links(session, repair.id, silenced=True)
        await store.transition(session, repair.id, OPEN_STATES, RepairState.IGNORED, reason=reason)
    marked = await mark_ignored(session, repository, signature)
    return marked or bool(repairs)


async def _approve(
    remediation: PlaybookRemediation,
    context: ExecutionContext,
    repair: Repair,
    author: str,
    reply: Reply,
) -> str:
    state = await approve(remediation, context, repair.id, author)
    if state is None:
        await reply(f"Nothing to approve: the repair is {repair.state}.")
        return "approve: nothing waiting"
    await reply(f"Approved by @{author}; the repair is now {state}.")
    return f"approve: {state}"


async def _retry(
    remediation: PlaybookRemediation,
    context: ExecutionContext,
    repair: Repair,
    author: str,
    reply: Reply,
) -> str:
    if repair.state in OPEN_STATES:
        await reply(f"The repair is still {repair.state}; nothing to retry yet.")
        return "retry: still open"
    retried = Repair(
        **{
            column: getattr(repair, column)
            for column in (
                "repository",
                "signature",
                "category",
                "playbook",
                "level",
                "installation_id",
                "detection",
                "config",
                "playbook_source",
                "inputs",
                "plan",
            )
        },
        attempt=repair.attempt + 1,
        state=RepairState.PLANNED.value,
        delivery_id=context.delivery_id,
        silenced=False,
        # Now, not the first attempt's: a dispatch looks for its run from this moment on.
        detected_at=utc_now(),
    )
    async with context.database.session() as session:
        created = await store.create_repair(session, retried)
    if created is None:
        await reply("A retry of this repair is already under way.")
        return "retry: already"
    state = await remediation.execute(context, created.id)
    await reply(f"Retried by @{author}; the repair is now {state}.")
    return f"retry: {state}"
