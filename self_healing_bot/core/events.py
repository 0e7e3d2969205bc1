"""Typed models of the webhook events the bot acts on; everything else is ignored.

Only the fields a stage reads are declared; the rest of GitHub's payload is kept (extra="allow")
so a detector can still reach it. `parse_event` is the parse stage's whole job:

    event = parse_event("workflow_run", payload)
    if event is None: ...  # stored and acknowledged as ignored
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class Payload(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class User(Payload):
    login: str


class Repository(Payload):
    id: int
    full_name: str
    name: str
    default_branch: str | None = None
    private: bool = False
    html_url: str | None = None


class Installation(Payload):
    id: int


class Event(Payload):
    """Fields common to the events we act on."""

    action: str | None = None
    repository: Repository | None = None
    installation: Installation | None = None
    sender: User | None = None


class WorkflowRun(Payload):
    id: int
    name: str | None = None
    head_branch: str | None = None
    head_sha: str
    event: str | None = None
    status: str | None = None
    conclusion: str | None = None
    run_attempt: int | None = None
    html_url: str | None = None
    workflow_id: int | None = None


class WorkflowRunEvent(Event):
    workflow_run: WorkflowRun


class WorkflowJob(Payload):
    id: int
    run_id: int
    name: str
    head_sha: str
    status: str | None = None
    conclusion: str | None = None
    html_url: str | None = None


class WorkflowJobEvent(Event):
    workflow_job: WorkflowJob


class CheckRun(Payload):
    id: int
    name: str
    head_sha: str
    status: str | None = None
    conclusion: str | None = None
    html_url: str | None = None


class CheckRunEvent(Event):
    check_run: CheckRun


class CheckSuite(Payload):
    id: int
    head_branch: str | None = None
    head_sha: str
    status: str | None = None
    conclusion: str | None = None
    app: dict[str, Any] | None = None

    @property
    def from_github_actions(self) -> bool:
        """A workflow run's suite: its `workflow_run` event carries the same result."""
        return self.app is not None and self.app.get("slug") == "github-actions"


class CheckSuiteEvent(Event):
    check_suite: CheckSuite


class PushEvent(Event):
    ref: str
    before: str
    after: str
    commits: list[dict[str, Any]] = []


class PullRequest(Payload):
    number: int
    title: str
    state: str
    head: dict[str, Any]
    base: dict[str, Any]
    html_url: str | None = None
    user: User | None = None


class PullRequestEvent(Event):
    number: int
    pull_request: PullRequest


class Comment(Payload):
    id: int
    body: str | None = None
    user: User | None = None


class Issue(Payload):
    number: int
    title: str
    pull_request: dict[str, Any] | None = None


class IssueCommentEvent(Event):
    issue: Issue
    comment: Comment


class InstallationEvent(Event):
    installation: Installation
    repositories: list[dict[str, Any]] | None = None


class RepositoryDispatchEvent(Event):
    branch: str | None = None
    client_payload: dict[str, Any] | None = None


EVENT_MODELS: dict[str, type[Event]] = {
    "workflow_run": WorkflowRunEvent,
    "workflow_job": WorkflowJobEvent,
    "check_run": CheckRunEvent,
    "check_suite": CheckSuiteEvent,
    "push": PushEvent,
    "pull_request": PullRequestEvent,
    "issue_comment": IssueCommentEvent,
    "installation": InstallationEvent,
    "repository_dispatch": RepositoryDispatchEvent,
}


class MalformedEventError(ValueError):
    """The payload is JSON but not the shape GitHub documents for its event."""


def parse_event(name: str, payload: dict[str, Any]) -> Event | None:
    """The typed model of a payload, or None for an event the bot does not act on."""
    model = EVENT_MODELS.get(name)
    if model is None:
        return None
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise MalformedEventError(
            f"{name} payload does not match GitHub's schema: {error}"
        ) from error
