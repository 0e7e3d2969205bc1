"""Choosing the root cause among the rule hits, and the parameters a repair needs.

The root cause is the highest-priority failure hit, the earliest among equals: a
consequence (NCCL aborting after a CUDA OOM, tests failing after an install failed)
has a lower priority than its cause, and warnings never count (unless the rule says
a tool reports real failures as warnings). A test's assertion message may quote a
timeout, an HTTP status or a network error it expected: there those words describe the
test, so their categories do not count on assertion lines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from self_healing_bot.diagnosis.result import Diagnosis, Evidence
from self_healing_bot.diagnosis.rules import LIBRARY_OBJECT_TYPES
from self_healing_bot.diagnosis.scanning import Hit, ScanResult
from self_healing_bot.diagnosis.signature import failure_signature

MIN_CONFIDENCE = 0.3
NEARBY_LINES = 300
MAX_EVIDENCE = 5
MAX_TEST_IDS = 50

_TITLES = {
    "gpu_oom": "accelerator ran out of memory",
    "host_oom": "host ran out of memory",
    "cuda_error": "GPU runtime or driver failure",
    "dependency_resolution": "package versions could not be resolved",
    "missing_dependency": "a required module or library is not installed",
    "dependency_api_change": "an installed library's API no longer matches the code",
    "data_missing": "input data or artifact not found",
    "data_validation": "input data is invalid",
    "nan_loss": "training diverged (NaN or inf)",
    "timeout": "the job or step exceeded its time limit",
    "network_transient": "a network or remote service failed",
    "auth_error": "credentials or permissions are missing or wrong",
    "disk_full": "no space left on disk",
    "test_failure": "tests failed",
    "code_error": "the project's own code raised an error",
    "lint_failure": "linters, formatters or type checkers failed",
}

_UNITS = {"B": 1, "bytes": 1, "KB": 1 << 10, "KiB": 1 << 10, "MB": 1 << 20, "MiB": 1 << 20}
_UNITS |= {"GB": 1 << 30, "GiB": 1 << 30, "TB": 1 << 40, "TiB": 1 << 40}
_DTYPE_BYTES = {"float": 4, "float32": 4, "half": 2, "float16": 2, "bfloat16": 2, "double": 8}
_DTYPE_BYTES |= {"float64": 8, "int32": 4, "int64": 8, "uint8": 1, "int8": 1, "bool": 1}

# Import names whose PyPI distribution is named differently.
_DISTRIBUTIONS = {
    "cv2": "opencv-python",
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "skimage": "scikit-image",
    "bs4": "beautifulsoup4",
    "dotenv": "python-dotenv",
    "google.protobuf": "protobuf",
    "jwt": "pyjwt",
    "attr": "attrs",
    "Crypto": "pycryptodome",
    "lightning_fabric": "lightning",
    "pytorch_lightning": "pytorch-lightning",
    "huggingface_hub": "huggingface-hub",
}

_NOT_PROJECT = re.compile(
    r"(?:site-packages|dist-packages|/lib/python\d|<frozen|<string>|<stdin>|/hostedtoolcache/"
    r"|/opt/conda/|/usr/lib/|/Python\.framework/|importlib|\.pyx$|\.pxi$)"
)
# Where CI checks the repository out: hosted Linux/macOS/Windows runners, container jobs,
# Docker actions and the usual Dockerfile WORKDIRs.
_WORKSPACE = re.compile(
    r"^(?:/home/runner/work/[^/]+/[^/]+/|/Users/runner/work/[^/]+/[^/]+/|[A-Za-z]:/a/[^/]+/[^/]+/"
    r"|/__w/[^/]+/[^/]+/|/github/workspace/|/app/|/workspace/|/builds/[^/]+/[^/]+/"
    r"|/home/travis/build/[^/]+/[^/]+/|/home/circleci/project/)"
)
_INSTALLED = re.compile(r"([A-Za-z0-9_.]+(?:-[A-Za-z][A-Za-z0-9_.]*)*)-(\d[^\s]*)")
_LIBRARY_PATH = re.compile(r"(?:site|dist)-packages/([A-Za-z0-9_]+)")
# "==2.1.0", or poetry's bare "(2.1.0)" in "depends on torch (2.1.0)".
_EXACT_PIN = re.compile(r"^\s*(?:===?\s*)?([0-9][\w.+!-]*)$")
# A line of logged training metrics ({'loss': nan, 'learning_rate': 4.9e-05, ...}): the
# scheduler's current value, not the configured one a repair should lower.
_METRICS_LINE = re.compile(r"\b(?:loss|epoch|step|grad_norm)['\"]?\s*[=:]", re.IGNORECASE)
_FRAME_RULES = frozenset({"python-frame", "pytest-frame"})


# Outcomes a test commonly asserts about, and so quotes in its assertion message.
_QUOTED_BY_TESTS = frozenset({"network_transient", "timeout", "auth_error"})


def _is_failure(hit: Hit) -> bool:
    if hit.rule.kind != "failure" or (hit.warning and not hit.rule.on_warning_lines):
        return False
    return not (hit.assertion and hit.rule.category in _QUOTED_BY_TESTS)


def _requested_bytes(groups: dict[str, str]) -> int | None:
    if "amount" in groups and groups.get("unit") in _UNITS:
        return round(float(groups["amount"]) * _UNITS[groups["unit"]])
    if "shape" in groups:
        dims = [int(dim) for dim in groups["shape"].split(",") if dim.strip().isdigit()]
        return math.prod(dims) * _DTYPE_BYTES.get(groups.get("dtype", "float"), 4)
    return None


def _project_location(path: str) -> str | None:
    """The path relative to the repository, or None for a library or interpreter frame.

    >>> _project_location("D:\\a\\shop\\shop\\src\\train.py")
    'src/train.py'
    """
    path = path.replace("\\", "/")
    if _NOT_PROJECT.search(path):
        return None
    return _WORKSPACE.sub("", path)


def _same_place(hit: Hit, winner: Hit) -> bool:
    return hit.source == winner.source and abs(hit.line - winner.line) <= NEARBY_LINES


def _frames_before(hits: Sequence[Hit], winner: Hit) -> list[Hit]:
    return [
        hit
        for hit in hits
        if hit.order < winner.order and hit.rule.id in _FRAME_RULES and _same_place(hit, winner)
    ]


def _project_frame(hits: Sequence[Hit], winner: Hit) -> Hit | None:
    """The last traceback frame in the project's own code shortly before the winner.

    An exception raised inside a library and re-raised ("The above exception was the
    direct cause...") shows the project's frames only in the second traceback, before
    the winner's rule matches again.
    """
    frames = [h for h in _frames_before(hits, winner) if _project_location(h.groups["file"])]
    if frames:
        return frames[-1]
    again = next((h for h in hits if h.order > winner.order and h.rule is winner.rule), None)
    if again is None:
        return None
    chained = [h for h in _frames_before(hits, again) if h.order > winner.order]
    chained = [h for h in chained if _project_location(h.groups["file"])]
    return chained[-1] if chained else None


def _library_of(frame: Hit) -> str | None:
    """The installed library a frame runs in: its site-packages directory or Cython module."""
    found = _LIBRARY_PATH.search(frame.groups["file"])
    if found:
        return found.group(1)
    function = frame.groups.get("function") or ""
    if frame.groups["file"].endswith((".pyx", ".pxi")) and "." in function:
        return function.split(".")[0]
    return None


def _category(winner: Hit, hits: Sequence[Hit]) -> str:
    """The winner's category, or the one its rule names for the library that raised it."""
    category = winner.rule.category
    assert category is not None  # failure rules always carry a validated category
    frames = _frames_before(hits, winner)
    if winner.rule.raised_in and frames:
        library = _library_of(frames[-1])
        return dict(winner.rule.raised_in).get(library or "", category)
    return category


def _installed_versions(hits: Sequence[Hit]) -> dict[str, str]:
    versions: dict[str, str] = {}
    for hit in hits:
        if hit.rule.id == "pip-installed":
            for name, version in _INSTALLED.findall(hit.groups.get("installed", "")):
                versions[name.lower().replace("_", "-")] = version
        if hit.rule.id == "pip-already-installed":
            name = hit.groups["installed_name"].lower().replace("_", "-")
            versions[name] = hit.groups["installed_version"]
    return versions


def _config_value(
    hits: Sequence[Hit], rule_id: str, name: str | None = None
) -> dict[str, int | str]:
    """The configured value: the first one outside logged metrics, else the first one.

    `name` replaces the spelling the log used (`lr`, `BASE_LR`) with the playbooks' own.
    """
    candidates = [h for h in hits if h.rule.id == rule_id and "config_value" in h.groups]
    configured = [h for h in candidates if not _METRICS_LINE.search(h.text)] or candidates
    if not configured:
        return {}
    key, value = configured[0].groups["config_key"], configured[0].groups["config_value"]
    return {name or key: int(value) if value.isdigit() else value}


def _package_params(params: dict[str, Any], category: str, hits: Sequence[Hit]) -> None:
    """Name the distribution to pin or add, and the versions the log shows for it."""
    if "module" in params:
        module = params["module"]
        params["package"] = _DISTRIBUTIONS.get(module, _DISTRIBUTIONS.get(module.split(".")[0]))
        params["package"] = params["package"] or module.split(".")[0].replace("_", "-")
    elif params.get("object_type") in LIBRARY_OBJECT_TYPES:
        params["package"] = LIBRARY_OBJECT_TYPES[params["object_type"]]
    pinned = _EXACT_PIN.match(params.get("spec") or "")
    if pinned and "package" in params:
        params.setdefault("version", pinned.group(1))
    if category == "dependency_api_change" and "package" in params:
        installed = _installed_versions(hits).get(params["package"].lower())
        if installed:
            # The installed release is the breaking one: the playbook pins below it.
            params["installed_version"] = installed
            params["version"] = installed


def _params(winner: Hit, hits: Sequence[Hit], category: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    internal = {"amount", "unit", "shape", "dtype", "installed", "installed_name", "gcs_object"}
    related = [winner] + [
        hit
        for hit in hits
        if hit.rule.category == winner.rule.category
        and hit is not winner
        and _is_failure(hit)
        and _same_place(hit, winner)
    ]
    for hit in related:
        for key, value in hit.groups.items():
            if key not in internal:
                params.setdefault(key, value)
        requested = _requested_bytes(hit.groups)
        if requested is not None:
            params.setdefault("requested_bytes", requested)
        if "gcs_object" in hit.groups:
            params.setdefault("path", "gs://" + hit.groups["gcs_object"])
    if winner.step:
        params["step"] = winner.step
    if winner.source:
        params["log_file"] = winner.source
    if category == "test_failure":
        test_ids = [h.groups["test_id"] for h in hits if "test_id" in h.groups and _is_failure(h)]
        if test_ids:
            params.pop("test_id", None)
            params["test_ids"] = list(dict.fromkeys(test_ids))[:MAX_TEST_IDS]
    if category in ("gpu_oom", "host_oom"):
        params.update(_config_value(hits, "config-batch-size"))
    if category == "nan_loss":
        params.update(_config_value(hits, "config-learning-rate", "learning_rate"))
    _package_params(params, category, hits)
    if category == "data_validation" and "key" in params:
        params.setdefault("column", params.pop("key"))
    if "transient" in params:
        params["transient"] = True
    if "timeout_minutes" in params:
        params["timeout_minutes"] = int(params["timeout_minutes"])
    if category not in ("lint_failure",) and "file" not in params:
        frame = _project_frame(hits, winner)
        if frame is not None:
            params["file"] = _project_location(frame.groups["file"])
            params["line"] = int(frame.groups["line"])
    if "file" in params:
        params["file"] = _WORKSPACE.sub("", params["file"].replace("\\", "/"))
    if "line" in params:
        params["line"] = int(params["line"])
    return params


def _evidence(winner: Hit, hits: Sequence[Hit]) -> list[Hit]:
    same = [
        hit
        for hit in hits
        if hit is not winner
        and _is_failure(hit)
        and hit.rule.category == winner.rule.category
        and _same_place(hit, winner)
    ]
    same.sort(key=lambda hit: abs(hit.order - winner.order))
    chosen = [winner, *same[: MAX_EVIDENCE - 1]]
    chosen.sort(key=lambda hit: hit.order)
    return chosen


def _summary(category: str, winner: Hit, params: dict[str, Any]) -> str:
    detail = winner.text.strip()
    if len(detail) > 160:
        detail = detail[:157] + "..."
    step = f" in step '{params['step']}'" if "step" in params else ""
    return f"{_TITLES[category].capitalize()}{step}: {detail}"


def _unknown(scan: ScanResult, reason: str) -> Diagnosis:
    errors = [hit for hit in scan.hits if hit.rule.id == "actions-error"][-3:]
    evidence = tuple(Evidence(hit.line, hit.text) for hit in errors)
    params = {"step": errors[-1].step} if errors and errors[-1].step else {}
    return Diagnosis(
        "unknown",
        0.0,
        reason,
        evidence,
        params,
        failure_signature("unknown", [hit.text for hit in errors]),
    )


def select_root_cause(scan: ScanResult) -> Diagnosis:
    """Turn the hits of one scan into the diagnosis (pure: no I/O)."""
    if scan.bytes_scanned == 0 and scan.binary_sources:
        return _unknown(scan, "Input is binary (it contains NUL bytes), not a text log")
    if scan.bytes_scanned == 0:
        return _unknown(scan, "The log is empty")
    failures = [hit for hit in scan.hits if _is_failure(hit)]
    if not failures:
        return _unknown(scan, "No known failure pattern in the log; see the error lines")
    winner = min(failures, key=lambda hit: (-hit.rule.priority, hit.order))
    category = _category(winner, scan.hits)
    rivals = [
        hit
        for hit in failures
        if hit.rule.category != category and hit.rule.priority >= winner.rule.priority - 8
    ]
    confidence = winner.rule.confidence * (0.85 if rivals else 1.0)
    if winner.rule.priority < 30:
        confidence *= 0.7
    if scan.skipped_bytes:
        confidence *= 0.9
    if confidence < MIN_CONFIDENCE:
        return _unknown(scan, f"Too little evidence to name a cause (best guess {category})")
    params = _params(winner, scan.hits, category)
    if scan.skipped_bytes:
        params["skipped_bytes"] = scan.skipped_bytes
    evidence = _evidence(winner, scan.hits)
    decisive = [winner.text]
    if category == "test_failure":
        decisive += sorted(params.get("test_ids", []))
    return Diagnosis(
        category,
        round(confidence, 2),
        _summary(category, winner, params),
        tuple(Evidence(hit.line, hit.text) for hit in evidence),
        params,
        failure_signature(category, decisive),
    )
