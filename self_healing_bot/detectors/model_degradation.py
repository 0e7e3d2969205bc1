"""The model-degradation detector: is the model's latest metrics file worse than its baseline?

It runs on a push to the default branch that changes a configured metrics file (`paths.metrics`,
JSON or YAML, DVC's nested style included), and on a `repository_dispatch` naming a model
(`client_payload: {"model": ..., "metrics": optional path, "ref": optional branch}`).

The baseline is the serving model version's metrics when the config names an MLflow tracking
URI and a model (`model.alias`, default `champion`), else the mean of the metric's history. The
history is the default branch's, which this detector keeps (`metric_history`, one row per metric
and commit), unless the config names an MLflow experiment (`model.experiment`): then a metric
the experiment's finished runs logged takes its history from them instead. Instead, not as well:
the runs and the metrics files usually record the same trainings, so joining them would count
each twice and interleave two clocks under the trend test; the experiment is the team's own
record, with every run, where the branch only has what was committed. The run that trained the
judged commit (MLflow's `mlflow.source.git.commit` tag) is left out of its baseline. The trend
test always runs over the history, so a slow slide is caught as well as a cliff. Thresholds
(`detectors.model_degradation.thresholds`) apply to every metric:

    detectors:
      model_degradation: {thresholds: {relative_threshold: 0.05, absolute_threshold: 0.02}}

A metric is lower-is-better when its name says so (loss, error, rmse, ...), else higher.
The degraded metrics of one commit make one detection (signature: repository and model), so
the model gets one rollback and one issue however many of its metrics fell.

A push is also judged against the commit it replaced: that commit's metrics join the history
(idempotent by commit), so the first regression after installing the bot has a baseline.

The rollback target is the serving version. Without one, for a model in the MLflow registry it
is the newest registered version whose run logged a value within tolerance of the baseline; for
a model pinned in the repository (`model.registry: repository`), the version the push replaced.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import (
    Event,
    PushEvent,
    RepositoryDispatchEvent,
    WorkflowRunEvent,
)
from self_healing_bot.degradation.assessment import (
    Degradation,
    MetricPoint,
    assess_metrics,
    last_good_version,
)
from self_healing_bot.degradation.assessment import (
    Severity as DegradationSeverity,
)
from self_healing_bot.degradation.metrics_files import MetricsFileError, parse_metrics
from self_healing_bot.degradation.mlflow_source import MlflowSource
from self_healing_bot.degradation.policy import Direction, MetricPolicy
from self_healing_bot.detectors.registry import Detection, Severity, register
from self_healing_bot.detectors.repository_files import (
    NO_COMMIT,
    CommitFiles,
    FileReader,
    RunArtifactFiles,
    changed_paths,
    detector_config,
    detector_thresholds,
    dispatch_branch,
    is_artifact_path,
    read_file,
    reads_repository_files,
    reads_run_artifacts,
)
from self_healing_bot.repo_config.model import Model, RepoConfig
from self_healing_bot.storage.metric_history import metric_history, record_metrics

DETECTOR_ID = "model_degradation"
THRESHOLD_KEYS = ("relative_threshold", "absolute_threshold", "window")
HISTORY_POINTS = 100  # rolling window kept for the baseline and the trend test
MLFLOW_TIMEOUT_SECONDS = 30.0
# Name parts (split on anything not a letter or digit) that mean lower is better.
_LOWER_IS_BETTER = frozenset(
    {"loss", "error", "err", "rmse", "mse", "mae", "mape", "perplexity", "latency", "wer", "cer"}
)
_SEVERITY = {
    DegradationSeverity.MINOR: Severity.MEDIUM,
    DegradationSeverity.MAJOR: Severity.HIGH,
    DegradationSeverity.CRITICAL: Severity.CRITICAL,
}
_SEVERITY_RANK = {
    DegradationSeverity.MINOR: 0,
    DegradationSeverity.MAJOR: 1,
    DegradationSeverity.CRITICAL: 2,
}


class MetricsConfigError(ValueError):
    """The config or dispatch payload does not say which metrics to judge, or how."""


def direction_of(metric: str) -> Direction:
    """Lower is better for losses and errors (by name), higher for everything else.

    >>> direction_of("eval.val_loss"), direction_of("accuracy")
    (<Direction.LOWER_IS_BETTER: 'lower'>, <Direction.HIGHER_IS_BETTER: 'higher'>)
    """
    parts = re.split(r"[^a-z0-9]+", metric.rsplit(".", 1)[-1].lower())
    lower = any(part in _LOWER_IS_BETTER or part.endswith("loss") for part in parts)
    return Direction.LOWER_IS_BETTER if lower else Direction.HIGHER_IS_BETTER


def metric_policies(metrics: Iterable[str], config: RepoConfig) -> dict[str, MetricPolicy]:
    """One policy per metric from `detectors.model_degradation.thresholds`; unknown keys fail."""
    thresholds = detector_thresholds(config, DETECTOR_ID, THRESHOLD_KEYS, MetricsConfigError)
    defaults = MetricPolicy()
    return {
        metric: MetricPolicy(
            direction=direction_of(metric),
            absolute_threshold=thresholds.get("absolute_threshold", defaults.absolute_threshold),
            relative_threshold=thresholds.get("relative_threshold", defaults.relative_threshold),
            window=int(thresholds.get("window", defaults.window)),
        )
        for metric in metrics
    }


def degradation_signature(repository: str, model: str | None) -> str:
    """`model_degradation:8 hex` over repository and model: one incident per model, however
    many of its metrics fell."""
    digest = hashlib.sha256("\n".join([repository.lower(), model or ""]).encode())
    return f"{DETECTOR_ID}:{digest.hexdigest()[:8]}"


def degradation_detection(
    repository: str,
    model: str | None,
    degradations: Sequence[Degradation],
    baseline_sources: Mapping[str, str],
    commit: str,
    branch: str | None,
    metrics_paths: list[str],
    replaced_version: str | None = None,
) -> Detection:
    """The one detection for a commit's degraded metrics: one rollback and one issue for the
    model, not one per metric.

    The worst degradation (by severity, then relative loss) gives the summary, the severity and
    the top-level params, so a playbook reads `detection.params.metric` as for one metric;
    `params.metrics` lists every degraded metric, worst first. `params.severity` is the
    degradation's own scale (minor, major, critical); the detection's severity maps it to the
    playbooks' scale (medium, high, critical). `previous_version`, the rollback target, is the
    first degradation's own that names one, else `replaced_version`.
    """
    worst = max(
        degradations, key=lambda d: (_SEVERITY_RANK[d.severity], abs(d.relative_delta or 0.0))
    )
    ordered = [worst, *(d for d in degradations if d is not worst)]
    others = len(ordered) - 1
    rollback = next((d.rollback_version for d in ordered if d.rollback_version), None)
    return Detection(
        detector_id=DETECTOR_ID,
        category="model_degradation",
        signature=degradation_signature(repository, model),
        summary=(
            f"{worst.metric} fell from {worst.baseline:.4g} to {worst.current:.4g}"
            + (f" and {others} more metric{'s' if others > 1 else ''}" if others else "")
            + (f" ({model})" if model else "")
        ),
        severity=_SEVERITY[worst.severity],
        params={
            **worst.to_dict(),
            "model": model,
            "baseline_source": baseline_sources[worst.metric],
            "previous_version": rollback or replaced_version,
            "commit": commit,
            "metrics": [
                {**d.to_dict(), "baseline_source": baseline_sources[d.metric]} for d in ordered
            ],
        },
        evidence=[{"text": reason} for d in ordered for reason in d.reasons],
        branch=branch,
        head_sha=commit,
        changed_paths=metrics_paths,
    )


@dataclass(frozen=True)
class Assessment:
    """The degraded metrics of one commit and, per metric, where its baseline came from."""

    degradations: list[Degradation]
    baseline_sources: dict[str, str]


async def assess_with_mlflow(
    source: MlflowSource,
    settings: Model,
    model: str | None,
    history: Mapping[str, list[MetricPoint]],
    current: Mapping[str, float],
    policies: Mapping[str, MetricPolicy],
    commit: str,
) -> Assessment:
    """`assess_metrics` with the tracking server's baselines: the serving version's metrics,
    the experiment's runs as the history, registered versions as the rollback target."""
    serving: dict[str, MetricPoint] = {}
    if model and settings.alias in await source.aliases(model):
        _, serving = await source.serving_metrics(model, settings.alias)
    runs: dict[str, list[MetricPoint]] = {}
    if settings.experiment:
        found = await source.experiment_runs(
            settings.experiment, list(current), HISTORY_POINTS, exclude_commit=commit
        )
        runs = {metric: points for metric, points in found.items() if points}
    degradations = assess_metrics({**history, **runs}, current, policies, serving)
    if model and settings.registry == "mlflow" and not serving:
        degradations = [
            await with_registered_rollback(source, model, degradation, policies[degradation.metric])
            for degradation in degradations
        ]
    return Assessment(
        degradations,
        {
            metric: f"mlflow:{model}@{settings.alias}"
            if metric in serving
            else f"mlflow-experiment:{settings.experiment}"
            if metric in runs
            else "history"
            for metric in current
        },
    )


async def with_registered_rollback(
    source: MlflowSource, model: str, degradation: Degradation, policy: MetricPolicy
) -> Degradation:
    """The degradation with the newest registered version that was good as its rollback
    target, when its history named none (no alias names the serving version)."""
    if degradation.rollback_version is not None:
        return degradation
    versions = await source.version_history(model, degradation.metric)
    return replace(
        degradation, rollback_version=last_good_version(versions, degradation.baseline, policy)
    )


async def assess_commit(
    context: ExecutionContext,
    client: FileReader,
    config: RepoConfig,
    model: str | None,
    paths: list[str],
    commit: str,
    branch: str,
    record: bool,
    replaced_version: str | None = None,
) -> list[Detection]:
    """Judge the metrics files at `commit`; with `record`, add them to the history after."""
    repository = context.repository or ""
    current: dict[str, float] = {}
    for path in paths:
        current.update(parse_metrics(path, await read_file(client, repository, path, commit)))
    policies = metric_policies(current, config)
    async with context.database.session() as session:
        history = await metric_history(
            session, repository, current, HISTORY_POINTS, exclude_commit=commit
        )
    tracking_uri = config.model.tracking_uri
    if tracking_uri:
        async with httpx.AsyncClient(base_url=tracking_uri, timeout=MLFLOW_TIMEOUT_SECONDS) as http:
            assessment = await assess_with_mlflow(
                MlflowSource(http), config.model, model, history, current, policies, commit
            )
    elif config.model.experiment:
        raise MetricsConfigError(
            f"model.experiment is {config.model.experiment!r} but model.tracking_uri is not set; "
            "set it to the MLflow server's URL"
        )
    else:
        assessment = Assessment(
            assess_metrics(history, current, policies), dict.fromkeys(current, "history")
        )
    if record:
        async with context.database.session() as session:
            await record_metrics(session, repository, commit, current)
    context.log.info(
        "metrics assessed",
        commit=commit,
        metrics=len(current),
        degraded=[degradation.metric for degradation in assessment.degradations],
        baselines=assessment.baseline_sources,
    )
    if not assessment.degradations:
        return []
    return [
        degradation_detection(
            repository,
            model,
            assessment.degradations,
            assessment.baseline_sources,
            commit,
            branch,
            paths,
            replaced_version,
        )
    ]


async def record_parent_metrics(
    context: ExecutionContext, client: FileReader, paths: list[str], parent: str
) -> None:
    """Add the metrics files at `parent` (the commit a push replaced) to the history; a file
    the parent does not have adds nothing, and a commit already recorded is not recorded twice."""
    if parent == NO_COMMIT:
        return
    repository = context.repository or ""
    metrics: dict[str, float] = {}
    for path in paths:
        found = await client.get_file(repository, path, parent)
        if found is None:
            continue
        try:
            metrics.update(parse_metrics(path, found.content))
        except MetricsFileError as error:  # the parent's problem; the pushed file decides
            context.log.warning("parent metrics not recorded", commit=parent, error=str(error))
    async with context.database.session() as session:
        await record_metrics(session, repository, parent, metrics)


def pinned_version(model: Model, content: bytes) -> str | None:
    """The model version `model.version_key` holds in the content of `model.version_file`.

    >>> pinned_version(Model(version_file="m.yaml", version_key="model.version"),
    ...                b'model: {version: "4"}')
    '4'
    """
    if not model.version_file or not model.version_key:
        return None
    try:
        if model.version_file.endswith(".json"):
            node: Any = json.loads(content)
        else:
            node = YAML(typ="safe", pure=True).load(io.BytesIO(content))
    except (json.JSONDecodeError, UnicodeDecodeError, YAMLError):
        return None  # the rollback action reports an unreadable pin file when it edits it
    for part in model.version_key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return None if node is None or isinstance(node, dict | list) else str(node)


async def replaced_version(
    client: FileReader, repository: str, model: Model, parent: str, commit: str
) -> str | None:
    """The pinned model version a push changed away from, or None when it kept the pin."""
    if model.registry != "repository" or not model.version_file or parent == NO_COMMIT:
        return None
    versions = []
    for ref in (parent, commit):
        found = await client.get_file(repository, model.version_file, ref)
        versions.append(pinned_version(model, found.content) if found else None)
    return versions[0] if versions[0] != versions[1] else None


class ModelDegradationDetector:
    """Registered as `model_degradation`; see the module docstring for when it runs."""

    id = DETECTOR_ID

    def applies_to(self, event: Event) -> bool:
        return reads_repository_files(event, "model") or reads_run_artifacts(event)

    async def detect(self, context: ExecutionContext) -> list[Detection]:
        client, repository, event = context.github, context.repository, context.event
        if client is None or repository is None:
            raise MetricsConfigError("no repository or GitHub client: cannot read metrics files")
        config = await detector_config(context, client, DETECTOR_ID)
        if isinstance(event, PushEvent):
            pushed = CommitFiles(client)
            paths = await changed_paths(
                pushed, repository, config.paths.metrics, event.before, event.after
            )
            if not paths:
                return []
            branch = event.ref.removeprefix("refs/heads/")
            await record_parent_metrics(context, pushed, paths, event.before)
            replaced = await replaced_version(
                pushed, repository, config.model, event.before, event.after
            )
            return await assess_commit(
                context,
                pushed,
                config,
                config.model.name,
                paths,
                event.after,
                branch,
                True,
                replaced,
            )
        if isinstance(event, WorkflowRunEvent):  # the run that uploaded `artifact:` metrics
            run = event.workflow_run
            artifacts = [path for path in config.paths.metrics if is_artifact_path(path)]
            if not artifacts:
                return []
            files = RunArtifactFiles(client, repository, run.id)
            branch = str(run.head_branch)
            return await assess_commit(
                context, files, config, config.model.name, artifacts, run.head_sha, branch, True
            )
        assert isinstance(event, RepositoryDispatchEvent)
        payload: dict[str, Any] = event.client_payload or {}
        paths = [payload["metrics"]] if payload.get("metrics") else list(config.paths.metrics)
        if not paths:
            raise MetricsConfigError(
                f"{repository}: the dispatch names no metrics file and paths.metrics is empty"
            )
        branch = dispatch_branch(event)
        commit = await client.get_branch_sha(repository, branch)
        default = event.repository.default_branch if event.repository else None
        return await assess_commit(
            context, client, config, str(payload["model"]), paths, commit, branch, branch == default
        )


register(ModelDegradationDetector())
