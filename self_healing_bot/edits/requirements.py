"""Pin or add Python requirements in `requirements.txt` or `pyproject.toml`, touching one entry.

Names compare the PEP 503 way (`Scikit_Learn` is `scikit-learn`); extras, environment markers
and comments stay as they were. pyproject.toml is edited as text, one string in the
`[project].dependencies` array, and the result is parsed again to prove nothing else moved.

    >>> requirements_pin("numpy>=1.20  # math\\n", "NumPy", "<2")
    'numpy<2  # math\\n'
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from self_healing_bot.edits.error import EditError

_OPERATOR = r"(?:~=|===|==|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+"
_SPECIFIER = re.compile(rf"^\s*{_OPERATOR}\s*(?:,\s*{_OPERATOR}\s*)*$")
_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
    r"(?P<extras>\s*\[[^\]]*\])?(?P<rest>[^;]*?)(?P<trailing>\s*)(?P<marker>;.*)?$"
)
_PROJECT_HEADER = re.compile(r"^\[project\][ \t]*(?:#.*)?$", re.MULTILINE)
_ANY_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)
_DEPENDENCIES_KEY = re.compile(r"^[ \t]*dependencies[ \t]*=[ \t]*\[", re.MULTILINE)


def normalize_name(name: str) -> str:
    """PEP 503 normalised project name: `Foo.Bar_baz` → `foo-bar-baz`."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class _Requirement:
    name: str
    extras: str
    rest: str
    trailing: str
    marker: str

    def with_specifier(self, specifier: str) -> str:
        if self.rest.strip().startswith("@"):
            raise EditError(
                f"{self.name} is installed from a URL; it cannot be pinned to {specifier}"
            )
        return f"{self.name}{self.extras}{specifier.strip()}{self.trailing}{self.marker}"


def _parse(requirement: str) -> _Requirement | None:
    match = _REQUIREMENT.match(requirement.strip())
    if match is None:
        return None
    return _Requirement(
        name=match["name"],
        extras=match["extras"] or "",
        rest=match["rest"],
        trailing=match["trailing"],
        marker=match["marker"] or "",
    )


def _checked_specifier(specifier: str) -> str:
    if not _SPECIFIER.match(specifier):
        raise EditError(f"{specifier!r} is not a version specifier like '<2.0' or '>=1.4,!=1.5.0'")
    return specifier.strip()


def _checked_requirement(requirement: str) -> _Requirement:
    parsed = _parse(requirement)
    rest = parsed.rest.strip() if parsed else ""
    if parsed is None or (rest and not rest.startswith("@") and not _SPECIFIER.match(rest)):
        raise EditError(f"{requirement!r} is not a requirement like 'package>=1.0'")
    return parsed


def _is_pyproject(text: str) -> bool:
    return _PROJECT_HEADER.search(text) is not None


# requirements.txt


def _split_comment(line: str) -> tuple[str, str]:
    match = re.search(r"(^|\s+)#", line)
    return (line[: match.start()], line[match.start() :]) if match else (line, "")


def _requirements_txt_entries(text: str) -> list[tuple[int, _Requirement, str]]:
    """(line index, parsed requirement, the line's comment) for each requirement line."""
    entries = []
    for index, line in enumerate(text.splitlines()):
        code, comment = _split_comment(line)
        stripped = code.strip()
        if not stripped or stripped.startswith(("-", ".", "/")) or "://" in stripped.split("@")[0]:
            continue
        parsed = _parse(stripped)
        if parsed is not None:
            entries.append((index, parsed, comment))
    return entries


def _pin_requirements_txt(text: str, package: str, specifier: str) -> str:
    lines = text.splitlines(keepends=True)
    matches = [
        entry
        for entry in _requirements_txt_entries(text)
        if normalize_name(entry[1].name) == normalize_name(package)
    ]
    if not matches:
        raise EditError(f"{package} is not in requirements.txt; add it with add_requirement")
    for index, parsed, comment in matches:
        code = _split_comment(lines[index].rstrip("\r\n"))[0]
        if code.rstrip().endswith("\\"):
            raise EditError(f"{package} continues over several lines (hashes?); pin it by hand")
        indent = code[: len(code) - len(code.lstrip())]
        ending = lines[index][len(lines[index].rstrip("\r\n")) :]
        lines[index] = f"{indent}{parsed.with_specifier(specifier)}{comment}{ending}"
    return "".join(lines)


def _add_requirements_txt(text: str, requirement: _Requirement) -> str:
    for _, parsed, _ in _requirements_txt_entries(text):
        if normalize_name(parsed.name) == normalize_name(requirement.name):
            raise EditError(f"{requirement.name} is already in requirements.txt; pin it instead")
    separator = "" if not text or text.endswith("\n") else "\n"
    line = f"{requirement.name}{requirement.extras}{requirement.rest.strip()}{requirement.marker}"
    return f"{text}{separator}{line}\n"


# pyproject.toml


@dataclass(frozen=True)
class _ArrayItem:
    start: int  # index of the opening quote
    end: int  # index just after the closing quote
    value: str


def _dependencies_array(text: str) -> tuple[int, int, list[_ArrayItem]]:
    """(index of `[`, index of `]`, string items) of `[project].dependencies`."""
    header = _PROJECT_HEADER.search(text)
    if header is None:
        raise EditError("pyproject.toml has no [project] table")
    next_header = _ANY_HEADER.search(text, header.end())
    table_end = next_header.start() if next_header else len(text)
    key = _DEPENDENCIES_KEY.search(text, header.end(), table_end)
    if key is None:
        raise EditError("[project] has no literal dependencies array (dynamic dependencies?)")
    items: list[_ArrayItem] = []
    position = key.end()
    while position < len(text):
        character = text[position]
        if character == "]":
            return key.end() - 1, position, items
        if character == "#":
            position = text.find("\n", position)
            position = len(text) if position < 0 else position
        elif character in "\"'":
            close = position + 1
            while close < len(text) and text[close] != character:
                close += 2 if character == '"' and text[close] == "\\" else 1
            items.append(_ArrayItem(position, close + 1, text[position + 1 : close]))
            position = close
        position += 1
    raise EditError("the [project].dependencies array is not closed")


def _verified(new_text: str, expected: list[str]) -> str:
    try:
        parsed = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as error:
        raise EditError(f"editing pyproject.toml would make it invalid TOML: {error}") from error
    if parsed.get("project", {}).get("dependencies") != expected:
        raise EditError("pyproject.toml's dependencies array has a layout this edit cannot handle")
    return new_text


def _original_dependencies(text: str) -> list[str]:
    try:
        dependencies = tomllib.loads(text).get("project", {}).get("dependencies", [])
    except tomllib.TOMLDecodeError as error:
        raise EditError(f"pyproject.toml is not valid TOML: {error}") from error
    return list(dependencies)


def _pin_pyproject(text: str, package: str, specifier: str) -> str:
    expected = _original_dependencies(text)
    _, _, items = _dependencies_array(text)
    result, found = text, False
    for item in reversed(items):  # from the end, so earlier indices stay valid
        parsed = _parse(item.value)
        if parsed is None or normalize_name(parsed.name) != normalize_name(package):
            continue
        found = True
        pinned = parsed.with_specifier(specifier)
        quote = text[item.start]
        result = f"{result[: item.start]}{quote}{pinned}{quote}{result[item.end :]}"
        expected[expected.index(item.value)] = pinned
    if not found:
        raise EditError(f"{package} is not in [project].dependencies; add it with add_requirement")
    return _verified(result, expected)


def _add_pyproject(text: str, requirement: _Requirement) -> str:
    expected = _original_dependencies(text)
    for existing in expected:
        parsed = _parse(existing)
        if parsed is not None and normalize_name(parsed.name) == normalize_name(requirement.name):
            raise EditError(
                f"{requirement.name} is already in [project].dependencies; pin it instead"
            )
    line = f"{requirement.name}{requirement.extras}{requirement.rest.strip()}{requirement.marker}"
    literal = f'"{line}"'
    open_index, close_index, items = _dependencies_array(text)
    multiline = "\n" in text[open_index:close_index]
    if not items:
        insertion_point = open_index + 1
        insertion = f"\n    {literal},\n" if multiline else literal
        result = text[:insertion_point] + insertion + text[insertion_point:].lstrip(" \t\n")
        return _verified(result, [line])
    last = items[-1]
    after = text[last.end :]
    has_comma = after.lstrip(" \t").startswith(",")
    comma_end = last.end + (after.index(",") + 1 if has_comma else 0)
    if multiline:
        line_start = text.rfind("\n", 0, last.start) + 1
        indent = text[line_start : last.start]
        line_end = text.find("\n", last.end)
        line_end = close_index if line_end < 0 or line_end > close_index else line_end
        head = text[: last.end] + ("" if has_comma else ",") + text[last.end : line_end]
        result = f"{head}\n{indent}{literal},{text[line_end:]}"
    else:
        head = text[:comma_end] if has_comma else text[: last.end] + ","
        result = f"{head} {literal}{text[comma_end if has_comma else last.end :]}"
    return _verified(result, [*expected, line])


# public edits


def requirements_pin(text: str, package: str, specifier: str) -> str:
    """Give each entry for `package` the version `specifier` (requirements.txt or pyproject)."""
    specifier = _checked_specifier(specifier)
    if _is_pyproject(text):
        return _pin_pyproject(text, package, specifier)
    return _pin_requirements_txt(text, package, specifier)


def add_requirement(text: str, requirement: str) -> str:
    """Append `requirement` (`opencv-python-headless>=4.8`); a package already listed is an error.

    >>> add_requirement("numpy\\n", "pandas>=2")
    'numpy\\npandas>=2\\n'
    """
    parsed = _checked_requirement(requirement)
    if _is_pyproject(text):
        return _add_pyproject(text, parsed)
    return _add_requirements_txt(text, parsed)
