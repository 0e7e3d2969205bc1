"""`self-healing-bot serve [--host H] [--port P] [--workers N]`: the web app."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Annotated

import typer

from self_healing_bot.command_errors import fail

if TYPE_CHECKING:
    from fastapi import FastAPI


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8080,
    workers: Annotated[int, typer.Option(help="Web processes (distributed mode only).", min=1)] = 1,
) -> None:
    """Receive webhooks; in embedded mode also process them in this process."""
    import uvicorn

    from self_healing_bot.settings import load_settings

    if load_settings().embedded and workers > 1:
        fail(
            "embedded mode runs one process (its queue lives in it); "
            "set SHBOT_BROKER_URL to run several web workers",
            2,
        )
    uvicorn.run(
        "self_healing_bot.commands.serve:serving_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        http="httptools",
        loop="uvloop",
    )


def serving_app() -> FastAPI:
    """The uvicorn factory `serve` runs in each web process: the app, then `gc.freeze()`.

    The libraries the bot imports leave a few hundred thousand long-lived objects, and every
    full collection walked them all: a 50-120 ms pause that was the intake's p99. Frozen, they
    are never scanned again; what the process allocates afterwards is collected as before.
    """
    from self_healing_bot.web.app import app_from_environment

    app = app_from_environment()
    gc.freeze()
    return app


def register(app: typer.Typer) -> None:
    app.command()(serve)
