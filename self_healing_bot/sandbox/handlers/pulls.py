"""Pull requests: list (by head `owner:branch`), open, update, close, merge."""

from __future__ import annotations

from self_healing_bot.sandbox import representations as render
from self_healing_bot.sandbox.handlers import Context, Handler, Reply
from self_healing_bot.sandbox.openapi_spec import RequestRejected
from self_healing_bot.sandbox.state import PullRequest, Repository


def _pull(context: Context, repo: Repository) -> PullRequest:
    pull = repo.pulls.get(int(context.params["pull_number"]))
    if pull is None:
        raise RequestRejected(404, "Not Found")
    return pull


async def list_pulls(context: Context) -> Reply:
    repo = context.repo()
    state = context.params.get("state", "open")
    head = context.params.get("head")
    pulls = [
        pull
        for pull in sorted(repo.pulls.values(), key=lambda p: -p.number)
        if state in {"all", repo.issues[pull.number].state}
        and (head is None or head in {f"{repo.owner.login}:{pull.head_ref}", pull.head_ref})
        and context.params.get("base") in {None, pull.base_ref}
    ]
    return context.paginate([render.pull_request(p, repo, context.base) for p in pulls])


async def create_pull(context: Context) -> Reply:
    repo = context.repo()
    body = context.body
    head = str(body.get("head", "")).split(":")[-1]
    base = str(body.get("base", ""))
    if "title" not in body and "issue" not in body:
        raise RequestRejected(422, "Validation Failed", [_error("title", "missing_field")])
    if repo.branch_sha(head) is None or repo.branch_sha(base) is None:
        field = "head" if repo.branch_sha(head) is None else "base"
        raise RequestRejected(422, "Validation Failed", [_error(field, "invalid")])
    if repo.branch_sha(head) == repo.branch_sha(base):
        raise RequestRejected(
            422,
            "Validation Failed",
            [_error("base", "custom", f"No commits between {base} and {head}")],
        )
    for pull in repo.pulls.values():
        if (
            pull.head_ref == head
            and pull.base_ref == base
            and repo.issues[pull.number].state == "open"
        ):
            message = f"A pull request already exists for {repo.owner.login}:{head}."
            raise RequestRejected(422, "Validation Failed", [_error("base", "custom", message)])
    pull = context.sandbox.create_pull_request(
        repo,
        str(body.get("title", "")),
        body.get("body"),
        head,
        base,
        context.actor(),
        draft=bool(body.get("draft", False)),
    )
    return Reply(201, render.pull_request(pull, repo, context.base))


async def get_pull(context: Context) -> Reply:
    repo = context.repo()
    return Reply(200, render.pull_request(_pull(context, repo), repo, context.base))


async def update_pull(context: Context) -> Reply:
    repo = context.repo()
    pull = _pull(context, repo)
    issue = repo.issues[pull.number]
    fields = context.body or {}
    if "title" in fields:
        issue.title = str(fields["title"])
    if "body" in fields:
        issue.body = fields["body"]
    if "base" in fields:
        if repo.branch_sha(str(fields["base"])) is None:
            raise RequestRejected(422, "Validation Failed", [_error("base", "invalid")])
        pull.base_ref = str(fields["base"])
    issue.updated_at = context.sandbox.clock()
    if fields.get("state") == "closed" and issue.state == "open":
        context.sandbox.close_issue(repo, issue, reason=None)
    elif fields.get("state") == "open":
        issue.state, issue.closed_at = "open", None
    return Reply(200, render.pull_request(pull, repo, context.base))


async def merge_pull(context: Context) -> Reply:
    repo = context.repo()
    pull = _pull(context, repo)
    body = context.body or {}
    if pull.merged_at is not None or repo.issues[pull.number].state != "open":
        raise RequestRejected(405, "Pull Request is not mergeable")
    if body.get("sha") and body["sha"] != pull.head_sha:
        raise RequestRejected(409, "Head branch was modified. Review and try the merge again.")
    message = body.get("commit_title") or f"Merge pull request #{pull.number}"
    sha = context.sandbox.merge_pull_request(repo, pull, str(message))
    return Reply(200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


def _error(field: str, code: str, message: str | None = None) -> dict[str, str]:
    error = {"resource": "PullRequest", "field": field, "code": code}
    return error | ({"message": message} if message else {})


ROUTES: dict[str, Handler] = {
    "pulls/list": list_pulls,
    "pulls/create": create_pull,
    "pulls/get": get_pull,
    "pulls/update": update_pull,
    "pulls/merge": merge_pull,
}
