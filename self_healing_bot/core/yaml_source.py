"""YAML documents that remember where each value came from, so every problem names its line.

Playbooks and the repository config are both YAML written by people; a rejected file must say
`file:line: reason` for each problem, not just "invalid".

    >>> document = load_yaml_document("steps: []\\n", "playbook.yml")
    >>> line_of(document.root, ("steps",))
    1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, at a 1-based line."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class DocumentError(Exception):
    """A file was rejected whole; `problems` lists every reason with its line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class YamlDocument:
    """The round-trip tree (for line numbers) and its plain-Python value (for validation)."""

    file: str
    root: Any
    value: Any


def load_yaml_document(text: str, file: str) -> YamlDocument:
    """Parse `text`; syntax errors and duplicate keys raise `DocumentError` with their line."""
    try:
        root = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = error.problem or error.context or "invalid YAML"
        raise DocumentError([Problem(file, line, f"invalid YAML: {reason}")]) from error
    except YAMLError as error:
        raise DocumentError([Problem(file, 1, f"invalid YAML: {error}")]) from error
    return YamlDocument(file=file, root=root, value=to_plain(root))


def to_plain(node: Any) -> Any:
    """Convert ruamel's commented containers and scalar subclasses to plain Python values."""
    if isinstance(node, dict):
        return {str(key): to_plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [to_plain(item) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def line_of(root: Any, location: Sequence[str | int]) -> int:
    """The 1-based line of the deepest part of `location` present in the document.

    Location parts the document does not hold (a missing field, a union's tag in a
    pydantic error location) are skipped, so the line points at the closest enclosing value.
    """
    node = root
    line = node.lc.line + 1 if isinstance(node, CommentedMap | CommentedSeq) else 1
    for part in location:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
    return line


def value_at(value: Any, location: Sequence[str | int]) -> Any:
    """The plain value at `location`, skipping parts the value does not hold (as `line_of`)."""
    for part in location:
        if isinstance(value, dict):
            value = value.get(part, value)
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
    return value


def describe_location(location: Sequence[str | int]) -> str:
    """`("steps", 0, "with")` → `steps[0].with`, the way a reader finds it in the file."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validation_problems(
    error: ValidationError,
    document: YamlDocument,
    prefix: Sequence[str | int] = (),
) -> list[Problem]:
    """One `Problem` per pydantic error, located in the document under `prefix`."""
    problems = []
    for detail in error.errors():
        location = (*prefix, *detail["loc"])
        where = describe_location(location)
        reason = f"{where}: {detail['msg']}" if where else detail["msg"]
        problems.append(Problem(document.file, line_of(document.root, location), reason))
    return problems
