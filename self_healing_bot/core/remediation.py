"""The playbook executor: detections become repairs, repairs act on GitHub, CI verifies them.

The bot installs one `PlaybookRemediation` at start-up (`install_remediation`); the pipeline's
last four stages call it:

    select_playbook  read the config (default branch, org defaults), pick and plan a playbook,
                     and store a `planned` repair per detection (or resume this delivery's)
    act              re-check the trigger, then run the steps: each step recorded before and
                     after, so a redelivered task resumes after the last completed one; a
                     repair that begins to wait reads CI that already ended from GitHub
    verify           a completed workflow_run / check_suite that a pending repair waits for
                     resolves it (verified, or compensated and escalated; a fix commit is
                     judged with its other runs, see `core/verification.py`); `/heal` commands

The scheduler's reconcile (`core/reconcile.py`) calls `reconcile` and `execute` for repairs no
webhook will move on any more.
    notify           the end state of this event for the execution record

Everything the executor writes on GitHub carries a key derived from the failure signature.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from self_healing_bot.actions.context import BRANCH_PREFIX, ActionContext
from self_healing_bot.actions.create_check_run import publish_check_run
from self_healing_bot.actions.open_fix_pull_request import close_fix_pull_request
from self_healing_bot.actions.registry import ActionResult, find_action
from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.core.bot import StageOutcome
from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import CheckSuiteEvent, IssueCommentEvent, WorkflowRunEvent
from self_healing_bot.core.playbook import (
    LoadedPlaybook,
    Plan,
    PlanError,
    PlannedStep,
    Playbook,
    detection_report,
    load_builtin_playbooks,
    load_playbook,
    plan_playbook,
    render_parameters,
    select_playbook,
    step_condition,
    template_context,
)
from self_healing_bot.core.verification import CiResult, commit_verdict, on_fix_commit, waits_for
from self_healing_bot.detectors.registry import Detection
from self_healing_bot.github.errors import GitHubError
from self_healing_bot.github.markers import with_marker
from self_healing_bot.github.models import CheckOutput, Issue, PullRequest
from self_healing_bot.github.operations import InstallationClient
from self_healing_bot.guardrails import redact_secrets
from self_healing_bot.repo_config import CONFIG_PATH, ConfigError, RepoConfig, merge_configs
from self_healing_bot.repo_config.remote import InvalidRepoConfigError, fetch_repo_config
from self_healing_bot.storage import repairs as store
from self_healing_bot.storage.deliveries import as_utc
from self_healing_bot.storage.detections import SignatureHistory, signature_history
from self_healing_bot.storage.models import utc_now
from self_healing_bot.storage.repairs import OPEN_STATES, Repair, RepairState

CHECK_NAME = "self-healing-bot"
# Actions whose effect a later CI run proves or disproves, and the budget each one spends.
_REPAIRING_ACTIONS = frozenset({"open_fix_pull_request", "rerun_failed_jobs", "dispatch_workflow"})
# Actions that open a pull request the repair is then verified (or compensated) by.
_PULL_REQUEST_ACTIONS = frozenset({"open_fix_pull_request", "rollback_model"})


class StepFailedError(RuntimeError):
    """A step failed after its bounded retries; compensations run next."""


@dataclass(frozen=True)
class RepositoryConfig:
    """The config in force and, when the file is broken, its problems."""

    config: RepoConfig
    error: ConfigError | None = None


# Pure helpers


def is_bot_branch(branch: str | None) -> bool:
    """Fix branches are the bot's own: their CI verifies a repair, it never starts one."""
    return branch is not None and branch.startswith(f"{BRANCH_PREFIX}/")


def from_fork(payload: Mapping[str, Any]) -> bool:
    """True when the run's code comes from another repository (a fork's pull request)."""
    run = payload.get("workflow_run") or {}
    head = (run.get("head_repository") or {}).get("full_name")
    base = (payload.get("repository") or {}).get("full_name")
    return head is not None and base is not None and head != base


def repair_level(config: RepoConfig, category: str, *, fork: bool) -> AutomationLevel:
    """The automation level a repair runs at: the config's for the category, but `suggest`
    (a check run with the diagnosis, nothing else) for a fork's event whatever the config says.

    Security: a fork's code and log are written by someone without write access, so nothing
    the bot does for them writes to the repository: no branch, pull request, issue, comment
    or re-run (a re-run would run the fork's code again with the repository's secrets). The
    check run lands on the fork's commit, where the pull request's author sees it.
    """
    return AutomationLevel.SUGGEST if fork else config.automation.level_for(category)


def with_occurrences(detection: Detection, history: SignatureHistory | None) -> Detection:
    """The detection with `occurrences` from the signature's history (the stored count of
    distinct failures, this one included), so playbooks can act on a recurrence."""
    if history is None or history.count <= detection.occurrences:
        return detection
    return dataclasses.replace(detection, occurrences=history.count)


def bot_pull_requests(pulls: list[PullRequest]) -> list[PullRequest]:
    """The open pull requests the bot opened: their head is one of its fix branches."""
    return [pull for pull in pulls if pull.state == "open" and is_bot_branch(pull.head_ref)]


def acted_on_github(repair: Repair) -> bool:
    """Whether the repair took a remedy that CI proves or disproves (a fix pull request, a
    re-run, a dispatched workflow): what the cooldown and the failed-remedy rule count."""
    return (
        repair.pull_request is not None
        or repair.rerun_run_id is not None
        or repair.dispatched_run_id is not None
    )


def _plan_json(plan: Plan) -> dict[str, Any]:
    return dataclasses.asdict(plan)


def _planned_steps(raw: list[dict[str, Any]]) -> list[PlannedStep]:
    return [PlannedStep(**step) for step in raw]


def _key_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class PlaybookRemediation:
    """The `Remediation` the bot installs: one per process, sharing one outbound HTTP client."""

    def __init__(self, http: httpx.AsyncClient | None = None) -> None:
        self._http = http or httpx.AsyncClient(timeout=10.0)

    async def aclose(self) -> None:
        await self._http.aclose()

    # select_playbook

    async def select_playbook(
        self, context: ExecutionContext, detections: list[Detection]
    ) -> StageOutcome:
        github, repository = context.github, context.repository
        if github is None or repository is None:
            return StageOutcome("skipped", {"reason": "no GitHub client for this event"}, [])
        default_branch = await self._default_branch(context, github, repository)
        in_force = await self._config(context, github, repository)
        result = ci_result(context)
        answered = await self._answered_by(context, result) if result is not None else []
        chosen: list[int] = []
        skipped: dict[str, str] = {}
        for detection in detections:
            if is_bot_branch(detection.branch):
                skipped[detection.signature] = "the bot's own fix branch: verified, not repaired"
                continue
            if detection.params.get("event") == "workflow_job":
                # Its run's completed event follows with the run and its pull requests, which
                # re-runs and PR comments need; planning from both would repair twice.
                skipped[detection.signature] = "a job's result: planned from its workflow run"
                continue
            if any(
                repair.signature == detection.signature or _is_dispatched_run(repair, result)
                for repair in answered
            ):
                # A dispatched run (retraining) that fails answers its repair: escalated there,
                # whether it is still waiting or has already been resolved by this result.
                skipped[detection.signature] = "this result verifies a pending repair"
                continue
            repair_id, reason = await self._plan(
                context, repository, default_branch, in_force, detection
            )
            if repair_id is None:
                skipped[detection.signature] = reason
            else:
                chosen.append(repair_id)
        detail: dict[str, Any] = {"repairs": chosen, "skipped": skipped}
        if in_force.error is not None:
            detail["config_error"] = str(in_force.error)
        return StageOutcome("ok" if chosen else "skipped", detail, chosen)

    async def _default_branch(
        self, context: ExecutionContext, github: InstallationClient, repository: str
    ) -> str:
        event_repository = context.event.repository
        if event_repository is not None and event_repository.default_branch:
            return event_repository.default_branch
        return (await github.get_repository(repository)).default_branch

    async def _config(
        self, context: ExecutionContext, github: InstallationClient, repository: str
    ) -> RepositoryConfig:
        """The config from the default branch over the org's `.github` defaults (the one store
        `repo_configs` keeps the last valid one); a broken file is reported (check run and
        comment) and the last valid config stays in force: built-in defaults if none was."""
        try:
            config = await fetch_repo_config(github, repository, context.database)
        except InvalidRepoConfigError as error:
            await self._report_config_error(context, github, repository, error)
            return RepositoryConfig(error.last_valid or merge_configs(None, None), error=error)
        return RepositoryConfig(config)

    async def _report_config_error(
        self,
        context: ExecutionContext,
        github: InstallationClient,
        repository: str,
        error: ConfigError,
    ) -> None:
        problems = "\n".join(f"- `{problem}`" for problem in error.problems)
        text = (
            f"`{CONFIG_PATH}` on the default branch is invalid, so the last valid configuration "
            f"stays in force until it is fixed:\n\n{problems}"
        )
        head_sha = _head_sha(context)
        if head_sha is not None:
            await publish_check_run(
                github,
                repository,
                f"{CHECK_NAME} config",
                head_sha,
                "failure",
                CheckOutput(title="Invalid self-healing-bot configuration", summary=text),
            )
        key = f"config-error:{_key_hash(text)}"
        issue = await github.find_issue_by_marker(repository, "config-error")
        if issue is None:
            await github.create_issue(
                repository,
                "self-healing-bot configuration is invalid",
                with_marker(with_marker(text, key), "config-error"),
                ["self-healing-bot"],
            )
        else:
            await _comment_once(github, repository, issue.number, key, text)

    async def _answered_by(self, context: ExecutionContext, result: CiResult) -> list[Repair]:
        """Repairs, waiting or already resolved, that `result` is the awaited CI result of."""
        repository = context.repository
        if repository is None:
            return []
        async with context.database.session() as session:
            linked = await store.linked_to_ci(session, repository, result.id, result.head_sha)
        return [repair for repair in linked if waits_for(repair, result)]

    async def _plan(
        self,
        context: ExecutionContext,
        repository: str,
        default_branch: str,
        in_force: RepositoryConfig,
        detection: Detection,
    ) -> tuple[int | None, str]:
        config = in_force.config
        async with context.database.session() as session:
            earlier = await store.repairs_for_signature(session, repository, detection.signature)
            history = await signature_history(session, repository, detection.signature)
        if any(repair.silenced for repair in earlier) or (history is not None and history.ignored):
            return None, "silenced with /heal ignore"
        ongoing = [repair for repair in earlier if repair.state in OPEN_STATES]
        if ongoing:
            if ongoing[-1].delivery_id == context.delivery_id:
                return ongoing[-1].id, "resumed"
            return None, f"repair {ongoing[-1].id} for this signature is still {ongoing[-1].state}"
        mine = [repair for repair in earlier if repair.delivery_id == context.delivery_id]
        if mine:  # this delivery already finished its repair: a redelivery changes nothing
            return None, f"repair {mine[-1].id} of this delivery ended {mine[-1].state}"
        detection = with_occurrences(detection, history)
        fork = from_fork(context.payload)
        level = repair_level(config, detection.category, fork=fork)
        loaded = await self._choose(context, repository, default_branch, config, detection)
        plan = (
            plan_playbook(
                loaded,
                detection,
                config,
                repository={"full_name": repository, "default_branch": default_branch},
                event=context.payload,
            )
            if loaded is not None and level is not AutomationLevel.SUGGEST
            else None
        )
        run = context.payload.get("workflow_run") or {}
        repair = Repair(
            repository=repository,
            signature=detection.signature,
            attempt=len(earlier) + 1,
            category=detection.category,
            playbook=loaded.playbook.name if loaded is not None else None,
            level=level.value,
            state=RepairState.PLANNED.value,
            delivery_id=context.delivery_id,
            installation_id=context.installation_id,
            detection=detection.as_template_value(),
            config=config.model_dump(mode="json"),
            playbook_source=(
                loaded.playbook.model_dump(mode="json", by_alias=True, exclude_none=True)
                if loaded is not None
                else {}
            ),
            inputs={
                "default_branch": default_branch,
                "from_fork": fork,
                "run_id": run.get("id"),
                "run_attempt": run.get("run_attempt"),
                "workflow_id": run.get("workflow_id"),  # its fix is judged by this workflow
                # A fork's run lists none (GitHub leaves `pull_requests` empty for forks).
                "pull_requests": [pull.get("number") for pull in run.get("pull_requests") or []],
            },
            plan=_plan_json(plan) if plan is not None else {},
            silenced=False,
            failed_at=_parse_time(run.get("updated_at")),
            detected_at=utc_now(),
        )
        async with context.database.session() as session:
            created = await store.create_repair(session, repair)
        if created is None:
            return None, "another worker planned this attempt at the same moment"
        return created.id, "planned"

    async def _choose(
        self,
        context: ExecutionContext,
        repository: str,
        default_branch: str,
        config: RepoConfig,
        detection: Detection,
    ) -> LoadedPlaybook | None:
        playbooks = list(load_builtin_playbooks())
        github = context.github
        assert github is not None  # select_playbook returned early without one
        for path in config.playbooks.extra:
            found = await github.get_file(repository, path, ref=default_branch)
            if found is None:
                context.log.warning("configured playbook file is missing", path=path)
                continue
            playbooks.append(load_playbook(found.content.decode(errors="replace"), path))
        return select_playbook(detection, config, playbooks)

    # act

    async def act(self, context: ExecutionContext, plan: Any) -> StageOutcome:
        repair_ids: list[int] = list(plan or [])
        states: dict[int, str] = {}
        for repair_id in repair_ids:
            states[repair_id] = await self.execute(context, repair_id)
        return StageOutcome("ok" if repair_ids else "skipped", {"states": states}, repair_ids)

    async def execute(self, context: ExecutionContext, repair_id: int) -> str:
        """Run (or resume) one repair as far as it can go now; returns its state."""
        repair = await self._load(context, repair_id)
        github = context.github
        if github is None or repair.state not in (RepairState.PLANNED, RepairState.ACTING):
            return repair.state
        detection = Detection.from_template_value(repair.detection)
        if not repair.plan:
            return await self._suggest(context, github, repair, detection)
        plan = repair.plan
        if repair.state == RepairState.PLANNED:
            stale = await self._trigger_gone(github, repair, detection)
            if stale is not None:
                await self._move(context, repair, {RepairState.PLANNED}, RepairState.IGNORED, stale)
                return RepairState.IGNORED
            if plan["require_approval"]:
                return await self._ask_approval(context, github, repair, detection)
        moved = await self._move(
            context, repair, {RepairState.PLANNED, RepairState.ACTING}, RepairState.ACTING
        )
        if not moved:
            return (await self._load(context, repair_id)).state
        return await self._run_steps(context, github, repair, detection)

    async def _trigger_gone(
        self, github: InstallationClient, repair: Repair, detection: Detection
    ) -> str | None:
        """Why acting would be stale (re-run already, or a newer commit), or None."""
        run_id, attempt = repair.inputs.get("run_id"), repair.inputs.get("run_attempt")
        if run_id is not None:
            run = await github.get_workflow_run(repair.repository, int(run_id))
            if attempt is not None and run.run_attempt > int(attempt):
                return f"run {run_id} was already re-run (attempt {run.run_attempt})"
        if detection.branch and detection.head_sha:
            head = await github.get_branch_sha(repair.repository, detection.branch)
            if head != detection.head_sha:
                return f"{detection.branch} moved on to {head[:7]}: superseded"
        return None

    async def _suggest(
        self,
        context: ExecutionContext,
        github: InstallationClient,
        repair: Repair,
        detection: Detection,
    ) -> str:
        """Suggest level (or no config): the diagnosis as a check run and a comment, nothing
        else; with no playbook at all, nothing to do."""
        if repair.level != AutomationLevel.SUGGEST.value:
            await self._move(
                context, repair, {RepairState.PLANNED}, RepairState.IGNORED, "no playbook matches"
            )
            return RepairState.IGNORED
        report = detection_report(detection)
        if detection.head_sha and repair.check_run is None:
            check = await publish_check_run(
                github,
                repair.repository,
                CHECK_NAME,
                detection.head_sha,
                "neutral",
                CheckOutput(
                    title=redact_secrets(detection.summary or detection.category), summary=report
                ),
            )
            async with context.database.session() as session:
                await store.record_links(session, repair.id, check_run=check.id)
        pulls = repair.inputs.get("pull_requests") or []
        opted_in = bool(pulls) and await github.get_file(repair.repository, CONFIG_PATH) is not None
        note = (
            ""
            if opted_in
            else f"\n\nThis repository has no `{CONFIG_PATH}`: the bot only reports what it found."
        )
        key = f"diagnosis:{detection.signature}:{detection.head_sha}"
        for number in pulls:
            await _comment_once(github, repair.repository, number, key, report + note)
        await self._move(context, repair, {RepairState.PLANNED}, RepairState.SUGGESTED)
        return RepairState.SUGGESTED

    async def _ask_approval(
        self,
        context: ExecutionContext,
        github: InstallationClient,
        repair: Repair,
        detection: Detection,
    ) -> str:
        key = f"approval:{detection.signature}:{repair.attempt}"
        issue = await github.find_issue_by_marker(repair.repository, key)
        if issue is None:
            steps = "\n".join(
                f"- `{step['uses']}`: {step['status']} {step['reason']}".rstrip()
                for step in repair.plan["steps"]
            )
            body = (
                f"{detection_report(detection)}\n\nPlaybook `{repair.playbook}` would run:\n"
                f"{steps}\n\nComment `/heal approve` to run it (write permission needed)."
            )
            issue = await github.create_issue(
                repair.repository,
                f"Approve a repair: {redact_secrets(detection.summary or detection.category)}"[
                    :256
                ],
                with_marker(body, key),
                ["self-healing-bot"],
            )
        await self._move(
            context,
            repair,
            {RepairState.PLANNED},
            RepairState.AWAITING_APPROVAL,
            issue=issue.number,
        )
        return RepairState.AWAITING_APPROVAL

    async def _run_steps(
        self,
        context: ExecutionContext,
        github: InstallationClient,
        repair: Repair,
        detection: Detection,
    ) -> str:
        blocked = await self._blocked_remedies(context, github, repair)
        try:
            outputs = await self._run_phase(context, github, repair, detection, "steps", blocked)
        except StepFailedError as error:
            await self._run_phase(context, github, repair, detection, "on_failure", {})
            await self._move(
                context, repair, {RepairState.ACTING}, RepairState.ROLLED_BACK, str(error)
            )
            return RepairState.ROLLED_BACK
        state = await self._after_steps(context, repair, outputs)
        if state != RepairState.AWAITING_VERIFICATION:
            return state
        try:
            return await self._catch_up(context, github, repair) or state
        except GitHubError as error:  # the CI webhook, or the scheduler's reconcile, resolves it
            context.log.warning("could not read CI results; waiting for CI", error=str(error))
            return state

    async def _blocked_remedies(
        self, context: ExecutionContext, github: InstallationClient, repair: Repair
    ) -> dict[str, str]:
        """Repairing actions this repair may not take: a remedy that already failed for the
        signature, the cooldown, and the repository's budgets. Open bot pull requests are
        counted on GitHub, where a verified but unmerged one (level `pr`) is still open and a
        human's merge or close is already seen, rather than from this bot's own records."""
        config = RepoConfig.model_validate(repair.config)
        budgets = config.budgets
        async with context.database.session() as session:
            earlier = [
                other
                for other in await store.repairs_for_signature(
                    session, repair.repository, repair.signature
                )
                if other.id != repair.id
            ]
            reruns = await store.reruns_since(session, repair.repository, timedelta(hours=1))
        open_pulls = len(bot_pull_requests(await github.list_pull_requests(repair.repository)))
        reasons: dict[str, str] = {}
        failed_remedy = any(
            other.playbook == repair.playbook
            and other.state in (RepairState.ROLLED_BACK, RepairState.ESCALATED)
            and acted_on_github(other)
            for other in earlier
        )
        cooling = [
            other
            for other in earlier
            if acted_on_github(other)
            and as_utc(other.detected_at) > utc_now() - timedelta(minutes=budgets.cooldown_minutes)
        ]
        for action in _REPAIRING_ACTIONS:
            if failed_remedy:
                reasons[action] = "this remedy already failed for this signature"
            elif cooling:
                reasons[action] = f"signature is cooling down ({budgets.cooldown_minutes} min)"
        if open_pulls >= budgets.open_pull_requests:
            reasons.setdefault(
                "open_fix_pull_request",
                f"{open_pulls} bot pull requests are open (budget {budgets.open_pull_requests})",
            )
        if reruns >= budgets.reruns_per_hour:
            reasons.setdefault(
                "rerun_failed_jobs",
                f"{reruns} re-runs this hour (budget {budgets.reruns_per_hour})",
            )
        return reasons

    async def _run_phase(
        self,
        context: ExecutionContext,
        github: InstallationClient,
        repair: Repair,
        detection: Detection,
        phase: str,
        blocked: Mapping[str, str],
    ) -> dict[str, dict[str, Any]]:
        """Run one phase's steps in order, skipping what is recorded as done; outputs by step."""
        async with context.database.session() as session:
            done = await store.completed_steps(session, repair.id)
        playbook = Playbook.model_validate(repair.playbook_source)
        source_steps = playbook.steps if phase == "steps" else playbook.on_failure
        config = RepoConfig.model_validate(repair.config)
        action_context = self._action_context(github, repair, detection, config, context)
        outputs: dict[str, dict[str, Any]] = {}
        for position, planned in enumerate(_planned_steps(repair.plan[phase])):
            step_id = planned.id or f"step{planned.index}"
            finished = done.get((phase, position))
            if finished is not None:
                outputs[step_id] = dict(finished.outputs)
                continue
            reason = planned.reason if planned.status == "skipped" else blocked.get(planned.uses)
            if reason is None and repair.plan["dry_run"]:
                reason = f"dry run: would run with {planned.parameters}"
            async with context.database.session() as session:
                await store.start_step(session, repair.id, phase, position, planned.uses)
            if reason is not None:
                await self._finish(context, repair, phase, position, "skipped", summary=reason)
                continue
            step = source_steps[planned.index]
            templates = template_context(
                detection,
                config,
                repository={
                    "full_name": repair.repository,
                    "default_branch": repair.inputs["default_branch"],
                },
                event=context.payload if repair.delivery_id == context.delivery_id else {},
                step_outputs=outputs,
            )
            try:
                if planned.status == "deferred" and not step_condition(step, templates):
                    await self._finish(
                        context, repair, phase, position, "skipped", summary="condition is false"
                    )
                    continue
                parameters = render_parameters(step, templates)
            except PlanError as error:
                await self._finish(context, repair, phase, position, "failed", error=str(error))
                raise StepFailedError(str(error)) from error
            result = await self._attempt(
                context, repair, phase, position, planned, action_context, parameters
            )
            outputs[step_id] = dict(result.outputs)
        return outputs

    async def _attempt(
        self,
        context: ExecutionContext,
        repair: Repair,
        phase: str,
        position: int,
        planned: PlannedStep,
        action_context: ActionContext,
        parameters: Any,
    ) -> ActionResult:
        """One step with its timeout and at most `retries` more tries; failure is recorded."""
        runner = find_action(planned.uses).executable_runner()
        last_error: Exception | None = None
        for attempt in range(planned.retries + 1):
            if attempt:
                async with context.database.session() as session:
                    await store.start_step(session, repair.id, phase, position, planned.uses)
            try:
                async with asyncio.timeout(planned.timeout_seconds):
                    result = await runner(action_context, parameters)
            except Exception as error:  # recorded on the step, then retried or compensated
                last_error = error
                context.log.warning(
                    "repair step failed",
                    repair=repair.id,
                    step=planned.uses,
                    attempt=attempt + 1,
                    error=repr(error),
                )
                await self._finish(
                    context, repair, phase, position, "failed", error=redact_secrets(repr(error))
                )
                continue
            await self._finish(
                context,
                repair,
                phase,
                position,
                "succeeded",
                summary=redact_secrets(result.summary),
                outputs=_jsonable(result.outputs),
            )
            return result
        raise StepFailedError(
            f"step {planned.id or planned.uses} failed after {planned.retries + 1} tries: "
            f"{redact_secrets(repr(last_error))}"
        )

    def _action_context(
        self,
        github: InstallationClient,
        repair: Repair,
        detection: Detection,
        config: RepoConfig,
        context: ExecutionContext,
    ) -> ActionContext:
        run_id, run_attempt = repair.inputs.get("run_id"), repair.inputs.get("run_attempt")
        pulls = repair.inputs.get("pull_requests") or []
        return ActionContext(
            repository=repair.repository,
            default_branch=repair.inputs["default_branch"],
            github=github,
            detection=detection,
            delivery_id=repair.delivery_id,
            http=self._http,
            allowed_paths=tuple(repair.plan.get("allowed_paths") or ()),
            max_changed_lines=config.budgets.max_changed_lines,
            notification_targets=tuple(config.notifications),
            run_id=int(run_id) if run_id is not None else None,
            run_attempt=int(run_attempt) if run_attempt is not None else None,
            issue_number=repair.issue or (pulls[0] if pulls else None),
            acting_since=as_utc(repair.detected_at),
        )

    async def _after_steps(
        self, context: ExecutionContext, repair: Repair, outputs: Mapping[str, Mapping[str, Any]]
    ) -> str:
        async with context.database.session() as session:
            steps = await store.steps_of(session, repair.id)
        links: dict[str, Any] = {}
        for step in steps:
            if step.phase != "steps" or step.status != "succeeded":
                continue
            if step.uses in _PULL_REQUEST_ACTIONS and step.outputs.get("number"):
                links.update(
                    pull_request=step.outputs["number"],
                    fix_branch=step.outputs.get("branch"),
                    verify_sha=step.outputs.get("head_sha"),
                    fix_pr_at=step.finished_at,
                )
            elif step.uses == "rerun_failed_jobs":
                links.update(
                    rerun_run_id=step.outputs.get("run_id") or repair.inputs.get("run_id"),
                    rerun_attempt=repair.inputs.get("run_attempt") or 1,
                )
            elif step.uses == "dispatch_workflow" and step.outputs.get("run_id"):
                links.update(
                    dispatched_run_id=step.outputs["run_id"],
                    dispatched_run_url=step.outputs.get("url"),
                )
            elif step.uses == "create_or_update_issue" and step.outputs.get("number"):
                links["issue"] = step.outputs["number"]
        if {"pull_request", "rerun_run_id", "dispatched_run_id"} & links.keys():
            target = RepairState.AWAITING_VERIFICATION
        elif "issue" in links:
            target = RepairState.ESCALATED
        elif any(step.status == "succeeded" for step in steps):
            target = RepairState.SUGGESTED
        else:
            target = RepairState.IGNORED
            links["reason"] = "; ".join(step.summary or "" for step in steps)
        await self._move(context, repair, {RepairState.ACTING}, target, **links)
        return target

    # verify

    async def verify(self, context: ExecutionContext, result: Any) -> StageOutcome:
        """Resolve the repairs this event's CI result answers; hand `/heal` comments to ChatOps."""
        event = context.event
        if isinstance(event, IssueCommentEvent):
            from self_healing_bot.core.chatops import handle_command

            outcome = await handle_command(self, context, event)
            return StageOutcome(
                "ok" if outcome else "skipped", {"chatops": outcome}, ["chatops"] if outcome else []
            )
        acted = {
            repair_id: (await self._load(context, repair_id)).state for repair_id in result or []
        }
        if not isinstance(event, WorkflowRunEvent | CheckSuiteEvent) or event.action != "completed":
            detail = {"repairs": acted, "reason": "not a completed CI result"}
            return StageOutcome("ok" if acted else "skipped", detail, list(acted.values()))
        github = context.github
        if github is None:
            return StageOutcome("skipped", {"reason": "no GitHub client for this event"}, [])
        result = ci_result(context)
        resolved = dict(acted)
        answered = await self._answered_by(context, result) if result is not None else []
        for repair in [r for r in answered if r.state == RepairState.AWAITING_VERIFICATION]:
            deciding = (
                await self._commit_verdict(github, repair, result)
                if on_fix_commit(repair, result)
                else result
            )
            state = await self._resolve(context, github, repair, deciding)
            if state is not None:
                resolved[repair.id] = state
        if not resolved:
            return StageOutcome("skipped", {"reason": "no repair acted on or waiting"}, [])
        return StageOutcome("ok", {"resolved": resolved}, list(resolved.values()))

    async def _commit_verdict(
        self, github: InstallationClient, repair: Repair, reported: CiResult | None
    ) -> CiResult | None:
        """The run that decides the fix commit now (see `commit_verdict`), reading every run
        on it from GitHub; `reported` (a webhook's) stands in for its own run, as the API
        may not show that run's end yet."""
        assert repair.verify_sha is not None
        runs = {
            run.id: CiResult.from_run(run)
            for run in await github.list_runs_for_commit(repair.repository, repair.verify_sha)
        }
        if reported is not None:
            runs[reported.id] = reported
        return commit_verdict(list(runs.values()), repair.inputs.get("workflow_id"))

    async def _catch_up(
        self, context: ExecutionContext, github: InstallationClient, repair: Repair
    ) -> str | None:
        """Resolve a repair that has just begun to wait, when what it waits for has already
        ended: CI can finish before the steps' bookkeeping does (a worker that died after
        opening the pull request, a fast run), and its webhook found nothing waiting then.
        None while it is undecided."""
        deciding: CiResult | None = None
        for run_id in (repair.dispatched_run_id, repair.rerun_run_id):
            if run_id is None or deciding is not None:
                continue
            run = CiResult.from_run(await github.get_workflow_run(repair.repository, run_id))
            if run.conclusion is not None and waits_for(repair, run):
                deciding = run
        if deciding is None and repair.pull_request is not None and repair.verify_sha:
            deciding = await self._commit_verdict(github, repair, None)
        return await self._resolve(context, github, repair, deciding)

    async def _resolve(
        self,
        context: ExecutionContext,
        github: InstallationClient,
        repair: Repair,
        deciding: CiResult | None,
    ) -> str | None:
        """Verify or undo the repair by the result that decides it; None while undecided."""
        if deciding is None:
            return None
        if deciding.passed:
            return await self._verified(context, github, repair, deciding)
        if deciding.failed:
            return await self._not_fixed(context, github, repair, deciding)
        return None

    async def _verified(
        self,
        context: ExecutionContext,
        github: InstallationClient,
        repair: Repair,
        result: CiResult,
    ) -> str:
        detection = Detection.from_template_value(repair.detection)
        evidence = result.evidence()
        key = f"verified:{repair.signature}:{repair.attempt}"
        links: dict[str, Any] = {}
        if _is_dispatched_run(repair, result):
            links["dispatched_run_url"] = result.url or repair.dispatched_run_url
            if repair.issue is not None:
                await _comment_once(
                    github,
                    repair.repository,
                    repair.issue,
                    key,
                    f"The dispatched workflow run succeeded: {evidence}",
                )
        if repair.pull_request is not None:
            await _comment_once(
                github,
                repair.repository,
                repair.pull_request,
                key,
                f"The fix is verified: {evidence}",
            )
            if repair.level == AutomationLevel.AUTO.value and repair.verify_sha:
                await github.merge_pull_request(
                    repair.repository, repair.pull_request, repair.verify_sha
                )
        elif repair.category == "test_failure":
            key = f"flaky:{repair.signature}"
            if await github.find_issue_by_marker(repair.repository, key) is None:
                issue = await github.create_issue(
                    repair.repository,
                    f"Flaky test: {redact_secrets(detection.summary or repair.signature)}"[:256],
                    with_marker(
                        f"{detection_report(detection)}\n\nFailed, then passed on re-run "
                        f"({evidence}): the signature is marked flaky.",
                        key,
                    ),
                    ["self-healing-bot", "flaky"],
                )
                async with context.database.session() as session:
                    await store.record_links(session, repair.id, issue=issue.number)
        await self._move(
            context,
            repair,
            {RepairState.AWAITING_VERIFICATION},
            RepairState.VERIFIED,
            evidence,
            verified_at=utc_now(),
            **links,
        )
        return RepairState.VERIFIED

    async def _not_fixed(
        self,
        context: ExecutionContext,
        github: InstallationClient,
        repair: Repair,
        result: CiResult,
    ) -> str:
        """The remedy did not work: undo it (close the PR, delete the branch), run the
        playbook's compensations, and escalate in an issue."""
        detection = Detection.from_template_value(repair.detection)
        config = RepoConfig.model_validate(repair.config)
        action_context = self._action_context(github, repair, detection, config, context)
        if repair.fix_branch:
            await close_fix_pull_request(action_context, repair.fix_branch)
        await self._run_phase(context, github, repair, detection, "on_failure", {})
        async with context.database.session() as session:
            steps = await store.steps_of(session, repair.id)
        issue = next(
            (
                step.outputs.get("number")
                for step in steps
                if step.phase == "on_failure"
                and step.uses == "create_or_update_issue"
                and step.outputs.get("number")
            ),
            None,
        )
        if issue is None:
            key = repair.signature
            existing = await github.find_issue_by_marker(repair.repository, key)
            if existing is not None and _is_dispatched_run(repair, result):
                # The repair's own report issue: say there that the dispatched run failed.
                await _comment_once(
                    github,
                    repair.repository,
                    existing.number,
                    f"not-fixed:{repair.signature}:{repair.attempt}",
                    f"The dispatched workflow run did not succeed: {result.evidence()}",
                )
            if existing is None:
                existing = await _open_escalation(
                    github,
                    repair,
                    "Repair failed",
                    f"Playbook `{repair.playbook}` did not fix it ({result.evidence()}).",
                )
            issue = existing.number
        target = RepairState.ROLLED_BACK if repair.pull_request else RepairState.ESCALATED
        await self._move(
            context,
            repair,
            {RepairState.AWAITING_VERIFICATION},
            target,
            f"CI concluded {result.conclusion}: {result.evidence()}",
            issue=issue,
        )
        return target

    async def reconcile(self, context: ExecutionContext, repair_id: int, now: datetime) -> str:
        """The scheduler's look at a repair still waiting for CI: resolve it from GitHub's
        state (its CI webhooks may have been lost for good), or, once it has waited longer
        than `budgets.verification_timeout_hours` (CI that never runs on the fix), escalate
        it to people. Returns its state."""
        repair = await self._load(context, repair_id)
        github = context.github
        if github is None or repair.state != RepairState.AWAITING_VERIFICATION:
            return repair.state
        resolved = await self._catch_up(context, github, repair)
        if resolved is not None:
            return resolved
        config = RepoConfig.model_validate(repair.config)
        limit = timedelta(hours=config.budgets.verification_timeout_hours)
        if now - as_utc(repair.fix_pr_at or repair.detected_at) < limit:
            return repair.state
        return await self._unverified(context, github, repair, limit)

    async def _unverified(
        self,
        context: ExecutionContext,
        github: InstallationClient,
        repair: Repair,
        limit: timedelta,
    ) -> str:
        """No CI result came in time: say so where the repair is discussed (its pull request,
        which stays open as the fix may be right, else its issue, else a new one) and leave
        it to people."""
        why = f"no CI result within {limit.total_seconds() / 3600:g} h"
        text = f"This repair is not verified: {why}, so it is left to you."
        number = repair.pull_request or repair.issue
        if number is None:
            existing = await github.find_issue_by_marker(repair.repository, repair.signature)
            if existing is None:
                existing = await _open_escalation(github, repair, "Repair not verified", text)
            number = existing.number
        key = f"unverified:{repair.signature}:{repair.attempt}"
        await _comment_once(github, repair.repository, number, key, text)
        links = {} if repair.pull_request or repair.issue else {"issue": number}
        waiting = {RepairState.AWAITING_VERIFICATION}
        await self._move(context, repair, waiting, RepairState.ESCALATED, why, **links)
        return RepairState.ESCALATED

    # notify

    async def notify(self, context: ExecutionContext, verification: Any) -> StageOutcome:
        states = [str(state) for state in verification or []]
        end_state = states[-1] if states else "remediated"
        return StageOutcome("ok", {"end_state": end_state, "states": states})

    # shared

    async def _load(self, context: ExecutionContext, repair_id: int) -> Repair:
        async with context.database.session() as session:
            return await store.get_repair(session, repair_id)

    async def _move(
        self,
        context: ExecutionContext,
        repair: Repair,
        expected: set[RepairState],
        to: RepairState,
        reason: str | None = None,
        **links: Any,
    ) -> bool:
        values = dict(links)
        if reason is not None:
            values["reason"] = redact_secrets(reason)
        async with context.database.session() as session:
            moved = await store.transition(session, repair.id, expected, to, **values)
        if moved:
            repair.state = to.value
            for name, value in values.items():
                setattr(repair, name, value)
            context.log.info("repair moved", repair=repair.id, state=to.value, reason=reason)
        return moved

    async def _finish(
        self,
        context: ExecutionContext,
        repair: Repair,
        phase: str,
        position: int,
        status: str,
        **fields: Any,
    ) -> None:
        async with context.database.session() as session:
            await store.finish_step(session, repair.id, phase, position, status, **fields)


async def _comment_once(
    github: InstallationClient, repository: str, number: int, key: str, text: str
) -> None:
    """Comment on issue or pull request `number` unless the comment `key` names is there."""
    if await github.find_comment_by_marker(repository, number, key) is None:
        await github.create_comment(repository, number, with_marker(text, key))


async def _open_escalation(
    github: InstallationClient, repair: Repair, title: str, explanation: str
) -> Issue:
    """The issue that hands a repair to people: the detection's report and why, marked with
    its signature so that later attempts find it."""
    detection = Detection.from_template_value(repair.detection)
    return await github.create_issue(
        repair.repository,
        f"{title}: {redact_secrets(detection.summary or repair.signature)}"[:256],
        with_marker(f"{detection_report(detection)}\n\n{explanation}", repair.signature),
        ["self-healing-bot", "escalated"],
    )


def ci_result(context: ExecutionContext) -> CiResult | None:
    """The CI result this event reports, if it reports one."""
    event = context.event
    if isinstance(event, WorkflowRunEvent | CheckSuiteEvent):
        return CiResult.from_event(event)
    return None


def _is_dispatched_run(repair: Repair, result: CiResult | None) -> bool:
    """Whether `result` is the run of the workflow the repair dispatched."""
    return (
        result is not None
        and result.kind == "workflow_run"
        and result.id == repair.dispatched_run_id
    )


def _head_sha(context: ExecutionContext) -> str | None:
    event = context.event
    if isinstance(event, WorkflowRunEvent):
        return event.workflow_run.head_sha
    if isinstance(event, CheckSuiteEvent):
        return event.check_suite.head_sha
    return None


def _jsonable(outputs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value if isinstance(value, str | int | float | bool | None) else str(value)
        for key, value in outputs.items()
    }


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
