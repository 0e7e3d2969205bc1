"""Check runs created and updated by the app."""

from __future__ import annotations

from typing import Any

from self_healing_bot.sandbox import representations as render
from self_healing_bot.sandbox.handlers import Context, Handler, Reply
from self_healing_bot.sandbox.openapi_spec import RequestRejected
from self_healing_bot.sandbox.state import CheckRun, Repository


def _check(context: Context, repo: Repository) -> CheckRun:
    check = repo.check_runs.get(int(context.params["check_run_id"]))
    if check is None:
        raise RequestRejected(404, "Not Found")
    return check


def _apply(context: Context, check: CheckRun, fields: dict[str, Any]) -> None:
    for name in ("name", "details_url", "external_id"):
        if name in fields:
            setattr(check, name, fields[name])
    if "output" in fields:
        check.output = dict(fields["output"])
    if "conclusion" in fields and fields["conclusion"] is not None:
        check.status, check.conclusion = "completed", fields["conclusion"]
    elif "status" in fields:
        check.status = fields["status"]
    if check.status == "completed":
        if check.conclusion is None:
            raise RequestRejected(422, "Validation Failed: conclusion is required when completed")
        check.completed_at = check.completed_at or context.sandbox.clock()


def _render(context: Context, repo: Repository, check: CheckRun) -> dict[str, Any]:
    app = context.sandbox.apps.get(check.app_id) if check.app_id else None
    return render.check_run(check, repo, app, context.base)


async def create_check_run(context: Context) -> Reply:
    repo = context.repo()
    head_sha = str(context.body["head_sha"])
    if head_sha not in repo.git.commits:
        raise RequestRejected(422, "No commit found for SHA: " + head_sha)
    installation = context.sandbox.installations.get(context.credential.installation_id or -1)
    check = CheckRun(
        context.sandbox.new_id(),
        str(context.body["name"]),
        head_sha,
        installation.app_id if installation else None,
        context.sandbox.clock(),
    )
    _apply(context, check, context.body)
    repo.check_runs[check.id] = check
    return Reply(201, _render(context, repo, check))


async def get_check_run(context: Context) -> Reply:
    repo = context.repo()
    return Reply(200, _render(context, repo, _check(context, repo)))


async def list_for_ref(context: Context) -> Reply:
    """Check runs on a commit (or a branch's head), newest first, by `check_name` if given."""
    repo = context.repo()
    ref = str(context.params["ref"])
    sha = repo.branch_sha(ref) or ref
    name = context.params.get("check_name")
    checks = [
        _render(context, repo, check)
        for check in sorted(repo.check_runs.values(), key=lambda c: -c.id)
        if check.head_sha == sha and name in {None, check.name}
    ]
    return context.paginate(checks, wrap="check_runs")


async def update_check_run(context: Context) -> Reply:
    repo = context.repo()
    check = _check(context, repo)
    _apply(context, check, context.body or {})
    return Reply(200, _render(context, repo, check))


ROUTES: dict[str, Handler] = {
    "checks/create": create_check_run,
    "checks/get": get_check_run,
    "checks/update": update_check_run,
    "checks/list-for-ref": list_for_ref,
}
