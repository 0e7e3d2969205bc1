"""The sandbox's in-memory GitHub: what exists, as plain records.

Everything here is data; `github_sandbox.py` changes it (and sends the webhooks the changes
cause), and `representations.py` renders it as GitHub's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from self_healing_bot.sandbox.ci_rules import JobSpec
from self_healing_bot.sandbox.git_store import GitStore


@dataclass
class User:
    id: int
    login: str
    type: str = "User"


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"


@dataclass
class Comment:
    id: int
    issue_number: int
    body: str
    user: User
    created_at: datetime
    updated_at: datetime


@dataclass
class Issue:
    """An issue, or the issue side of a pull request (they share numbers, as on GitHub)."""

    id: int
    number: int
    title: str
    body: str | None
    user: User
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)
    closed_at: datetime | None = None
    is_pull_request: bool = False


@dataclass
class PullRequest:
    id: int
    number: int
    head_ref: str
    head_sha: str
    base_ref: str
    draft: bool = False
    merged_at: datetime | None = None
    merge_commit_sha: str | None = None
    # A fork's pull request: its head branch lives there (None: this repository's branch).
    head_repository: Repository | None = None


@dataclass
class Workflow:
    id: int
    name: str
    path: str
    triggers: tuple[str, ...]
    jobs: tuple[JobSpec, ...]


@dataclass
class Job:
    id: int
    run_id: int
    run_attempt: int
    name: str
    head_sha: str
    created_at: datetime
    status: str = "queued"
    conclusion: str | None = None
    log: str = ""
    started_at: datetime | None = None
    completed_at: datetime | None = None
    check_run_id: int = 0


@dataclass
class Artifact:
    """What a job uploaded (`actions/upload-artifact`): a zip of its files, kept with the run."""

    id: int
    name: str
    run_id: int
    archive: bytes = field(repr=False)
    created_at: datetime
    expires_at: datetime
    expired: bool = False


@dataclass
class WorkflowRun:
    id: int
    workflow_id: int
    name: str
    head_sha: str
    head_branch: str | None
    event: str
    check_suite_id: int
    created_at: datetime
    updated_at: datetime
    run_number: int
    run_attempt: int = 1
    status: str = "queued"
    conclusion: str | None = None
    jobs: list[Job] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    # A fork's pull-request run: `head_branch` is the fork's (None: this repository's).
    head_repository: Repository | None = None

    def latest_jobs(self) -> list[Job]:
        """For each job name, its most recent attempt (GitHub's `filter=latest`)."""
        latest: dict[str, Job] = {}
        for job in self.jobs:
            latest[job.name] = job
        return list(latest.values())


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    app_id: int | None
    started_at: datetime
    status: str = "queued"
    conclusion: str | None = None
    completed_at: datetime | None = None
    output: dict[str, Any] = field(default_factory=dict)
    details_url: str | None = None
    external_id: str | None = None
    check_suite_id: int = 0


@dataclass
class Repository:
    id: int
    owner: User
    name: str
    default_branch: str
    created_at: datetime
    git: GitStore = field(default_factory=GitStore)
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/main" → commit sha
    issues: dict[int, Issue] = field(default_factory=dict)
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)  # login → permission
    workflows: dict[int, Workflow] = field(default_factory=dict)
    runs: dict[int, WorkflowRun] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    private: bool = True

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def next_issue_number(self) -> int:
        return max(self.issues, default=0) + 1

    def branch_sha(self, branch: str) -> str | None:
        return self.refs.get(f"refs/heads/{branch}")


@dataclass
class Installation:
    id: int
    app_id: int
    account: User
    repositories: set[str]  # full names


@dataclass
class App:
    id: int
    slug: str
    owner: User
    public_key_pem: str
    webhook_url: str | None
    webhook_secret: str
    hook_id: int
    created_at: datetime


@dataclass
class Delivery:
    """One attempt to deliver a webhook, as listed by `GET /app/hook/deliveries`."""

    id: int
    guid: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    payload: dict[str, Any]
    request_headers: dict[str, str]
    delivered_at: datetime
    redelivery: bool
    status: str = "pending"
    status_code: int = 0
    duration: float = 0.0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
