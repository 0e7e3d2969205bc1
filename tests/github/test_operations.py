"""Each operation of `InstallationClient` against the GitHub sandbox, judged by the state a
user would see on GitHub afterwards."""

from __future__ import annotations

import io
import zipfile

import pytest

from self_healing_bot.github.errors import GitHubApiError
from self_healing_bot.github.markers import with_marker
from self_healing_bot.github.models import Annotation, CheckOutput
from self_healing_bot.sandbox.ci_rules import JobSpec
from tests.github.world import FILES, REPO, World


async def test_repository_and_files(world: World) -> None:
    client = world.client
    repository = await client.get_repository(REPO)
    assert (repository.full_name, repository.default_branch) == (REPO, "main")
    config = await client.get_file(REPO, "configs/train.yaml")
    assert config is not None and config.content == FILES["configs/train.yaml"]
    assert await client.get_file(REPO, "missing.txt") is None
    sha = await client.get_branch_sha(REPO, "main")
    assert sha == world.sandbox.repository(REPO).branch_sha("main")


async def test_branch_commit_pull_request_merge_and_cleanup(world: World) -> None:
    client = world.client
    main_sha = await client.get_branch_sha(REPO, "main")
    await client.create_branch(REPO, "shbot/fix-oom", main_sha)
    commit = await client.commit_files(
        REPO,
        "shbot/fix-oom",
        "Halve the batch size",
        {"configs/train.yaml": b"batch_size: 32\nlr: 0.001\n", "README.md": None, "new.txt": b"n"},
    )
    assert await client.get_branch_sha(REPO, "shbot/fix-oom") == commit
    changed = await client.get_file(REPO, "configs/train.yaml", ref="shbot/fix-oom")
    assert changed is not None and changed.content == b"batch_size: 32\nlr: 0.001\n"
    assert await client.get_file(REPO, "README.md", ref="shbot/fix-oom") is None
    assert await client.get_file(REPO, "README.md") is not None  # main untouched

    assert await client.find_pull_request(REPO, "shbot/fix-oom") is None
    pull = await client.create_pull_request(REPO, "Fix OOM", "body", "shbot/fix-oom", "main")
    found = await client.find_pull_request(REPO, "shbot/fix-oom")
    assert found is not None and found.number == pull.number and found.head_sha == commit
    updated = await client.update_pull_request(REPO, pull.number, title="Fix CUDA OOM")
    assert updated.title == "Fix CUDA OOM"
    await client.merge_pull_request(REPO, pull.number, commit)
    merged = await client.find_pull_request(REPO, "shbot/fix-oom", state="closed")
    assert merged is not None and merged.merged
    await client.delete_branch(REPO, "shbot/fix-oom")
    # GitHub answers 422 "Reference does not exist" to a second delete; the client accepts it.
    world.expected_rejections.append(("DELETE", f"/repos/{REPO}/git/refs/heads/shbot/fix-oom", 422))
    await client.delete_branch(REPO, "shbot/fix-oom")
    assert world.sandbox.repository(REPO).branch_sha("shbot/fix-oom") is None


async def test_a_stale_merge_is_refused(world: World) -> None:
    client = world.client
    main_sha = await client.get_branch_sha(REPO, "main")
    await client.create_branch(REPO, "shbot/other", main_sha)
    await client.commit_files(REPO, "shbot/other", "change", {"a.txt": b"a"})
    pull = await client.create_pull_request(REPO, "Other", "body", "shbot/other", "main")
    with pytest.raises(GitHubApiError) as caught:
        await client.merge_pull_request(REPO, pull.number, main_sha)
    assert caught.value.status == 409
    closed = await client.close_pull_request(REPO, pull.number)
    assert closed.state == "closed" and not closed.merged


async def test_issues_comments_and_labels_by_marker(world: World) -> None:
    client = world.client
    assert await client.find_issue_by_marker(REPO, "gpu_oom:1") is None
    issue = await client.create_issue(
        REPO, "CUDA OOM", with_marker("Training ran out of memory", "gpu_oom:1"), ["bug"]
    )
    found = await client.find_issue_by_marker(REPO, "gpu_oom:1")
    assert found == issue
    labels = await client.add_labels(REPO, issue.number, ["self-healing"])
    assert set(labels) == {"bug", "self-healing"}
    closed = await client.update_issue(REPO, issue.number, state="closed")
    assert closed.state == "closed"
    assert await client.find_issue_by_marker(REPO, "gpu_oom:1") is not None  # closed ones too

    assert await client.find_comment_by_marker(REPO, issue.number, "status") is None
    comment = await client.create_comment(REPO, issue.number, with_marker("Working", "status"))
    found_comment = await client.find_comment_by_marker(REPO, issue.number, "status")
    assert found_comment == comment
    edited = await client.update_comment(REPO, comment.id, with_marker("Fixed", "status"))
    assert edited.body.startswith("Fixed")


async def test_workflow_runs_jobs_logs_and_reruns(world: World) -> None:
    world.sandbox.add_workflow(
        REPO,
        "train",
        [
            JobSpec.parse(
                {
                    "name": "train",
                    "failures": [
                        {
                            "when": {"file": "configs/train.yaml", "matches": "batch_size: 64"},
                            "log": "torch.cuda.OutOfMemoryError: CUDA out of memory.\n",
                        }
                    ],
                }
            ),
            JobSpec.parse({"name": "lint"}),
        ],
    )
    client = world.client
    run_id = await client.dispatch_workflow(REPO, "train.yml", "main", {})
    assert run_id is not None
    await world.sandbox.drain()
    run = await client.get_workflow_run(REPO, run_id)
    assert (run.status, run.conclusion) == ("completed", "failure")
    jobs = {job.name: job for job in await client.list_run_jobs(REPO, run_id)}
    assert {name: job.conclusion for name, job in jobs.items()} == {
        "train": "failure",
        "lint": "success",
    }
    log = await client.download_job_log(REPO, jobs["train"].id)
    assert b"CUDA out of memory" in log
    archive = zipfile.ZipFile(io.BytesIO(await client.download_run_logs(REPO, run_id)))
    assert any(b"CUDA out of memory" in archive.read(name) for name in archive.namelist())
    await client.rerun_failed_jobs(REPO, run_id)
    await world.sandbox.drain()
    rerun = await client.get_workflow_run(REPO, run_id)
    assert rerun.run_attempt == 2


async def test_check_runs_carry_every_annotation(world: World) -> None:
    client = world.client
    sha = await client.get_branch_sha(REPO, "main")
    annotations = tuple(
        Annotation("train.py", line, line, "warning", f"finding {line}") for line in range(1, 121)
    )
    check = await client.create_check_run(
        REPO,
        "self-healing-bot",
        sha,
        "completed",
        "neutral",
        CheckOutput("Diagnosis", "120 findings", annotations=annotations),
    )
    sent = [
        len(entry["body"]["output"].get("annotations", []))
        for entry in world.requests(path=r"/check-runs")
        if entry["method"] in {"POST", "PATCH"}
    ]
    assert sent == [50, 50, 20]
    updated = await client.update_check_run(REPO, check.id, conclusion="success")
    assert (updated.status, updated.conclusion) == ("completed", "success")


@pytest.mark.parametrize(
    ("username", "expected"), [("octo", "admin"), ("alice", "write"), ("mallory", "none")]
)
async def test_collaborator_permission(world: World, username: str, expected: str) -> None:
    assert await world.client.get_collaborator_permission(REPO, username) == expected


async def test_run_artifacts_are_listed_across_pages_and_downloaded_as_zips(world: World) -> None:
    uploads = {f"shard-{index}": {"part.csv": f"x\n{index}\n"} for index in range(105)}
    world.sandbox.add_workflow(
        REPO, "evaluate", [JobSpec.parse({"name": "eval", "artifacts": uploads})]
    )
    client = world.client
    run_id = await client.dispatch_workflow(REPO, "evaluate.yml", "main", {})
    assert run_id is not None
    await world.sandbox.drain()
    artifacts = {
        artifact.name: artifact for artifact in await client.list_run_artifacts(REPO, run_id)
    }
    assert sorted(artifacts) == sorted(uploads)  # 105 artifacts: two pages of 100
    assert len(world.requests("GET", rf"/actions/runs/{run_id}/artifacts$")) == 2
    archive = zipfile.ZipFile(
        io.BytesIO(await client.download_artifact(REPO, artifacts["shard-7"].id))
    )
    assert archive.read("part.csv") == b"x\n7\n"
    assert artifacts["shard-7"].size_in_bytes > 0 and not artifacts["shard-7"].expired


async def test_an_expired_artifact_is_an_api_error_naming_410(world: World) -> None:
    world.sandbox.add_workflow(
        REPO, "evaluate", [JobSpec.parse({"name": "eval", "artifacts": {"m": {"m.json": "{}"}}})]
    )
    run_id = await world.client.dispatch_workflow(REPO, "evaluate.yml", "main", {})
    assert run_id is not None
    await world.sandbox.drain()
    (stored,) = world.sandbox.repository(REPO).runs[run_id].artifacts
    stored.expired = True
    (listed,) = await world.client.list_run_artifacts(REPO, run_id)
    assert listed.expired
    with pytest.raises(GitHubApiError) as raised:
        await world.client.download_artifact(REPO, listed.id)
    assert raised.value.status == 410
