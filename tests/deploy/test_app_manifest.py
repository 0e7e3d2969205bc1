"""app.yml: the GitHub App manifest asks for exactly what the bot uses."""

from __future__ import annotations

from typing import Any

from self_healing_bot.core.events import EVENT_MODELS
from tests.deploy.documents import REPO_ROOT, load_yaml

PERMISSIONS = {
    "actions": "write",
    "checks": "write",
    "contents": "write",
    "pull_requests": "write",
    "issues": "write",
    "workflows": "write",
    "metadata": "read",
}
# GitHub delivers these to every App; a manifest may not list them.
ALWAYS_DELIVERED = {"installation", "installation_repositories"}
MANIFEST_KEYS = {
    "name",
    "url",
    "description",
    "public",
    "hook_attributes",
    "redirect_url",
    "callback_urls",
    "setup_url",
    "setup_on_update",
    "request_oauth_on_install",
    "default_permissions",
    "default_events",
}


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(REPO_ROOT / "app.yml")
    return loaded


def test_manifest_uses_only_manifest_keys() -> None:
    assert set(manifest()) <= MANIFEST_KEYS
    assert manifest()["public"] is False


def test_permissions_are_exactly_the_ones_the_bot_uses() -> None:
    assert manifest()["default_permissions"] == PERMISSIONS


def test_events_are_exactly_the_ones_the_bot_handles() -> None:
    # EVENT_MODELS is what the pipeline parses; an event missing from it is dropped unread.
    events = manifest()["default_events"]
    assert len(events) == len(set(events))
    assert not set(events) & ALWAYS_DELIVERED
    assert set(events) == set(EVENT_MODELS) - ALWAYS_DELIVERED


def test_webhook_points_at_the_receiver() -> None:
    hook = manifest()["hook_attributes"]
    assert hook["active"] is True
    assert hook["url"].startswith("https://") and hook["url"].endswith("/webhooks/github")
