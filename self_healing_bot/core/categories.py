"""The category ids of TAXONOMY.md, plus the two detections that are not log failures.

Playbooks, the repository config and the API name categories by these ids, so a typo in a
config file (`gpu-oom`) is caught at validation time instead of silently matching nothing.
"""

from __future__ import annotations

PIPELINE_FAILURE_CATEGORIES: tuple[str, ...] = (
    "gpu_oom",
    "host_oom",
    "cuda_error",
    "dependency_resolution",
    "missing_dependency",
    "dependency_api_change",
    "data_missing",
    "data_validation",
    "nan_loss",
    "timeout",
    "network_transient",
    "auth_error",
    "disk_full",
    "test_failure",
    "code_error",
    "lint_failure",
    "unknown",
)
DATA_DRIFT = "data_drift"
MODEL_DEGRADATION = "model_degradation"
CATEGORIES: frozenset[str] = frozenset(
    (*PIPELINE_FAILURE_CATEGORIES, DATA_DRIFT, MODEL_DEGRADATION)
)
