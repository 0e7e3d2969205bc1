"""The repository's `.github/self-healing-bot.yml`: model, loading, merging and its JSON Schema."""

from self_healing_bot.repo_config.loading import (
    CONFIG_PATH,
    ConfigError,
    load_repo_config,
    merge_configs,
    parse_config_layer,
)
from self_healing_bot.repo_config.model import RepoConfig

__all__ = [
    "CONFIG_PATH",
    "ConfigError",
    "RepoConfig",
    "load_repo_config",
    "merge_configs",
    "parse_config_layer",
]
