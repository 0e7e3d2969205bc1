"""Why did CI fail? Diagnose the failed jobs of a workflow run, workflow job or check run.

Applies to `workflow_run`, `workflow_job` and `check_run` events completed with `failure`,
`timed_out` or `cancelled`: downloads the failed jobs' logs (the run's log zip when the run
has no failed job to read), classifies them with the diagnosis core plus the repository's own
`diagnosis_rules`, and returns one `Detection` per failed job. A commit that is no longer the
head of its branch is skipped: a newer push has its own run. A fork's run is not checked
that way: its branch lives in the fork (a same-named branch here is another branch), and
the executor only reports on forks, so a superseded commit costs at most a stale check run.

Also applies to a run or job completed with `success` on a re-run (`run_attempt` > 1): the
signatures the same job failed with on the same commit are marked flaky.

Configuration (`.github/self-healing-bot.yml`):

    detectors:
      pipeline_failure: {enabled: false}      # turn it off
    diagnosis_rules:                          # checked before the built-in rules
      - {category: data_missing, pattern: "shard \\\\d+ unavailable", summary: "A shard is down"}
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import CheckRunEvent, Event, WorkflowJobEvent, WorkflowRunEvent
from self_healing_bot.detectors.registry import Detection, DetectionSkipped, register
from self_healing_bot.diagnosis import Diagnosis, Rule, RuleError, diagnose_bytes
from self_healing_bot.github.errors import GitHubNotFoundError
from self_healing_bot.github.models import Job, RepoFile
from self_healing_bot.repo_config.model import DiagnosisRule, RepoConfig
from self_healing_bot.repo_config.remote import InvalidRepoConfigError, fetch_repo_config
from self_healing_bot.storage.detections import mark_flaky

DETECTOR_ID = "pipeline_failure"
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "cancelled"})
# Above every built-in rule (they stop at 94), so a repository's own rule decides first.
REPOSITORY_RULE_PRIORITY = 96
_EVIDENCE_LINES = 5


class PipelineClient(Protocol):
    """The slice of the GitHub client this detector calls."""

    async def get_file(self, repo: str, path: str, ref: str | None = None) -> RepoFile | None: ...

    async def get_branch_sha(self, repo: str, branch: str) -> str: ...

    async def list_run_jobs(self, repo: str, run_id: int) -> list[Job]: ...

    async def download_job_log(self, repo: str, job_id: int) -> bytes: ...

    async def download_run_logs(self, repo: str, run_id: int) -> bytes: ...


class MissingGitHubClientError(RuntimeError):
    """Logs cannot be downloaded without GitHub credentials."""


@dataclass(frozen=True)
class CompletedCheck:
    """What an event says about a completed run, job or check (`job` None: the whole run)."""

    event: str
    conclusion: str
    head_sha: str
    branch: str | None
    run_id: int | None
    run_attempt: int
    job: str | None
    job_id: int | None
    check_output: str = ""
    from_fork: bool = False


def _extra(model: BaseModel, key: str) -> Any:
    """A payload field the event model keeps without declaring it."""
    return (model.model_extra or {}).get(key)


def completed_check(event: Event) -> CompletedCheck | None:
    """The completed run, job or check this event reports; None for anything else."""
    if event.action != "completed":
        return None
    if isinstance(event, WorkflowRunEvent):
        run = event.workflow_run
        head_repository = _extra(run, "head_repository")
        head_name = head_repository.get("full_name") if isinstance(head_repository, dict) else None
        base_name = event.repository.full_name if event.repository is not None else None
        return CompletedCheck(
            "workflow_run",
            run.conclusion or "",
            run.head_sha,
            run.head_branch,
            run.id,
            run.run_attempt or 1,
            None,
            None,
            from_fork=head_name is not None and base_name is not None and head_name != base_name,
        )
    if isinstance(event, WorkflowJobEvent):
        job = event.workflow_job
        attempt = _extra(job, "run_attempt")
        branch = _extra(job, "head_branch")
        return CompletedCheck(
            "workflow_job",
            job.conclusion or "",
            job.head_sha,
            branch if isinstance(branch, str) else None,
            job.run_id,
            attempt if isinstance(attempt, int) else 1,
            job.name,
            job.id,
        )
    if isinstance(event, CheckRunEvent):
        check = event.check_run
        suite = _extra(check, "check_suite")
        branch = suite.get("head_branch") if isinstance(suite, dict) else None
        output = _extra(check, "output")
        parts = (
            [output.get(key) for key in ("title", "summary", "text")]
            if isinstance(output, dict)
            else []
        )
        return CompletedCheck(
            "check_run",
            check.conclusion or "",
            check.head_sha,
            branch if isinstance(branch, str) else None,
            None,
            1,
            check.name,
            check.id,
            "\n".join(part for part in parts if isinstance(part, str) and part),
        )
    return None


def is_failure(check: CompletedCheck) -> bool:
    return check.conclusion in FAILED_CONCLUSIONS


def is_passing_rerun(check: CompletedCheck) -> bool:
    return check.conclusion == "success" and check.run_attempt > 1 and check.run_id is not None


def repository_rules(rules: list[DiagnosisRule]) -> tuple[Rule, ...]:
    """The config's `diagnosis_rules` as rule-table rows, ahead of the built-in ones."""
    return tuple(
        Rule(f"repository-{index}", rule.pattern, rule.category, REPOSITORY_RULE_PRIORITY)
        for index, rule in enumerate(rules, start=1)
    )


def repository_summary(diagnosis: Diagnosis, rules: list[DiagnosisRule]) -> str:
    """A repository rule's own summary when that rule decided the diagnosis."""
    for rule in rules:
        if rule.summary and rule.category == diagnosis.category:
            pattern = re.compile(rule.pattern)
            if any(pattern.search(item.text) for item in diagnosis.evidence):
                return rule.summary
    return diagnosis.summary


def diagnose_log(log: bytes, name: str, config: RepoConfig) -> tuple[Diagnosis, dict[str, Any]]:
    """Classify one log with the repository's rules; unusable rules fall back to the built-in
    ones, and the reason is returned as a `config_warning` parameter."""
    extra = repository_rules(config.diagnosis_rules)
    try:
        diagnosis = diagnose_bytes(log, extra, name=name)
    except RuleError as error:
        warning = f"repository diagnosis rules ignored: {error}"
        return diagnose_bytes(log, (), name=name), {"config_warning": warning}
    return diagnosis, {}


def detection_from(
    diagnosis: Diagnosis,
    check: CompletedCheck,
    job: str | None,
    job_id: int | None,
    config: RepoConfig,
    extra_params: dict[str, Any],
) -> Detection:
    """The detection for one failed job: the diagnosis plus where and when it failed."""
    evidence = diagnosis.evidence[:_EVIDENCE_LINES]
    occurrence = (
        f"check run {check.job_id}"
        if check.run_id is None
        else f"run {check.run_id} attempt {check.run_attempt} job {job}"
    )
    params: dict[str, Any] = {
        **diagnosis.params,
        **extra_params,
        "job": job,
        "job_id": job_id,
        "step": diagnosis.params.get("step"),
        "head_sha": check.head_sha,
        "branch": check.branch,
        "run_id": check.run_id,
        "run_attempt": check.run_attempt,
        "conclusion": check.conclusion,
        "event": check.event,
        "occurrence": occurrence,
        "evidence_lines": [{"line": item.line, "text": item.text} for item in evidence],
    }
    return Detection(
        detector_id=DETECTOR_ID,
        category=diagnosis.category,
        confidence=diagnosis.confidence,
        signature=diagnosis.signature,
        summary=repository_summary(diagnosis, config.diagnosis_rules),
        params=params,
        evidence=params["evidence_lines"],
        branch=check.branch,
        head_sha=check.head_sha,
    )


class PipelineFailureDetector:
    id = DETECTOR_ID

    def applies_to(self, event: Event) -> bool:
        if not isinstance(event, WorkflowRunEvent | WorkflowJobEvent | CheckRunEvent):
            return False
        check = completed_check(event)
        return check is not None and (is_failure(check) or is_passing_rerun(check))

    async def detect(self, context: ExecutionContext) -> list[Detection]:
        check = completed_check(context.event)
        repository = context.repository
        if check is None or repository is None:
            return []
        if is_passing_rerun(check) and check.run_id is not None:
            async with context.database.session() as session:
                flaky = await mark_flaky(
                    session, repository, check.head_sha, check.run_id, check.job
                )
            context.log.info("passed on re-run", flaky_signatures=flaky)
            return []
        client = context.github
        if client is None:
            raise MissingGitHubClientError(
                "the pipeline-failure detector downloads logs from GitHub: set "
                "SHBOT_GITHUB_APP_ID and SHBOT_GITHUB_PRIVATE_KEY, or SHBOT_GITHUB_TOKEN"
            )
        config = await self._config(context, client, repository)
        if not config.detector_enabled(DETECTOR_ID):
            raise DetectionSkipped(f"{DETECTOR_ID} is disabled in the repository's config")
        await self._require_branch_head(client, repository, check)
        return await self._diagnose(client, repository, check, config)

    async def _config(
        self, context: ExecutionContext, client: PipelineClient, repository: str
    ) -> RepoConfig:
        try:
            return await fetch_repo_config(client, repository, context.database)
        except InvalidRepoConfigError as error:
            context.log.warning("invalid repository config", problems=str(error))
            return error.last_valid or RepoConfig()

    async def _require_branch_head(
        self, client: PipelineClient, repository: str, check: CompletedCheck
    ) -> None:
        if check.branch is None or check.from_fork:
            return
        try:
            head = await client.get_branch_sha(repository, check.branch)
        except GitHubNotFoundError:
            raise DetectionSkipped(f"branch {check.branch!r} no longer exists") from None
        if head != check.head_sha:
            raise DetectionSkipped(
                f"commit {check.head_sha[:12]} is no longer the head of {check.branch!r} "
                f"(now {head[:12]}); the newer commit's run is diagnosed instead"
            )

    async def _diagnose(
        self, client: PipelineClient, repository: str, check: CompletedCheck, config: RepoConfig
    ) -> list[Detection]:
        if check.event == "check_run":
            if not check.check_output:
                raise DetectionSkipped(
                    "the check run has no output to read; GitHub Actions jobs are diagnosed "
                    "from their workflow_job and workflow_run events"
                )
            log = check.check_output.encode()
            return [await self._one(log, check, check.job, check.job_id, config)]
        if check.run_id is None:
            raise DetectionSkipped(f"the {check.event} event names no workflow run")
        if check.job_id is not None:
            log = await client.download_job_log(repository, check.job_id)
            return [await self._one(log, check, check.job, check.job_id, config)]
        jobs = await client.list_run_jobs(repository, check.run_id)
        failed = [job for job in jobs if job.conclusion in FAILED_CONCLUSIONS]
        if not failed:  # e.g. the workflow file itself is invalid: only the run has logs
            log = await client.download_run_logs(repository, check.run_id)
            return [await self._one(log, check, None, None, config)]
        detections = []
        for job in failed:
            log = await client.download_job_log(repository, job.id)
            detections.append(await self._one(log, check, job.name, job.id, config))
        return detections

    async def _one(
        self,
        log: bytes,
        check: CompletedCheck,
        job: str | None,
        job_id: int | None,
        config: RepoConfig,
    ) -> Detection:
        # Classification is CPU-bound (about 1 s per 100 MB): keep the event loop free.
        diagnosis, extra = await asyncio.to_thread(diagnose_log, log, job or "run", config)
        return detection_from(diagnosis, check, job, job_id, config, extra)


register(PipelineFailureDetector())
