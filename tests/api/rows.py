"""Stored rows the API and dashboard tests read: a detection with its signature history, a
verified repair with its steps, a repair waiting for approval, a drift report, a valid config.

Written through the storage functions the bot uses, so the tests read what the bot writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from self_healing_bot.detectors.registry import Detection
from self_healing_bot.drift.compare import compare_tables
from self_healing_bot.drift.html_report import render_html
from self_healing_bot.drift.tables import table_from_bytes
from self_healing_bot.repo_config import RepoConfig
from self_healing_bot.storage import repairs
from self_healing_bot.storage.detections import mark_flaky, record_detections
from self_healing_bot.storage.drift_reports import store_report
from self_healing_bot.storage.models import utc_now
from self_healing_bot.storage.repairs import Repair, RepairState
from self_healing_bot.storage.repo_configs import save_valid_config

OOM_SIGNATURE = "gpu_oom:4f1c2a9e"
FLAKY_SIGNATURE = "test_failure:77aa01"
EVIDENCE = [
    {"line": 412, "text": "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"},
    {"line": 413, "text": "GPU 0 has a total capacity of 15.77 GiB"},
]
# Planned with dry_run, so approving it runs its executor without a call to GitHub.
APPROVAL_PLAYBOOK = {
    "name": "rerun-flaky",
    "trigger": {"categories": ["test_failure"]},
    "steps": [{"uses": "rerun_failed_jobs"}],
}


@dataclass(frozen=True)
class Rows:
    repository: str
    verified_repair: int
    approval_repair: int
    drift_report: int


def oom_detection(head_sha: str = "a" * 40) -> Detection:
    return Detection(
        detector_id="pipeline_failure",
        category="gpu_oom",
        signature=OOM_SIGNATURE,
        confidence=0.97,
        summary="CUDA out of memory in train",
        params={"job": "train", "step": "Run training", "run_id": 4001, "occurrence": "run 4001"},
        evidence=list(EVIDENCE),
        head_sha=head_sha,
    )


def flaky_detection() -> Detection:
    return Detection(
        detector_id="pipeline_failure",
        category="test_failure",
        signature=FLAKY_SIGNATURE,
        summary="test_loader timed out",
        params={"job": "test", "run_id": 4002, "occurrence": "run 4002"},
        head_sha="b" * 40,
    )


def drift_report() -> tuple[dict[str, object], str]:
    """A real report of a shifted numeric column, as JSON and as the renderer's HTML page."""
    reference = "\n".join(["loss", *(str(value / 10) for value in range(200))]).encode()
    current = "\n".join(["loss", *(str(value / 10 + 12) for value in range(200))]).encode()
    report = compare_tables(
        table_from_bytes("reference.csv", reference), table_from_bytes("current.csv", current)
    )
    return report.to_dict(), render_html(report)


async def store_rows(session: AsyncSession, repository: str, delivery_id: str) -> Rows:
    """The rows, the detections and the verified repair planned by `delivery_id`."""
    await record_detections(session, delivery_id, repository, [oom_detection(), flaky_detection()])
    await mark_flaky(session, repository, "b" * 40, 4002)
    now = utc_now()
    verified = Repair(
        repository=repository,
        signature=OOM_SIGNATURE,
        attempt=1,
        category="gpu_oom",
        playbook="cuda-oom",
        level="act",
        state=RepairState.VERIFIED.value,
        delivery_id=delivery_id,
        installation_id=1,
        detection=oom_detection().as_template_value(),
        pull_request=7,
        fix_branch="self-healing/cuda-oom-4f1c2a9e",
        failed_at=now - timedelta(seconds=100),
        detected_at=now - timedelta(seconds=95),
        fix_pr_at=now - timedelta(seconds=80),
        verified_at=now - timedelta(seconds=20),
        finished_at=now - timedelta(seconds=20),
    )
    stored = await repairs.create_repair(session, verified)
    assert stored is not None
    await repairs.start_step(session, stored.id, "steps", 0, "open_fix_pull_request")
    await session.flush()
    await repairs.finish_step(
        session,
        stored.id,
        "steps",
        0,
        "succeeded",
        summary="opened pull request #7 halving batch_size",
        outputs={"number": 7, "branch": "self-healing/cuda-oom-4f1c2a9e"},
    )
    waiting = Repair(
        repository=repository,
        signature=FLAKY_SIGNATURE,
        attempt=1,
        category="test_failure",
        playbook="rerun-flaky",
        level="act",
        state=RepairState.AWAITING_APPROVAL.value,
        delivery_id=f"{delivery_id}-flaky",
        installation_id=1,
        detection=flaky_detection().as_template_value(),
        config=RepoConfig().model_dump(mode="json"),
        playbook_source=APPROVAL_PLAYBOOK,
        inputs={"default_branch": "main", "run_id": 4002, "run_attempt": 1},
        plan={
            "playbook": "rerun-flaky",
            "require_approval": True,
            "dry_run": True,
            "allowed_paths": [],
            "steps": [
                {
                    "index": 0,
                    "id": None,
                    "uses": "rerun_failed_jobs",
                    "status": "ready",
                    "reason": "",
                    "parameters": {},
                    "write": True,
                    "timeout_seconds": 60,
                    "retries": 0,
                }
            ],
            "on_failure": [],
        },
        issue=9,
    )
    approval = await repairs.create_repair(session, waiting)
    assert approval is not None
    report, html = drift_report()
    report_id = await store_report(session, repository, "data/current.csv", "a1b2c3", report, html)
    await save_valid_config(session, repository, RepoConfig())
    return Rows(repository, stored.id, approval.id, report_id)
