"""`self-healing-bot replay DELIVERY_ID`: process a stored webhook delivery again."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from self_healing_bot.command_errors import fail

if TYPE_CHECKING:
    from self_healing_bot.settings import Settings


def replay(
    delivery_id: Annotated[str, typer.Argument(help="The X-GitHub-Delivery id.")],
) -> None:
    """Reset a done, failed or dead delivery and process it again.

    In embedded mode it is processed here and now; in distributed mode it is sent to the broker.
    """
    from self_healing_bot.logging_setup import configure_logging
    from self_healing_bot.settings import load_settings
    from self_healing_bot.storage.deliveries import ReplayRefusedError, UnknownDeliveryError

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        outcome = asyncio.run(_replay(settings, delivery_id))
    except UnknownDeliveryError as error:
        fail(error, 2)
    except ReplayRefusedError as error:
        fail(error, 1)
    typer.echo(f"{delivery_id}: {outcome}")


async def _replay(settings: Settings, delivery_id: str) -> str:
    from self_healing_bot.detectors.registry import load_detectors
    from self_healing_bot.queue.tasks import Runtime, process_delivery
    from self_healing_bot.storage import deliveries
    from self_healing_bot.storage.database import Database

    database = Database.connect(settings.database_url)
    try:
        async with database.session() as session:
            await deliveries.replay(session, delivery_id, actor="cli")
        if not settings.embedded:
            from self_healing_bot.queue.broker import build_broker, declare_actor

            broker = build_broker(settings)
            await asyncio.to_thread(declare_actor(broker, settings).send, delivery_id)
            broker.close()
            return "queued"
        load_detectors(settings.plugin_modules)
        result = await process_delivery(Runtime(settings, database), delivery_id)
        return result.kind if result.error is None else f"{result.kind}: {result.error}"
    finally:
        await database.close()


def register(app: typer.Typer) -> None:
    app.command()(replay)
