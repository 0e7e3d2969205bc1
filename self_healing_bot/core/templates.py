"""Playbook templates and `if` conditions, evaluated in a sandbox.

Repository playbooks are written by people outside the bot's trust boundary, so templates run
in Jinja2's `ImmutableSandboxedEnvironment` with `StrictUndefined`: no Python internals
(`__class__`, `__globals__`), no mutation, no globals (no `range`, `lipsum`, `cycler`), no
`include` or `import` (no files), only a short list of filters, and bounded string and list
growth, so a hostile template gets a `TemplateError` instead of the process.

A value that is one `{{ expression }}` keeps its type (an int stays an int), so a typed
parameter can be computed:

    >>> render_value("{{ batch_size // 2 }}", {"batch_size": 64})
    32
    >>> render_value("run {{ run_id }} failed", {"run_id": 7})
    'run 7 failed'
    >>> evaluate_condition("severity in ['high', 'critical']", {"severity": "high"})
    True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import jinja2
from jinja2 import StrictUndefined, Undefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEMPLATE_RESULT = 100_000
"""Characters (or items) a template may produce, in any intermediate value or the result."""

_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expression>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)
_SAFE_FILTERS = (
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "first",
    "float",
    "int",
    "items",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "max",
    "min",
    "reject",
    "rejectattr",
    "round",
    "select",
    "selectattr",
    "sort",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
)


class TemplateError(ValueError):
    """A template or condition could not be evaluated; the message says which and why."""


def _bounded_replace(text: str, old: str, new: str, count: int | None = None) -> str:
    occurrences = text.count(old) if count is None else min(count, text.count(old))
    if len(text) + occurrences * (len(new) - len(old)) > MAX_TEMPLATE_RESULT:
        raise SecurityError(f"replace would produce more than {MAX_TEMPLATE_RESULT} characters")
    return text.replace(old, new, -1 if count is None else count)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with operators that could exhaust memory checked first."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        if operator == "%" and isinstance(left, str):
            raise SecurityError("%-formatting of strings is not allowed in templates")
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError(f"exponent {right} is too large for a template")
        if operator == "*":
            sequence, times = (left, right) if _size(left) else (right, left)
            if isinstance(times, int) and _size(sequence) * times > MAX_TEMPLATE_RESULT:
                raise SecurityError(f"repetition would exceed {MAX_TEMPLATE_RESULT} items")
        if operator == "+" and _size(left) + _size(right) > MAX_TEMPLATE_RESULT:
            raise SecurityError(f"concatenation would exceed {MAX_TEMPLATE_RESULT} items")
        return super().call_binop(context, operator, left, right)


def _environment() -> _BoundedSandbox:
    environment = _BoundedSandbox(undefined=StrictUndefined, autoescape=False)
    environment.globals.clear()
    environment.filters = {name: environment.filters[name] for name in _SAFE_FILTERS}
    environment.filters["replace"] = _bounded_replace
    return environment


_ENVIRONMENT = _environment()
_FORBIDDEN_NODES = (nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)


def is_templated(value: Any) -> bool:
    """True for a string holding Jinja2 syntax (`{{`, `{%` or `{#`)."""
    return isinstance(value, str) and any(mark in value for mark in ("{{", "{%", "{#"))


def _parse(source: str) -> nodes.Template:
    try:
        tree = _ENVIRONMENT.parse(source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"template syntax error: {error.message}") from error
    if any(True for _ in tree.find_all(_FORBIDDEN_NODES)):
        raise TemplateError("templates cannot include, extend or import other templates")
    return tree


def _expression_source(condition: str) -> str:
    match = _SINGLE_EXPRESSION.match(condition)
    return match["expression"] if match else condition


def check_template(source: str) -> None:
    """Raise `TemplateError` when `source` is not a template the sandbox will run."""
    _parse(source)


def check_condition(condition: str) -> None:
    """Raise `TemplateError` when `condition` is not a single expression."""
    expression = _expression_source(condition)
    try:
        _ENVIRONMENT.compile_expression(expression)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"condition syntax error: {error.message}") from error


def referenced_steps(sources: Iterable[str], *, conditions: Iterable[str] = ()) -> set[str]:
    """Step ids named as `steps.<id>` (or `steps['<id>']`) in templates and conditions."""
    trees = [_parse(source) for source in sources]
    trees += [_parse("{{ " + _expression_source(condition) + " }}") for condition in conditions]
    names: set[str] = set()
    for tree in trees:
        for getattr_node in tree.find_all(nodes.Getattr):
            if isinstance(getattr_node.node, nodes.Name) and getattr_node.node.name == "steps":
                names.add(getattr_node.attr)
        for getitem_node in tree.find_all(nodes.Getitem):
            if (
                isinstance(getitem_node.node, nodes.Name)
                and getitem_node.node.name == "steps"
                and isinstance(getitem_node.arg, nodes.Const)
            ):
                names.add(str(getitem_node.arg.value))
    return names


def _plain(value: Any) -> Any:
    """A template result as plain data; anything else (a function, an object) is refused."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming the missing variable
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if len(value) > MAX_TEMPLATE_RESULT:
            raise SecurityError(f"the result is longer than {MAX_TEMPLATE_RESULT} characters")
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple) or (
        isinstance(value, Iterable) and type(value).__name__ == "generator"
    ):
        items = []
        for item in value:
            items.append(_plain(item))
            if len(items) > MAX_TEMPLATE_RESULT:
                raise SecurityError(f"the result has more than {MAX_TEMPLATE_RESULT} items")
        return items
    raise SecurityError(f"a template may only produce data, not {type(value).__name__}")


def _evaluate(source: str, context: Mapping[str, Any]) -> Any:
    match = _SINGLE_EXPRESSION.match(source)
    if match:
        return _plain(_ENVIRONMENT.compile_expression(match["expression"], False)(**context))
    return _plain(_ENVIRONMENT.from_string(_parse(source)).render(**context))


def _failure(what: str, source: str, error: Exception) -> TemplateError:
    detail = error.message if isinstance(error, jinja2.TemplateError) else str(error)
    return TemplateError(f"{what} {source!r} failed: {detail or type(error).__name__}")


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """`value` with every templated string rendered against `context`, recursively."""
    if isinstance(value, Mapping):
        return {key: render_value(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, context) for item in value]
    if not is_templated(value):
        return value
    try:
        return _evaluate(value, context)
    except TemplateError:
        raise
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as error:
        raise _failure("template", value, error) from error


def evaluate_condition(condition: str | bool, context: Mapping[str, Any]) -> bool:
    """The truth of an `if:` condition: a bare expression, or one wrapped in `{{ }}`."""
    if isinstance(condition, bool):
        return condition
    check_condition(condition)
    expression = _expression_source(condition)
    try:
        return bool(_plain(_ENVIRONMENT.compile_expression(expression, False)(**context)))
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as error:
        raise _failure("condition", condition, error) from error
