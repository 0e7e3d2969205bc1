"""Issues, their comments and labels."""

from __future__ import annotations

from typing import Any

from self_healing_bot.sandbox import representations as render
from self_healing_bot.sandbox.handlers import Context, Handler, Reply
from self_healing_bot.sandbox.openapi_spec import RequestRejected
from self_healing_bot.sandbox.state import Comment, Issue, Repository


def _issue(context: Context, repo: Repository) -> Issue:
    issue = repo.issues.get(int(context.params["issue_number"]))
    if issue is None:
        raise RequestRejected(404, "Not Found")
    return issue


def _comment(context: Context, repo: Repository) -> Comment:
    comment = repo.comments.get(int(context.params["comment_id"]))
    if comment is None:
        raise RequestRejected(404, "Not Found")
    return comment


def _label_names(labels: Any) -> list[str]:
    """GitHub accepts labels as names or as `{"name": ...}` objects; keep the names."""
    if isinstance(labels, str):
        return [labels]
    return [
        label if isinstance(label, str) else str(label["name"])
        for label in labels or []
        if isinstance(label, str) or label.get("name")
    ]


async def list_issues(context: Context) -> Reply:
    repo = context.repo()
    state = context.params.get("state", "open")
    wanted = {name for name in str(context.params.get("labels") or "").split(",") if name}
    issues = [
        issue
        for issue in sorted(repo.issues.values(), key=lambda i: -i.number)
        if state in {"all", issue.state} and wanted <= set(issue.labels)
    ]
    return context.paginate([render.issue(i, repo, context.base) for i in issues])


async def create_issue(context: Context) -> Reply:
    repo = context.repo()
    labels = _label_names(context.body.get("labels"))
    issue = context.sandbox.create_issue(
        repo, str(context.body["title"]), context.body.get("body"), context.actor(), labels
    )
    return Reply(201, render.issue(issue, repo, context.base))


async def get_issue(context: Context) -> Reply:
    repo = context.repo()
    return Reply(200, render.issue(_issue(context, repo), repo, context.base))


async def update_issue(context: Context) -> Reply:
    repo = context.repo()
    issue = _issue(context, repo)
    fields = context.body or {}
    if "title" in fields and fields["title"] is not None:
        issue.title = str(fields["title"])
    if "body" in fields:
        issue.body = fields["body"]
    if "labels" in fields:
        issue.labels = []
        context.sandbox.add_labels(repo, issue, _label_names(fields["labels"]))
    issue.updated_at = context.sandbox.clock()
    if fields.get("state") == "closed" and issue.state == "open":
        context.sandbox.close_issue(repo, issue, fields.get("state_reason") or "completed")
    elif fields.get("state") == "open":
        issue.state, issue.state_reason, issue.closed_at = "open", "reopened", None
    return Reply(200, render.issue(issue, repo, context.base))


async def add_labels(context: Context) -> Reply:
    repo = context.repo()
    issue = _issue(context, repo)
    body = context.body
    names = _label_names(body.get("labels") if isinstance(body, dict) else body)
    context.sandbox.add_labels(repo, issue, names)
    return Reply(
        200, [render.label(repo.labels[name], repo, context.base) for name in issue.labels]
    )


async def list_comments(context: Context) -> Reply:
    repo = context.repo()
    issue = _issue(context, repo)
    comments = [c for c in repo.comments.values() if c.issue_number == issue.number]
    return context.paginate([render.comment(c, repo, context.base) for c in comments])


async def create_comment(context: Context) -> Reply:
    repo = context.repo()
    issue = _issue(context, repo)
    comment = context.sandbox.create_comment(
        repo, issue, str(context.body["body"]), context.actor()
    )
    return Reply(201, render.comment(comment, repo, context.base))


async def get_comment(context: Context) -> Reply:
    repo = context.repo()
    return Reply(200, render.comment(_comment(context, repo), repo, context.base))


async def update_comment(context: Context) -> Reply:
    repo = context.repo()
    comment = _comment(context, repo)
    comment.body = str(context.body["body"])
    comment.updated_at = context.sandbox.clock()
    return Reply(200, render.comment(comment, repo, context.base))


ROUTES: dict[str, Handler] = {
    "issues/list-for-repo": list_issues,
    "issues/create": create_issue,
    "issues/get": get_issue,
    "issues/update": update_issue,
    "issues/add-labels": add_labels,
    "issues/list-comments": list_comments,
    "issues/create-comment": create_comment,
    "issues/get-comment": get_comment,
    "issues/update-comment": update_comment,
}
