"""How a command ends on an error: one `error: ...` line on stderr and the exit status that
says whose fault it was (2 bad input, 1 anything else), as every command of the CLI does.

    except DiagnosisInputError as error:
        fail(error, 2)
"""

from __future__ import annotations

from typing import NoReturn

import typer


def fail(problem: Exception | str, status: int) -> NoReturn:
    """Print `error: <problem>` on stderr and end the command with exit `status`."""
    typer.echo(f"error: {problem}", err=True)
    if isinstance(problem, Exception):
        raise typer.Exit(status) from problem
    raise typer.Exit(status)
