"""The GitHub sandbox: state, the changes GitHub makes to it, and the webhooks they cause.

Tests drive it in-process, the CLI serves it (`self-healing-bot sandbox`):

    sandbox = GitHubSandbox(webhook_url="http://127.0.0.1:8000/webhooks/github")
    sandbox.register_app(1, public_key_pem, webhook_secret="s3cret")
    sandbox.add_repository("org/ml", files={"train.py": b"..."})
    sandbox.add_installation(10, account="org", repositories=["org/ml"])
    client = httpx.AsyncClient(transport=httpx.ASGITransport(sandbox.asgi_app),
                               base_url="http://sandbox")
"""

from __future__ import annotations

import asyncio
import io
import itertools
import zipfile
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from self_healing_bot.sandbox import representations as render
from self_healing_bot.sandbox.auth import IssuedToken, issue_installation_token
from self_healing_bot.sandbox.ci_rules import JobSpec, ScenarioError
from self_healing_bot.sandbox.deliveries import WebhookSender, webhook_payload
from self_healing_bot.sandbox.faults import Faults
from self_healing_bot.sandbox.openapi_spec import Rejection
from self_healing_bot.sandbox.state import (
    App,
    Artifact,
    CheckRun,
    Comment,
    Installation,
    Issue,
    Job,
    Label,
    PullRequest,
    Repository,
    User,
    Workflow,
    WorkflowRun,
)

DEFAULT_RUN_DELAY_SECONDS = 0.05
ARTIFACT_RETENTION = timedelta(days=90)  # GitHub's default for a repository
GITHUB_ACTIONS_APP_ID = 15368  # the id of the `github-actions` app on github.com
EPOCH = datetime(2018, 7, 30, tzinfo=UTC)  # a fixed creation time for GitHub's own app


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class GitHubSandbox:
    """An in-memory GitHub: repositories, CI, apps and their webhooks."""

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        base_url: str = "http://127.0.0.1:8080",
        run_delay: float = DEFAULT_RUN_DELAY_SECONDS,
        validate_responses: bool = False,
        request_log: str | Path | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.webhook_url = webhook_url
        self.base_url = base_url.rstrip("/")
        self.run_delay = run_delay
        self.validate_responses = validate_responses
        self.request_log = Path(request_log) if request_log else None
        self.clock = clock
        self.faults = Faults()
        self.sender = WebhookSender(self.faults, clock)
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.personal_tokens: dict[str, User] = {}
        self.repositories: dict[str, Repository] = {}
        self.users: dict[str, User] = {}
        self.response_errors: list[str] = []
        self.rejections: list[Rejection] = []  # requests GitHub's API description refuses
        self._ids = itertools.count(1000)
        self._run_tasks: set[asyncio.Task[None]] = set()
        self._asgi_app: ASGIApp | None = None

    # -- setup ---------------------------------------------------------------------------
    @property
    def asgi_app(self) -> ASGIApp:
        """The ASGI application serving GitHub's REST API (also under `/api/v3`)."""
        if self._asgi_app is None:
            from self_healing_bot.sandbox.server import build_asgi_app

            self._asgi_app = build_asgi_app(self)
        return self._asgi_app

    def new_id(self) -> int:
        return next(self._ids)

    def github_actions_app(self) -> App:
        """GitHub's own Actions app (id and slug as on github.com), owner of runs' check suites."""
        return App(
            id=GITHUB_ACTIONS_APP_ID,
            slug="github-actions",
            owner=self.user("github", "Organization"),
            public_key_pem="",
            webhook_url=None,
            webhook_secret="",
            hook_id=0,
            created_at=EPOCH,
        )

    def user(self, login: str, kind: str = "User") -> User:
        if login not in self.users:
            self.users[login] = User(self.new_id(), login, kind)
        return self.users[login]

    def register_app(
        self,
        app_id: int,
        public_key_pem: str,
        *,
        webhook_secret: str = "",
        webhook_url: str | None = None,
        slug: str = "self-healing-bot",
    ) -> App:
        """Register a GitHub App whose JWTs are verified with `public_key_pem`."""
        app = App(
            id=app_id,
            slug=slug,
            owner=self.user("sandbox-org", "Organization"),
            public_key_pem=public_key_pem,
            webhook_url=webhook_url or self.webhook_url,
            webhook_secret=webhook_secret,
            hook_id=self.new_id(),
            created_at=self.clock(),
        )
        self.apps[app_id] = app
        return app

    def add_installation(
        self,
        installation_id: int,
        account: str,
        repositories: Iterable[str],
        app_id: int | None = None,
    ) -> Installation:
        """Install an app (the only one when `app_id` is None) on some repositories."""
        if app_id is None and len(self.apps) != 1:
            raise ScenarioError("an installation needs an app: register one app first")
        app_id = app_id if app_id is not None else next(iter(self.apps))
        installation = Installation(
            installation_id, app_id, self.user(account, "Organization"), set(repositories)
        )
        self.installations[installation_id] = installation
        return installation

    def installation_token(self, installation_id: int) -> str:
        """Issue an installation token directly (tests that do not exercise the JWT flow)."""
        issued = issue_installation_token(installation_id, self.clock())
        self.tokens[issued.token] = issued
        return issued.token

    def add_personal_token(self, token: str, login: str) -> None:
        """A personal token acting as `login`, with access to every repository."""
        self.personal_tokens[token] = self.user(login)

    def add_repository(
        self,
        full_name: str,
        files: Mapping[str, bytes | str],
        *,
        default_branch: str = "main",
        collaborators: Mapping[str, str] | None = None,
        private: bool = True,
    ) -> Repository:
        """Create a repository whose default branch holds `files` in one commit."""
        owner, _, name = full_name.partition("/")
        if not owner or not name:
            raise ScenarioError(f"a repository is named 'owner/name', got {full_name!r}")
        repo = Repository(
            self.new_id(),
            self.user(owner, "Organization"),
            name,
            default_branch,
            self.clock(),
            private=private,
        )
        repo.collaborators = {owner: "admin", **(collaborators or {})}
        tree = repo.git.write_tree(
            {path: repo.git.write_blob(_as_bytes(content)) for path, content in files.items()}
        )
        commit = repo.git.write_commit(tree, (), "Initial commit", date=self.clock())
        repo.refs[f"refs/heads/{default_branch}"] = commit.sha
        self.repositories[full_name.lower()] = repo
        return repo

    def add_workflow(
        self,
        full_name: str,
        name: str,
        jobs: Iterable[JobSpec],
        *,
        path: str | None = None,
        triggers: Iterable[str] = ("push", "workflow_dispatch"),
    ) -> Workflow:
        """Declare a simulated workflow; pushes (and dispatches) then create its runs."""
        repo = self.repository(full_name)
        workflow = Workflow(
            self.new_id(),
            name,
            path or f".github/workflows/{name}.yml",
            tuple(triggers),
            tuple(jobs),
        )
        repo.workflows[workflow.id] = workflow
        return workflow

    def repository(self, full_name: str) -> Repository:
        try:
            return self.repositories[full_name.lower()]
        except KeyError:
            raise ScenarioError(f"no repository {full_name!r} in the sandbox") from None

    async def drain(self) -> None:
        """Wait until every scheduled CI run has completed and every webhook was attempted."""
        while self._run_tasks:
            await asyncio.gather(*list(self._run_tasks))
        await self.sender.drain()

    async def close(self) -> None:
        for task in self._run_tasks:
            task.cancel()
        await asyncio.gather(*self._run_tasks, return_exceptions=True)
        await self.sender.close()

    # -- git -----------------------------------------------------------------------------
    def commit_files(
        self, full_name: str, branch: str, changes: Mapping[str, bytes | str | None], message: str
    ) -> str:
        """Commit changes (None deletes) on top of `branch` as a push would: CI runs, webhooks."""
        repo = self.repository(full_name)
        parent = repo.branch_sha(branch)
        if parent is None:
            raise ScenarioError(f"{full_name} has no branch {branch!r}")
        sha = self._commit_changes(repo, parent, changes, message)
        self.set_ref(repo, f"refs/heads/{branch}", sha)
        return sha

    def _commit_changes(
        self,
        repo: Repository,
        parent: str,
        changes: Mapping[str, bytes | str | None],
        message: str,
    ) -> str:
        """Write a commit of `parent`'s files with `changes` applied (None deletes); its SHA."""
        files = dict(repo.git.trees[repo.git.commits[parent].tree])
        for path, content in changes.items():
            if content is None:
                files.pop(path, None)
            else:
                files[path] = repo.git.write_blob(_as_bytes(content))
        tree = repo.git.write_tree(files)
        return repo.git.write_commit(tree, (parent,), message, date=self.clock()).sha

    def set_ref(self, repo: Repository, ref: str, sha: str) -> None:
        """Move (or create) a ref; a branch move is a push: webhooks, PR sync and CI."""
        before = repo.refs.get(ref)
        repo.refs[ref] = sha
        if not ref.startswith("refs/heads/") or before == sha:
            return
        branch = ref.removeprefix("refs/heads/")
        self.emit(repo, "push", None, self._push_fields(repo, ref, before, sha))
        for pull in repo.pulls.values():
            if (
                pull.head_repository is None
                and pull.head_ref == branch
                and repo.issues[pull.number].state == "open"
            ):
                pull.head_sha = sha
                repo.issues[pull.number].updated_at = self.clock()
                self.emit_pull_request(repo, pull, "synchronize", before=before, after=sha)
                self.start_runs(repo, sha, branch, "pull_request")
        self.start_runs(repo, sha, branch, "push")

    def delete_ref(self, repo: Repository, ref: str) -> None:
        del repo.refs[ref]

    def _push_fields(
        self, repo: Repository, ref: str, before: str | None, after: str
    ) -> dict[str, Any]:
        commit = repo.git.commits[after]
        author = {"name": commit.author_name, "email": commit.author_email}
        head = {
            "id": after,
            "tree_id": commit.tree,
            "distinct": True,
            "message": commit.message,
            "timestamp": render.timestamp(commit.date),
            "url": "",
            "author": author,
            "committer": author,
            "added": [],
            "removed": [],
            "modified": [],
        }
        return {
            "ref": ref,
            "before": before or "0" * 40,
            "after": after,
            "created": before is None,
            "deleted": False,
            "forced": False,
            "base_ref": None,
            "compare": "",
            "commits": [head],
            "head_commit": head,
            "pusher": {"name": repo.owner.login, "email": None},
        }

    # -- pulls, issues ---------------------------------------------------------------------
    def create_issue(
        self,
        repo: Repository,
        title: str,
        body: str | None,
        author: User,
        labels: Iterable[str] = (),
    ) -> Issue:
        now = self.clock()
        issue = Issue(self.new_id(), repo.next_issue_number(), title, body, author, now, now)
        self.add_labels(repo, issue, labels)
        repo.issues[issue.number] = issue
        return issue

    def add_labels(self, repo: Repository, issue: Issue, labels: Iterable[str]) -> None:
        for name in labels:
            if name not in repo.labels:
                repo.labels[name] = Label(self.new_id(), name)
            if name not in issue.labels:
                issue.labels.append(name)

    def create_pull_request(
        self,
        repo: Repository,
        title: str,
        body: str | None,
        head: str,
        base: str,
        author: User,
        draft: bool = False,
    ) -> PullRequest:
        head_sha = repo.branch_sha(head)
        if head_sha is None or repo.branch_sha(base) is None:
            raise KeyError(head if head_sha is None else base)
        issue = self.create_issue(repo, title, body, author)
        issue.is_pull_request = True
        pull = PullRequest(self.new_id(), issue.number, head, head_sha, base, draft=draft)
        repo.pulls[pull.number] = pull
        self.emit_pull_request(repo, pull, "opened")
        self.start_runs(repo, head_sha, head, "pull_request")
        return pull

    def open_fork_pull_request(
        self,
        full_name: str,
        contributor: str,
        branch: str,
        changes: Mapping[str, bytes | str | None],
        title: str = "Change from a fork",
    ) -> PullRequest:
        """`contributor` forks `full_name`, commits `changes` on `branch` there and opens a
        pull request into the default branch, as GitHub does it: the commit is readable in the
        base repository (as `refs/pull/N/head`), the fork is not installed, and the runs of the
        `pull_request` workflows name the fork as `head_repository` with no `pull_requests`."""
        repo = self.repository(full_name)
        base_sha = repo.branch_sha(repo.default_branch)
        assert base_sha is not None
        fork_name = f"{contributor}/{repo.name}"
        fork = self.repositories.get(fork_name.lower()) or self.add_repository(
            fork_name, repo.git.files_at(base_sha), default_branch=repo.default_branch
        )
        fork.owner = self.user(contributor)
        head_sha = self._commit_changes(repo, base_sha, changes, title)
        issue = self.create_issue(repo, title, None, fork.owner)
        issue.is_pull_request = True
        pull = PullRequest(
            self.new_id(),
            issue.number,
            branch,
            head_sha,
            repo.default_branch,
            head_repository=fork,
        )
        repo.pulls[pull.number] = pull
        repo.refs[f"refs/pull/{pull.number}/head"] = head_sha
        self.emit_pull_request(repo, pull, "opened")
        self.start_runs(repo, head_sha, branch, "pull_request", head_repository=fork)
        return pull

    def close_issue(self, repo: Repository, issue: Issue, reason: str | None = "completed") -> None:
        issue.state, issue.state_reason = "closed", reason
        issue.closed_at = issue.updated_at = self.clock()
        if issue.is_pull_request:
            self.emit_pull_request(repo, repo.pulls[issue.number], "closed")

    def merge_pull_request(self, repo: Repository, pull: PullRequest, message: str) -> str:
        """Merge the head's changes (since the merge base) onto the base branch; returns the SHA."""
        git = repo.git
        base_sha = repo.branch_sha(pull.base_ref)
        assert base_sha is not None
        merge_base = next(
            sha
            for sha in _first_parent_chain(git.commits, pull.head_sha)
            if git.is_ancestor(sha, base_sha)
        )
        before, after = (
            git.trees[git.commits[merge_base].tree],
            git.trees[git.commits[pull.head_sha].tree],
        )
        files = dict(git.trees[git.commits[base_sha].tree])
        for path in before.keys() | after.keys():
            if before.get(path) != after.get(path):
                if path in after:
                    files[path] = after[path]
                else:
                    files.pop(path, None)
        commit = git.write_commit(
            git.write_tree(files), (base_sha, pull.head_sha), message, date=self.clock()
        )
        pull.merged_at = self.clock()
        pull.merge_commit_sha = commit.sha
        self.close_issue(repo, repo.issues[pull.number], reason=None)
        self.set_ref(repo, f"refs/heads/{pull.base_ref}", commit.sha)
        return commit.sha

    def create_comment(self, repo: Repository, issue: Issue, body: str, author: User) -> Comment:
        now = self.clock()
        comment = Comment(self.new_id(), issue.number, body, author, now, now)
        repo.comments[comment.id] = comment
        fields = {
            "issue": render.issue(issue, repo, self.base_url),
            "comment": render.comment(comment, repo, self.base_url),
        }
        self.emit(repo, "issue_comment", "created", fields, sender=author)
        return comment

    def emit_pull_request(
        self,
        repo: Repository,
        pull: PullRequest,
        action: str,
        before: str | None = None,
        after: str | None = None,
    ) -> None:
        fields: dict[str, Any] = {
            "number": pull.number,
            "pull_request": render.pull_request(pull, repo, self.base_url),
        }
        if action == "synchronize":
            fields |= {"before": before, "after": after}
        self.emit(repo, "pull_request", action, fields, sender=repo.issues[pull.number].user)

    # -- actions ---------------------------------------------------------------------------
    def start_runs(
        self,
        repo: Repository,
        sha: str,
        branch: str,
        event: str,
        workflows: Iterable[Workflow] | None = None,
        head_repository: Repository | None = None,
    ) -> list[WorkflowRun]:
        """Create a run of each workflow triggered by `event` and complete it after the delay."""
        chosen = workflows if workflows is not None else repo.workflows.values()
        runs = []
        for workflow in chosen:
            if workflows is None and event not in workflow.triggers:
                continue
            now = self.clock()
            run = WorkflowRun(
                id=self.new_id(),
                workflow_id=workflow.id,
                name=workflow.name,
                head_sha=sha,
                head_branch=branch,
                event=event,
                check_suite_id=self.new_id(),
                created_at=now,
                updated_at=now,
                run_number=1 + sum(1 for r in repo.runs.values() if r.workflow_id == workflow.id),
                head_repository=head_repository,
            )
            repo.runs[run.id] = run
            self._queue_jobs(repo, run, [job.name for job in workflow.jobs])
            self.emit(repo, "workflow_run", "requested", self._run_fields(repo, run))
            runs.append(run)
        return runs

    def rerun_failed_jobs(self, repo: Repository, run: WorkflowRun) -> None:
        failed = [job.name for job in run.latest_jobs() if job.conclusion != "success"]
        run.run_attempt += 1
        run.status, run.conclusion, run.updated_at = "queued", None, self.clock()
        self._queue_jobs(repo, run, failed)
        self.emit(repo, "workflow_run", "requested", self._run_fields(repo, run))

    def _queue_jobs(self, repo: Repository, run: WorkflowRun, names: list[str]) -> None:
        for name in names:
            job = Job(self.new_id(), run.id, run.run_attempt, name, run.head_sha, self.clock())
            check = CheckRun(
                self.new_id(),
                name,
                run.head_sha,
                None,
                self.clock(),
                check_suite_id=run.check_suite_id,
            )
            repo.check_runs[check.id] = check
            job.check_run_id = check.id
            run.jobs.append(job)
            self.emit(repo, "workflow_job", "queued", self._job_fields(repo, run, job))
        task = asyncio.get_running_loop().create_task(
            self._complete_later(repo, run, run.run_attempt)
        )
        self._run_tasks.add(task)
        task.add_done_callback(self._run_tasks.discard)

    async def _complete_later(self, repo: Repository, run: WorkflowRun, attempt: int) -> None:
        await asyncio.sleep(self.run_delay)
        workflow = repo.workflows[run.workflow_id]
        specs = {spec.name: spec for spec in workflow.jobs}
        files = repo.git.files_at(run.head_sha)
        now = self.clock()
        for job in run.jobs:
            if job.run_attempt != attempt:
                continue
            outcome = specs[job.name].run(files, attempt)
            job.status, job.conclusion, job.log = "completed", outcome.conclusion, outcome.log
            job.started_at, job.completed_at = job.created_at, now
            check = repo.check_runs[job.check_run_id]
            check.status, check.conclusion, check.completed_at = (
                "completed",
                outcome.conclusion,
                now,
            )
            for name, uploaded in outcome.artifacts.items():
                run.artifacts.append(
                    Artifact(
                        self.new_id(),
                        name,
                        run.id,
                        zip_archive(uploaded),
                        now,
                        now + ARTIFACT_RETENTION,
                    )
                )
            self.emit(repo, "workflow_job", "completed", self._job_fields(repo, run, job))
            self.emit(
                repo, "check_run", "completed", {"check_run": self._check_run_fields(repo, check)}
            )
        latest = run.latest_jobs()
        run.status, run.updated_at = "completed", now
        run.conclusion = (
            "success" if all(job.conclusion == "success" for job in latest) else "failure"
        )
        self.emit(repo, "workflow_run", "completed", self._run_fields(repo, run))
        suite = {
            "id": run.check_suite_id,
            "head_sha": run.head_sha,
            "head_branch": run.head_branch,
            "status": "completed",
            "conclusion": run.conclusion,
            "pull_requests": [],
            "created_at": render.timestamp(run.created_at),
            "updated_at": render.timestamp(now),
            # As on GitHub, a workflow run's check suite belongs to the GitHub Actions app.
            "app": render.app_json(self.github_actions_app(), self.base_url),
        }
        self.emit(repo, "check_suite", "completed", {"check_suite": suite})

    def _run_fields(self, repo: Repository, run: WorkflowRun) -> dict[str, Any]:
        workflow = repo.workflows[run.workflow_id]
        return {
            "workflow_run": render.workflow_run(run, repo, self.base_url),
            "workflow": {
                "id": workflow.id,
                "name": workflow.name,
                "path": workflow.path,
                "state": "active",
                "url": f"{self.base_url}/repos/{repo.full_name}/actions/workflows/{workflow.id}",
            },
        }

    def _job_fields(self, repo: Repository, run: WorkflowRun, job: Job) -> dict[str, Any]:
        return {"workflow_job": render.job(job, run, repo, self.base_url)}

    def _check_run_fields(self, repo: Repository, check: CheckRun) -> dict[str, Any]:
        app = self.apps.get(check.app_id) if check.app_id else None
        # Webhook schemas type these as non-null; leave them to the schema's neutral values.
        rendered = {
            key: value
            for key, value in render.check_run(check, repo, app, self.base_url).items()
            if value is not None
        }
        rendered["check_suite"] = {
            "id": check.check_suite_id,
            "head_sha": check.head_sha,
            "status": "completed",
            "pull_requests": [],
        }
        return rendered

    # -- webhooks ----------------------------------------------------------------------------
    def emit(
        self,
        repo: Repository,
        event: str,
        action: str | None,
        fields: dict[str, Any],
        sender: User | None = None,
    ) -> None:
        """Send `event` to every app installed on `repo` (recorded even when it fails)."""
        for installation in self.installations.values():
            if repo.full_name not in installation.repositories:
                continue
            app = self.apps[installation.app_id]
            payload = webhook_payload(
                event,
                action,
                {
                    **fields,
                    "repository": render.repository(repo, self.base_url),
                    "sender": render.user(sender or repo.owner, self.base_url),
                    "installation": {"id": installation.id, "node_id": f"IN_{installation.id}"},
                },
            )
            self.sender.send(app, event, action, payload, installation.id, repo.id)


def _first_parent_chain(commits: Mapping[str, Any], sha: str) -> Iterable[str]:
    current: str | None = sha
    while current is not None:
        yield current
        parents = commits[current].parents
        current = parents[0] if parents else None


def zip_archive(files: Mapping[str, bytes | str]) -> bytes:
    """A deflated zip of `files` (path → content), as GitHub serves logs and artifacts."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path, content in files.items():
            bundle.writestr(path, content)
    return archive.getvalue()


def _as_bytes(content: bytes | str) -> bytes:
    return content.encode() if isinstance(content, str) else content
