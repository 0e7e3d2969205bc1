"""`/api/v1/settings` (admin): the settings this process runs with, secrets hidden.

Settings come from `SHBOT_*` environment variables (and `.env`) and are read once at start, so
an admin changes one by changing the environment and restarting; this view shows what is in
force, which is what an operator needs to check a deployment.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from self_healing_bot.guardrails import redact_secrets
from self_healing_bot.settings import Settings
from self_healing_bot.web.api.auth import Admin, Caller

router = APIRouter(prefix="/settings", tags=["settings"])

# Whole values that are credentials; anything else is shown with embedded secrets redacted
# (a password in a database or broker URL).
SECRET_SETTINGS = frozenset(
    {"webhook_secret", "github_private_key", "github_token", "session_secret"}
)
HIDDEN = "[set, hidden]"


class SettingView(BaseModel):
    variable: str
    value: str | int | float | bool | None


def setting_views(settings: Settings) -> list[SettingView]:
    """Every setting as its environment variable and a value safe to show."""
    views = []
    for name, value in sorted(settings.model_dump().items()):
        shown: str | int | float | bool | None
        if name in SECRET_SETTINGS:
            shown = HIDDEN if value else ""
        elif isinstance(value, str):
            shown = redact_secrets(value)
        else:
            shown = value
        views.append(SettingView(variable=f"SHBOT_{name.upper()}", value=shown))
    return views


@router.get("")
async def list_settings(
    request: Request, _caller: Annotated[Caller, Depends(Admin)]
) -> list[SettingView]:
    """The settings in force; credentials are hidden, passwords in URLs redacted."""
    settings: Settings = request.app.state.settings
    return setting_views(settings)
