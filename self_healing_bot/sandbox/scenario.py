"""Scenario files: a YAML description of the sandbox's app, repositories, workflows and faults.

app: {id: 1, private_key: key.pem, webhook_secret: s3cret}
webhook_url: http://127.0.0.1:8080/webhooks/github
run_delay: 0.5
installations: [{id: 10, account: org, repositories: [org/ml]}]
personal_tokens: [{token: ghp_local, login: alice}]
repositories:
  - name: org/ml
    files: {configs/train.yaml: "batch_size: 64\\n"}
    collaborators: {alice: write}
    workflows:
      - name: train
        on: [push, workflow_dispatch]
        jobs:
          - name: train
            failures:
              - when: {file: configs/train.yaml, key: batch_size, greater_than: 32}
                log: "RuntimeError: CUDA out of memory"
faults: [{kind: server_error, count: 2, status: 503}]
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from self_healing_bot.sandbox.ci_rules import JobSpec, ScenarioError
from self_healing_bot.sandbox.github_sandbox import GitHubSandbox


def read_scenario(path: Path) -> dict[str, Any]:
    """The scenario mapping in `path`; ScenarioError names the file and the problem."""
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the scenario ({error.strerror})") from error
    except YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{path}: a scenario is a mapping at the top level")
    return dict(data)


def apply_scenario(sandbox: GitHubSandbox, scenario: Mapping[str, Any]) -> None:
    """Create what the scenario declares; every problem is a ScenarioError saying where."""
    if "webhook_url" in scenario:
        sandbox.webhook_url = str(scenario["webhook_url"])
    if "run_delay" in scenario:
        sandbox.run_delay = float(scenario["run_delay"])
    app = scenario.get("app")
    if app is not None:
        _register_app(sandbox, _mapping(app, "app"))
    for index, repository in enumerate(scenario.get("repositories") or []):
        _add_repository(sandbox, _mapping(repository, f"repositories[{index}]"))
    for index, installation in enumerate(scenario.get("installations") or []):
        entry = _mapping(installation, f"installations[{index}]")
        try:
            sandbox.add_installation(
                int(entry["id"]), str(entry["account"]), list(entry.get("repositories") or [])
            )
        except KeyError as error:
            raise ScenarioError(f"installations[{index}]: needs 'id' and 'account'") from error
    for index, entry in enumerate(scenario.get("personal_tokens") or []):
        token = _mapping(entry, f"personal_tokens[{index}]")
        if "token" not in token or "login" not in token:
            raise ScenarioError(f"personal_tokens[{index}]: needs 'token' and 'login'")
        sandbox.add_personal_token(str(token["token"]), str(token["login"]))
    for index, fault in enumerate(scenario.get("faults") or []):
        sandbox.faults.arm(dict(_mapping(fault, f"faults[{index}]")))


def public_key_from_private(private_key_pem: str) -> str:
    """The PEM public key of a PEM private key (so a scenario may name either)."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _register_app(sandbox: GitHubSandbox, app: Mapping[str, Any]) -> None:
    if "id" not in app or not ({"public_key", "private_key"} & set(app)):
        raise ScenarioError("app: needs 'id' and 'public_key' or 'private_key' (PEM or a path)")
    if "public_key" in app:
        public_key = _pem(str(app["public_key"]))
    else:
        try:
            public_key = public_key_from_private(_pem(str(app["private_key"])))
        except ValueError as error:
            raise ScenarioError(f"app.private_key: not a PEM private key ({error})") from error
    sandbox.register_app(
        int(app["id"]),
        public_key,
        webhook_secret=str(app.get("webhook_secret", "")),
        webhook_url=app.get("webhook_url"),
    )


def _add_repository(sandbox: GitHubSandbox, repository: Mapping[str, Any]) -> None:
    name = str(repository.get("name", ""))
    files = {str(path): str(text) for path, text in (repository.get("files") or {}).items()}
    sandbox.add_repository(
        name,
        files,
        default_branch=str(repository.get("default_branch", "main")),
        collaborators={str(k): str(v) for k, v in (repository.get("collaborators") or {}).items()},
    )
    for index, workflow in enumerate(repository.get("workflows") or []):
        entry = _mapping(workflow, f"{name}.workflows[{index}]")
        if "name" not in entry:
            raise ScenarioError(f"{name}.workflows[{index}]: needs a 'name'")
        jobs = [JobSpec.parse(job) for job in entry.get("jobs") or [{"name": entry["name"]}]]
        sandbox.add_workflow(
            name,
            str(entry["name"]),
            jobs,
            path=entry.get("path"),
            triggers=tuple(entry.get("on") or ("push", "workflow_dispatch")),
        )


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _pem(value: str) -> str:
    if value.lstrip().startswith("-----BEGIN"):
        return value
    try:
        return Path(value).expanduser().read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"cannot read key file {value!r} ({error.strerror})") from error
