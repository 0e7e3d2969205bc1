"""Simulated CI: runs pass or fail by the scenario's rules over the files at each commit."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from self_healing_bot.sandbox import GitHubSandbox
from self_healing_bot.sandbox.ci_rules import JobSpec
from self_healing_bot.sandbox.handlers.actions import created_matches
from tests.sandbox.test_rest import REPO, commit

OOM = "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"


def add_training_workflow(sandbox: GitHubSandbox) -> None:
    rule = {"file": "configs/train.yaml", "key": "batch_size", "greater_than": 32}
    sandbox.add_workflow(
        "org/ml",
        "train",
        [
            JobSpec.parse({"name": "lint"}),
            JobSpec.parse({"name": "train", "failures": [{"when": rule, "log": OOM}]}),
        ],
    )
    sandbox.add_workflow(
        "org/ml",
        "flaky",
        [JobSpec.parse({"name": "e2e", "failures": [{"when": {"attempt_below": 2}}]})],
        triggers=("workflow_dispatch",),
    )


async def latest_run(http: httpx.AsyncClient, sha: str) -> dict[str, Any]:
    runs = (await http.get(f"{REPO}/actions/runs", params={"head_sha": sha})).json()
    return dict(runs["workflow_runs"][0])


async def test_a_bad_config_fails_ci_and_the_fix_turns_it_green(
    github_sandbox: GitHubSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    add_training_workflow(github_sandbox)
    broken = await commit(sandbox_http, "main", {"configs/train.yaml": "batch_size: 64\n"})
    await github_sandbox.drain()
    run = await latest_run(sandbox_http, broken)
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
    jobs = (await sandbox_http.get(f"{REPO}/actions/runs/{run['id']}/jobs")).json()
    conclusions = {job["name"]: job["conclusion"] for job in jobs["jobs"]}
    assert conclusions == {"lint": "success", "train": "failure"}

    failed_job = next(job for job in jobs["jobs"] if job["name"] == "train")
    redirect = await sandbox_http.get(f"{REPO}/actions/jobs/{failed_job['id']}/logs")
    assert redirect.status_code == 302
    log = await sandbox_http.get(redirect.headers["location"], headers={"authorization": ""})
    assert OOM in log.text

    archive = await sandbox_http.get(f"{REPO}/actions/runs/{run['id']}/logs", follow_redirects=True)
    with zipfile.ZipFile(io.BytesIO(archive.content)) as logs:
        assert sorted(logs.namelist()) == ["0_lint.txt", "1_train.txt"]
        assert OOM in logs.read("1_train.txt").decode()

    fixed = await commit(sandbox_http, "main", {"configs/train.yaml": "batch_size: 16\n"})
    await github_sandbox.drain()
    assert (await latest_run(sandbox_http, fixed))["conclusion"] == "success"


async def test_a_flaky_run_passes_when_its_failed_jobs_are_rerun(
    github_sandbox: GitHubSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    add_training_workflow(github_sandbox)
    dispatched = await sandbox_http.post(
        f"{REPO}/actions/workflows/flaky.yml/dispatches",
        json={"ref": "main", "inputs": {}, "return_run_details": True},
    )
    assert dispatched.status_code == 200
    run_id = dispatched.json()["workflow_run_id"]
    await github_sandbox.drain()
    run_url = f"{REPO}/actions/runs/{run_id}"
    assert (await sandbox_http.get(run_url)).json()["conclusion"] == "failure"
    assert (await sandbox_http.post(f"{run_url}/rerun-failed-jobs")).status_code == 201
    await github_sandbox.drain()
    run = (await sandbox_http.get(run_url)).json()
    assert (run["run_attempt"], run["conclusion"]) == (2, "success")
    all_jobs = (await sandbox_http.get(f"{run_url}/jobs", params={"filter": "all"})).json()
    assert [(j["run_attempt"], j["conclusion"]) for j in all_jobs["jobs"]] == [
        (1, "failure"),
        (2, "success"),
    ]


async def test_dispatch_refuses_a_workflow_without_the_trigger(
    github_sandbox: GitHubSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    github_sandbox.add_workflow("org/ml", "nightly", [JobSpec.parse({"name": "n"})], triggers=())
    response = await sandbox_http.post(
        f"{REPO}/actions/workflows/nightly.yml/dispatches", json={"ref": "main"}
    )
    assert response.status_code == 422


async def test_check_runs_are_created_and_completed(sandbox_http: httpx.AsyncClient) -> None:
    head = (await sandbox_http.get(f"{REPO}/git/ref/heads/main")).json()["object"]["sha"]
    created = await sandbox_http.post(
        f"{REPO}/check-runs",
        json={"name": "self-healing-bot", "head_sha": head, "status": "in_progress"},
    )
    assert created.status_code == 201
    output = {
        "title": "Diagnosis",
        "summary": "OOM",
        "annotations": [
            {"path": "configs/train.yaml", "start_line": 1, "end_line": 1,
             "annotation_level": "failure", "message": "batch_size too large"},
        ],
    }  # fmt: skip
    updated = await sandbox_http.patch(
        f"{REPO}/check-runs/{created.json()['id']}",
        json={"conclusion": "failure", "output": output},
    )
    body = updated.json()
    assert (body["status"], body["conclusion"]) == ("completed", "failure")
    assert body["output"]["annotations_count"] == 1
    assert body["app"]["id"] == 1


async def test_a_run_on_a_pull_request_branch_names_the_pull_request(
    github_sandbox: GitHubSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    add_training_workflow(github_sandbox)
    main = (await sandbox_http.get(f"{REPO}/git/ref/heads/main")).json()["object"]["sha"]
    await sandbox_http.post(f"{REPO}/git/refs", json={"ref": "refs/heads/fix", "sha": main})
    await commit(sandbox_http, "fix", {"configs/train.yaml": "batch_size: 128\n"})
    opened = await sandbox_http.post(
        f"{REPO}/pulls", json={"title": "t", "head": "fix", "base": "main"}
    )
    head = await commit(sandbox_http, "fix", {"configs/train.yaml": "batch_size: 8\n"})
    await github_sandbox.drain()
    run = await latest_run(sandbox_http, head)
    assert run["conclusion"] == "success"
    assert [pull["number"] for pull in run["pull_requests"]] == [opened.json()["number"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (None, True),
        (">=2026-03-01T12:00:00Z", True),
        (">2026-03-01T12:00:00Z", False),
        ("<2026-03-01T12:00:00Z", False),
        ("<=2026-03-01T12:00:00Z", True),
        ("2026-03-01T00:00:00Z..2026-03-02T00:00:00Z", True),
        ("2026-03-02", False),
    ],
)
def test_created_filters_runs_as_github_search_does(query: str | None, expected: bool) -> None:
    created = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert created_matches(query, created) is expected


async def test_a_passing_run_uploads_its_artifacts_as_zips(
    github_sandbox: GitHubSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    metrics = {"eval/metrics.json": '{"accuracy": 0.91}', "eval/loss.json": '{"loss": 0.2}'}
    github_sandbox.add_workflow(
        "org/ml",
        "evaluate",
        [
            JobSpec.parse({"name": "eval", "artifacts": {"metrics": metrics}}),
            JobSpec.parse({"name": "data", "artifacts": {"current-data": {"cur.csv": "x\n1\n"}}}),
            JobSpec.parse(
                {
                    "name": "report",
                    "failures": [{"when": {"file": "configs/train.yaml", "exists": True}}],
                    "artifacts": {"report": {"r.html": "<p>"}},
                }
            ),
        ],
    )
    head = await commit(sandbox_http, "main", {"README.md": "# ml v2\n"})
    await github_sandbox.drain()
    run = await latest_run(sandbox_http, head)
    artifacts_url = f"{REPO}/actions/runs/{run['id']}/artifacts"

    listed = (await sandbox_http.get(artifacts_url)).json()
    assert listed["total_count"] == 2  # the failed job's upload step never ran
    assert [artifact["name"] for artifact in listed["artifacts"]] == ["current-data", "metrics"]
    assert all(a["workflow_run"]["head_sha"] == head for a in listed["artifacts"])
    first_page = await sandbox_http.get(artifacts_url, params={"per_page": 1})
    assert 'rel="next"' in first_page.headers["link"]
    (named,) = (await sandbox_http.get(artifacts_url, params={"name": "metrics"})).json()[
        "artifacts"
    ]

    redirect = await sandbox_http.get(named["archive_download_url"])
    assert redirect.status_code == 302
    download = await sandbox_http.get(redirect.headers["location"], headers={"authorization": ""})
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert {name: archive.read(name).decode() for name in archive.namelist()} == metrics
    assert named["size_in_bytes"] == len(download.content)


@pytest.mark.parametrize(
    ("archive_format", "expired", "status"),
    [("zip", True, 410), ("tar.gz", False, 404)],
)
async def test_an_artifact_download_is_refused_as_github_refuses_it(
    github_sandbox: GitHubSandbox,
    sandbox_http: httpx.AsyncClient,
    archive_format: str,
    expired: bool,
    status: int,
) -> None:
    github_sandbox.add_workflow(
        "org/ml", "evaluate", [JobSpec.parse({"name": "e", "artifacts": {"m": {"m.json": "{}"}}})]
    )
    head = await commit(sandbox_http, "main", {"README.md": "# ml v2\n"})
    await github_sandbox.drain()
    run = github_sandbox.repository("org/ml").runs[(await latest_run(sandbox_http, head))["id"]]
    (artifact,) = run.artifacts
    artifact.expired = expired
    response = await sandbox_http.get(f"{REPO}/actions/artifacts/{artifact.id}/{archive_format}")
    assert response.status_code == status
