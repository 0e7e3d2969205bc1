"""`self-healing-bot playbook validate FILE`: check a playbook or a repository config file."""

from __future__ import annotations

from pathlib import Path

import typer


def _validate(file: Path) -> None:
    """Check FILE (a playbook when it has `steps`, else a repository config); print
    `file:line: reason` per problem. Exit 0 valid, 2 invalid or missing."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from self_healing_bot.core.playbook import load_playbook
    from self_healing_bot.core.yaml_source import DocumentError
    from self_healing_bot.repo_config import load_repo_config

    try:
        text = file.read_text()
    except (OSError, UnicodeDecodeError) as error:
        typer.echo(f"{file}: cannot read: {error}", err=True)
        raise typer.Exit(2) from error
    try:
        looks_like_playbook = "steps" in (YAML(typ="safe").load(text) or {})
    except (YAMLError, TypeError):
        looks_like_playbook = False  # the loader below reports the syntax error with its line
    kind = "playbook" if looks_like_playbook else "repository config"
    try:
        if looks_like_playbook:
            load_playbook(text, str(file))
        else:
            load_repo_config(text, str(file))
    except DocumentError as error:
        for problem in error.problems:
            typer.echo(str(problem))
        raise typer.Exit(2) from error
    typer.echo(f"{file}: valid {kind}")


def register(app: typer.Typer) -> None:
    playbook_app = typer.Typer(help="Playbooks and repository config.", no_args_is_help=True)
    playbook_app.command("validate")(_validate)
    app.add_typer(playbook_app, name="playbook")
