"""Sandbox records rendered as GitHub's JSON (the fields we model; `shapes.complete` adds
the rest). `base` is the API root the client used, e.g. `http://127.0.0.1:8080/api/v3`.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

from self_healing_bot.sandbox.state import (
    App,
    Artifact,
    CheckRun,
    Comment,
    Delivery,
    Installation,
    Issue,
    Job,
    Label,
    PullRequest,
    Repository,
    User,
    WorkflowRun,
)

Json = dict[str, Any]


def timestamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def html_root(base: str) -> str:
    return base.removesuffix("/api/v3")


def user(account: User, base: str) -> Json:
    return {
        "login": account.login,
        "id": account.id,
        "node_id": f"U_{account.id}",
        "type": account.type,
        "site_admin": False,
        "url": f"{base}/users/{account.login}",
        "html_url": f"{html_root(base)}/{account.login}",
        "avatar_url": f"{html_root(base)}/{account.login}.png",
    }


def repository(repo: Repository, base: str) -> Json:
    url = f"{base}/repos/{repo.full_name}"
    return {
        "id": repo.id,
        "node_id": f"R_{repo.id}",
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": user(repo.owner, base),
        "private": repo.private,
        "visibility": "private" if repo.private else "public",
        "default_branch": repo.default_branch,
        "url": url,
        "html_url": f"{html_root(base)}/{repo.full_name}",
        "clone_url": f"{html_root(base)}/{repo.full_name}.git",
        "created_at": timestamp(repo.created_at),
        "updated_at": timestamp(repo.created_at),
        "pushed_at": timestamp(repo.created_at),
        "permissions": {
            "admin": False,
            "maintain": False,
            "push": True,
            "triage": True,
            "pull": True,
        },
    }


def label(item: Label, repo: Repository, base: str) -> Json:
    return {
        "id": item.id,
        "node_id": f"LA_{item.id}",
        "name": item.name,
        "color": item.color,
        "default": False,
        "description": None,
        "url": f"{base}/repos/{repo.full_name}/labels/{item.name}",
    }


def issue(item: Issue, repo: Repository, base: str) -> Json:
    url = f"{base}/repos/{repo.full_name}/issues/{item.number}"
    body: Json = {
        "id": item.id,
        "node_id": f"I_{item.id}",
        "number": item.number,
        "title": item.title,
        "body": item.body,
        "user": user(item.user, base),
        "state": item.state,
        "state_reason": item.state_reason,
        "labels": [label(repo.labels[name], repo, base) for name in item.labels],
        "comments": sum(1 for c in repo.comments.values() if c.issue_number == item.number),
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
        "closed_at": timestamp(item.closed_at),
        "url": url,
        "html_url": f"{html_root(base)}/{repo.full_name}/issues/{item.number}",
        "repository_url": f"{base}/repos/{repo.full_name}",
        "comments_url": f"{url}/comments",
        "labels_url": f"{url}/labels{{/name}}",
        "events_url": f"{url}/events",
        "author_association": "NONE",
        "locked": False,
    }
    if item.is_pull_request:
        body["pull_request"] = {
            "url": f"{base}/repos/{repo.full_name}/pulls/{item.number}",
            "html_url": f"{html_root(base)}/{repo.full_name}/pull/{item.number}",
            "diff_url": f"{html_root(base)}/{repo.full_name}/pull/{item.number}.diff",
            "patch_url": f"{html_root(base)}/{repo.full_name}/pull/{item.number}.patch",
        }
    return body


def comment(item: Comment, repo: Repository, base: str) -> Json:
    issue_html = f"{html_root(base)}/{repo.full_name}/issues/{item.issue_number}"
    return {
        "id": item.id,
        "node_id": f"IC_{item.id}",
        "body": item.body,
        "user": user(item.user, base),
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
        "url": f"{base}/repos/{repo.full_name}/issues/comments/{item.id}",
        "html_url": f"{issue_html}#issuecomment-{item.id}",
        "issue_url": f"{base}/repos/{repo.full_name}/issues/{item.issue_number}",
        "author_association": "NONE",
    }


def pull_request(pull: PullRequest, repo: Repository, base: str) -> Json:
    item = repo.issues[pull.number]
    rendered = issue(item, repo, base)
    rendered.pop("pull_request")
    url = f"{base}/repos/{repo.full_name}/pulls/{pull.number}"
    base_sha = repo.branch_sha(pull.base_ref) or ""
    return {
        **rendered,
        "id": pull.id,
        "node_id": f"PR_{pull.id}",
        "url": url,
        "html_url": f"{html_root(base)}/{repo.full_name}/pull/{pull.number}",
        "diff_url": f"{html_root(base)}/{repo.full_name}/pull/{pull.number}.diff",
        "patch_url": f"{html_root(base)}/{repo.full_name}/pull/{pull.number}.patch",
        "issue_url": rendered["url"],
        "commits_url": f"{url}/commits",
        "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{base}/repos/{repo.full_name}/pulls/comments{{/number}}",
        "statuses_url": f"{base}/repos/{repo.full_name}/statuses/{pull.head_sha}",
        # GitHub's schema for pull requests types a label's description as a string (an
        # issue's allows null), so a label without one is sent as "" here.
        "labels": [
            {**item, "description": item["description"] or ""} for item in rendered["labels"]
        ],
        "head": _pull_end(pull.head_repository or repo, pull.head_ref, pull.head_sha, base),
        "base": _pull_end(repo, pull.base_ref, base_sha, base),
        "draft": pull.draft,
        "merged": pull.merged_at is not None,
        "merged_at": timestamp(pull.merged_at),
        "merge_commit_sha": pull.merge_commit_sha,
        "mergeable": None if pull.merged_at else True,
        "mergeable_state": "clean",
        "rebaseable": True,
        "merged_by": None,
        "comments": rendered["comments"],
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": 1,
        "additions": 0,
        "deletions": 0,
        "changed_files": 0,
        "_links": {
            name: {"href": href}
            for name, href in {
                "self": url,
                "html": f"{html_root(base)}/{repo.full_name}/pull/{pull.number}",
                "issue": rendered["url"],
                "comments": rendered["comments_url"],
                "review_comments": f"{url}/comments",
                "review_comment": f"{base}/repos/{repo.full_name}/pulls/comments{{/number}}",
                "commits": f"{url}/commits",
                "statuses": f"{base}/repos/{repo.full_name}/statuses/{pull.head_sha}",
            }.items()
        },
    }


def _pull_end(repo: Repository, ref: str, sha: str, base: str) -> Json:
    return {
        "label": f"{repo.owner.login}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user(repo.owner, base),
        "repo": repository(repo, base),
    }


def git_commit(repo: Repository, sha: str, base: str) -> Json:
    commit = repo.git.commits[sha]
    identity = {
        "name": commit.author_name,
        "email": commit.author_email,
        "date": timestamp(commit.date),
    }
    return {
        "sha": sha,
        "node_id": f"C_{sha}",
        "url": f"{base}/repos/{repo.full_name}/git/commits/{sha}",
        "html_url": f"{html_root(base)}/{repo.full_name}/commit/{sha}",
        "author": identity,
        "committer": identity,
        "message": commit.message,
        "tree": {
            "sha": commit.tree,
            "url": f"{base}/repos/{repo.full_name}/git/trees/{commit.tree}",
        },
        "parents": [
            {
                "sha": parent,
                "url": f"{base}/repos/{repo.full_name}/git/commits/{parent}",
                "html_url": f"{html_root(base)}/{repo.full_name}/commit/{parent}",
            }
            for parent in commit.parents
        ],
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


def git_ref(repo: Repository, ref: str, base: str) -> Json:
    sha = repo.refs[ref]
    return {
        "ref": ref,
        "node_id": f"REF_{ref}",
        "url": f"{base}/repos/{repo.full_name}/git/{ref}",
        "object": {
            "type": "commit",
            "sha": sha,
            "url": f"{base}/repos/{repo.full_name}/git/commits/{sha}",
        },
    }


def content_file(
    repo: Repository, path: str, content: bytes, blob_sha: str, ref: str, base: str
) -> Json:
    url = f"{base}/repos/{repo.full_name}/contents/{path}?ref={ref}"
    git_url = f"{base}/repos/{repo.full_name}/git/blobs/{blob_sha}"
    html_url = f"{html_root(base)}/{repo.full_name}/blob/{ref}/{path}"
    return {
        "type": "file",
        "encoding": "base64",
        "size": len(content),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "content": base64.encodebytes(content).decode(),
        "sha": blob_sha,
        "url": url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": f"{html_root(base)}/raw/{repo.full_name}/{ref}/{path}",
        "_links": {"self": url, "git": git_url, "html": html_url},
    }


def workflow_run(run: WorkflowRun, repo: Repository, base: str) -> Json:
    url = f"{base}/repos/{repo.full_name}/actions/runs/{run.id}"
    workflow = repo.workflows[run.workflow_id]
    head_commit = repo.git.commits[run.head_sha]
    return {
        "id": run.id,
        "node_id": f"WFR_{run.id}",
        "name": run.name,
        "display_title": head_commit.message.splitlines()[0] if head_commit.message else run.name,
        "path": workflow.path,
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "run_number": run.run_number,
        "run_attempt": run.run_attempt,
        "event": run.event,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": run.workflow_id,
        "check_suite_id": run.check_suite_id,
        "check_suite_node_id": f"CS_{run.check_suite_id}",
        "url": url,
        "html_url": f"{html_root(base)}/{repo.full_name}/actions/runs/{run.id}",
        "jobs_url": f"{url}/jobs",
        "logs_url": f"{url}/logs",
        "check_suite_url": f"{base}/repos/{repo.full_name}/check-suites/{run.check_suite_id}",
        "artifacts_url": f"{url}/artifacts",
        "cancel_url": f"{url}/cancel",
        "rerun_url": f"{url}/rerun",
        "previous_attempt_url": f"{url}/attempts/{run.run_attempt - 1}"
        if run.run_attempt > 1
        else None,
        "workflow_url": f"{base}/repos/{repo.full_name}/actions/workflows/{run.workflow_id}",
        # GitHub lists no pull requests on a fork's run (they are the base repository's).
        "pull_requests": []
        if run.head_repository is not None
        else [
            _pull_minimal(pull, repo, base)
            for pull in repo.pulls.values()
            if pull.head_repository is None
            and pull.head_ref == run.head_branch
            and repo.issues[pull.number].state == "open"
        ],
        "created_at": timestamp(run.created_at),
        "updated_at": timestamp(run.updated_at),
        "run_started_at": timestamp(run.created_at),
        "actor": user(repo.owner, base),
        "triggering_actor": user(repo.owner, base),
        "head_commit": {
            "id": run.head_sha,
            "tree_id": head_commit.tree,
            "message": head_commit.message,
            "timestamp": timestamp(head_commit.date),
            "author": {"name": head_commit.author_name, "email": head_commit.author_email},
            "committer": {"name": head_commit.author_name, "email": head_commit.author_email},
        },
        "repository": repository(repo, base),
        "head_repository": repository(run.head_repository or repo, base),
    }


def _pull_minimal(pull: PullRequest, repo: Repository, base: str) -> Json:
    """A run's associated pull request, as GitHub lists it in `pull_requests`."""
    repo_ref = {"id": repo.id, "url": f"{base}/repos/{repo.full_name}", "name": repo.name}
    return {
        "id": pull.id,
        "number": pull.number,
        "url": f"{base}/repos/{repo.full_name}/pulls/{pull.number}",
        "head": {"ref": pull.head_ref, "sha": pull.head_sha, "repo": repo_ref},
        "base": {
            "ref": pull.base_ref,
            "sha": repo.branch_sha(pull.base_ref) or "",
            "repo": repo_ref,
        },
    }


def job(item: Job, run: WorkflowRun, repo: Repository, base: str) -> Json:
    return {
        "id": item.id,
        "node_id": f"J_{item.id}",
        "run_id": run.id,
        "run_attempt": item.run_attempt,
        "run_url": f"{base}/repos/{repo.full_name}/actions/runs/{run.id}",
        "url": f"{base}/repos/{repo.full_name}/actions/jobs/{item.id}",
        "html_url": f"{html_root(base)}/{repo.full_name}/actions/runs/{run.id}/job/{item.id}",
        "check_run_url": f"{base}/repos/{repo.full_name}/check-runs/{item.check_run_id}",
        "head_sha": item.head_sha,
        "head_branch": run.head_branch,
        "workflow_name": run.name,
        "name": item.name,
        "status": item.status,
        "conclusion": item.conclusion,
        "created_at": timestamp(item.created_at),
        "started_at": timestamp(item.started_at or item.created_at),
        "completed_at": timestamp(item.completed_at),
        "steps": [],
        "labels": ["ubuntu-latest"],
        "runner_id": None,
        "runner_name": None,
        "runner_group_id": None,
        "runner_group_name": None,
    }


def artifact(item: Artifact, run: WorkflowRun, repo: Repository, base: str) -> Json:
    url = f"{base}/repos/{repo.full_name}/actions/artifacts/{item.id}"
    return {
        "id": item.id,
        "node_id": f"MDg6QXJ0aWZhY3Q{item.id}",
        "name": item.name,
        "size_in_bytes": len(item.archive),
        "url": url,
        "archive_download_url": f"{url}/zip",
        "expired": item.expired,
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.created_at),
        "expires_at": timestamp(item.expires_at),
        "digest": f"sha256:{hashlib.sha256(item.archive).hexdigest()}",
        "workflow_run": {
            "id": run.id,
            "repository_id": repo.id,
            "head_repository_id": (run.head_repository or repo).id,
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
        },
    }


def check_run(item: CheckRun, repo: Repository, app: App | None, base: str) -> Json:
    output = {"title": None, "summary": None, "text": None, "annotations_count": 0, **item.output}
    output["annotations_count"] = len(output.pop("annotations", []) or [])
    output["annotations_url"] = f"{base}/repos/{repo.full_name}/check-runs/{item.id}/annotations"
    return {
        "id": item.id,
        "node_id": f"CR_{item.id}",
        "name": item.name,
        "head_sha": item.head_sha,
        "status": item.status,
        "conclusion": item.conclusion,
        "started_at": timestamp(item.started_at),
        "completed_at": timestamp(item.completed_at),
        "external_id": item.external_id,
        "details_url": item.details_url,
        "url": f"{base}/repos/{repo.full_name}/check-runs/{item.id}",
        "html_url": f"{html_root(base)}/{repo.full_name}/runs/{item.id}",
        "output": output,
        "check_suite": {"id": item.check_suite_id},
        "app": app_json(app, base) if app else None,
        "pull_requests": [],
    }


def app_json(app: App, base: str) -> Json:
    return {
        "id": app.id,
        "slug": app.slug,
        "node_id": f"A_{app.id}",
        "name": app.slug,
        "owner": user(app.owner, base),
        "description": None,
        "external_url": f"{html_root(base)}/apps/{app.slug}",
        "html_url": f"{html_root(base)}/apps/{app.slug}",
        "created_at": timestamp(app.created_at),
        "updated_at": timestamp(app.created_at),
        "permissions": {
            "actions": "write",
            "checks": "write",
            "contents": "write",
            "issues": "write",
            "metadata": "read",
            "pull_requests": "write",
        },
        "events": [
            "check_run",
            "check_suite",
            "issue_comment",
            "pull_request",
            "push",
            "workflow_job",
            "workflow_run",
        ],
    }


def installation(item: Installation, app: App, base: str) -> Json:
    return {
        "id": item.id,
        "account": user(item.account, base),
        "app_id": app.id,
        "app_slug": app.slug,
        "target_id": item.account.id,
        "target_type": item.account.type,
        "repository_selection": "selected",
        "access_tokens_url": f"{base}/app/installations/{item.id}/access_tokens",
        "repositories_url": f"{base}/installation/repositories",
        "html_url": f"{html_root(base)}/settings/installations/{item.id}",
        "permissions": app_json(app, base)["permissions"],
        "events": app_json(app, base)["events"],
        "created_at": timestamp(app.created_at),
        "updated_at": timestamp(app.created_at),
        "single_file_name": None,
    }


def delivery_item(item: Delivery) -> Json:
    return {
        "id": item.id,
        "guid": item.guid,
        "delivered_at": timestamp(item.delivered_at),
        "redelivery": item.redelivery,
        "duration": item.duration,
        "status": item.status,
        "status_code": item.status_code,
        "event": item.event,
        "action": item.action,
        "installation_id": item.installation_id,
        "repository_id": item.repository_id,
        "throttled_at": None,
    }


def delivery_detail(item: Delivery, url: str | None) -> Json:
    return {
        **delivery_item(item),
        "url": url or "",
        "request": {"headers": item.request_headers, "payload": item.payload},
        "response": {"headers": item.response_headers, "payload": item.response_body},
    }
