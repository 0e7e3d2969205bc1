"""The repair queries the reconcile and the verification rely on, on both engines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from self_healing_bot.storage.database import Database
from self_healing_bot.storage.models import WebhookDelivery, utc_now
from self_healing_bot.storage.repairs import Repair, linked_to_ci, unfinished_since

REPO = "octo/ml"
LONG_AGO = utc_now() - timedelta(hours=2)


def _repair(number: int, state: str, **fields: Any) -> Repair:
    values: dict[str, Any] = {
        "repository": REPO,
        "signature": f"gpu_oom:{number:08x}",
        "attempt": 1,
        "category": "gpu_oom",
        "level": "pr",
        "state": state,
        "delivery_id": f"delivery-{number}",
        "detected_at": LONG_AGO,
        **fields,
    }
    return Repair(**values)


async def test_unfinished_repairs_come_with_their_delivery_status_oldest_first(
    database: Database,
) -> None:
    async with database.session() as session:
        session.add(
            WebhookDelivery(
                delivery_id="delivery-1", event="workflow_run", body=b"{}", status="done"
            )
        )
        session.add_all(
            [
                _repair(1, "acting"),
                _repair(2, "awaiting_verification"),
                _repair(3, "planned", delivery_id="gone"),
                _repair(4, "verified"),
                _repair(5, "awaiting_approval"),
                _repair(6, "acting", detected_at=utc_now()),  # too young
            ]
        )
    async with database.session() as session:
        found = await unfinished_since(session, utc_now() - timedelta(minutes=10))
    assert [(repair.signature[-1], status) for repair, status in found] == [
        ("1", "done"),
        ("2", None),
        ("3", None),
    ]


async def test_linked_to_ci_finds_repairs_by_run_or_fix_commit(database: Database) -> None:
    async with database.session() as session:
        session.add_all(
            [
                _repair(1, "verified", rerun_run_id=100),
                _repair(2, "awaiting_verification", dispatched_run_id=200),
                _repair(3, "rolled_back", verify_sha="f" * 40, pull_request=7),
                _repair(4, "acting", verify_sha="e" * 40, pull_request=8),
                _repair(5, "verified", repository="octo/other", rerun_run_id=100),
            ]
        )
    async with database.session() as session:
        by_run = await linked_to_ci(session, REPO, 100, "a" * 40)
        by_dispatch = await linked_to_ci(session, REPO, 200, "a" * 40)
        by_commit = await linked_to_ci(session, REPO, 999, "f" * 40)
        nothing = await linked_to_ci(session, REPO, 999, "a" * 40)
    assert [r.rerun_run_id for r in by_run] == [100]
    assert [r.dispatched_run_id for r in by_dispatch] == [200]
    assert [r.pull_request for r in by_commit] == [7]
    assert nothing == []
