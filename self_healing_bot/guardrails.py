"""Lines the bot never crosses, checked on every plan before anything is pushed or posted.

A fix must repair the failure, not hide it: changes that suppress failures (continue-on-error,
`|| true`, skipped or deleted tests, lowered coverage gates, `if: false`) are refused, as are
pushes to the default branch, edits outside the playbook's allowed paths and oversized diffs.
Text the bot posts anywhere passes through `redact_secrets` first.

    check_changes(
        {"params.yaml": (old_text, new_text)},
        branch="self-healing-bot/gpu_oom-4f1c2a9e",
        default_branch="main",
        allowed_paths=["*.yaml"],
        max_changed_lines=200,
    )  # raises GuardrailError listing every violation
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from self_healing_bot.edits.diff import changed_lines

REDACTED = "[REDACTED]"


@dataclass(frozen=True)
class Violation:
    rule: str
    path: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class GuardrailError(Exception):
    """The plan was refused; `violations` says every rule it broke."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = list(violations)
        super().__init__("refused: " + "; ".join(str(violation) for violation in self.violations))


# Patterns that hide a failure instead of fixing it, matched on added lines.
_SUPPRESSIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "continue-on-error",
        re.compile(r"continue-on-error\s*:\s*(?:true|\$\{\{\s*true\s*\}\})", re.I),
    ),
    ("ignored exit status", re.compile(r"\|\|\s*(?:true\b|exit\s+0\b|:(?:\s|;|$))")),
    ("ignored exit status", re.compile(r"^\s*set\s+\+e\b")),
    (
        "disabled step or job",
        re.compile(r"^\s*-?\s*if\s*:\s*(?:false|0|\$\{\{\s*false\s*\}\})\s*$"),
    ),
    ("deselected tests", re.compile(r"(?:^|\s)-k(?:\s+|=)?[\"']?\s*not\b")),
    ("deselected tests", re.compile(r"--deselect\b")),
    ("ignored tests", re.compile(r"--ignore(?:-glob)?[= ]\S*test")),
    (
        "skipped tests",
        re.compile(r"@(?:pytest\.mark\.(?:skip|skipif|xfail)|unittest\.skip)|pytest\.skip\("),
    ),
)
_COVERAGE_GATE = re.compile(r"(?:--cov-fail-under[= ]|fail_under\s*[=:]\s*)(\d+(?:\.\d+)?)")
_TEST_FUNCTION = re.compile(r"^\s*(?:async\s+)?def\s+test_\w*\s*\(")
_TEST_FILES = ("test_*.py", "*_test.py", "*/test_*.py", "*/*_test.py", "tests/*", "*/tests/*")


def _added_and_removed(old: str, new: str) -> tuple[list[str], list[str]]:
    added, removed = [], []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        if line.startswith("+ "):
            added.append(line[2:])
        elif line.startswith("- "):
            removed.append(line[2:])
    return added, removed


def _coverage_gates(lines: Sequence[str]) -> list[float]:
    return [float(match) for line in lines for match in _COVERAGE_GATE.findall(line)]


def suppression_violations(path: str, old: str | None, new: str | None) -> list[Violation]:
    """How a change to one file hides failures instead of fixing them (empty when it does not)."""
    if new is None:
        if any(fnmatch.fnmatchcase(path, pattern) for pattern in _TEST_FILES):
            return [Violation("deleted tests", path, "deletes a test file")]
        return []
    added, removed = _added_and_removed(old or "", new)
    violations = [
        Violation(rule, path, f"adds {line.strip()!r} ({rule})")
        for line in added
        for rule, pattern in _SUPPRESSIONS
        if pattern.search(line)
    ]
    old_gates, new_gates = _coverage_gates(removed), _coverage_gates(added)
    if old_gates and (not new_gates or min(new_gates) < max(old_gates)):
        lowered = f"{max(old_gates):g} → {min(new_gates):g}" if new_gates else "removed"
        violations.append(Violation("lowered coverage gate", path, f"coverage gate {lowered}"))
    removed_tests = sum(map(bool, map(_TEST_FUNCTION.match, removed)))
    if removed_tests > sum(map(bool, map(_TEST_FUNCTION.match, added))):
        violations.append(Violation("deleted tests", path, "removes test functions"))
    return violations


def _branch_name(branch: str) -> str:
    return branch.removeprefix("refs/heads/")


def check_changes(
    changes: Mapping[str, tuple[str | None, str | None]],
    *,
    branch: str,
    default_branch: str,
    allowed_paths: Sequence[str],
    max_changed_lines: int,
) -> None:
    """Refuse a change set (path → (old text or None, new text or None)) that breaks a rule."""
    violations: list[Violation] = []
    if _branch_name(branch) == _branch_name(default_branch):
        reason = f"the bot never pushes to the default branch ({default_branch})"
        violations.append(Violation("default branch", None, reason))
    total = 0
    for path, (old, new) in changes.items():
        if path.startswith("/") or ".." in path.split("/"):
            violations.append(Violation("outside repository", path, "is not a repository path"))
        elif not any(fnmatch.fnmatchcase(path, glob) for glob in allowed_paths):
            allowed = ", ".join(allowed_paths) or "no paths"
            reason = f"is outside the playbook's allowed paths ({allowed})"
            violations.append(Violation("allowed paths", path, reason))
        violations += suppression_violations(path, old, new)
        total += changed_lines(old or "", new or "")
    if total > max_changed_lines:
        reason = f"changes {total} lines; the cap is {max_changed_lines}"
        violations.append(Violation("changed lines", None, reason))
    if violations:
        raise GuardrailError(violations)


# Secret redaction: (what, pattern, replacement); the replacement keeps what is not secret.
_SECRETS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "private key",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?"
            r"(?:-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)",
            re.S,
        ),
        REDACTED,
    ),
    (
        "slack webhook",
        re.compile(r"https://hooks\.slack\.com/(?:services|workflows)/[\w/]+"),
        REDACTED,
    ),
    ("slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), REDACTED),
    ("github token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,})"), REDACTED),
    ("hugging face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}"), REDACTED),
    ("aws access key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"), REDACTED),
    (
        "aws secret key",
        re.compile(r"(?i)(aws_secret_access_key[\"']?\s*[=:]\s*[\"']?)[A-Za-z0-9/+=]{40,}"),
        rf"\1{REDACTED}",
    ),
    (
        "password in url",
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@"),
        rf"\1{REDACTED}@",
    ),
    (
        "bearer token",
        re.compile(r"(?i)\b((?:bearer|token|basic)\s+)[A-Za-z0-9\-._~+/]{8,}=*"),
        rf"\1{REDACTED}",
    ),
    (
        "assigned secret",
        re.compile(
            r"(?i)\b((?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|accountkey"
            r"|sharedaccesskey)[\"']?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s&;,\"']+)"
        ),
        rf"\1{REDACTED}",
    ),
)


def redact_secrets(text: str) -> str:
    """`text` with tokens, keys, passwords and connection-string secrets replaced by [REDACTED].

    >>> redact_secrets("git clone https://bot:s3cret@github.com/o/r")
    'git clone https://bot:[REDACTED]@github.com/o/r'
    """
    for _, pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text
