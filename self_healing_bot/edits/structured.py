"""Set values in YAML and JSON files by dotted path, keeping the rest of the file as it was.

YAML goes through ruamel's round-trip mode with the file's own indentation, so comments,
key order, quoting and sequence style survive; only the edited value changes.

    >>> yaml_set("train:\\n  batch_size: 64  # fits a T4\\n", "train.batch_size", 32)
    'train:\\n  batch_size: 32  # fits a T4\\n'
"""

from __future__ import annotations

import io
import json
import math
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from self_healing_bot.edits.error import EditError


def _path_parts(dotted_path: str) -> list[str]:
    parts = dotted_path.split(".")
    if not dotted_path or any(not part for part in parts):
        raise EditError(f"invalid path {dotted_path!r}: use dotted keys like 'train.batch_size'")
    return parts


def _round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines
    return yaml


def _load_yaml(yaml: YAML, text: str) -> Any:
    try:
        return yaml.load(text)
    except YAMLError as error:
        raise EditError(f"the file is not valid YAML: {error}") from error


def _indentation(root: Any, lines: list[str]) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file itself uses them."""
    mapping, sequence, offset = 0, 0, -1
    stack = [root]
    while stack and (not mapping or offset < 0):
        node = stack.pop()
        if not isinstance(node, CommentedMap):
            if isinstance(node, CommentedSeq):
                stack.extend(node)
            continue
        for key, child in node.items():
            key_column = node.lc.key(key)[1]
            if isinstance(child, CommentedMap) and child and not mapping:
                first = next(iter(child))
                if child.lc.key(first)[0] > node.lc.key(key)[0]:
                    mapping = child.lc.key(first)[1] - key_column
            if isinstance(child, CommentedSeq) and child and offset < 0:
                line, content_column = child.lc.item(0)
                if line > node.lc.key(key)[0]:
                    dash_column = lines[line].rfind("-", 0, content_column)
                    if dash_column >= 0:
                        sequence = content_column - key_column
                        offset = dash_column - key_column
            stack.append(child)
    mapping = mapping or 2
    return mapping, sequence or mapping, max(offset, 0)


def dump_round_trip(yaml: YAML, root: Any, text: str) -> str:
    """The edited tree as text, ending like the original `text` did."""
    stream = io.StringIO()
    yaml.dump(root, stream)
    result = stream.getvalue()
    if not text.endswith("\n") and result.endswith("\n"):
        result = result[:-1]
    return result


def _child(container: Any, part: str, dotted_path: str) -> Any:
    if isinstance(container, dict):
        if part not in container:
            raise EditError(f"{dotted_path}: key {part!r} not found")
        return container[part]
    if isinstance(container, list):
        if not part.isdigit() or int(part) >= len(container):
            raise EditError(f"{dotted_path}: no item {part!r} in a list of {len(container)}")
        return container[int(part)]
    raise EditError(f"{dotted_path}: {part!r} is inside a scalar value, not a mapping or list")


def _parent(root: Any, parts: list[str], dotted_path: str) -> Any:
    node = root
    for part in parts[:-1]:
        node = _child(node, part, dotted_path)
    if not isinstance(node, dict | list):
        raise EditError(f"{dotted_path}: the parent of {parts[-1]!r} is not a mapping or list")
    return node


def _assign(parent: Any, key: str, value: Any, dotted_path: str) -> None:
    if isinstance(parent, list):
        _child(parent, key, dotted_path)  # raises when the index is missing
        parent[int(key)] = value
    else:
        parent[key] = value


def load_round_trip(text: str) -> tuple[YAML, Any]:
    """The document's tree and a `YAML` that dumps it back with the file's own indentation."""
    yaml = _round_trip_yaml()
    root = _load_yaml(yaml, text)
    if not isinstance(root, dict | list):
        raise EditError("the file holds no YAML mapping or list to edit")
    mapping, sequence, offset = _indentation(root, text.splitlines())
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml, root


def yaml_set(text: str, dotted_path: str, value: Any) -> str:
    """Set `dotted_path` to `value`; every parent must exist, the last key may be new."""
    parts = _path_parts(dotted_path)
    yaml, root = load_round_trip(text)
    _assign(_parent(root, parts, dotted_path), parts[-1], value, dotted_path)
    return dump_round_trip(yaml, root, text)


def yaml_scale(text: str, dotted_path: str, factor: float, *, default: float | None = None) -> str:
    """Multiply the number at `dotted_path` by `factor`; integers stay integers (at least 1).

    `default` stands in for a missing key, so "double gradient accumulation" works on a file
    that never set it (default 1 → 2).

    >>> yaml_scale("batch_size: 64\\n", "batch_size", 0.5)
    'batch_size: 32\\n'
    """
    if not math.isfinite(factor) or factor <= 0:
        raise EditError(f"scale factor must be a positive number, not {factor}")
    parts = _path_parts(dotted_path)
    yaml, root = load_round_trip(text)
    parent = _parent(root, parts, dotted_path)
    if isinstance(parent, dict) and parts[-1] not in parent and default is not None:
        current: Any = default
    else:
        current = _child(parent, parts[-1], dotted_path)
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise EditError(f"{dotted_path}: {current!r} is not a number")
    scaled: float | int = (
        max(1, math.floor(current * factor)) if isinstance(current, int) else current * factor
    )
    if isinstance(scaled, float):
        scaled = float(f"{scaled:.6g}")  # 0.1 * 0.5 is 0.05, not 0.05000000000000001
    _assign(parent, parts[-1], scaled, dotted_path)
    return dump_round_trip(yaml, root, text)


def _json_indent(text: str) -> int | None:
    match = re.search(r"\n([ \t]+)\S", text)
    return len(match.group(1)) if match else None


def json_set(text: str, dotted_path: str, value: Any) -> str:
    """Set `dotted_path` in a JSON document, keeping key order and the file's indentation."""
    parts = _path_parts(dotted_path)
    try:
        root = json.loads(text)
    except json.JSONDecodeError as error:
        raise EditError(f"the file is not valid JSON: {error}") from error
    _assign(_parent(root, parts, dotted_path), parts[-1], value, dotted_path)
    result = json.dumps(root, indent=_json_indent(text), ensure_ascii=False)
    return result + "\n" if text.endswith("\n") else result
