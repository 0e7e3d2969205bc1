"""GitHub Actions: workflows, runs, jobs, logs and artifacts (302 to short-lived links),
re-runs, dispatch."""

from __future__ import annotations

import operator
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

from self_healing_bot.sandbox import representations as render
from self_healing_bot.sandbox.github_sandbox import zip_archive
from self_healing_bot.sandbox.handlers import Context, Handler, Reply
from self_healing_bot.sandbox.openapi_spec import RequestRejected
from self_healing_bot.sandbox.state import Artifact, Job, Repository, Workflow, WorkflowRun

LOG_LINK_SECONDS = 60.0


def _run(context: Context, repo: Repository) -> WorkflowRun:
    run = repo.runs.get(int(context.params["run_id"]))
    if run is None:
        raise RequestRejected(404, "Not Found")
    return run


_STAMPED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ")


def _job(context: Context, repo: Repository) -> tuple[Job, WorkflowRun]:
    job_id = int(context.params["job_id"])
    for run in repo.runs.values():
        for job in run.jobs:
            if job.id == job_id:
                return job, run
    raise RequestRejected(404, "Not Found")


def job_log_text(job: Job) -> str:
    """The job's log in GitHub's format: each line prefixed by a timestamp (a line of a
    recorded real log keeps the one it has, as GitHub stamps each line once)."""
    stamp = render.timestamp(job.completed_at or job.created_at) or ""
    return "".join(
        f"{line}\n" if _STAMPED.match(line) else f"{stamp} {line}\n"
        for line in job.log.splitlines()
    )


def _redirect(context: Context, content: bytes, media_type: str) -> Reply:
    key = secrets.token_urlsafe(24)
    context.download_links[key] = (time.time() + LOG_LINK_SECONDS, content, media_type)
    root = context.base.removesuffix("/api/v3")
    return Reply(302, None, {"location": f"{root}/_sandbox/downloads/{key}"})


async def list_workflows(context: Context) -> Reply:
    repo = context.repo()
    html = f"{render.html_root(context.base)}/{repo.full_name}"
    workflows = [
        {
            "id": workflow.id,
            "node_id": f"W_{workflow.id}",
            "name": workflow.name,
            "path": workflow.path,
            "state": "active",
            "url": f"{context.base}/repos/{repo.full_name}/actions/workflows/{workflow.id}",
            "html_url": f"{html}/blob/{repo.default_branch}/{workflow.path}",
            "badge_url": f"{html}/workflows/{workflow.name}/badge.svg",
        }
        for workflow in repo.workflows.values()
    ]
    return context.paginate(workflows, wrap="workflows")


def _workflow(context: Context, repo: Repository) -> Workflow:
    """The workflow in the path, by id or file name."""
    wanted = str(context.params["workflow_id"])
    workflow = next(
        (
            w
            for w in repo.workflows.values()
            if wanted in {str(w.id), w.path.rsplit("/", 1)[-1], w.path}
        ),
        None,
    )
    if workflow is None:
        raise RequestRejected(404, "Not Found")
    return workflow


def created_matches(query: str | None, created: datetime) -> bool:
    """GitHub's `created` search qualifier: `>=T`, `>T`, `<=T`, `<T`, `A..B` or a day `D`
    (times in ISO 8601, as GitHub's search syntax takes them)."""
    if not query:
        return True

    def moment(text: str) -> datetime:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    for prefix, compare in _CREATED_OPERATORS:
        if query.startswith(prefix):
            return compare(created, moment(query.removeprefix(prefix)))
    if ".." in query:
        start, _, end = query.partition("..")
        return moment(start) <= created <= moment(end)
    return created.date() == moment(query).date()


_CREATED_OPERATORS: tuple[tuple[str, Callable[[datetime, datetime], bool]], ...] = (
    (">=", operator.ge),
    ("<=", operator.le),
    (">", operator.gt),
    ("<", operator.lt),
)


async def dispatch_workflow(context: Context) -> Reply:
    repo = context.repo()
    workflow = _workflow(context, repo)
    if "workflow_dispatch" not in workflow.triggers:
        raise RequestRejected(422, "Workflow does not have 'workflow_dispatch' trigger")
    ref = str(context.body["ref"]).removeprefix("refs/heads/")
    sha = repo.branch_sha(ref)
    if sha is None:
        raise RequestRejected(422, f"No ref found for: {ref}")
    (run,) = context.sandbox.start_runs(repo, sha, ref, "workflow_dispatch", [workflow])
    if not context.body.get("return_run_details"):
        return Reply(204)
    return Reply(
        200,
        {
            "workflow_run_id": run.id,
            "run_url": f"{context.base}/repos/{repo.full_name}/actions/runs/{run.id}",
            "html_url": f"{render.html_root(context.base)}/{repo.full_name}/actions/runs/{run.id}",
        },
    )


async def list_runs(context: Context) -> Reply:
    repo = context.repo()
    params = context.params
    runs = [
        render.workflow_run(run, repo, context.base)
        for run in sorted(repo.runs.values(), key=lambda r: -r.id)
        if params.get("branch") in {None, run.head_branch}
        and params.get("head_sha") in {None, run.head_sha}
        and params.get("event") in {None, run.event}
        and params.get("status") in {None, run.status, run.conclusion}
    ]
    return context.paginate(runs, wrap="workflow_runs")


async def list_workflow_runs(context: Context) -> Reply:
    """One workflow's runs, newest first, filtered like GitHub's (branch, event, created)."""
    repo = context.repo()
    workflow = _workflow(context, repo)
    params = context.params
    runs = [
        render.workflow_run(run, repo, context.base)
        for run in sorted(repo.runs.values(), key=lambda r: -r.id)
        if run.workflow_id == workflow.id
        and params.get("branch") in {None, run.head_branch}
        and params.get("event") in {None, run.event}
        and params.get("status") in {None, run.status, run.conclusion}
        and created_matches(params.get("created"), run.created_at)
    ]
    return context.paginate(runs, wrap="workflow_runs")


async def get_run(context: Context) -> Reply:
    repo = context.repo()
    return Reply(200, render.workflow_run(_run(context, repo), repo, context.base))


async def list_jobs(context: Context) -> Reply:
    repo = context.repo()
    run = _run(context, repo)
    jobs = run.jobs if context.params.get("filter") == "all" else run.latest_jobs()
    return context.paginate([render.job(job, run, repo, context.base) for job in jobs], wrap="jobs")


async def get_job(context: Context) -> Reply:
    repo = context.repo()
    job, run = _job(context, repo)
    return Reply(200, render.job(job, run, repo, context.base))


async def download_job_logs(context: Context) -> Reply:
    repo = context.repo()
    job, _ = _job(context, repo)
    if job.status != "completed":
        raise RequestRejected(404, "Not Found")
    return _redirect(context, job_log_text(job).encode(), "text/plain; charset=utf-8")


async def download_run_logs(context: Context) -> Reply:
    repo = context.repo()
    run = _run(context, repo)
    if run.status != "completed":
        raise RequestRejected(404, "Not Found")
    logs = {
        f"{index}_{job.name}.txt": job_log_text(job) for index, job in enumerate(run.latest_jobs())
    }
    return _redirect(context, zip_archive(logs), "application/zip")


async def list_run_artifacts(context: Context) -> Reply:
    """The run's artifacts, newest first (GitHub's default `direction=desc`), by `name`."""
    repo = context.repo()
    run = _run(context, repo)
    wanted = context.params.get("name")
    artifacts = sorted(
        (artifact for artifact in run.artifacts if wanted in {None, artifact.name}),
        key=lambda artifact: artifact.id,
        reverse=context.params.get("direction", "desc") == "desc",
    )
    return context.paginate(
        [render.artifact(artifact, run, repo, context.base) for artifact in artifacts],
        wrap="artifacts",
    )


def _artifact(context: Context, repo: Repository) -> Artifact:
    artifact_id = int(context.params["artifact_id"])
    for run in repo.runs.values():
        for artifact in run.artifacts:
            if artifact.id == artifact_id:
                return artifact
    raise RequestRejected(404, "Not Found")


async def download_artifact(context: Context) -> Reply:
    """302 to the artifact's zip; GitHub serves only `zip` and answers 410 once it expired."""
    repo = context.repo()
    artifact = _artifact(context, repo)
    if context.params["archive_format"] != "zip":
        raise RequestRejected(404, "Not Found")
    if artifact.expired:
        raise RequestRejected(410, "Artifact has expired")
    return _redirect(context, artifact.archive, "application/zip")


async def rerun_failed_jobs(context: Context) -> Reply:
    repo = context.repo()
    run = _run(context, repo)
    if run.status != "completed":
        raise RequestRejected(403, "This workflow is already running")
    if run.conclusion == "success":
        raise RequestRejected(403, "This workflow run has no failed jobs to re-run")
    context.sandbox.rerun_failed_jobs(repo, run)
    return Reply(201, {})


ROUTES: dict[str, Handler] = {
    "actions/list-repo-workflows": list_workflows,
    "actions/create-workflow-dispatch": dispatch_workflow,
    "actions/list-workflow-runs-for-repo": list_runs,
    "actions/list-workflow-runs": list_workflow_runs,
    "actions/get-workflow-run": get_run,
    "actions/list-jobs-for-workflow-run": list_jobs,
    "actions/get-job-for-workflow-run": get_job,
    "actions/download-job-logs-for-workflow-run": download_job_logs,
    "actions/download-workflow-run-logs": download_run_logs,
    "actions/re-run-workflow-failed-jobs": rerun_failed_jobs,
    "actions/list-workflow-run-artifacts": list_run_artifacts,
    "actions/download-artifact": download_artifact,
}
