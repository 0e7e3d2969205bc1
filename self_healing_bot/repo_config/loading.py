"""Read `.github/self-healing-bot.yml` and merge it over org defaults over built-in defaults.

The file is read from the default branch only (the caller fetches it there), so a pull request
cannot change how the bot treats it. Without a repository file the bot only suggests: the
organisation's defaults may add notification targets or thresholds, never automation.

    >>> org = parse_config_layer("budgets: {reruns_per_hour: 2}\\n", "org/.github/x.yml")
    >>> repo = parse_config_layer("automation: {default: pr}\\n", CONFIG_PATH)
    >>> merged = merge_configs(org, repo)
    >>> merged.budgets.reruns_per_hour, merged.automation.default.value
    (2, 'pr')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from self_healing_bot.core.yaml_source import (
    DocumentError,
    Problem,
    load_yaml_document,
    validation_problems,
)
from self_healing_bot.repo_config.model import Automation, RepoConfig

CONFIG_PATH = ".github/self-healing-bot.yml"


class ConfigError(DocumentError):
    """The config file is invalid; the last valid config stays in force."""


def parse_config_layer(text: str, file: str = CONFIG_PATH) -> dict[str, Any]:
    """The file's own settings (validated, defaults not filled in), ready to merge.

    Raises `ConfigError` listing every problem as `file:line: reason`.
    """
    try:
        document = load_yaml_document(text, file)
    except DocumentError as error:
        raise ConfigError(error.problems) from error
    if document.value is None:
        return {}
    if not isinstance(document.value, dict):
        raise ConfigError([Problem(file, 1, "the config must be a mapping of settings")])
    try:
        RepoConfig.model_validate(document.value)
    except ValidationError as error:
        raise ConfigError(validation_problems(error, document)) from error
    return document.value


def load_repo_config(text: str, file: str = CONFIG_PATH) -> RepoConfig:
    """One file over the built-in defaults (what `playbook validate` checks)."""
    return merge_configs(None, parse_config_layer(text, file))


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else (lists included) replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def merge_configs(
    organisation: Mapping[str, Any] | None, repository: Mapping[str, Any] | None
) -> RepoConfig:
    """Repository layer over organisation layer over built-in defaults (layers from
    `parse_config_layer`; `None` when the file does not exist).

    No repository file → `suggest` for every category, whatever the organisation says.
    """
    merged = _deep_merge(organisation or {}, repository or {})
    config = RepoConfig.model_validate(merged)
    if repository is None:
        return config.model_copy(update={"automation": Automation()})
    return config
