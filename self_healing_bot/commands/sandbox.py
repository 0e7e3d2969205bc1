"""`self-healing-bot sandbox [--host H] [--port P] [--scenario FILE]`: the GitHub sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from self_healing_bot.command_errors import fail


def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 9090,
    scenario: Annotated[
        Path | None, typer.Option(help="Scenario YAML: app, repositories, workflows, faults.")
    ] = None,
) -> None:
    """Serve an in-memory GitHub (REST API at / and /api/v3) that sends signed webhooks."""
    import uvicorn

    from self_healing_bot.sandbox import GitHubSandbox
    from self_healing_bot.sandbox.ci_rules import ScenarioError
    from self_healing_bot.sandbox.scenario import (
        apply_scenario,
        public_key_from_private,
        read_scenario,
    )
    from self_healing_bot.settings import load_settings

    settings = load_settings()
    github_sandbox = GitHubSandbox(
        base_url=f"http://{host}:{port}", request_log=settings.sandbox_request_log or None
    )
    try:
        data = read_scenario(scenario) if scenario else {}
        if "app" not in data and settings.github_app_id and settings.github_private_key:
            github_sandbox.register_app(
                settings.github_app_id,
                public_key_from_private(settings.github_private_key_pem()),
                webhook_secret=(settings.webhook_secrets or [""])[0],
            )
        apply_scenario(github_sandbox, data)
    except (ScenarioError, OSError, ValueError) as error:
        fail(error, 2)
    uvicorn.run(github_sandbox.asgi_app, host=host, port=port, log_config=None, access_log=False)


def register(app: typer.Typer) -> None:
    app.command()(sandbox)
