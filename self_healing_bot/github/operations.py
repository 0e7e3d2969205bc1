"""The GitHub calls the bot makes, as one method each (names are a team contract).

github = GitHub.from_settings(load_settings())
client = github.installation(installation_id)
file = await client.get_file("octo/repo", ".github/self-healing-bot.yml")
pr = await client.find_pull_request("octo/repo", "shbot/gpu-oom-3f2a")
"""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from self_healing_bot.github.auth import AppJwt, Credentials, InstallationToken
from self_healing_bot.github.errors import GitHubApiError, GitHubError, GitHubNotFoundError
from self_healing_bot.github.markers import has_marker
from self_healing_bot.github.models import (
    Artifact,
    CheckOutput,
    CheckRun,
    Comment,
    HookDelivery,
    Issue,
    Job,
    PullRequest,
    RepoFile,
    Repository,
    WorkflowRun,
)
from self_healing_bot.github.transport import GitHubTransport

ANNOTATIONS_PER_REQUEST = 50  # GitHub's limit per check-run create or update


def repo_path(repo: str) -> str:
    """`/repos/owner/name` for "owner/name"; anything else is a caller's mistake."""
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name:
        raise ValueError(f"repository must be 'owner/name', got {repo!r}")
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


def _output_payload(output: CheckOutput, annotations: tuple[Any, ...]) -> dict[str, Any]:
    payload: dict[str, Any] = {"title": output.title, "summary": output.summary}
    if output.text is not None:
        payload["text"] = output.text
    if annotations:
        payload["annotations"] = [annotation.to_api() for annotation in annotations]
    return payload


class InstallationClient:
    """GitHub as one installation (or a personal token) sees it; `repo` is "owner/name"."""

    def __init__(self, transport: GitHubTransport, credentials: Credentials) -> None:
        self._transport = transport
        self._credentials = credentials

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> Any:
        response = await self._transport.request(
            self._credentials, method, path, params=params, json=json
        )
        return response.json()

    def _items(
        self, path: str, params: Mapping[str, str | int] | None = None, items_key: str | None = None
    ) -> AsyncGenerator[Any, None]:
        return self._transport.paginate(self._credentials, path, params=params, items_key=items_key)

    # Repository contents and git data

    async def get_repository(self, repo: str) -> Repository:
        return Repository.from_api(await self._call("GET", repo_path(repo)))

    async def get_file(self, repo: str, path: str, ref: str | None = None) -> RepoFile | None:
        """The file's bytes and blob sha at `ref` (default branch when None); None if absent."""
        params = {"ref": ref} if ref else None
        try:
            data = await self._call(
                "GET", f"{repo_path(repo)}/contents/{quote(path)}", params=params
            )
        except GitHubNotFoundError:
            return None
        if not isinstance(data, dict) or data.get("type") != "file":
            raise GitHubError(f"{repo}:{path} is not a file (a directory or a submodule)")
        if data.get("encoding") != "base64":  # files over 1 MB come without content
            blob = await self._call("GET", f"{repo_path(repo)}/git/blobs/{data['sha']}")
            data = {**data, "content": blob["content"]}
        return RepoFile(path, data["sha"], base64.b64decode(data["content"]))

    async def get_branch_sha(self, repo: str, branch: str) -> str:
        data = await self._call("GET", f"{repo_path(repo)}/git/ref/heads/{quote(branch)}")
        sha: str = data["object"]["sha"]
        return sha

    async def create_branch(self, repo: str, branch: str, from_sha: str) -> None:
        await self._call(
            "POST",
            f"{repo_path(repo)}/git/refs",
            json={"ref": f"refs/heads/{branch}", "sha": from_sha},
        )

    async def commit_files(
        self, repo: str, branch: str, message: str, changes: dict[str, bytes | None]
    ) -> str:
        """One commit on top of `branch` with every change (None deletes); returns its sha.

        New files get mode 100644. The branch moves without force, so a concurrent push to
        it makes this fail (422) rather than lose that push.
        """
        base = repo_path(repo)
        head = await self.get_branch_sha(repo, branch)
        head_commit = await self._call("GET", f"{base}/git/commits/{head}")
        entries: list[dict[str, Any]] = []
        for path, content in sorted(changes.items()):
            entry: dict[str, Any] = {"path": path, "mode": "100644", "type": "blob"}
            if content is None:
                entry["sha"] = None
            else:
                blob = await self._call(
                    "POST",
                    f"{base}/git/blobs",
                    json={"content": base64.b64encode(content).decode(), "encoding": "base64"},
                )
                entry["sha"] = blob["sha"]
            entries.append(entry)
        tree = await self._call(
            "POST",
            f"{base}/git/trees",
            json={"base_tree": head_commit["tree"]["sha"], "tree": entries},
        )
        commit = await self._call(
            "POST",
            f"{base}/git/commits",
            json={"message": message, "tree": tree["sha"], "parents": [head]},
        )
        await self._call(
            "PATCH",
            f"{base}/git/refs/heads/{quote(branch)}",
            json={"sha": commit["sha"], "force": False},
        )
        sha: str = commit["sha"]
        return sha

    async def delete_branch(self, repo: str, branch: str) -> None:
        """Delete `branch`; a branch that is already gone counts as deleted."""
        try:
            await self._call("DELETE", f"{repo_path(repo)}/git/refs/heads/{quote(branch)}")
        except GitHubApiError as error:
            gone = error.status == 404 or "does not exist" in error.github_message
            if not (error.status in (404, 422) and gone):
                raise

    # Pull requests

    async def find_pull_request(
        self, repo: str, head_branch: str, state: str = "open"
    ) -> PullRequest | None:
        owner = repo.partition("/")[0]
        pulls = await self._call(
            "GET",
            f"{repo_path(repo)}/pulls",
            params={"head": f"{owner}:{head_branch}", "state": state, "per_page": 100},
        )
        return PullRequest.from_api(pulls[0]) if pulls else None

    async def list_pull_requests(self, repo: str, state: str = "open") -> list[PullRequest]:
        """Every pull request in `state` (`open`, `closed`, `all`), newest first, across pages."""
        items = self._items(f"{repo_path(repo)}/pulls", {"state": state})
        return [PullRequest.from_api(item) async for item in items]

    async def create_pull_request(
        self, repo: str, title: str, body: str, head: str, base: str
    ) -> PullRequest:
        data = await self._call(
            "POST",
            f"{repo_path(repo)}/pulls",
            json={"title": title, "body": body, "head": head, "base": base},
        )
        return PullRequest.from_api(data)

    async def update_pull_request(self, repo: str, number: int, **fields: Any) -> PullRequest:
        """PATCH the pull request: `update_pull_request(repo, 7, body="...", state="closed")`."""
        data = await self._call("PATCH", f"{repo_path(repo)}/pulls/{number}", json=fields)
        return PullRequest.from_api(data)

    async def close_pull_request(self, repo: str, number: int) -> PullRequest:
        return await self.update_pull_request(repo, number, state="closed")

    async def merge_pull_request(self, repo: str, number: int, sha: str) -> str:
        """Merge only if the head is still `sha` (GitHub answers 409 otherwise); the merge sha."""
        data = await self._call("PUT", f"{repo_path(repo)}/pulls/{number}/merge", json={"sha": sha})
        merged: str = data["sha"]
        return merged

    # Issues, comments, labels

    async def find_issue_by_marker(self, repo: str, key: str) -> Issue | None:
        """The issue (open or closed, not a pull request) whose body holds the marker of `key`."""
        items = self._items(f"{repo_path(repo)}/issues", {"state": "all"})
        async with aclosing(items):
            async for item in items:
                if "pull_request" not in item and has_marker(item.get("body"), key):
                    return Issue.from_api(item)
        return None

    async def create_issue(self, repo: str, title: str, body: str, labels: list[str]) -> Issue:
        data = await self._call(
            "POST",
            f"{repo_path(repo)}/issues",
            json={"title": title, "body": body, "labels": labels},
        )
        return Issue.from_api(data)

    async def update_issue(self, repo: str, number: int, **fields: Any) -> Issue:
        """PATCH the issue: `update_issue(repo, 12, state="closed", state_reason="completed")`."""
        data = await self._call("PATCH", f"{repo_path(repo)}/issues/{number}", json=fields)
        return Issue.from_api(data)

    async def add_labels(self, repo: str, number: int, labels: list[str]) -> tuple[str, ...]:
        """Add labels to an issue or pull request; returns all its labels afterwards."""
        data = await self._call(
            "POST", f"{repo_path(repo)}/issues/{number}/labels", json={"labels": labels}
        )
        return tuple(label["name"] for label in data)

    async def find_comment_by_marker(
        self, repo: str, issue_number: int, key: str
    ) -> Comment | None:
        items = self._items(f"{repo_path(repo)}/issues/{issue_number}/comments")
        async with aclosing(items):
            async for item in items:
                if has_marker(item.get("body"), key):
                    return Comment.from_api(item)
        return None

    async def create_comment(self, repo: str, issue_number: int, body: str) -> Comment:
        data = await self._call(
            "POST", f"{repo_path(repo)}/issues/{issue_number}/comments", json={"body": body}
        )
        return Comment.from_api(data)

    async def update_comment(self, repo: str, comment_id: int, body: str) -> Comment:
        data = await self._call(
            "PATCH", f"{repo_path(repo)}/issues/comments/{comment_id}", json={"body": body}
        )
        return Comment.from_api(data)

    # Actions

    async def list_workflow_runs(
        self, repo: str, workflow: str | int, *, branch: str, event: str, created_since: datetime
    ) -> list[WorkflowRun]:
        """Runs of `workflow` (file name or id) on `branch` started by `event` at or after
        `created_since`, newest first: how a dispatch finds the run an earlier call started.

            await client.list_workflow_runs("octo/ml", "retrain.yml", branch="main",
                                            event="workflow_dispatch", created_since=detected_at)
        """
        since = created_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        items = self._items(
            f"{repo_path(repo)}/actions/workflows/{quote(str(workflow), safe='')}/runs",
            {"branch": branch, "event": event, "created": f">={since}"},
            items_key="workflow_runs",
        )
        return [WorkflowRun.from_api(item) async for item in items]

    async def list_runs_for_commit(self, repo: str, head_sha: str) -> list[WorkflowRun]:
        """Every workflow run on commit `head_sha` (each at its latest attempt), newest first:
        how a fix commit's CI is judged as a whole."""
        items = self._items(
            f"{repo_path(repo)}/actions/runs", {"head_sha": head_sha}, items_key="workflow_runs"
        )
        return [WorkflowRun.from_api(item) async for item in items]

    async def get_workflow_run(self, repo: str, run_id: int) -> WorkflowRun:
        return WorkflowRun.from_api(
            await self._call("GET", f"{repo_path(repo)}/actions/runs/{run_id}")
        )

    async def list_run_jobs(self, repo: str, run_id: int) -> list[Job]:
        """Every job of the run's latest attempt, across pages."""
        items = self._items(f"{repo_path(repo)}/actions/runs/{run_id}/jobs", items_key="jobs")
        return [Job.from_api(item) async for item in items]

    async def download_job_log(self, repo: str, job_id: int) -> bytes:
        """The job's plain-text log (GitHub redirects to a URL valid for one minute)."""
        return await self._transport.download(
            self._credentials, f"{repo_path(repo)}/actions/jobs/{job_id}/logs"
        )

    async def download_run_logs(self, repo: str, run_id: int) -> bytes:
        """The zip of every job's log in the run."""
        return await self._transport.download(
            self._credentials, f"{repo_path(repo)}/actions/runs/{run_id}/logs"
        )

    async def list_run_artifacts(self, repo: str, run_id: int) -> list[Artifact]:
        """Every artifact the run uploaded (expired ones included, marked), across pages."""
        items = self._items(
            f"{repo_path(repo)}/actions/runs/{run_id}/artifacts", items_key="artifacts"
        )
        return [Artifact.from_api(item) async for item in items]

    async def download_artifact(self, repo: str, artifact_id: int) -> bytes:
        """The artifact's zip (GitHub redirects to a URL valid for one minute; an expired
        artifact answers 410, raised as `GitHubApiError`)."""
        return await self._transport.download(
            self._credentials, f"{repo_path(repo)}/actions/artifacts/{artifact_id}/zip"
        )

    async def rerun_failed_jobs(self, repo: str, run_id: int) -> None:
        await self._call("POST", f"{repo_path(repo)}/actions/runs/{run_id}/rerun-failed-jobs")

    async def dispatch_workflow(
        self, repo: str, workflow: str | int, ref: str, inputs: dict[str, str]
    ) -> int | None:
        """Start `workflow` (file name or id) on `ref`; the new run's id when GitHub returns it."""
        data = await self._call(
            "POST",
            f"{repo_path(repo)}/actions/workflows/{quote(str(workflow), safe='')}/dispatches",
            json={"ref": ref, "inputs": inputs, "return_run_details": True},
        )
        if isinstance(data, dict) and isinstance(run_id := data.get("workflow_run_id"), int):
            return run_id
        return None

    # Checks

    async def create_check_run(
        self,
        repo: str,
        name: str,
        head_sha: str,
        status: str,
        conclusion: str | None = None,
        output: CheckOutput | None = None,
    ) -> CheckRun:
        """Create a check run; annotations beyond GitHub's 50 per request follow in updates."""
        batches = _annotation_batches(output)
        payload: dict[str, Any] = {"name": name, "head_sha": head_sha, "status": status}
        if conclusion is not None:
            payload["conclusion"] = conclusion
        if output is not None:
            payload["output"] = _output_payload(output, batches[0])
        data = await self._call("POST", f"{repo_path(repo)}/check-runs", json=payload)
        check_run = CheckRun.from_api(data)
        for batch in batches[1:]:
            assert output is not None
            check_run = await self._patch_check_run(
                repo, check_run.id, {"output": _output_payload(output, batch)}
            )
        return check_run

    async def list_check_runs_for_ref(self, repo: str, ref: str, check_name: str) -> list[CheckRun]:
        """The check runs named `check_name` on `ref` (a sha, branch or tag), latest first."""
        items = self._items(
            f"{repo_path(repo)}/commits/{quote(ref, safe='')}/check-runs",
            {"check_name": check_name},
            items_key="check_runs",
        )
        return [CheckRun.from_api(item) async for item in items]

    async def update_check_run(
        self,
        repo: str,
        check_run_id: int,
        *,
        status: str | None = None,
        conclusion: str | None = None,
        output: CheckOutput | None = None,
    ) -> CheckRun:
        """Change status, conclusion or output; annotations are appended in batches of 50."""
        batches = _annotation_batches(output)
        payload: dict[str, Any] = {}
        if status is not None:
            payload["status"] = status
        if conclusion is not None:
            payload["conclusion"] = conclusion
        check_run: CheckRun | None = None
        for index, batch in enumerate(batches):
            if output is not None:
                payload["output"] = _output_payload(output, batch)
            check_run = await self._patch_check_run(repo, check_run_id, payload)
            if index == 0:
                payload = {}
        assert check_run is not None
        return check_run

    async def _patch_check_run(
        self, repo: str, check_run_id: int, payload: dict[str, Any]
    ) -> CheckRun:
        data = await self._call(
            "PATCH", f"{repo_path(repo)}/check-runs/{check_run_id}", json=payload
        )
        return CheckRun.from_api(data)

    # People

    async def get_collaborator_permission(self, repo: str, username: str) -> str:
        """`admin`, `write`, `read` or `none` (also for someone who is not a collaborator)."""
        try:
            data = await self._call(
                "GET",
                f"{repo_path(repo)}/collaborators/{quote(username, safe='')}/permission",
            )
        except GitHubNotFoundError:
            return "none"
        permission: str = data["permission"]
        return permission


def _annotation_batches(output: CheckOutput | None) -> list[tuple[Any, ...]]:
    """The output's annotations in request-sized batches; always at least one (maybe empty)."""
    annotations = output.annotations if output is not None else ()
    return [
        annotations[start : start + ANNOTATIONS_PER_REQUEST]
        for start in range(0, max(len(annotations), 1), ANNOTATIONS_PER_REQUEST)
    ]


class AppClient:
    """GitHub as the app itself sees it (JWT): installation tokens and webhook deliveries."""

    def __init__(self, transport: GitHubTransport, credentials: AppJwt) -> None:
        self._transport = transport
        self._credentials = credentials

    async def create_installation_token(self, installation_id: int) -> InstallationToken:
        response = await self._transport.request(
            self._credentials, "POST", f"/app/installations/{installation_id}/access_tokens"
        )
        data = response.json()
        expires_at = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))
        return InstallationToken(data["token"], expires_at.timestamp())

    async def list_hook_deliveries(self, since: datetime | None = None) -> list[HookDelivery]:
        """The app's webhook delivery attempts, newest first, back to `since` (all when None)."""
        deliveries: list[HookDelivery] = []
        items = self._transport.paginate(self._credentials, "/app/hook/deliveries")
        async with aclosing(items):
            async for item in items:
                delivery = HookDelivery.from_api(item)
                if since is not None and delivery.delivered_at < since:
                    break
                deliveries.append(delivery)
        return deliveries

    async def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to send delivery `delivery_id` again (it answers 202 and sends later)."""
        await self._transport.request(
            self._credentials, "POST", f"/app/hook/deliveries/{delivery_id}/attempts"
        )
