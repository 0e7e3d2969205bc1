"""The data-drift detector: compares a repository's current data with its reference.

It runs on a push to the default branch that changes a configured data file, and on a
`repository_dispatch` naming a dataset (`client_payload: {"dataset": ..., "reference": path,
"current": path, "ref": optional}`). The repository config lists each dataset as a pair of
paths, reference then current, and may set thresholds and, per column, its kind, test and
threshold:

    paths:
      data: [data/reference.csv, data/current.csv]
    detectors:
      data_drift:
        thresholds: {drift_share: 0.5, require_effect_size: 1}
        columns:
          postcode: {kind: categorical}
          income: {test: psi, threshold: 0.2}

Every comparison is stored (`drift_reports`, JSON and HTML); a dataset that drifted (Evidently's
rule: the share of drifted columns reaches `drift_share`) becomes a `data_drift` detection whose
signature is stable per repository, dataset and set of drifted columns.

Either path of a pair may name a file in a workflow artifact (`artifact:eval-data/current.csv`,
see `repository_files`): that dataset is compared when a run on the default branch that uploaded
it completes successfully, at the run's commit, instead of on pushes.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from self_healing_bot.core.context import ExecutionContext
from self_healing_bot.core.events import (
    Event,
    PushEvent,
    RepositoryDispatchEvent,
    WorkflowRunEvent,
)
from self_healing_bot.detectors.registry import Detection, Severity, register
from self_healing_bot.detectors.repository_files import (
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
from self_healing_bot.drift.columns import ColumnKind
from self_healing_bot.drift.compare import ColumnOptions, DriftOptions, compare_tables
from self_healing_bot.drift.html_report import render_html
from self_healing_bot.drift.statistics import DriftTest
from self_healing_bot.drift.tables import table_from_bytes
from self_healing_bot.repo_config.model import COLUMN_KINDS, DriftColumn, RepoConfig
from self_healing_bot.storage.drift_reports import store_report

DETECTOR_ID = "data_drift"
THRESHOLD_KEYS = ("drift_share", "require_effect_size")


class DatasetConfigError(ValueError):
    """The config or dispatch payload does not name a dataset the detector can compare."""


@dataclass(frozen=True)
class Dataset:
    """A reference table and the current table compared with it, as repository paths."""

    name: str
    reference: str
    current: str


def configured_datasets(paths: Sequence[str]) -> list[Dataset]:
    """`paths.data` as datasets: consecutive (reference, current) pairs, named by the current.

    >>> configured_datasets(["data/ref.csv", "data/cur.csv"])
    [Dataset(name='data/cur.csv', reference='data/ref.csv', current='data/cur.csv')]
    """
    if len(paths) % 2:
        raise DatasetConfigError(
            f"paths.data lists {len(paths)} files; list each dataset as a pair, "
            "reference then current"
        )
    pairs = zip(paths[::2], paths[1::2], strict=True)
    return [Dataset(current, reference, current) for reference, current in pairs]


def dispatched_dataset(client_payload: Mapping[str, Any] | None, config: RepoConfig) -> Dataset:
    """The dataset a `repository_dispatch` names: its own paths, or a configured dataset's."""
    payload = client_payload or {}
    name = payload.get("dataset")
    reference, current = payload.get("reference"), payload.get("current")
    if isinstance(reference, str) and isinstance(current, str):
        return Dataset(str(name or current), reference, current)
    for dataset in configured_datasets(config.paths.data):
        if dataset.name == name:
            return dataset
    known = [dataset.name for dataset in configured_datasets(config.paths.data)]
    raise DatasetConfigError(
        f"repository_dispatch names dataset {name!r} without 'reference' and 'current' paths, "
        f"and the config has no such dataset (configured: {known or 'none'})"
    )


def drift_options(config: RepoConfig) -> DriftOptions:
    """Options from `detectors.data_drift.thresholds` (an unknown key is an error, not ignored)
    and `detectors.data_drift.columns`."""
    thresholds = detector_thresholds(config, DETECTOR_ID, THRESHOLD_KEYS, DatasetConfigError)
    detector = config.detectors.get(DETECTOR_ID)
    return DriftOptions(
        drift_share=thresholds.get("drift_share", DriftOptions.drift_share),
        columns={
            name: column_options(column)
            for name, column in (detector.columns if detector else {}).items()
        },
        require_effect_size=bool(thresholds.get("require_effect_size", 0)),
    )


def column_options(column: DriftColumn) -> ColumnOptions:
    """One column's config as the drift core's options (`binary` is compared as categorical).

    >>> column_options(DriftColumn(kind="binary", test="z"))
    ColumnOptions(kind=<ColumnKind.CATEGORICAL: 'categorical'>, test=<DriftTest.Z: 'z'>, ...)
    """
    return ColumnOptions(
        kind=ColumnKind(COLUMN_KINDS[column.kind]) if column.kind else None,
        test=DriftTest(column.test) if column.test else None,
        threshold=column.threshold,
    )


def drift_signature(repository: str, dataset: str, drifted_columns: Sequence[str]) -> str:
    """`data_drift:8 hex` over repository, dataset and the drifted column set (order-free)."""
    digest = hashlib.sha256(
        "\n".join([repository.lower(), dataset, *sorted(drifted_columns)]).encode()
    )
    return f"{DETECTOR_ID}:{digest.hexdigest()[:8]}"


def drift_detection(
    repository: str,
    dataset: Dataset,
    commit: str,
    report: Mapping[str, Any],
    report_id: int,
    branch: str | None,
) -> Detection | None:
    """The detection for a stored report, or None when the dataset did not drift."""
    if not report["dataset_drifted"]:
        return None
    drifted = list(report["drifted_columns"])
    scores = {
        name: {
            key: report["columns"][name][key]
            for key in ("test", "statistic", "p_value", "threshold", "effect_size")
        }
        for name in drifted
    }
    share = float(report["drift_share"])
    return Detection(
        detector_id=DETECTOR_ID,
        category="data_drift",
        signature=drift_signature(repository, dataset.name, drifted),
        confidence=min(1.0, share),
        summary=(
            f"{dataset.name}: {len(drifted)} of {report['number_of_tested_columns']} columns "
            f"drifted ({', '.join(drifted[:5])}{', ...' if len(drifted) > 5 else ''})"
        ),
        severity=Severity.HIGH if share >= 0.75 else Severity.MEDIUM,
        params={
            "dataset": dataset.name,
            "reference": dataset.reference,
            "current": dataset.current,
            "commit": commit,
            "report_id": report_id,
            "drift_share": share,
            "drift_share_threshold": report["drift_share_threshold"],
            "drifted_columns": scores,
            "added_columns": report["added_columns"],
            "removed_columns": report["removed_columns"],
        },
        branch=branch,
        head_sha=commit,
        changed_paths=[dataset.reference, dataset.current],
    )


def compare_contents(
    dataset: Dataset, commit: str, reference: bytes, current: bytes, options: DriftOptions
) -> tuple[dict[str, Any], str]:
    """The report (JSON-able) and its HTML page; CPU-bound, so callers run it in a thread."""
    short = commit[:12]
    report = compare_tables(
        table_from_bytes(f"{dataset.reference}@{short}", reference),
        table_from_bytes(f"{dataset.current}@{short}", current),
        options,
    )
    return report.to_dict(), render_html(report)


async def check_dataset(
    context: ExecutionContext,
    client: FileReader,
    dataset: Dataset,
    commit: str,
    options: DriftOptions,
    branch: str | None,
) -> Detection | None:
    """Read both tables at `commit`, compare them off the event loop, store the report."""
    repository = _repository(context)
    reference, current = await asyncio.gather(
        read_file(client, repository, dataset.reference, commit),
        read_file(client, repository, dataset.current, commit),
    )
    report, html = await asyncio.to_thread(
        compare_contents, dataset, commit, reference, current, options
    )
    async with context.database.session() as session:
        report_id = await store_report(session, repository, dataset.name, commit, report, html)
    context.log.info(
        "drift report stored",
        dataset=dataset.name,
        report_id=report_id,
        dataset_drifted=report["dataset_drifted"],
        drift_share=report["drift_share"],
    )
    return drift_detection(repository, dataset, commit, report, report_id, branch)


class DataDriftDetector:
    """Registered as `data_drift`; see the module docstring for when it runs."""

    id = DETECTOR_ID

    def applies_to(self, event: Event) -> bool:
        return reads_repository_files(event, "dataset") or reads_run_artifacts(event)

    async def detect(self, context: ExecutionContext) -> list[Detection]:
        client, repository = context.github, _repository(context)
        if client is None:
            raise DatasetConfigError(
                f"{repository}: no GitHub client for this installation, cannot read the data"
            )
        config = await detector_config(context, client, DETECTOR_ID)
        options = drift_options(config)
        event = context.event
        reader: FileReader = client
        if isinstance(event, PushEvent):
            branch = event.ref.removeprefix("refs/heads/")
            commit = event.after
            datasets = []
            for dataset in configured_datasets(config.paths.data):
                paths = [dataset.reference, dataset.current]
                if any(map(is_artifact_path, paths)):  # compared when its run completes
                    continue
                if await changed_paths(client, repository, paths, event.before, event.after):
                    datasets.append(dataset)
        elif isinstance(event, WorkflowRunEvent):  # the run that uploaded `artifact:` tables
            run = event.workflow_run
            branch, commit = str(run.head_branch), run.head_sha
            reader = RunArtifactFiles(client, repository, run.id)
            datasets = [
                dataset
                for dataset in configured_datasets(config.paths.data)
                if is_artifact_path(dataset.reference) or is_artifact_path(dataset.current)
            ]
        else:
            assert isinstance(event, RepositoryDispatchEvent)
            payload = event.client_payload or {}
            datasets = [dispatched_dataset(payload, config)]
            branch = dispatch_branch(event)
            commit = await client.get_branch_sha(repository, branch)
        detections = []
        for dataset in datasets:
            found = await check_dataset(context, reader, dataset, commit, options, branch)
            if found is not None:
                detections.append(found)
        return detections


def _repository(context: ExecutionContext) -> str:
    if context.repository is None:
        raise DatasetConfigError("the event names no repository")
    return context.repository


register(DataDriftDetector())
