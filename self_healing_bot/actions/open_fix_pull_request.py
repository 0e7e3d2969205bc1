"""Open (or update) a pull request that applies file edits on a deterministic branch.

Parameters: `branch` (derived from the failure signature, so a retry finds the same PR),
`title`, `body` (Markdown), `base` (default: the repository's default branch), `labels`,
`edits` (each one of `yaml_set`, `yaml_scale`, `json_set`, `requirements_pin`,
`add_requirement`, `text_replace`, `workflow_timeout`, on one `path`).
Guardrails run on the edited files before anything is pushed (see `self_healing_bot.guardrails`).
Outputs: `number`, `url`, `branch`, `head_sha`, `changed_lines`.

The files are read at the base branch's head, edited in memory, checked, and pushed as one
commit on the branch; a second run finds the branch and the PR and changes nothing.
`close_fix_pull_request` is the compensation: it closes the PR and deletes the branch.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from self_healing_bot import edits
from self_healing_bot.actions.context import ActionContext, ActionError
from self_healing_bot.actions.registry import ActionResult, ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.github.errors import GitHubNotFoundError
from self_healing_bot.github.markers import with_marker
from self_healing_bot.guardrails import check_changes, redact_secrets

DIFF_CHARACTERS = 20000  # of the 65536 GitHub allows in a PR body


class _FileEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)

    @field_validator("path")
    @classmethod
    def _inside_the_repository(cls, path: str) -> str:
        if path.startswith("/") or ".." in path.split("/") or "\\" in path:
            raise ValueError(f"{path!r} must be a relative path inside the repository")
        return path


class YamlSet(_FileEdit):
    kind: Literal["yaml_set"]
    key: str = Field(min_length=1)
    value: Any

    def apply(self, text: str) -> str:
        return edits.yaml_set(text, self.key, self.value)


class YamlScale(_FileEdit):
    kind: Literal["yaml_scale"]
    key: str = Field(min_length=1)
    factor: float = Field(gt=0)
    default: float | None = None

    def apply(self, text: str) -> str:
        return edits.yaml_scale(text, self.key, self.factor, default=self.default)


class JsonSet(_FileEdit):
    kind: Literal["json_set"]
    key: str = Field(min_length=1)
    value: Any

    def apply(self, text: str) -> str:
        return edits.json_set(text, self.key, self.value)


class RequirementsPin(_FileEdit):
    kind: Literal["requirements_pin"]
    package: str = Field(min_length=1)
    specifier: str = Field(min_length=1)

    def apply(self, text: str) -> str:
        return edits.requirements_pin(text, self.package, self.specifier)


class AddRequirement(_FileEdit):
    kind: Literal["add_requirement"]
    requirement: str = Field(min_length=1)

    def apply(self, text: str) -> str:
        return edits.add_requirement(text, self.requirement)


class TextReplace(_FileEdit):
    kind: Literal["text_replace"]
    old: str = Field(min_length=1)
    new: str
    occurrences: int = Field(default=1, ge=1)

    def apply(self, text: str) -> str:
        return edits.text_replace(text, self.old, self.new, occurrences=self.occurrences)


class WorkflowTimeout(_FileEdit):
    kind: Literal["workflow_timeout"]
    job: str = Field(min_length=1)
    minutes: int = Field(ge=1, le=edits.workflow.MAX_TIMEOUT_MINUTES)

    def apply(self, text: str) -> str:
        return edits.workflow_timeout(text, self.job, self.minutes)


FileEdit = Annotated[
    YamlSet
    | YamlScale
    | JsonSet
    | RequirementsPin
    | AddRequirement
    | TextReplace
    | WorkflowTimeout,
    Field(discriminator="kind"),
]


class OpenFixPullRequestParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    branch: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._/-]+$")
    title: str = Field(min_length=1, max_length=256)
    body: str = Field(max_length=65536)
    base: str | None = None
    labels: list[str] = Field(default_factory=list)
    edits: list[FileEdit] = Field(min_length=1)

    @field_validator("branch")
    @classmethod
    def _branch_is_a_ref(cls, branch: str) -> str:
        if ".." in branch or branch.startswith(("/", "-")) or branch.endswith(("/", ".lock")):
            raise ValueError(f"{branch!r} is not a valid git branch name")
        return branch


def apply_edits(files: dict[str, str], file_edits: list[FileEdit]) -> dict[str, str]:
    """The new text of every edited file, edits applied in order; `files` holds the originals.

    >>> edit = YamlSet(kind="yaml_set", path="a.yml", key="x", value=2)
    >>> apply_edits({"a.yml": "x: 1\\n"}, [edit])
    {'a.yml': 'x: 2\\n'}
    """
    changed: dict[str, str] = {}
    for file_edit in file_edits:
        current = changed.get(file_edit.path, files.get(file_edit.path))
        if current is None:
            raise edits.EditError(f"{file_edit.path}: file not found in the repository")
        try:
            changed[file_edit.path] = file_edit.apply(current)
        except edits.EditError as error:
            raise edits.EditError(f"{file_edit.path}: {error}") from error
    return changed


class NothingToFixError(ActionError):
    """The edits leave every file as it is: the fix is already in the base branch."""


def diff_summary(changes: Mapping[str, tuple[str, str]]) -> str:
    """Markdown: one line per file with lines added and removed, then the diff, redacted.

    >>> print(diff_summary({"a.yml": ("x: 1\\n", "x: 2\\n")}).splitlines()[0])
    - `a.yml`: +1 -1
    """
    lines: list[str] = []
    diff: list[str] = []
    for path, (old, new) in sorted(changes.items()):
        file_diff = list(
            difflib.unified_diff(
                old.splitlines(), new.splitlines(), f"a/{path}", f"b/{path}", lineterm=""
            )
        )
        added = sum(1 for line in file_diff[2:] if line.startswith("+"))
        removed = sum(1 for line in file_diff[2:] if line.startswith("-"))
        lines.append(f"- `{path}`: +{added} -{removed}")
        diff += file_diff
    text = "\n".join(diff)
    if len(text) > DIFF_CHARACTERS:
        text = text[:DIFF_CHARACTERS] + "\n… (diff cut; see the Files tab)"
    return redact_secrets("\n".join([*lines, "", "```diff", text, "```"]))


async def _read_texts(context: ActionContext, paths: set[str], ref: str) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(paths):
        found = await context.github.get_file(context.repository, path, ref=ref)
        if found is None:
            continue  # apply_edits names the missing file
        try:
            texts[path] = found.content.decode("utf-8")
        except UnicodeDecodeError:
            raise ActionError(f"{path} is not UTF-8 text; the bot edits text files only") from None
    return texts


async def _branch_sha(context: ActionContext, branch: str) -> str | None:
    try:
        return await context.github.get_branch_sha(context.repository, branch)
    except GitHubNotFoundError:
        return None


async def open_fix(
    context: ActionContext,
    *,
    branch: str,
    title: str,
    body: str,
    file_edits: Sequence[FileEdit],
    base: str | None = None,
    labels: Sequence[str] = (),
) -> ActionResult:
    """Apply `file_edits` on `branch` and open (or refresh) its pull request into `base`.

    Raises `GuardrailError` for a refused change, `edits.EditError` when an edit cannot apply,
    `NothingToFixError` when the edits change nothing.
    """
    github, repository = context.github, context.repository
    base = base or context.default_branch
    base_sha = await github.get_branch_sha(repository, base)
    originals = await _read_texts(context, {edit.path for edit in file_edits}, base_sha)
    edited = apply_edits(originals, list(file_edits))
    changes = {
        path: (originals[path], text) for path, text in edited.items() if text != originals[path]
    }
    if not changes:
        raise NothingToFixError(f"the edits change nothing on {base}: the fix is already there")
    check_changes(
        changes,
        branch=branch,
        default_branch=context.default_branch,
        allowed_paths=context.allowed_paths,
        max_changed_lines=context.max_changed_lines,
    )
    changed = sum(edits.changed_lines(old, new) for old, new in changes.values())
    pull_body = with_marker(
        f"{redact_secrets(body)}\n\n### Changes\n{diff_summary(changes)}", context.idempotency_key
    )
    outputs: dict[str, Any] = {"branch": branch, "changed_lines": changed}
    head_sha = await _branch_sha(context, branch)
    on_branch = await _read_texts(context, set(changes), head_sha) if head_sha else {}
    to_commit = {
        path: new.encode() for path, (_, new) in changes.items() if on_branch.get(path) != new
    }
    pull = await github.find_pull_request(repository, branch)
    if context.dry_run:
        action = "update" if pull else "open"
        return ActionResult(
            f"would {action} a pull request from {branch} into {base} changing {changed} lines",
            {**outputs, "number": None, "url": None, "head_sha": None, "diff": pull_body},
        )
    if head_sha is None:
        await github.create_branch(repository, branch, base_sha)
        head_sha = base_sha
    if to_commit:
        message = f"{title}\n\nSelf-healing bot fix for {context.idempotency_key}."
        head_sha = await github.commit_files(repository, branch, message, dict(to_commit))
    if pull is None:
        pull = await github.create_pull_request(repository, title, pull_body, branch, base)
        summary = f"opened pull request #{pull.number} from {branch}"
    elif (pull.title, pull.body) != (title, pull_body):
        pull = await github.update_pull_request(
            repository, pull.number, title=title, body=pull_body
        )
        summary = f"updated pull request #{pull.number} from {branch}"
    else:
        summary = f"pull request #{pull.number} from {branch} is up to date"
    if labels:
        await github.add_labels(repository, pull.number, list(labels))
    return ActionResult(
        summary, {**outputs, "number": pull.number, "url": pull.html_url, "head_sha": head_sha}
    )


async def run(context: ActionContext, parameters: OpenFixPullRequestParameters) -> ActionResult:
    return await open_fix(
        context,
        branch=parameters.branch,
        title=parameters.title,
        body=parameters.body,
        file_edits=parameters.edits,
        base=parameters.base,
        labels=parameters.labels,
    )


async def close_fix_pull_request(context: ActionContext, branch: str) -> ActionResult:
    """Compensation: close the open pull request from `branch` and delete the branch.

    >>> await close_fix_pull_request(context, context.fix_branch)
    """
    github, repository = context.github, context.repository
    if branch == context.default_branch:
        raise ActionError(f"refusing to delete the default branch {branch}")
    pull = await github.find_pull_request(repository, branch)
    exists = await _branch_sha(context, branch) is not None
    if context.dry_run:
        closing = f"close #{pull.number} and " if pull else ""
        return ActionResult(f"would {closing}delete {branch}" if exists else "nothing to undo")
    if pull is not None:
        await github.close_pull_request(repository, pull.number)
    if exists:
        await github.delete_branch(repository, branch)
    closed = f"closed #{pull.number}, " if pull else ""
    return ActionResult(f"{closed}deleted {branch}" if exists else f"{closed}{branch} is gone")


register_action(
    ActionSpec(
        id="open_fix_pull_request",
        parameters=OpenFixPullRequestParameters,
        description=__doc__ or "",
        write=True,
        minimum_level=AutomationLevel.PR,
        outputs=("number", "url", "branch", "head_sha", "changed_lines"),
        runner=run,
    )
)
