"""Dockerfile and .dockerignore, checked by structure: Docker does not run on our machines."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass

import pytest

from tests.deploy.documents import REPO_ROOT


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def instructions() -> list[Instruction]:
    """The Dockerfile's instructions, with continuation lines joined and comments dropped."""
    logical, parts = [], []
    for line in (REPO_ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not parts and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        parts.append(stripped)
        logical.append(" ".join(part for part in parts if part))
        parts = []
    return [Instruction(*text.partition(" ")[::2]) for text in logical]


def stages() -> list[list[Instruction]]:
    """Instructions grouped by build stage, each starting with its FROM."""
    grouped: list[list[Instruction]] = []
    for instruction in instructions():
        if instruction.keyword.upper() == "FROM":
            grouped.append([])
        grouped[-1].append(instruction)
    return grouped


def final_stage(keyword: str) -> list[str]:
    return [i.arguments for i in stages()[-1] if i.keyword.upper() == keyword]


def dockerignore_patterns() -> list[str]:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_build_is_multi_stage_on_a_slim_python_311() -> None:
    bases = [stage[0].arguments for stage in stages()]
    assert len(bases) >= 2
    assert all(re.match(r"python:3\.11[\w.-]*-slim", base) for base in bases), bases
    assert any(i.arguments.startswith("--from=build ") for i in stages()[-1])


def test_install_uses_the_constraints_file() -> None:
    runs = [i.arguments for stage in stages()[:-1] for i in stage if i.keyword == "RUN"]
    assert any("pip install" in run and "-c constraints.txt ." in run for run in runs)
    assert not any("pip install" in i.arguments for i in stages()[-1] if i.keyword == "RUN")


def test_runtime_runs_as_a_non_root_numeric_user() -> None:
    (user,) = final_stage("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "Kubernetes' runAsNonRoot needs a numeric uid"


def test_healthcheck_probes_healthz_on_the_served_port() -> None:
    (healthcheck,) = final_stage("HEALTHCHECK")
    (exposed,) = final_stage("EXPOSE")
    assert f"127.0.0.1:{exposed}/healthz" in healthcheck
    command = json.loads(final_stage("CMD")[0])
    assert command[0] == "serve" and command[command.index("--port") + 1] == exposed
    assert json.loads(final_stage("ENTRYPOINT")[0]) == ["self-healing-bot"]


@pytest.mark.parametrize(
    "source",
    [
        source
        for stage in stages()
        for i in stage
        if i.keyword == "COPY" and not i.arguments.startswith("--from")
        for source in i.arguments.split()[:-1]
    ],
)
def test_copied_paths_exist_and_are_in_the_build_context(source: str) -> None:
    assert (REPO_ROOT / source).exists()
    ignored = [pattern for pattern in dockerignore_patterns() if fnmatch.fnmatch(source, pattern)]
    assert ignored == [], f"{source} is excluded from the build context by .dockerignore"


@pytest.mark.parametrize("path", [".venv", ".git", "tests", ".env", "shbot.db"])
def test_build_context_leaves_out_local_state(path: str) -> None:
    assert any(fnmatch.fnmatch(path, pattern) for pattern in dockerignore_patterns())
