"""The small, frozen views of GitHub objects the bot works with.

Each has `from_api(payload)` that reads only the fields the bot uses, so a richer GitHub
response never breaks us and a missing field fails loudly at the edge (KeyError).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Repository:
    full_name: str
    default_branch: str
    private: bool
    html_url: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Repository:
        return cls(data["full_name"], data["default_branch"], data["private"], data["html_url"])


@dataclass(frozen=True)
class RepoFile:
    path: str
    sha: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class PullRequest:
    number: int
    state: str
    title: str
    body: str
    head_ref: str
    head_sha: str
    base_ref: str
    html_url: str
    merged: bool

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> PullRequest:
        return cls(
            number=data["number"],
            state=data["state"],
            title=data["title"],
            body=data.get("body") or "",
            head_ref=data["head"]["ref"],
            head_sha=data["head"]["sha"],
            base_ref=data["base"]["ref"],
            html_url=data["html_url"],
            merged=bool(data.get("merged_at")),
        )


@dataclass(frozen=True)
class Issue:
    number: int
    state: str
    title: str
    body: str
    labels: tuple[str, ...]
    html_url: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Issue:
        return cls(
            number=data["number"],
            state=data["state"],
            title=data["title"],
            body=data.get("body") or "",
            labels=tuple(
                label if isinstance(label, str) else label["name"] for label in data["labels"]
            ),
            html_url=data["html_url"],
        )


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    html_url: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Comment:
        return cls(data["id"], data.get("body") or "", data["html_url"])


@dataclass(frozen=True)
class WorkflowRun:
    id: int
    name: str
    status: str
    conclusion: str | None
    head_sha: str
    head_branch: str | None
    run_attempt: int
    event: str
    html_url: str
    workflow_id: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> WorkflowRun:
        return cls(
            id=data["id"],
            name=data.get("name") or "",
            status=data["status"],
            conclusion=data.get("conclusion"),
            head_sha=data["head_sha"],
            head_branch=data.get("head_branch"),
            run_attempt=data.get("run_attempt", 1),
            event=data["event"],
            html_url=data["html_url"],
            workflow_id=data.get("workflow_id"),
        )


@dataclass(frozen=True)
class Job:
    id: int
    run_id: int
    name: str
    status: str
    conclusion: str | None
    html_url: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Job:
        return cls(
            id=data["id"],
            run_id=data["run_id"],
            name=data["name"],
            status=data["status"],
            conclusion=data.get("conclusion"),
            html_url=data.get("html_url") or "",
        )


@dataclass(frozen=True)
class Artifact:
    """A file bundle a workflow run uploaded; its content is a zip (`download_artifact`)."""

    id: int
    name: str
    size_in_bytes: int
    expired: bool
    expires_at: datetime | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Artifact:
        expires_at = data.get("expires_at")
        return cls(
            id=data["id"],
            name=data["name"],
            size_in_bytes=data["size_in_bytes"],
            expired=data["expired"],
            expires_at=_time(expires_at) if expires_at else None,
        )


@dataclass(frozen=True)
class Annotation:
    """One line-level finding on a check run."""

    path: str
    start_line: int
    end_line: int
    annotation_level: str  # "notice" | "warning" | "failure"
    message: str
    title: str | None = None

    def to_api(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "annotation_level": self.annotation_level,
            "message": self.message,
        }
        if self.title is not None:
            payload["title"] = self.title
        return payload


@dataclass(frozen=True)
class CheckOutput:
    title: str
    summary: str
    text: str | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass(frozen=True)
class CheckRun:
    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    html_url: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CheckRun:
        return cls(
            id=data["id"],
            name=data["name"],
            head_sha=data["head_sha"],
            status=data["status"],
            conclusion=data.get("conclusion"),
            html_url=data.get("html_url") or "",
        )


@dataclass(frozen=True)
class HookDelivery:
    """One attempt to deliver a webhook, as the app's delivery log lists it."""

    id: int
    guid: str
    delivered_at: datetime
    redelivery: bool
    status_code: int
    event: str
    action: str | None

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status_code < 300

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> HookDelivery:
        return cls(
            id=data["id"],
            guid=data["guid"],
            delivered_at=_time(data["delivered_at"]),
            redelivery=data["redelivery"],
            status_code=data["status_code"],
            event=data["event"],
            action=data.get("action"),
        )
