"""Guardrails refuse fixes that hide failures and redact every kind of secret."""

from __future__ import annotations

import pytest

from self_healing_bot.guardrails import (
    REDACTED,
    GuardrailError,
    check_changes,
    redact_secrets,
    suppression_violations,
)

WORKFLOW = """\
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: pytest --cov=pkg --cov-fail-under=90 tests
"""


@pytest.mark.parametrize(
    ("path", "new", "rule"),
    [
        (
            "ci.yml",
            WORKFLOW.replace("runs-on: ubuntu-latest", "runs-on: x\n    continue-on-error: true"),
            "continue-on-error",
        ),
        ("ci.yml", WORKFLOW.replace("tests\n", "tests || true\n"), "ignored exit status"),
        ("ci.yml", WORKFLOW.replace("tests\n", "tests || exit 0\n"), "ignored exit status"),
        (
            "ci.yml",
            WORKFLOW.replace("    steps:", "    if: false\n    steps:"),
            "disabled step or job",
        ),
        ("ci.yml", WORKFLOW.replace("tests\n", "tests -k 'not slow_gpu'\n"), "deselected tests"),
        (
            "ci.yml",
            WORKFLOW.replace("tests\n", "tests --deselect tests/test_a.py::x\n"),
            "deselected tests",
        ),
        (
            "ci.yml",
            WORKFLOW.replace("tests\n", "tests --ignore=tests/test_gpu.py\n"),
            "ignored tests",
        ),
        ("ci.yml", WORKFLOW.replace("under=90", "under=50"), "lowered coverage gate"),
        ("ci.yml", WORKFLOW.replace(" --cov-fail-under=90", ""), "lowered coverage gate"),
        (
            "tests/test_model.py",
            "import pytest\n@pytest.mark.skip\ndef test_a(): ...\n",
            "skipped tests",
        ),
        ("tests/test_model.py", "def test_a():\n    pytest.skip('later')\n", "skipped tests"),
    ],
)
def test_suppressing_changes_are_refused(path: str, new: str, rule: str) -> None:
    old = WORKFLOW if path == "ci.yml" else "def test_a(): ...\n"
    assert rule in [violation.rule for violation in suppression_violations(path, old, new)]


def test_deleting_tests_is_refused() -> None:
    old = "def test_a():\n    assert f()\n\ndef test_b():\n    assert g()\n"
    removed_function = suppression_violations(
        "tests/test_f.py", old, "def test_a():\n    assert f()\n"
    )
    deleted_file = suppression_violations("tests/test_f.py", old, None)
    assert [violation.rule for violation in removed_function] == ["deleted tests"]
    assert [violation.rule for violation in deleted_file] == ["deleted tests"]


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        ("params.yaml", "batch_size: 64\n", "batch_size: 32\n"),
        ("ci.yml", WORKFLOW, WORKFLOW.replace("under=90", "under=95")),
        ("requirements.txt", "numpy\n", "numpy<2\n"),
        ("docs/old.md", "text\n", None),
    ],
)
def test_honest_fixes_pass(path: str, old: str, new: str | None) -> None:
    assert suppression_violations(path, old, new) == []


def _check(changes: dict[str, tuple[str | None, str | None]], **overrides: object) -> None:
    arguments: dict[str, object] = {
        "branch": "self-healing-bot/gpu_oom-4f1c",
        "default_branch": "main",
        "allowed_paths": ["*.yaml"],
        "max_changed_lines": 10,
    }
    arguments.update(overrides)
    check_changes(changes, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "overrides", "rule"),
    [
        ({"params.yaml": ("a: 1\n", "a: 2\n")}, {"branch": "main"}, "default branch"),
        ({"params.yaml": ("a: 1\n", "a: 2\n")}, {"branch": "refs/heads/main"}, "default branch"),
        ({"train.py": ("x = 1\n", "x = 2\n")}, {}, "allowed paths"),
        ({"params.yaml": ("a: 1\n", "a: 2\n")}, {"allowed_paths": []}, "allowed paths"),
        ({"../etc/passwd.yaml": (None, "x: 1\n")}, {}, "outside repository"),
        ({"params.yaml": ("", "a: 1\n" * 11)}, {}, "changed lines"),
    ],
)
def test_check_changes_refuses(
    changes: dict[str, tuple[str | None, str | None]], overrides: dict[str, object], rule: str
) -> None:
    with pytest.raises(GuardrailError) as refused:
        _check(changes, **overrides)
    assert rule in [violation.rule for violation in refused.value.violations]
    assert str(refused.value).startswith("refused: ")


def test_check_changes_accepts_a_small_fix_in_scope() -> None:
    _check({"configs/params.yaml": ("batch_size: 64\n", "batch_size: 32\n")})


SECRETS = {
    "github personal token": "ghp_" + "A1b2C3d4E5" * 4,
    "github app token": "ghs_" + "z9Y8x7W6v5" * 4,
    "github oauth token": "gho_" + "Q1w2E3r4T5" * 4,
    "github fine-grained token": "github_pat_11ABCDEFG0" + "x1Y2z3" * 10,
    "aws access key": "AKIAIOSFODNN7EXAMPLE",
    "hugging face token": "hf_" + "aBcDeFgHiJ" * 4,
    "slack webhook": "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX",
    "slack bot token": "xoxb-123456789012-abcdefghijkl",
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_bare_secrets_are_redacted(kind: str) -> None:
    secret = SECRETS[kind]
    redacted = redact_secrets(f"step 3: using {secret} to upload\n")
    assert secret not in redacted
    assert redacted == f"step 3: using {REDACTED} to upload\n"


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI",
            "aws_secret_access_key = ",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----",
            "MIIEow",
            "",
        ),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk (truncated log)", "b3Blbn", ""),
        ("git clone https://bot:s3cr3t@github.com/o/r.git", "s3cr3t", "https://bot:"),
        ("DATABASE_URL=postgresql://ml:hunter2@db:5432/features", "hunter2", "@db:5432/features"),
        ("mysql --password=hunter2 -h db", "hunter2", "--password="),
        ('config: {"password": "p@ss w0rd"}', "p@ss w0rd", '"password": '),
        ("curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc'", "eyJhbGci", "Bearer "),
        (
            "DefaultEndpointsProtocol=https;AccountName=ml;AccountKey=abc+def/123==;Suffix=x",
            "abc+def",
            "AccountName=ml;AccountKey=",
        ),
    ],
)
def test_secrets_in_context_are_redacted(text: str, secret: str, kept: str) -> None:
    redacted = redact_secrets(text)
    assert secret not in redacted
    assert REDACTED in redacted
    assert kept in redacted


def test_ordinary_log_lines_are_left_alone() -> None:
    line = "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"
    assert redact_secrets(line) == line
