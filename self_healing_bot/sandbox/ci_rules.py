"""Simulated CI: whether a job passes, decided by rules over the files of the commit it runs on.

A rule fails the job (with its log) when every condition in its `when` holds:
`file` with one of `exists`, `contains`, `not_contains`, `matches`, `not_matches`, or a YAML
`key` (dotted path) compared with `greater_than`, `less_than`, `equals`; and `attempt_below: N`
makes a job flaky (it fails on attempts before N). A job that passes uploads its `artifacts`
(`{artifact-name: {path-in-zip: content}}`), as an `actions/upload-artifact` step would.

    >>> job = JobSpec.parse({"name": "train", "failures": [{
    ...     "when": {"file": "configs/train.yaml", "key": "batch_size", "greater_than": 32},
    ...     "log": "RuntimeError: CUDA out of memory"}]})
    >>> job.run({"configs/train.yaml": b"batch_size: 64\\n"}, attempt=1).conclusion
    'failure'
    >>> job.run({"configs/train.yaml": b"batch_size: 16\\n"}, attempt=1).conclusion
    'success'
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

_CONDITION_KEYS = {
    "file",
    "exists",
    "contains",
    "not_contains",
    "matches",
    "not_matches",
    "key",
    "greater_than",
    "less_than",
    "equals",
    "attempt_below",
}
_FILE_TESTS = {
    "exists",
    "contains",
    "not_contains",
    "matches",
    "not_matches",
    "greater_than",
    "less_than",
    "equals",
}
DEFAULT_SUCCESS_LOG = "All steps completed successfully.\n"
# Characters actions/upload-artifact refuses in an artifact's name.
_FORBIDDEN_IN_ARTIFACT_NAME = set('"\\/:<>|*?\r\n')


class ScenarioError(ValueError):
    """A scenario or CI rule that cannot be understood; the message names the bad part."""


Artifacts = Mapping[str, Mapping[str, bytes]]  # artifact name → path in its zip → content


@dataclass(frozen=True)
class JobOutcome:
    conclusion: str
    log: str
    artifacts: Artifacts = field(default_factory=dict)


@dataclass(frozen=True)
class FailureRule:
    when: Mapping[str, Any]
    log: str

    def holds(self, files: Mapping[str, bytes], attempt: int) -> bool:
        """True when every condition of the rule holds for these files on this attempt."""
        when = self.when
        if "attempt_below" in when and attempt >= int(when["attempt_below"]):
            return False
        if "file" not in when:
            return True
        content = files.get(when["file"])
        if "exists" in when:
            return (content is not None) == bool(when["exists"])
        text = content.decode(errors="replace") if content is not None else ""
        if "contains" in when:
            return when["contains"] in text
        if "not_contains" in when:
            return when["not_contains"] not in text
        if "matches" in when:
            return re.search(when["matches"], text, re.MULTILINE) is not None
        if "not_matches" in when:
            return re.search(when["not_matches"], text, re.MULTILINE) is None
        return _compare(_yaml_value(text, when.get("key", "")), when)


@dataclass(frozen=True)
class JobSpec:
    """One job of a simulated workflow."""

    name: str
    failures: tuple[FailureRule, ...]
    success_log: str = DEFAULT_SUCCESS_LOG
    artifacts: Artifacts = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> JobSpec:
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
            raise ScenarioError(f"a job needs a 'name' (got {data!r})")
        rules = []
        for index, rule in enumerate(data.get("failures") or []):
            where = f"job {data['name']!r} failure {index + 1}"
            when = rule.get("when") if isinstance(rule, Mapping) else None
            if not isinstance(when, Mapping) or not when:
                raise ScenarioError(f"{where}: needs a non-empty 'when' mapping")
            unknown = set(when) - _CONDITION_KEYS
            if unknown:
                raise ScenarioError(f"{where}: unknown condition(s) {sorted(unknown)}")
            if "file" in when and not set(when) & _FILE_TESTS:
                raise ScenarioError(f"{where}: 'file' needs one of {sorted(_FILE_TESTS)}")
            rules.append(
                FailureRule(
                    dict(when), str(rule.get("log", "Process completed with exit code 1.\n"))
                )
            )
        return cls(
            data["name"],
            tuple(rules),
            str(data.get("log", DEFAULT_SUCCESS_LOG)),
            _parse_artifacts(data["name"], data.get("artifacts") or {}),
        )

    def run(self, files: Mapping[str, bytes], attempt: int) -> JobOutcome:
        """The job's result on a commit with these files; the first failing rule gives the log."""
        for rule in self.failures:
            if rule.holds(files, attempt):
                return JobOutcome("failure", rule.log)
        return JobOutcome("success", self.success_log, self.artifacts)


def _parse_artifacts(job: str, data: Any) -> Artifacts:
    """`{name: {path: text or bytes}}`, with names and paths GitHub's uploader would take."""
    where = f"job {job!r} artifacts"
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{where}: expected a mapping of artifact name to files")
    artifacts: dict[str, dict[str, bytes]] = {}
    for name, files in data.items():
        if not isinstance(name, str) or not name or set(name) & _FORBIDDEN_IN_ARTIFACT_NAME:
            raise ScenarioError(
                f"{where}: {name!r} is not an artifact name (non-empty, none of "
                '" : < > | * ? \\ / or a line break)'
            )
        if not isinstance(files, Mapping) or not files:
            raise ScenarioError(f"{where}: {name!r} needs a non-empty mapping of path to content")
        artifacts[name] = {}
        for path, content in files.items():
            if (
                not isinstance(path, str)
                or not path
                or path.startswith("/")
                or ".." in path.split("/")
            ):
                raise ScenarioError(f"{where}: {name!r} has a bad path {path!r} (relative, no ..)")
            if not isinstance(content, str | bytes):
                raise ScenarioError(f"{where}: {name}/{path} must be text or bytes")
            artifacts[name][path] = content.encode() if isinstance(content, str) else content
    return artifacts


def _yaml_value(text: str, dotted_key: str) -> Any:
    try:
        node: Any = YAML(typ="safe").load(io.StringIO(text))
    except YAMLError:
        return None
    for part in dotted_key.split(".") if dotted_key else []:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _compare(value: Any, when: Mapping[str, Any]) -> bool:
    if "equals" in when:
        return bool(value == when["equals"])
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    if "greater_than" in when:
        return bool(value > when["greater_than"])
    if "less_than" in when:
        return bool(value < when["less_than"])
    return False
