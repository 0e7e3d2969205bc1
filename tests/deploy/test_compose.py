"""docker-compose.yml: valid against the Compose Specification's schema, and wired in order."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from self_healing_bot.settings import Settings
from tests.deploy.documents import REPO_ROOT, load_yaml

SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"
BOT_SERVICES = {"migrate": "migrate", "web": "serve", "worker": "worker"}
INTERPOLATION = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")
OPERATOR_ENVIRONMENT = {"SHBOT_WEBHOOK_SECRET": "a-secret", "SHBOT_GITHUB_APP_ID": "123456"}


class MissingVariable(Exception):
    """Compose refuses to start: a `${NAME:?message}` variable is unset or empty."""


def interpolate(value: str, environment: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}` substitution."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if environment.get(name):
            return environment[name]
        if operator == "?":
            raise MissingVariable(argument)
        return argument if operator == "-" else ""

    return INTERPOLATION.sub(substitute, value)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(REPO_ROOT / "docker-compose.yml")
    return loaded


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA.read_text())
    # The schema declares draft 2019-09 (its `$schema` URI has a trailing '#' jsonschema misses).
    validator = jsonschema.Draft201909Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_compose_file_matches_the_compose_spec() -> None:
    assert schema_errors(compose()) == []


def test_the_schema_rejects_an_unknown_service_key() -> None:
    broken = copy.deepcopy(compose())
    broken["services"]["web"]["restart_policy"] = "always"
    assert schema_errors(broken) == [
        "services/web: 'restart_policy' does not match any of the regexes: '^x-'"
    ]


def test_services_are_web_worker_migrate_postgres_and_redis() -> None:
    assert set(compose()["services"]) == {"web", "worker", "migrate", "postgres", "redis"}


@pytest.mark.parametrize(("service", "command"), BOT_SERVICES.items())
def test_bot_services_run_their_command_in_distributed_mode(service: str, command: str) -> None:
    definition = compose()["services"][service]
    environment = definition["environment"]
    assert definition["command"][0] == command
    assert environment["SHBOT_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert environment["SHBOT_DATABASE_URL"].endswith("@postgres:5432/shbot")
    assert environment["SHBOT_BROKER_URL"] == "redis://redis:6379/0"
    settings = {name.removeprefix("SHBOT_").lower() for name in environment}
    assert settings <= set(Settings.model_fields), "every variable is an SHBOT_ setting"
    # A secret comes from the operator's environment, and compose refuses to start without it.
    assert environment["SHBOT_WEBHOOK_SECRET"].startswith("${SHBOT_WEBHOOK_SECRET:?")
    assert definition["read_only"] is True


def test_migrations_finish_before_web_and_worker_start() -> None:
    services = compose()["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    for service in ("web", "worker"):
        depends_on = services[service]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["redis"]["condition"] == "service_healthy"


def test_only_the_web_keeps_the_images_http_healthcheck() -> None:
    services = compose()["services"]
    assert "healthcheck" not in services["web"]
    assert services["worker"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["healthcheck"] == {"disable": True}


@pytest.mark.parametrize("service", BOT_SERVICES)
def test_the_environment_compose_passes_loads_as_settings(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in compose()["services"][service]["environment"].items():
        monkeypatch.setenv(name, interpolate(str(value), OPERATOR_ENVIRONMENT))
    settings = Settings(_env_file=None)
    assert settings.github_app_id == 123456
    assert settings.webhook_secrets == ["a-secret"]
    assert not settings.embedded


@pytest.mark.parametrize("missing", OPERATOR_ENVIRONMENT)
def test_compose_refuses_to_start_without_a_required_variable(missing: str) -> None:
    environment = {k: v for k, v in OPERATOR_ENVIRONMENT.items() if k != missing}
    values = compose()["services"]["web"]["environment"].values()
    with pytest.raises(MissingVariable, match=missing):
        for value in values:
            interpolate(str(value), environment)
