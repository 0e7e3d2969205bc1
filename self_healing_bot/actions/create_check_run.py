"""Publish the diagnosis as a check run on the failing commit, annotating the failing lines.

Parameters: `head_sha`, `name`, `conclusion`, `title`, `summary` (Markdown), `annotations`
(each: `path`, `start_line`, `end_line`, `level`, `message`; GitHub takes 50 per request).
Outputs: `check_run_id`, `url`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from self_healing_bot.actions.context import ActionContext
from self_healing_bot.actions.registry import ActionResult, ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.github import models
from self_healing_bot.github.operations import InstallationClient
from self_healing_bot.guardrails import redact_secrets


class Annotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    level: Literal["notice", "warning", "failure"] = "failure"
    message: str = Field(min_length=1, max_length=64000)

    @model_validator(mode="after")
    def _ordered(self) -> Annotation:
        if self.end_line < self.start_line:
            raise ValueError(f"end_line {self.end_line} is before start_line {self.start_line}")
        return self


class CreateCheckRunParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    head_sha: str = Field(pattern=r"^[0-9a-f]{40}$")
    name: str = Field(default="self-healing-bot", min_length=1)
    conclusion: Literal["success", "failure", "neutral", "action_required"] = "neutral"
    title: str = Field(min_length=1, max_length=1000)
    summary: str = Field(max_length=65535)
    annotations: list[Annotation] = Field(default_factory=list)


def check_output(parameters: CreateCheckRunParameters) -> models.CheckOutput:
    """The check run's output with every text redacted (log lines can hold secrets)."""
    return models.CheckOutput(
        title=redact_secrets(parameters.title),
        summary=redact_secrets(parameters.summary),
        annotations=tuple(
            models.Annotation(
                annotation.path,
                annotation.start_line,
                annotation.end_line,
                annotation.level,
                redact_secrets(annotation.message),
            )
            for annotation in parameters.annotations
        ),
    )


async def publish_check_run(
    github: InstallationClient,
    repository: str,
    name: str,
    head_sha: str,
    conclusion: str,
    output: models.CheckOutput,
) -> models.CheckRun:
    """The check run `name` on `head_sha`: the one already there (its name on that commit is
    the idempotency key, and an update would append its annotations twice), else a new,
    completed one with `output`."""
    existing = await github.list_check_runs_for_ref(repository, head_sha, name)
    if existing:
        return existing[0]
    return await github.create_check_run(
        repository, name, head_sha, "completed", conclusion, output
    )


async def run(context: ActionContext, parameters: CreateCheckRunParameters) -> ActionResult:
    """Create the completed check run on `head_sha` with the diagnosis and its annotations."""
    output = check_output(parameters)
    if context.dry_run:
        return ActionResult(
            f"would publish check run {parameters.name!r} on {parameters.head_sha[:7]} "
            f"with {len(output.annotations)} annotation(s)",
            {"check_run_id": None, "url": None},
        )
    check_run = await publish_check_run(
        context.github,
        context.repository,
        parameters.name,
        parameters.head_sha,
        parameters.conclusion,
        output,
    )
    return ActionResult(
        f"published check run {check_run.id} on {parameters.head_sha[:7]}",
        {"check_run_id": check_run.id, "url": check_run.html_url},
    )


register_action(
    ActionSpec(
        id="create_check_run",
        parameters=CreateCheckRunParameters,
        description=__doc__ or "",
        write=False,
        minimum_level=AutomationLevel.SUGGEST,
        outputs=("check_run_id", "url"),
        runner=run,
    )
)
