"""`/api/v1/playbooks`: the built-in playbooks, and validating a playbook before committing it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from self_healing_bot.core.playbook import PlaybookError, load_builtin_playbooks, load_playbook
from self_healing_bot.web.api.auth import Caller, Viewer

router = APIRouter(prefix="/playbooks", tags=["playbooks"])


class PlaybookView(BaseModel):
    name: str
    description: str
    file: str
    origin: str
    steps: list[str]
    require_approval: bool
    dry_run: bool


class PlaybookSource(BaseModel):
    content: str = Field(max_length=1_000_000, description="the playbook's YAML text")
    file: str = Field(default="playbook.yml", max_length=256, description="named in problems")


class Problem(BaseModel):
    file: str
    line: int
    reason: str


class Validation(BaseModel):
    valid: bool
    problems: list[Problem]


@router.get("")
async def list_playbooks(_caller: Annotated[Caller, Depends(Viewer)]) -> list[PlaybookView]:
    return [
        PlaybookView(
            name=loaded.playbook.name,
            description=loaded.playbook.description,
            file=loaded.file,
            origin=loaded.origin,
            steps=[step.label for step in loaded.playbook.steps],
            require_approval=loaded.playbook.require_approval,
            dry_run=loaded.playbook.dry_run,
        )
        for loaded in load_builtin_playbooks()
    ]


@router.post("/validate")
async def validate_playbook(
    source: PlaybookSource, _caller: Annotated[Caller, Depends(Viewer)]
) -> Validation:
    """Check a playbook as `self-healing-bot playbook validate` does; nothing is stored.

    An invalid playbook is a 200 with `valid: false` and each problem's line and reason.
    """
    try:
        load_playbook(source.content, source.file)
    except PlaybookError as error:
        problems = [Problem(file=p.file, line=p.line, reason=p.reason) for p in error.problems]
        return Validation(valid=False, problems=problems)
    return Validation(valid=True, problems=[])
