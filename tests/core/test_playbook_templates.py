"""Templates render typed values, and hostile templates get a clear error, never the process."""

from __future__ import annotations

import pytest

from self_healing_bot.core.templates import TemplateError, evaluate_condition, render_value

CONTEXT = {
    "detection": {"category": "gpu_oom", "params": {"batch_size": 64}, "severity": "high"},
    "steps": {"fix": {"outputs": {"number": 12}}},
    "labels": ["a", "b"],
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ detection.params.batch_size // 2 }}", 32),
        ("{{ steps.fix.outputs.number }}", 12),
        ("PR #{{ steps.fix.outputs.number }} for {{ detection.category }}", "PR #12 for gpu_oom"),
        ("{{ labels | join(',') | upper }}", "A,B"),
        ("{{ detection.params.missing | default('n/a') }}", "n/a"),
        ({"nested": ["{{ detection.category }}", 3]}, {"nested": ["gpu_oom", 3]}),
        ("plain text", "plain text"),
    ],
)
def test_render_value(template: object, expected: object) -> None:
    assert render_value(template, CONTEXT) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("detection.severity in ['high', 'critical']", True),
        ("{{ detection.params.batch_size > 100 }}", False),
        ("detection.params.missing is defined", False),
        (True, True),
    ],
)
def test_evaluate_condition(condition: str | bool, expected: bool) -> None:
    assert evaluate_condition(condition, CONTEXT) is expected


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
        ("{{ detection.__class__.__init__.__globals__ }}", "unsafe"),
        ("{{ labels.append('x') }}", "unsafe"),
        ("{{ ''.format.__globals__ }}", "unsafe"),
        ("{% include '/etc/passwd' %}", "cannot include"),
        ("{% import 'os' as os %}", "cannot include"),
        ("{{ lipsum() }}", "'lipsum' is undefined"),
        ("{{ range(10**9) | list }}", "'range' is undefined"),
        ("{{ 'a' * 1000000000 }}", "repetition would exceed"),
        ("{{ labels * 1000000000 }}", "repetition would exceed"),
        ("{{ 9 ** 99999999 }}", "exponent"),
        ("{{ '%0999999999d' % 1 }}", "%-formatting"),
        ("{{ 'a' | center(999999999) }}", "No filter named 'center'"),
        ("{{ 'ab' | replace('a', 'b' * 99999) | replace('b', 'cc' * 50000) }}", "replace would"),
        ("{{ ''.format }}", "only produce data"),
        ("{{ undefined_name }}", "'undefined_name' is undefined"),
        ("{{ detection.nope }}", "no attribute 'nope'"),
        ("{{ 1 / 0 }}", "division by zero"),
    ],
)
def test_hostile_or_broken_templates_fail_clearly(template: str, reason: str) -> None:
    with pytest.raises(TemplateError, match=reason.replace("(", r"\(").replace("*", r"\*")):
        render_value(template, CONTEXT)
