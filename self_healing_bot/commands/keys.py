"""`self-healing-bot keys create|list|revoke`: API keys for the REST API and the dashboard.

    $ self-healing-bot keys create --role operator --name ci
    created key 3f9a0c1b2d4e (operator, ci); store it now, it is not shown again:
    shbot_3f9a0c1b2d4e_...

The key alone is the last line on stdout, so scripts can take it with `tail -n 1`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from self_healing_bot.command_errors import fail

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

Result = TypeVar("Result")


def _in_session(work: Callable[[AsyncSession], Awaitable[Result]]) -> Result:
    """Run `work` in one committed session on SHBOT_DATABASE_URL (embedded: migrated first)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from self_healing_bot.settings import load_settings
    from self_healing_bot.storage.database import Database
    from self_healing_bot.storage.migrate import upgrade

    settings = load_settings()
    if settings.embedded:
        upgrade(settings.database_url)

    async def run() -> Result:
        database = Database.connect(settings.database_url)
        try:
            async with database.session() as session:
                return await work(session)
        finally:
            await database.close()

    try:
        return asyncio.run(run())
    except (OperationalError, ProgrammingError) as error:
        fail(f"the database is not ready ({error.orig!r}); run `self-healing-bot migrate`", 1)


def create(
    role: Annotated[str, typer.Option(help="viewer | operator | admin.")],
    name: Annotated[str, typer.Option(help="Who or what uses the key.")] = "unnamed",
) -> None:
    """Create an API key; it is printed once, as the last line, and stored only as a hash."""
    from self_healing_bot.audit import Actor, record
    from self_healing_bot.storage.api_keys import IssuedKey, Role, create_key

    if role not in set(Role):
        fail(f"--role must be one of {', '.join(Role)}, not {role!r}", 2)
    if not name.strip() or len(name) > 128:
        fail("--name must be 1 to 128 characters", 2)

    async def work(session: AsyncSession) -> IssuedKey:
        issued = await create_key(session, role=Role(role), name=name)
        detail = {"role": role, "name": name}
        record(session, Actor.command_line(), "key.create", issued.info.key_id, detail)
        return issued

    issued = _in_session(work)
    info = issued.info
    typer.echo(
        f"created key {info.key_id} ({info.role}, {info.name}); "
        "store it now, it is not shown again:"
    )
    typer.echo(issued.key)


def list_() -> None:
    """List keys: id, role, name, created, revoked (never the key itself)."""
    from self_healing_bot.storage.api_keys import KeyInfo, list_keys

    async def work(session: AsyncSession) -> list[KeyInfo]:
        return await list_keys(session)

    for info in _in_session(work):
        revoked = info.revoked_at.isoformat() if info.revoked_at else "-"
        created = info.created_at.isoformat()
        typer.echo(f"{info.key_id}\t{info.role}\t{info.name}\t{created}\trevoked: {revoked}")


def revoke(key_id: Annotated[str, typer.Argument(help="The key id `keys list` shows.")]) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from self_healing_bot.audit import Actor, record
    from self_healing_bot.storage.api_keys import KeyInfo, UnknownKeyError, revoke_key

    async def work(session: AsyncSession) -> KeyInfo:
        info = await revoke_key(session, key_id)
        record(session, Actor.command_line(), "key.revoke", key_id)
        return info

    try:
        info = _in_session(work)
    except UnknownKeyError as error:
        fail(error, 2)
    typer.echo(f"revoked key {info.key_id} ({info.role}, {info.name})")


def register(app: typer.Typer) -> None:
    keys_app = typer.Typer(
        help="API keys for the REST API and the dashboard.", no_args_is_help=True
    )
    keys_app.command("create")(create)
    keys_app.command("list")(list_)
    keys_app.command("revoke")(revoke)
    app.add_typer(keys_app, name="keys")
