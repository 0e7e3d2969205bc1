"""The `.github/self-healing-bot.yml` model: what a repository lets the bot do, and its limits.

Every field has a default (the built-in defaults), so an empty file is a valid config.
`schema.json` next to this module is generated from `RepoConfig` (see `repo_config.schema`).

    >>> RepoConfig().automation.level_for("gpu_oom")
    <AutomationLevel.SUGGEST: 'suggest'>
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from self_healing_bot.core.automation import AutomationLevel
from self_healing_bot.core.categories import CATEGORIES
from self_healing_bot.repo_config.cron import validate_cron

# Detectors the scheduler can run without an event (`detectors.<id>.schedule`).
SCHEDULED_DETECTORS = frozenset({"data_drift"})
# Detectors that compare tables column by column (`detectors.<id>.columns`).
COLUMN_DETECTORS = frozenset({"data_drift"})

# The drift core's tests (`drift.statistics.DriftTest`), named as in Evidently.
DriftTestName = Literal["ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi"]
ColumnKindName = Literal["numeric", "categorical", "binary", "datetime", "text"]
# A kind a repository may name → the kind the drift core compares it as
# (`drift.columns.ColumnKind`). Binary is a two-valued categorical column, for which the core
# picks Evidently's Z-test on small references and Jensen-Shannon on large ones.
COLUMN_KINDS: dict[str, str] = {
    "numeric": "numeric",
    "categorical": "categorical",
    "binary": "categorical",
    "datetime": "datetime",
    "text": "text",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_categories(categories: dict[str, object]) -> None:
    unknown = sorted(set(categories) - CATEGORIES)
    if unknown:
        raise ValueError(
            f"unknown categories {', '.join(unknown)}; known: {', '.join(sorted(CATEGORIES))}"
        )


class DriftColumn(_Section):
    """How data_drift compares one column; an unset field keeps the inferred kind or
    Evidently's default test and threshold."""

    kind: ColumnKindName | None = None
    test: DriftTestName | None = None
    threshold: float | None = Field(
        default=None,
        gt=0,
        description="p-value below which (ks, chisquare, z) or distance "
        "from which (wasserstein, jensenshannon, psi) the column drifts",
    )


class DetectorConfig(_Section):
    """One detector: on or off, and its thresholds (names are the detector's own)."""

    enabled: bool = True
    thresholds: dict[str, float] = Field(default_factory=dict)
    columns: dict[str, DriftColumn] = Field(
        default_factory=dict, description="data_drift: per-column kind, test and threshold"
    )
    schedule: str | None = Field(
        default=None,
        description="cron, five fields, UTC (data_drift: compare every dataset in paths.data)",
    )

    @field_validator("schedule")
    @classmethod
    def _schedule_is_cron(cls, schedule: str | None) -> str | None:
        return None if schedule is None else validate_cron(schedule)


class Paths(_Section):
    """Where the repository keeps what the detectors and playbooks read and edit."""

    data: list[str] = Field(default_factory=list, description="reference and current data files")
    metrics: list[str] = Field(default_factory=list, description="model metrics files")
    requirements: str = Field(default="requirements.txt", description="or pyproject.toml")
    training_config: str = Field(default="params.yaml", description="YAML with hyperparameters")


class TrainingKeys(_Section):
    """Dotted keys in `paths.training_config` that the built-in training playbooks adjust."""

    batch_size: str = "batch_size"
    gradient_accumulation: str = "gradient_accumulation_steps"
    learning_rate: str = "learning_rate"
    gradient_clipping: str = "max_grad_norm"
    data_loader_workers: str = "num_workers"


class Model(_Section):
    """The served model, for rollback on degradation."""

    name: str | None = None
    registry: Literal["mlflow", "repository"] = "mlflow"
    alias: str = "champion"
    tracking_uri: str | None = None
    experiment: str | None = Field(
        default=None,
        description="MLflow experiment whose finished runs are the metrics' history "
        "(needs tracking_uri)",
    )
    version_file: str | None = Field(default=None, description="registry: repository")
    version_key: str | None = Field(default=None, description="dotted key in version_file")


class Retraining(_Section):
    """The workflow that retrains the model; data drift dispatches it when set."""

    workflow: str | None = None
    ref: str | None = None
    inputs: dict[str, str] = Field(default_factory=dict)


class NotificationTarget(_Section):
    name: str = Field(min_length=1)
    kind: Literal["slack", "webhook"]
    url: str = Field(pattern=r"^https?://")


class Automation(_Section):
    """How far the bot may go, per category; `default` for categories not listed."""

    default: AutomationLevel = AutomationLevel.SUGGEST
    categories: dict[str, AutomationLevel] = Field(default_factory=dict)

    @field_validator("categories")
    @classmethod
    def _categories_exist(
        cls, categories: dict[str, AutomationLevel]
    ) -> dict[str, AutomationLevel]:
        _known_categories(dict(categories))
        return categories

    def level_for(self, category: str) -> AutomationLevel:
        return self.categories.get(category, self.default)


class Approvers(_Section):
    """Who may `/heal approve`: listed users or teams, else anyone with `minimum_permission`."""

    users: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    minimum_permission: Literal["write", "maintain", "admin"] = "write"


class Budgets(_Section):
    open_pull_requests: int = Field(default=3, ge=0, description="open bot PRs at once")
    reruns_per_hour: int = Field(default=5, ge=0)
    cooldown_minutes: int = Field(default=60, ge=0, description="per failure signature")
    max_changed_lines: int = Field(default=200, ge=1, description="per fix pull request")
    verification_timeout_hours: float = Field(
        default=24,
        gt=0,
        description="how long a repair waits for CI on its remedy before it is escalated",
    )


class Playbooks(_Section):
    """Which playbook handles a category (`overrides`), and playbook files in the repository."""

    overrides: dict[str, str] = Field(default_factory=dict, description="category → name")
    extra: list[str] = Field(default_factory=list, description="paths of playbook YAML files")

    @field_validator("overrides")
    @classmethod
    def _categories_exist(cls, overrides: dict[str, str]) -> dict[str, str]:
        _known_categories(dict(overrides))
        return overrides


class DiagnosisRule(_Section):
    """A repository's own log pattern, checked before the built-in rules."""

    category: str
    pattern: str = Field(min_length=1, description="regular expression matched per log line")
    summary: str | None = None

    @field_validator("category")
    @classmethod
    def _category_exists(cls, category: str) -> str:
        _known_categories({category: None})
        return category

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"invalid regular expression: {error}") from error
        return pattern


class RepoConfig(_Section):
    """`.github/self-healing-bot.yml`, merged over org defaults over these built-in defaults."""

    detectors: dict[str, DetectorConfig] = Field(default_factory=dict)
    paths: Paths = Field(default_factory=Paths)
    training: TrainingKeys = Field(default_factory=TrainingKeys)
    model: Model = Field(default_factory=Model)
    retraining: Retraining = Field(default_factory=Retraining)
    notifications: list[NotificationTarget] = Field(default_factory=list)
    automation: Automation = Field(default_factory=Automation)
    approvers: Approvers = Field(default_factory=Approvers)
    budgets: Budgets = Field(default_factory=Budgets)
    playbooks: Playbooks = Field(default_factory=Playbooks)
    diagnosis_rules: list[DiagnosisRule] = Field(default_factory=list)

    @field_validator("detectors")
    @classmethod
    def _schedules_are_supported(
        cls, detectors: dict[str, DetectorConfig]
    ) -> dict[str, DetectorConfig]:
        unsupported = sorted(
            name
            for name, config in detectors.items()
            if config.schedule is not None and name not in SCHEDULED_DETECTORS
        )
        if unsupported:
            raise ValueError(
                f"schedule is set for {', '.join(unsupported)}; only "
                f"{', '.join(sorted(SCHEDULED_DETECTORS))} runs on a schedule"
            )
        without_columns = sorted(
            name
            for name, config in detectors.items()
            if config.columns and name not in COLUMN_DETECTORS
        )
        if without_columns:
            raise ValueError(
                f"columns is set for {', '.join(without_columns)}; only "
                f"{', '.join(sorted(COLUMN_DETECTORS))} compares columns"
            )
        return detectors

    def detector_enabled(self, detector: str) -> bool:
        config = self.detectors.get(detector)
        return config is None or config.enabled
