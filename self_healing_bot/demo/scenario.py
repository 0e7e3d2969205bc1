"""The demo's scenario: the sample repository, its simulated CI, and the incidents to play.

Everything is package data next to this module (`scenario.yml`, `repository/`, `logs/`):

    scenario = load_demo_scenario()
    scenario.incidents[0].name        # 'CUDA out of memory'
    scenario.sandbox_scenario(app)    # the mapping `sandbox.scenario.apply_scenario` takes
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from ruamel.yaml import YAML

from self_healing_bot.sandbox.ci_rules import JobSpec, ScenarioError

PACKAGE = "self_healing_bot.demo"


@dataclass(frozen=True)
class Incident:
    """One incident: the commit that causes it, the CI rules that hold while it plays, and the
    end state the bot should reach."""

    name: str
    expected_end_state: str
    message: str
    replace: Mapping[str, tuple[str, str]]
    copy: tuple[str, ...] = ()
    job: str | None = None
    rules: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class DemoScenario:
    repository: str
    installation: int
    run_delay: float
    files: Mapping[str, bytes]
    workflows: tuple[Mapping[str, Any], ...]
    sample: Mapping[str, bytes] = field(default_factory=dict)
    incidents: tuple[Incident, ...] = ()

    def sandbox_scenario(self, app: Mapping[str, Any]) -> dict[str, Any]:
        """The sandbox scenario holding the repository (with `app` installed on it)."""
        return {
            "run_delay": self.run_delay,
            "app": dict(app),
            "repositories": [
                {
                    "name": self.repository,
                    "files": {path: content.decode() for path, content in self.files.items()},
                    "workflows": list(self.workflows),
                }
            ],
            "installations": [
                {
                    "id": self.installation,
                    "account": self.repository.partition("/")[0],
                    "repositories": [self.repository],
                }
            ],
        }

    def jobs_during(self, incident: Incident | None) -> tuple[JobSpec, ...]:
        """The workflow's jobs with the incident's own rules added (None: the lasting ones)."""
        jobs = []
        for job in self.workflows[0]["jobs"]:
            failures = list(job.get("failures") or [])
            if incident is not None and incident.job == job["name"]:
                failures = [*incident.rules, *failures]
            jobs.append(JobSpec.parse({"name": job["name"], "failures": failures}))
        return tuple(jobs)


def load_demo_scenario(root: Traversable | None = None) -> DemoScenario:
    """Read `scenario.yml` and the sample repository; ScenarioError names what is wrong."""
    root = root or resources.files(PACKAGE)
    data = YAML(typ="safe").load(root.joinpath("scenario.yml").read_text(encoding="utf-8"))
    repository_files = dict(_walk(root.joinpath("repository"), ""))
    held_back = set(data.get("held_back") or [])
    logs = root.joinpath("logs")
    workflows = tuple(_with_logs(workflow, logs) for workflow in data["workflows"])
    incidents = tuple(
        _incident(entry, repository_files, logs) for entry in data.get("incidents") or []
    )
    return DemoScenario(
        repository=str(data["repository"]),
        installation=int(data["installation"]),
        run_delay=float(data.get("run_delay", 0.3)),
        files={
            path: content for path, content in repository_files.items() if path not in held_back
        },
        workflows=workflows,
        sample=repository_files,
        incidents=incidents,
    )


def apply_changes(
    files: Mapping[str, bytes],
    replace: Mapping[str, Any],
    copy: list[str] | tuple[str, ...],
    sample: Mapping[str, bytes],
) -> dict[str, str]:
    """The new content of each file an incident's commit touches.

    >>> apply_changes({"a.yaml": b"x: 1\\n"}, {"a.yaml": ["x: 1", "x: 2"]}, [], {})
    {'a.yaml': 'x: 2\\n'}
    """
    changes: dict[str, str] = {}
    for path, (old, new) in replace.items():
        if path not in files:
            raise ScenarioError(f"incident edit of {path}: the repository has no such file")
        text = files[path].decode()
        if old not in text:
            raise ScenarioError(f"incident edit of {path}: {old!r} is not in the file")
        changes[path] = text.replace(old, new, 1)
    for path in copy:
        if path not in sample:
            raise ScenarioError(f"incident copy: the sample repository has no {path}")
        changes[path] = sample[path].decode()
    return changes


def _incident(entry: Mapping[str, Any], sample: Mapping[str, bytes], logs: Traversable) -> Incident:
    name = str(entry.get("name", ""))
    if not name or "expected_end_state" not in entry or "message" not in entry:
        raise ScenarioError(f"incident {entry!r}: needs 'name', 'message', 'expected_end_state'")
    replace = entry.get("replace") or {}
    apply_changes(sample, replace, list(entry.get("copy") or []), sample)  # fail early
    ci = entry.get("ci") or {}
    rules = tuple(_rule_with_log(rule, logs) for rule in ci.get("failures") or [])
    return Incident(
        name=name,
        expected_end_state=str(entry["expected_end_state"]),
        message=str(entry["message"]),
        replace={path: (str(old), str(new)) for path, (old, new) in replace.items()},
        copy=tuple(str(path) for path in entry.get("copy") or []),
        job=ci.get("job"),
        rules=rules,
    )


def _with_logs(workflow: Mapping[str, Any], logs: Traversable) -> dict[str, Any]:
    jobs = [
        {**job, "failures": [_rule_with_log(rule, logs) for rule in job.get("failures") or []]}
        for job in workflow["jobs"]
    ]
    return {**workflow, "jobs": jobs}


def _rule_with_log(rule: Mapping[str, Any], logs: Traversable) -> dict[str, Any]:
    return {"when": dict(rule["when"]), "log": logs.joinpath(rule["log"]).read_text("utf-8")}


def _walk(folder: Traversable, prefix: str) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for entry in folder.iterdir():
        path = f"{prefix}{entry.name}"
        if entry.is_dir():
            if entry.name != "__pycache__":
                found += _walk(entry, f"{path}/")
        else:
            found.append((path, entry.read_bytes()))
    return found
