"""What the data and model detectors read from a repository: its config, the files a push
changed among the configured paths, a configured file's bytes at a commit, and files inside
the artifacts of a workflow run.

A push payload's per-commit file lists are not used: GitHub truncates them on large pushes and
they miss what a force push removed. Comparing each configured path's blob at `before` and
`after` is exact whatever the push was.

    config = await detector_config(context, client, "data_drift")
    thresholds = detector_thresholds(config, "data_drift", ["drift_share"], ValueError)
    changed = await changed_paths(client, "octo/ml", ["data/current.csv"], before, after)
    data = await read_file(client, "octo/ml", "data/current.csv", after)

A configured path `artifact:<artifact-name>/<path-in-zip>` names a file a workflow run uploaded
(`actions/upload-artifact`), not a repository file. A string form keeps `paths.data` a flat list
of reference/current pairs in which either side may be an artifact, and it is unambiguous:
GitHub refuses `/` and `:` in artifact names. Such a path is read when a run on the default
branch completes successfully, from that run's artifacts; a push never reads it.

    files = RunArtifactFiles(client, "octo/ml", run_id)
    data = await read_file(files, "octo/ml", "artifact:eval-data/current.csv", head_sha)
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import (
    Event,
    PushEvent,
    RepositoryDispatchEvent,
    WorkflowRunEvent,
)
from self_healing_bot.detectors.registry import DetectionSkipped
from self_healing_bot.github.errors import GitHubApiError
from self_healing_bot.github.models import Artifact, RepoFile
from self_healing_bot.repo_config.model import RepoConfig
from self_healing_bot.repo_config.remote import InvalidRepoConfigError, fetch_repo_config

NO_COMMIT = "0" * 40  # GitHub's `before` when a push created the branch
ARTIFACT_PREFIX = "artifact:"
# Run events that build the default branch's own commits; a pull request's run may carry a
# branch named like the default one (a fork's `main`) and must not feed the baselines.
DEFAULT_BRANCH_RUN_EVENTS = frozenset(
    {"push", "schedule", "workflow_dispatch", "repository_dispatch"}
)


class FileReader(Protocol):
    """The slice of `InstallationClient` these detectors use."""

    async def get_file(self, repo: str, path: str, ref: str | None = None) -> RepoFile | None: ...

    async def get_branch_sha(self, repo: str, branch: str) -> str: ...


class ArtifactReader(FileReader, Protocol):
    """The slice of `InstallationClient` that reads a workflow run's artifacts."""

    async def list_run_artifacts(self, repo: str, run_id: int) -> list[Artifact]: ...

    async def download_artifact(self, repo: str, artifact_id: int) -> bytes: ...


class ConfiguredFileMissingError(LookupError):
    """A path named in the repository config does not exist at the commit being checked."""


class ArtifactPathError(ValueError):
    """A configured `artifact:` path that cannot name a file in an artifact."""


@dataclass(frozen=True)
class ArtifactPath:
    """`artifact:<artifact>/<member>`: the file `member` inside the zip of `artifact`."""

    artifact: str
    member: str


def artifact_path(path: str) -> ArtifactPath | None:
    """The artifact and member a configured path names; None for a repository path.

    >>> artifact_path("artifact:eval-metrics/reports/metrics.json")
    ArtifactPath(artifact='eval-metrics', member='reports/metrics.json')
    >>> artifact_path("metrics.json") is None
    True
    """
    if not path.startswith(ARTIFACT_PREFIX):
        return None
    artifact, _, member = path.removeprefix(ARTIFACT_PREFIX).partition("/")
    if not artifact or not member:
        raise ArtifactPathError(
            f"{path!r} names no file in an artifact; write artifact:<artifact-name>/<path-in-zip>"
        )
    return ArtifactPath(artifact, member)


def is_artifact_path(path: str) -> bool:
    return artifact_path(path) is not None


# A file in an artifact is read whole into memory: the zip header's size is checked first, so
# a zip bomb or a multi-gigabyte table is refused with a message instead of exhausting memory.
MAX_ARTIFACT_MEMBER_BYTES = 512 * 1024 * 1024


class RunArtifactFiles:
    """A `FileReader` over one workflow run: `artifact:` paths come from the run's artifacts
    (each downloaded once), every other path from the repository as `client` reads it."""

    def __init__(self, client: ArtifactReader, repo: str, run_id: int) -> None:
        self._client = client
        self._repo = repo
        self.run_id = run_id
        self._artifacts: dict[str, Artifact] | None = None
        self._archives: dict[str, zipfile.ZipFile] = {}

    async def get_branch_sha(self, repo: str, branch: str) -> str:
        return await self._client.get_branch_sha(repo, branch)

    async def get_file(self, repo: str, path: str, ref: str | None = None) -> RepoFile | None:
        """The file; for an `artifact:` path, its bytes from the run (`ref` is the run's)."""
        located = artifact_path(path)
        if located is None:
            return await self._client.get_file(repo, path, ref)
        archive = await self._archive(located.artifact)
        try:
            size = archive.getinfo(located.member).file_size
            if size > MAX_ARTIFACT_MEMBER_BYTES:
                raise ConfiguredFileMissingError(
                    f"{self._repo}: {located.member!r} in artifact {located.artifact!r} of "
                    f"workflow run {self.run_id} unpacks to {size} bytes, over the "
                    f"{MAX_ARTIFACT_MEMBER_BYTES}-byte limit for files read from artifacts"
                )
            content = archive.read(located.member)
        except KeyError:
            members = sorted(name for name in archive.namelist() if not name.endswith("/"))
            raise ConfiguredFileMissingError(
                f"{self._repo}: artifact {located.artifact!r} of workflow run {self.run_id} "
                f"has no {located.member!r} (it holds {members[:20]}); fix the path in "
                ".github/self-healing-bot.yml"
            ) from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as error:
            raise ConfiguredFileMissingError(
                f"{self._repo}: cannot read {located.member!r} from artifact "
                f"{located.artifact!r} of workflow run {self.run_id} ({error})"
            ) from error
        return RepoFile(path, f"artifact-{self.run_id}-{located.artifact}", content)

    async def _archive(self, name: str) -> zipfile.ZipFile:
        if name in self._archives:
            return self._archives[name]
        if self._artifacts is None:
            listed = await self._client.list_run_artifacts(self._repo, self.run_id)
            self._artifacts = {artifact.name: artifact for artifact in listed}
        artifact = self._artifacts.get(name)
        where = f"{self._repo}: workflow run {self.run_id}"
        if artifact is None:
            raise ConfiguredFileMissingError(
                f"{where} uploaded no artifact {name!r} (it uploaded "
                f"{sorted(self._artifacts) or 'none'}); check the upload-artifact step's name"
            )
        if artifact.expired:
            raise ConfiguredFileMissingError(f"{where}: artifact {name!r} has expired")
        try:
            content = await self._client.download_artifact(self._repo, artifact.id)
            self._archives[name] = zipfile.ZipFile(io.BytesIO(content))
        except GitHubApiError as error:
            raise ConfiguredFileMissingError(
                f"{where}: artifact {name!r} cannot be downloaded ({error.status} "
                f"{error.github_message})"
            ) from error
        except zipfile.BadZipFile as error:
            raise ConfiguredFileMissingError(
                f"{where}: artifact {name!r} is not a zip archive ({error})"
            ) from error
        return self._archives[name]


class CommitFiles:
    """A `FileReader` that downloads each file once per commit: a push's detector reads the
    same files to see what changed, to record the replaced commit and to judge the new one.

        files = CommitFiles(client)
        changed = await changed_paths(files, "octo/ml", ["metrics.json"], before, after)
        data = await read_file(files, "octo/ml", "metrics.json", after)  # not downloaded again
    """

    def __init__(self, client: FileReader) -> None:
        self._client = client
        self._files: dict[tuple[str, str, str | None], RepoFile | None] = {}

    async def get_branch_sha(self, repo: str, branch: str) -> str:
        return await self._client.get_branch_sha(repo, branch)

    async def get_file(self, repo: str, path: str, ref: str | None = None) -> RepoFile | None:
        key = (repo, path, ref)
        if key not in self._files:
            self._files[key] = await self._client.get_file(repo, path, ref)
        return self._files[key]


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


def reads_run_artifacts(event: Event) -> bool:
    """True for a workflow run on the default branch's own commits (not a pull request's, not
    a fork's) that completed successfully: the run whose artifacts the configured paths name."""
    if not isinstance(event, WorkflowRunEvent) or event.repository is None:
        return False
    run = event.workflow_run
    head_repository: Any = (run.model_extra or {}).get("head_repository")
    head_name = head_repository.get("full_name") if isinstance(head_repository, dict) else None
    return (
        event.action == "completed"
        and run.conclusion == "success"
        and run.event in DEFAULT_BRANCH_RUN_EVENTS
        and run.head_branch is not None
        and run.head_branch == event.repository.default_branch
        and head_name in (None, event.repository.full_name)
    )


async def changed_paths(
    client: FileReader, repo: str, paths: Sequence[str], before: str, after: str
) -> list[str]:
    """The repository paths among `paths` whose content differs between two commits, in their
    order (`artifact:` paths are not in the repository: they never count as changed)."""
    paths = [path for path in paths if not is_artifact_path(path)]
    if before == NO_COMMIT:
        return paths

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
    if is_artifact_path(path) and not isinstance(client, RunArtifactFiles):
        raise ConfiguredFileMissingError(
            f"{repo}: {path} is a workflow artifact; it is read when a run on the default "
            "branch that uploads it completes, not from a commit"
        )
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
