"""The repository's config as GitHub holds it: its default branch over the organisation's.

Security: the file is read from the repository's DEFAULT branch only, never from a pull
request's head, so a pull request cannot change how the bot treats it. Organisation defaults
come from `<org>/.github/.github/self-healing-bot.yml`, then the built-in defaults apply.

    config = await fetch_repo_config(client, "octo/ml", database)
    config.diagnosis_rules      # the repository's extra log rules

An invalid file raises `InvalidRepoConfigError` (every problem with file and line), carrying
the last valid config stored for the repository, so the bot keeps working while the owner
fixes the file.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

from self_healing_bot.core.yaml_source import Problem
from self_healing_bot.github.models import RepoFile
from self_healing_bot.repo_config.loading import (
    CONFIG_PATH,
    ConfigError,
    merge_configs,
    parse_config_layer,
)
from self_healing_bot.repo_config.model import RepoConfig
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.repo_configs import last_valid_config, save_valid_config

ORG_CONFIG_REPOSITORY = ".github"
_CACHE_SIZE = 512


class ConfigReader(Protocol):
    """The slice of the GitHub client this module calls."""

    async def get_file(self, repo: str, path: str, ref: str | None = None) -> RepoFile | None: ...


class InvalidRepoConfigError(ConfigError):
    """A config file is invalid; `problems` name file, line and reason, and `last_valid` is
    the config to keep using (None when the repository never had a valid one)."""

    def __init__(self, problems: Sequence[Problem], last_valid: RepoConfig | None) -> None:
        super().__init__(problems)
        self.last_valid = last_valid


# Parsed layers by (file name, blob sha): an unchanged file is not parsed again.
_layers: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()


def _layer(file: RepoFile, name: str) -> dict[str, Any]:
    key = (name, file.sha)
    cached = _layers.get(key)
    if cached is not None:
        _layers.move_to_end(key)
        return cached
    text = file.content.decode("utf-8", errors="replace")
    layer = parse_config_layer(text, name)
    _layers[key] = layer
    if len(_layers) > _CACHE_SIZE:
        _layers.popitem(last=False)
    return layer


def organisation_of(repo: str) -> str:
    return repo.partition("/")[0]


async def fetch_repo_config(
    client: ConfigReader, repo: str, database: Database | None = None
) -> RepoConfig:
    """The merged config of `repo`; with a `database`, a valid result is stored as the last
    valid one, and an invalid file's error carries the stored one."""
    organisation_repo = f"{organisation_of(repo)}/{ORG_CONFIG_REPOSITORY}"
    # ref=None is the default branch: never a pull request's head.
    repository_file = await client.get_file(repo, CONFIG_PATH)
    organisation_file = (
        None
        if repo.lower() == organisation_repo.lower()
        else await client.get_file(organisation_repo, CONFIG_PATH)
    )
    problems: list[Problem] = []
    layers: list[dict[str, Any] | None] = []
    for file, name in (
        (organisation_file, f"{organisation_repo}/{CONFIG_PATH}"),
        (repository_file, f"{repo}/{CONFIG_PATH}"),
    ):
        try:
            layers.append(None if file is None else _layer(file, name))
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        last_valid = None
        if database is not None:
            async with database.session() as session:
                last_valid = await last_valid_config(session, repo)
        raise InvalidRepoConfigError(problems, last_valid)
    config = merge_configs(layers[0], layers[1])
    if database is not None:
        async with database.session() as session:
            await save_valid_config(session, repo, config)
    return config
