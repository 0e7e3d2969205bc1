"""Open (or update) a pull request that applies file edits on a deterministic branch.

Parameters: `branch` (derived from the failure signature, so a retry finds the same PR),
`title`, `body` (Markdown), `base` (default: the repository's default branch), `labels`,
`edits` (each one of `yaml_set`, `yaml_scale`, `json_set`, `requirements_pin`,
`add_requirement`, `text_replace`, `workflow_timeout`, on one `path`).
Guardrails run on the edited files before anything is pushed (see `self_healing_bot.guardrails`).
Outputs: `number`, `url`, `branch`, `head_sha`, `changed_lines`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from self_healing_bot import edits
from self_healing_bot.actions.registry import ActionSpec, register_action
from self_healing_bot.core.automation import AutomationLevel


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


register_action(
    ActionSpec(
        id="open_fix_pull_request",
        parameters=OpenFixPullRequestParameters,
        description=__doc__ or "",
        write=True,
        minimum_level=AutomationLevel.PR,
        outputs=("number", "url", "branch", "head_sha", "changed_lines"),
    )
)
