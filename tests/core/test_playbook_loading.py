"""Playbooks are validated whole: every problem with its file, line and reason."""

from __future__ import annotations

import pytest

from self_healing_bot.core.categories import CATEGORIES
from self_healing_bot.core.playbook import PlaybookError, load_builtin_playbooks, load_playbook

HEADER = "name: fix\ntrigger:\n  categories: [gpu_oom]\nsteps:\n"


def test_builtin_playbooks_are_valid_and_cover_every_category() -> None:
    playbooks = load_builtin_playbooks()
    covered = {category for loaded in playbooks for category in loaded.playbook.trigger.categories}
    assert covered == CATEGORIES
    assert all(loaded.origin == "builtin" for loaded in playbooks)


def test_a_valid_playbook_loads_with_its_steps() -> None:
    text = HEADER + (
        "  - id: note\n    uses: comment\n    with: {body: 'seen {{ detection.signature }}'}\n"
        "  - uses: add_labels\n    if: steps.note.outputs.url\n    with: {labels: [oom]}\n"
    )
    loaded = load_playbook(text, "p.yml")
    assert [step.uses for step in loaded.playbook.steps] == ["comment", "add_labels"]
    assert loaded.origin == "repository"


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ("  - uses: reboot_cluster\n", [(5, "unknown action 'reboot_cluster'")]),
        ("  - uses: comment\n    with: {bdy: x}\n", [(6, "body: Field required"), (6, "bdy")]),
        ("  - uses: rerun_failed_jobs\n    with:\n      run_id: soon\n", [(7, "run_id")]),
        (
            "  - uses: open_fix_pull_request\n    with:\n      branch: b\n      title: t\n"
            "      body: x\n      edits:\n        - kind: yaml_set\n          path: a.yml\n",
            [(11, "edits[0].yaml_set.key: Field required"), (11, "yaml_set.value")],
        ),
        ("  - uses: comment\n    timeout_seconds: 0\n    with: {body: x}\n", [(6, "timeout")]),
        (
            "  - uses: comment\n    with: {body: '{{ steps.later.outputs.x }}'}\n",
            [(5, "uses outputs of later, not an earlier step")],
        ),
        ("  - uses: comment\n    with: {body: '{{ unclosed '}\n", [(5, "template syntax error")]),
        ("  - uses: comment\n    if: 'a ==='\n    with: {body: x}\n", [(5, "condition syntax")]),
        (
            "  - uses: comment\n    with: {body: \"{% include '/etc/passwd' %}\"}\n",
            [(5, "cannot include")],
        ),
        (
            "  - {id: a, uses: comment, with: {body: x}}\n"
            "  - {id: a, uses: comment, with: {body: y}}\n",
            [(6, "duplicate step id 'a'")],
        ),
        ("  - uses: comment\n    wiht: {body: x}\n", [(6, "wiht: Extra inputs")]),
    ],
)
def test_invalid_steps_are_rejected_with_lines(steps: str, expected: list[tuple[int, str]]) -> None:
    with pytest.raises(PlaybookError) as rejected:
        load_playbook(HEADER + steps, ".github/playbooks/fix.yml")
    problems = rejected.value.problems
    assert [(problem.line, problem.file) for problem in problems] == [
        (line, ".github/playbooks/fix.yml") for line, _ in expected
    ]
    for problem, (_, reason) in zip(problems, expected, strict=True):
        assert reason in problem.reason
    assert str(rejected.value).startswith(".github/playbooks/fix.yml:")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("name: x\nsteps: [\n", 3, "invalid YAML"),
        ("name: x\nname: y\n", 2, "invalid YAML"),
        ("- a list\n", 1, "must be a mapping"),
        ("name: x\ntrigger: {categories: [gpu-oom]}\nsteps: []\n", 2, "unknown categories"),
        ("name: Bad Name\ntrigger: {}\nsteps: [{uses: comment, with: {body: x}}]\n", 1, "name"),
        ("name: x\ntrigger: {}\nsteps: []\n", 3, "at least one step"),
    ],
)
def test_invalid_documents_are_rejected(text: str, line: int, reason: str) -> None:
    with pytest.raises(PlaybookError) as rejected:
        load_playbook(text, "p.yml")
    assert (rejected.value.problems[0].line, reason in rejected.value.problems[0].reason) == (
        line,
        True,
    )


def test_templated_parameters_are_checked_once_rendered_not_at_load() -> None:
    text = (
        HEADER + "  - uses: rerun_failed_jobs\n    with: {run_id: '{{ event.workflow_run.id }}'}\n"
    )
    assert load_playbook(text, "p.yml").playbook.steps[0].with_ == {
        "run_id": "{{ event.workflow_run.id }}"
    }
