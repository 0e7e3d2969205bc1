"""Every write leaves an audit entry naming the key, the action, the subject and the client."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from self_healing_bot.storage.api_keys import Role
from self_healing_bot.storage.models import AuditEvent
from tests.api.conftest import World
from tests.api.operations import OPERATIONS
from tests.api.rows import FLAKY_SIGNATURE

WRITES = sorted(key for key, operation in OPERATIONS.items() if operation.audit_action)


def test_every_mutating_method_is_declared_as_a_write_or_a_pure_check() -> None:
    pure_checks = {("POST", "/api/v1/playbooks/validate")}
    mutating = {key for key in OPERATIONS if key[0] != "GET"}
    assert mutating - pure_checks == set(WRITES)


@pytest.mark.parametrize(
    ("method", "path"), [pytest.param(*key, id=" ".join(key)) for key in WRITES]
)
async def test_a_successful_write_is_audited(world: World, method: str, path: str) -> None:
    operation = OPERATIONS[(method, path)]
    response = await world.client.request(
        method, world.url(path), json=operation.body, headers=world.as_role(operation.role)
    )
    assert response.status_code == operation.ok_status, response.text
    async with world.database.session() as session:
        events = (await session.scalars(select(AuditEvent))).all()
    assert len(events) == 1
    event = events[0]
    key_id = world.keys[operation.role].split("_")[1]
    assert event.action == operation.audit_action
    assert event.actor == f"{operation.role}-key (key {key_id})"
    assert event.detail["actor_key_id"] == key_id
    assert event.detail["client"] == "127.0.0.1"
    subjects = {
        "replay": world.dead_delivery_id,
        "key.revoke": world.victim_key_id,
        "repair.approve": str(world.rows.approval_repair),
        "signature.ignore": f"{world.rows.repository} {FLAKY_SIGNATURE}",
    }
    assert event.subject == subjects.get(event.action, response.json().get("key_id"))


async def test_a_refused_write_leaves_no_audit_entry(world: World) -> None:
    path = world.url("/api/v1/deliveries/{delivery_id}/replay").replace("dead-", "unknown-")
    response = await world.client.post(path, headers=world.as_role(Role.OPERATOR))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    async with world.database.session() as session:
        assert (await session.scalars(select(AuditEvent))).all() == []


async def test_the_audit_log_filters_by_action_and_by_subject(world: World) -> None:
    admin = world.as_role(Role.ADMIN)
    for name in ("first", "second"):
        created = await world.client.post(
            "/api/v1/keys", json={"role": "viewer", "name": name}, headers=admin
        )
        assert created.status_code == 201
    revoked = await world.client.delete(f"/api/v1/keys/{world.victim_key_id}", headers=admin)
    assert revoked.status_code == 200

    async def listed(**params: str) -> list[tuple[str, str]]:
        response = await world.client.get("/api/v1/audit", params=params, headers=admin)
        assert response.status_code == 200
        return [(item["action"], item["subject"]) for item in response.json()["items"]]

    assert [action for action, _ in await listed(action="key.create")] == ["key.create"] * 2
    assert await listed(subject=world.victim_key_id) == [("key.revoke", world.victim_key_id)]
    assert await listed(action="key.create", subject=world.victim_key_id) == []
