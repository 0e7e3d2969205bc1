"""What the data and model detectors read from a repository: its config, the files a push
changed among the configured paths, and a configured file's bytes at a commit.

A push payload's per-commit file lists are not used: GitHub truncates them on large pushes and
they miss what a force push removed. Comparing each configured path's blob at `before` and
`after` is exact whatever the push was.

    config = await detector_config(context, client, "data_drift")
    thresholds = detector_thresholds(config, "data_drift", ["drift_share"], ValueError)
    changed = await changed_paths(client, "octo/ml", ["data/current.csv"], before, after)
    data = await read_file(client, "octo/ml", "data/current.csv", after)
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import Event, PushEvent, RepositoryDispatchEvent
from self_healing_bot.detectors.registry import DetectionSkipped
from self_healing_bot.github.models import RepoFile
from self_healing_bot.repo_config.model import RepoConfig
from self_healing_bot.repo_config.remote import InvalidRepoConfigError, fetch_repo_config

NO_COMMIT = "0" * 40  # GitHub's `before` when a push created the branch


class FileReader(Protocol):
    """The slice of `InstallationClient` these detectors use."""

    async def get_file(self, repo: str, path: str, ref: str | None = None) -> RepoFile | None: ...

    async def get_branch_sha(self, repo: str, branch: str) -> str: ...


class ConfiguredFileMissingError(LookupError):
    """A path named in the repository config does not exist at the commit being checked."""


async def detector_config(
    context: ExecutionContext, client: FileReader, detector_id: str
) -> RepoConfig:
    """The repository's config; while its file is invalid, the last valid one (logged).

    Raises `DetectionSkipped` when the config turns `detector_id` off.
    """
    repository = context.repository or ""
    try:
        config = await fetch_repo_config(client, repository, context.database)
    except InvalidRepoConfigError as error:
        if error.last_valid is None:
            raise
        context.log.warning(
            "repository config is invalid; using its last valid config", error=str(error)
        )
        config = error.last_valid
    if not config.detector_enabled(detector_id):
        raise DetectionSkipped(f"{detector_id} is disabled in the repository's config")
    return config


def detector_thresholds(
    config: RepoConfig, detector_id: str, known: Sequence[str], error: type[ValueError]
) -> dict[str, float]:
    """`detectors.<detector_id>.thresholds`; a key not in `known` raises `error`, not ignored."""
    detector = config.detectors.get(detector_id)
    thresholds = detector.thresholds if detector else {}
    unknown = sorted(set(thresholds) - set(known))
    if unknown:
        raise error(
            f"detectors.{detector_id}.thresholds has unknown keys {unknown}; known: {list(known)}"
        )
    return thresholds


def reads_repository_files(event: Event, payload_key: str) -> bool:
    """True for a push that moved the repository's default branch (not a deletion), or a
    `repository_dispatch` whose `client_payload` names `payload_key` (e.g. "dataset")."""
    if isinstance(event, RepositoryDispatchEvent):
        return bool(event.client_payload and payload_key in event.client_payload)
    if not isinstance(event, PushEvent) or event.repository is None:
        return False
    branch = event.repository.default_branch
    return branch is not None and event.ref == f"refs/heads/{branch}" and event.after != NO_COMMIT


async def changed_paths(
    client: FileReader, repo: str, paths: Sequence[str], before: str, after: str
) -> list[str]:
    """The paths among `paths` whose content differs between two commits, in their order."""
    if before == NO_COMMIT:
        return list(paths)

    async def blob(path: str, ref: str) -> str | None:
        found = await client.get_file(repo, path, ref)
        return found.sha if found else None

    changed = []
    for path in paths:
        old, new = await asyncio.gather(blob(path, before), blob(path, after))
        if old != new:
            changed.append(path)
    return changed


async def read_file(client: FileReader, repo: str, path: str, ref: str) -> bytes:
    """A configured file's content at `ref`; raises `ConfiguredFileMissingError` when absent."""
    found = await client.get_file(repo, path, ref)
    if found is None:
        raise ConfiguredFileMissingError(
            f"{repo}: {path} does not exist at {ref}; add it or fix the path in "
            ".github/self-healing-bot.yml"
        )
    return found.content


def dispatch_branch(event: RepositoryDispatchEvent) -> str:
    """The branch a `repository_dispatch` asks to read: `client_payload.ref`, else the branch
    GitHub ran it on, else the default branch."""
    payload = event.client_payload or {}
    repository = event.repository
    branch = payload.get("ref") or event.branch or (repository and repository.default_branch)
    if not isinstance(branch, str) or not branch:
        raise ValueError("the repository_dispatch names no branch to read (client_payload.ref)")
    return branch
