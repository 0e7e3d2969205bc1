"""`rerun_failed_jobs`, `dispatch_workflow` and `create_check_run` against the sandbox's CI."""

from __future__ import annotations

import pytest

from self_healing_bot.actions.create_check_run import CreateCheckRunParameters
from self_healing_bot.actions.create_check_run import run as create_check_run
from self_healing_bot.actions.dispatch_workflow import DispatchWorkflowParameters
from self_healing_bot.actions.dispatch_workflow import run as dispatch_workflow
from self_healing_bot.actions.rerun_failed_jobs import RerunFailedJobsParameters, RerunLimitError
from self_healing_bot.actions.rerun_failed_jobs import run as rerun_failed_jobs
from self_healing_bot.sandbox.ci_rules import JobSpec
from tests.actions.runners.conftest import PLANTED_TOKEN, MakeContext
from tests.github.world import REPO, World


def _add_training_workflow(world: World) -> None:
    failing = {"when": {"file": "configs/train.yaml", "matches": "batch_size"}, "log": "OOM\n"}
    world.sandbox.add_workflow(
        REPO,
        "train",
        [JobSpec.parse({"name": "train", "failures": [failing]}), JobSpec.parse({"name": "lint"})],
    )


async def _failed_run(world: World) -> int:
    _add_training_workflow(world)
    run_id = await world.client.dispatch_workflow(REPO, "train.yml", "main", {})
    assert run_id is not None
    await world.sandbox.drain()
    return run_id


async def test_a_failed_run_is_re_run_once_per_attempt_and_capped(
    world: World, make_context: MakeContext
) -> None:
    run_id = await _failed_run(world)
    context = make_context(run_id=run_id, run_attempt=1)
    parameters = RerunFailedJobsParameters(run_id=run_id, max_attempts=1)

    dry = await rerun_failed_jobs(
        make_context(run_id=run_id, run_attempt=1, dry_run=True), parameters
    )
    assert dry.summary == f"would re-run the failed jobs of run {run_id}"
    assert not world.requests("POST", r"/rerun-failed-jobs$")

    first = await rerun_failed_jobs(context, parameters)
    assert first.outputs == {"run_id": run_id, "attempt": 2}
    running = await rerun_failed_jobs(context, parameters)  # redelivered while it runs
    await world.sandbox.drain()
    finished = await rerun_failed_jobs(context, parameters)  # redelivered after it failed again
    assert running.outputs == finished.outputs == {"run_id": run_id, "attempt": 2}
    assert len(world.requests("POST", r"/rerun-failed-jobs$")) == 1
    rerun = await world.client.get_workflow_run(REPO, run_id)
    assert (rerun.run_attempt, rerun.conclusion) == (2, "failure")

    # A new detection of the second attempt's failure: the cap of one re-run is reached.
    with pytest.raises(RerunLimitError, match="already had 1 re-run"):
        await rerun_failed_jobs(make_context(run_id=run_id, run_attempt=2), parameters)
    assert len(world.requests("POST", r"/rerun-failed-jobs$")) == 1


async def test_dispatch_returns_the_run_it_started(world: World, make_context: MakeContext) -> None:
    _add_training_workflow(world)
    parameters = DispatchWorkflowParameters(workflow="train.yml")
    dry = await dispatch_workflow(make_context(dry_run=True), parameters)
    assert dry.outputs == {"run_id": None, "url": None}
    assert not world.requests("POST", r"/dispatches$")
    result = await dispatch_workflow(make_context(), parameters)
    run_id = result.outputs["run_id"]
    workflow_run = await world.client.get_workflow_run(REPO, run_id)
    assert (workflow_run.event, workflow_run.head_branch) == ("workflow_dispatch", "main")
    assert result.outputs["url"] == workflow_run.html_url
    await world.sandbox.drain()


async def test_check_run_carries_the_redacted_diagnosis_and_annotations(
    world: World, make_context: MakeContext
) -> None:
    sha = await world.client.get_branch_sha(REPO, "main")
    parameters = CreateCheckRunParameters.model_validate(
        {
            "head_sha": sha,
            "title": "CUDA out of memory",
            "summary": f"token {PLANTED_TOKEN} in the log",
            "conclusion": "failure",
            "annotations": [
                {"path": "train.py", "start_line": 1, "end_line": 1, "message": "OOM here"},
                {"path": "train.py", "start_line": 1, "end_line": 1, "message": PLANTED_TOKEN},
            ],
        }
    )
    dry = await create_check_run(make_context(dry_run=True), parameters)
    assert "with 2 annotation(s)" in dry.summary and not world.requests("POST", "/check-runs")
    result = await create_check_run(make_context(), parameters)
    check = world.sandbox.repository(REPO).check_runs[result.outputs["check_run_id"]]
    assert (check.head_sha, check.conclusion) == (sha, "failure")
    [sent] = [entry["body"] for entry in world.requests("POST", "/check-runs$")]
    assert [item["message"] for item in sent["output"]["annotations"]] == ["OOM here", "[REDACTED]"]
    assert sent["output"]["summary"] == "token [REDACTED] in the log"
    assert PLANTED_TOKEN not in world.request_log.read_text()


async def test_a_dispatch_repeated_after_a_crash_follows_the_run_it_started(
    world: World, make_context: MakeContext
) -> None:
    _add_training_workflow(world)
    since = world.sandbox.clock()
    context = make_context(acting_since=since)
    parameters = DispatchWorkflowParameters(workflow="train.yml")
    first = await dispatch_workflow(context, parameters)
    again = await dispatch_workflow(context, parameters)  # the step redelivered
    assert again.outputs == first.outputs and "already dispatched" in again.summary
    assert len(world.requests("POST", r"/dispatches$")) == 1
    await world.sandbox.drain()


async def test_a_check_run_published_twice_is_one_check_run(
    world: World, make_context: MakeContext
) -> None:
    sha = await world.client.get_branch_sha(REPO, "main")
    parameters = CreateCheckRunParameters(head_sha=sha, title="CUDA out of memory", summary="s")
    first = await create_check_run(make_context(), parameters)
    again = await create_check_run(make_context(), parameters)
    other = await create_check_run(
        make_context(), parameters.model_copy(update={"name": "self-healing-bot config"})
    )
    assert again.outputs == first.outputs != other.outputs
    checks = world.sandbox.repository(REPO).check_runs.values()
    assert sorted(check.name for check in checks if check.head_sha == sha) == [
        "self-healing-bot",
        "self-healing-bot config",
    ]
