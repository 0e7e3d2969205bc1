"""The `self-healing-bot` command line.

Each command lives in its own module under `self_healing_bot/commands/` and exposes
`register(app)`; this module only collects them, so adding a command is adding a module.
Command modules import heavy dependencies inside their functions to keep start-up fast.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

from self_healing_bot import commands

app = typer.Typer(
    name="self-healing-bot",
    help="A self-healing GitHub App for ML repositories.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(app)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    app()
