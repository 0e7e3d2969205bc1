from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from self_healing_bot.storage import deliveries
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.deliveries import NewDelivery
from self_healing_bot.storage.models import AuditEvent, DeliveryStatus, WebhookDelivery, utc_now


def _row(delivery_id: str, status: DeliveryStatus = DeliveryStatus.RECEIVED) -> NewDelivery:
    return NewDelivery(delivery_id, "push", None, "octo/repo", 7, b'{"ref": "x"}', status)


async def _status(database: Database, delivery_id: str) -> tuple[str, int]:
    async with database.session() as session:
        row = await session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id)
        )
    assert row is not None
    return row.status, row.attempts


async def test_insert_new_keeps_the_first_copy_of_a_delivery_id(database: Database) -> None:
    async with database.session() as session:
        assert await deliveries.insert_new(session, [_row("a"), _row("b")]) == {"a", "b"}
    async with database.session() as session:
        assert await deliveries.insert_new(session, [_row("a"), _row("c")]) == {"c"}
        assert await deliveries.statuses(session, ["a", "c"]) == {"a": "received", "c": "received"}


async def test_claim_finish_and_a_second_claim_finds_nothing_to_do(database: Database) -> None:
    async with database.session() as session:
        await deliveries.insert_new(session, [_row("a")])
    async with database.session() as session:
        claim = await deliveries.claim(session, "a", lease_seconds=60)
    assert claim is not None and claim.attempt == 1 and claim.body == b'{"ref": "x"}'
    async with database.session() as session:
        assert await deliveries.claim(session, "a", lease_seconds=60) is None
        remaining = await deliveries.lease_remaining(session, "a")
    assert remaining is not None and 0 < remaining <= 60
    async with database.session() as session:
        assert await deliveries.finish(session, claim, DeliveryStatus.DONE)
    async with database.session() as session:
        assert await deliveries.claim(session, "a", lease_seconds=60) is None
        assert await deliveries.lease_remaining(session, "a") is None
    assert await _status(database, "a") == ("done", 1)


async def test_an_expired_lease_passes_to_another_worker_and_the_first_loses_it(
    database: Database,
) -> None:
    async with database.session() as session:
        await deliveries.insert_new(session, [_row("a")])
    async with database.session() as session:
        first = await deliveries.claim(session, "a", lease_seconds=-1)  # already expired
    async with database.session() as session:
        second = await deliveries.claim(session, "a", lease_seconds=60)
    assert first is not None and second is not None and second.attempt == 2
    async with database.session() as session:
        assert not await deliveries.finish(session, first, DeliveryStatus.DONE)
        assert await deliveries.finish(session, second, DeliveryStatus.DONE)
    assert await _status(database, "a") == ("done", 2)


@pytest.mark.parametrize(
    ("count_attempt", "attempts_after"), [(True, 1), (False, 0)], ids=["failure", "deferral"]
)
async def test_release_hands_the_delivery_back(
    database: Database, count_attempt: bool, attempts_after: int
) -> None:
    async with database.session() as session:
        await deliveries.insert_new(session, [_row("a")])
    async with database.session() as session:
        claim = await deliveries.claim(session, "a", lease_seconds=60)
    assert claim is not None
    async with database.session() as session:
        assert await deliveries.release(session, claim, "boom", count_attempt=count_attempt)
    assert await _status(database, "a") == ("queued", attempts_after)


async def test_find_stale_and_requeue(database: Database) -> None:
    async with database.session() as session:
        await deliveries.insert_new(session, [_row("fresh"), _row("expired")])
    async with database.session() as session:
        assert await deliveries.claim(session, "expired", lease_seconds=-1) is not None
    now = utc_now()
    async with database.session() as session:
        stale = await deliveries.find_stale(
            session, received_before=now + timedelta(seconds=1), queued_before=now, limit=10
        )
    assert {row.delivery_id: row.status for row in stale} == {
        "fresh": "received",
        "expired": "processing",
    }
    async with database.session() as session:
        for row in stale:
            assert await deliveries.requeue(session, row)
        assert not await deliveries.requeue(session, stale[0])  # moved since we looked
        figures = await deliveries.queue_figures(session)
    assert figures.depth == 2 and figures.dead == 0 and figures.oldest_waiting_seconds >= 0


async def test_replay_resets_finished_deliveries_only(database: Database) -> None:
    async with database.session() as session:
        await deliveries.insert_new(session, [_row("dead", DeliveryStatus.DEAD), _row("waiting")])
    with pytest.raises(deliveries.UnknownDeliveryError, match="no delivery 'nope'"):
        async with database.session() as session:
            await deliveries.replay(session, "nope", actor="test")
    with pytest.raises(deliveries.ReplayRefusedError, match="is received"):
        async with database.session() as session:
            await deliveries.replay(session, "waiting", actor="test")
    async with database.session() as session:
        await deliveries.replay(session, "dead", actor="test")
    assert await _status(database, "dead") == ("received", 0)
    async with database.session() as session:
        audit = (await session.scalars(select(AuditEvent))).all()
    assert [(a.actor, a.action, a.subject, a.detail) for a in audit] == [
        ("test", "replay", "dead", {"from": "dead"})
    ]
