"""The rule table: which log lines point at which failure category.

Rules are data, not code: an id, one regular expression, a category, a priority and
optional parameter extractors. Named groups in `pattern` (or in `extractors`) become
diagnosis parameters. A repository adds its own rules with `rules_from_config`.

A failure rule normally ignores warning lines; `on_warning_lines` makes it count there
too, for tools that report a real failure at warning level (pip's last network retry).

`raised_in` pairs (library, category) re-categorise a hit by where the exception was
raised: a `KeyError` from pandas' indexing is a missing column (data_validation), the
same `KeyError` from the project's own dict lookup is a bug (code_error).

Two kinds of rule carry no category: `step` marks an Actions step boundary, and
`context` lines (traceback frames, installed versions, config values) only feed the
parameters of whichever failure wins.

Patterns must be valid for Python `re`, Hyperscan and RE2 alike: no lookaround, no
backreferences. They are matched against raw log lines, so an Actions timestamp may
precede the text; anchor with the `TS` prefix rather than a bare `^`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from self_healing_bot.core.categories import PIPELINE_FAILURE_CATEGORIES

# The diagnosis names pipeline failures only; the ids are the taxonomy's, kept in one place.
CATEGORIES = PIPELINE_FAILURE_CATEGORIES

RuleKind = Literal["failure", "step", "context"]

# An optional Actions timestamp, then optional torchrun "[rank0]: " and pytest "E   " prefixes.
# Jenkins' timestamper writes "[2023-01-10T19:32:30.829Z] " instead.
TS = r"^(?:\[?\d{4}-\d\d-\d\dT[0-9:.]+Z\]? )?"
TS_E = TS + r"(?:\[(?:rank|default)\d*\]:?\s*)?(?:E\s+)?"


class RuleError(ValueError):
    """A rule in a repository's configuration is not usable; the message names it."""


@dataclass(frozen=True)
class Rule:
    """One row of the rule table.

    >>> Rule("my-oom", r"ran out of VRAM", "gpu_oom", priority=95)
    """

    id: str
    pattern: str
    category: str | None
    priority: int = 50
    confidence: float = 0.9
    extractors: tuple[str, ...] = ()
    ignore_case: bool = False
    kind: RuleKind = "failure"
    on_warning_lines: bool = False
    raised_in: tuple[tuple[str, str], ...] = ()


def _any(*alternatives: str) -> str:
    return "(?:" + "|".join(alternatives) + ")"


def _r(
    rule_id: str,
    pattern: str,
    category: str,
    priority: int,
    confidence: float = 0.9,
    *extractors: str,
    ignore_case: bool = False,
) -> Rule:
    return Rule(rule_id, pattern, category, priority, confidence, extractors, ignore_case)


def _context(rule_id: str, pattern: str, *extractors: str, ignore_case: bool = False) -> Rule:
    return Rule(rule_id, pattern, None, 0, 0.0, extractors, ignore_case, kind="context")


# Classes whose instances, when an attribute is missing, mean the library changed its API
# under the project (pandas 2 dropped `DataFrame.append` and `.iteritems`), mapped to the
# distribution to pin.
LIBRARY_OBJECT_TYPES: dict[str, str] = {
    "DataFrame": "pandas",
    "Series": "pandas",
    "Index": "pandas",
    "DataFrameGroupBy": "pandas",
    "SeriesGroupBy": "pandas",
    "Categorical": "pandas",
    "ndarray": "numpy",
    "Tensor": "torch",
    "Parameter": "torch",
    "LazyFrame": "polars",
    "KerasTensor": "keras",
    "Booster": "xgboost",
    "DMatrix": "xgboost",
    "DatasetDict": "datasets",
    "IterableDataset": "datasets",
}

# numpy prints sizes with "%.3g", so "201. GiB" (trailing dot) is a real format.
_BYTES = r"(?P<amount>\d+(?:\.\d*)?) ?(?P<unit>[KMGT]i?B|bytes)"
_PIP_REQ = r"(?P<package>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?(?P<spec>[<>=!~][^ ,;)'\"]*(?:,[<>=!~][^ ,;)'\"]*)*)?"  # noqa: E501

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("actions-step", TS + r"##\[group\]Run ", None, kind="step"),
    _context("actions-error", TS + r"##\[error\]"),
    # --- context: parameters only ---
    _context(
        "python-frame",
        r'File "[^"]+", line \d+',
        r'File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>[\w.<>]+))?',
    ),
    # pytest's own traceback locations: "pkg/mod.py:57: in func" or "...py:5989: KeyError".
    _context(
        "pytest-frame",
        TS + r"[\w./-]+\.py:\d+: (?:in [\w<>]+|[A-Z]\w*(?:Error|Exception))[ \t]*$",
        r"(?P<file>[\w./-]+\.py):(?P<line>\d+): (?:in (?P<function>[\w<>]+))?",
    ),
    _context(
        "pip-installed",
        r"Successfully installed ",
        r"Successfully installed (?P<installed>.+)$",
    ),
    _context(
        "pip-already-installed",
        r"Requirement already satisfied: [A-Za-z0-9._-]+ in \S+ \([0-9]",
        r"Requirement already satisfied: (?P<installed_name>[A-Za-z0-9._-]+) in \S+ \((?P<installed_version>[0-9][^)]*)\)",  # noqa: E501
    ),
    _context(
        "config-batch-size",
        r"batch[_-]?size['\"]?\s*[=:]\s*\d+",
        r"(?P<config_key>(?:per_device_train_|train_|eval_)?batch[_-]?size)['\"]?\s*[=:]\s*(?P<config_value>\d+)",
        ignore_case=True,
    ),
    _context(
        "config-learning-rate",
        r"(?:learning[_-]rate|\b(?:base_)?lr)['\"]?\s*[=:]\s*[0-9.eE+-]+",
        r"(?P<config_key>learning[_-]rate|(?:base_)?lr)['\"]?\s*[=:]\s*(?P<config_value>[0-9.eE+-]+)",
        ignore_case=True,
    ),
    # --- accelerator memory ---
    _r(
        "torch-cuda-oom",
        _any(
            r"CUDA out of memory",
            r"OutOfMemoryError",
            r"CUDA error: out of memory",
            r"cudaErrorMemoryAllocation",
        ),
        "gpu_oom",
        92,
        0.95,
        r"Tried to allocate " + _BYTES,
    ),
    _r(
        "mps-oom", r"MPS backend out of memory", "gpu_oom", 92, 0.95, r"Tried to allocate " + _BYTES
    ),
    _r(
        "tf-oom",
        r"(?:OOM when allocating tensor|ResourceExhaustedError)",
        "gpu_oom",
        90,
        0.9,
        r"OOM when allocating tensor with shape\s*\[(?P<shape>[0-9,]+)\] and type (?P<dtype>\w+)",
    ),
    _r(
        "xla-oom",
        _any(
            r"RESOURCE_EXHAUSTED: Out of memory",
            r"RESOURCE_EXHAUSTED: Failed to allocate",
            r"RESOURCE_EXHAUSTED: .*(?:allocat|memory)",
            r"Ran out of memory in memory space",
            r"CUDA_ERROR_OUT_OF_MEMORY",
        ),
        "gpu_oom",
        92,
        0.93,
        # XLA prints the exact size in parentheses: "request for 1.50GiB (1610612736B)".
        r"\((?P<amount>\d+)(?P<unit>B)\)",
        r"allocat(?:e|ing) (?P<amount>\d+) ?(?P<unit>bytes)",
        r"allocat(?:e|ing) " + _BYTES,
    ),
    # --- host memory ---
    _r(
        "numpy-unable-to-allocate",
        r"Unable to allocate \d",
        "host_oom",
        88,
        0.93,
        r"Unable to allocate " + _BYTES,
    ),
    _r("python-memoryerror", TS_E + r"(?:\w+\.)*MemoryError\b", "host_oom", 86, 0.9),
    _r("cpp-bad-alloc", r"std::bad_alloc", "host_oom", 86, 0.85),
    _r("oom-killer", r"(?:Out of memory: Killed process|oom-kill|OOMKilled)", "host_oom", 86, 0.9),
    _r(
        "dataloader-killed",
        r"DataLoader worker \(pid\(?s?\)? ?[\d, {}]*\)? (?:is killed by signal: Killed|exited unexpectedly)",  # noqa: E501
        "host_oom",
        86,
        0.85,
    ),
    _r("shell-killed", r"(?:^|\s|: )Killed[ \t]*(?:python|$)", "host_oom", 80, 0.75),
    _r("exit-137", r"exit(?:ed with)? code:? 137\b", "host_oom", 78, 0.7),
    _r(
        # torchrun/accelerate report a child killed by the kernel's OOM killer as SIGKILL.
        "child-sigkill",
        r"(?:exitcode\s*: -9\b|Signal 9 \(SIGKILL\) received by PID)",
        "host_oom",
        78,
        0.7,
    ),
    _r(
        # GitHub's own wording names memory starvation as the usual cause.
        "runner-lost-communication",
        r"lost communication with the server\. .*starves it for CPU/Memory",
        "host_oom",
        60,
        0.6,
    ),
    # --- GPU runtime ---
    _r("cuda-device-assert", r"device-side assert triggered", "cuda_error", 84, 0.9),
    _r("cuda-illegal-access", r"illegal memory access was encountered", "cuda_error", 84, 0.9),
    _r(
        "cuda-no-device",
        _any(
            r"No CUDA GPUs are available",
            r"no CUDA-capable device is detected",
            r"Found no NVIDIA driver",
            r"NVIDIA driver on your system is too old",
            r"CUDA driver version is insufficient",
            r"Torch not compiled with CUDA enabled",
            r"cudaErrorNoDevice",
            r"NVIDIA-SMI has failed",
            r"CUDA Setup failed despite GPU being available",
        ),
        "cuda_error",
        84,
        0.9,
    ),
    _r(
        "cuda-library-status",
        _any(
            r"CUDNN_STATUS_[A-Z_]+",
            r"CUBLAS_STATUS_[A-Z_]+",
            r"cuDNN error",
            r"CUDA error: [a-z]",
            r"DNN library initialization failed",
            r"Loaded runtime CuDNN library: .* but source was compiled with",
            r"CuDNN library needs to have matching major version",
            r"Could not create cudnn handle",
            r"Unable to load any of \{libcudnn",
            r"Unable to initialize backend 'cuda'",
            r"CUDA backend failed to initialize",
            r"CUDA_ERROR_[A-Z_]+",
            r"cuInit\(0\) failed",
        ),
        "cuda_error",
        82,
        0.85,
    ),
    _r(
        "nccl-error",
        _any(
            r"NCCL error",
            r"ncclInternalError",
            r"ncclUnhandledCudaError",
            r"ncclSystemError",
            r"ncclRemoteError",
            r"Watchdog caught collective operation timeout",
            r"NCCL communicator was aborted",
            r"ProcessGroupNCCL",
        ),
        "cuda_error",
        70,
        0.8,
        # A collective that timed out is usually a straggler or a network blip: re-run once.
        r"(?P<transient>Watchdog caught collective operation timeout|ncclRemoteError)",
    ),
    _r(
        "ecc-error",
        r"uncorrectable ECC error",
        "cuda_error",
        84,
        0.9,
        r"(?P<transient>uncorrectable ECC error)",
    ),
    # --- disk ---
    _r(
        "no-space",
        _any(
            r"No space left on device",
            r"Disk quota exceeded",
            r"ENOSPC",
            r"not enough (?:free )?(?:disk )?space",
            r"running out of disk space",
        ),
        "disk_full",
        94,
        0.95,
        ignore_case=True,
    ),
    # --- package managers ---
    _r(
        "pip-no-version",
        r"Could not find a version that satisfies the requirement ",
        "dependency_resolution",
        80,
        0.92,
        r"satisfies the requirement " + _PIP_REQ + r"(?: \(from versions: (?P<available>[^)]*)\))?",
    ),
    _r(
        "pip-no-distribution",
        r"No matching distribution found for ",
        "dependency_resolution",
        80,
        0.92,
        r"No matching distribution found for " + _PIP_REQ,
    ),
    _r(
        "pip-resolution-impossible",
        _any(
            r"ResolutionImpossible",
            r"Cannot install .+ because these package versions have conflicting dependencies",
            r"resolution-too-deep",
            r"ResolutionTooDeep",
            r"Dependency resolution exceeded maximum depth",
        ),
        "dependency_resolution",
        80,
        0.92,
    ),
    _r(
        "pip-conflict-detail",
        r"(?:The user requested [A-Za-z0-9]|[A-Za-z0-9._-]+ [0-9][^ ]* depends on [A-Za-z0-9])",
        "dependency_resolution",
        20,
        0.5,
        r"The user requested " + _PIP_REQ,
        r"(?P<dependent>[A-Za-z0-9._-]+) [0-9][^ ]* depends on " + _PIP_REQ,
    ),
    _r(
        "conda-unsatisfiable",
        _any(
            r"UnsatisfiableError",
            r"PackagesNotFoundError",
            r"LibMambaUnsatisfiableError",
            r"nothing provides",
            r"Could not solve for environment specs",
            r"ResolvePackageNotFound",
            r"does not exist \(perhaps a typo or a missing channel\)",
        ),
        "dependency_resolution",
        80,
        0.9,
        r"nothing provides (?:requested )?" + _PIP_REQ,
        r"(?P<package>[A-Za-z0-9_.-]+) (?P<spec>[0-9][^ ]*)\s+does not exist",
    ),
    _r(
        "conda-missing-spec",
        TS + r"[ \t]+- (?:nothing provides (?:requested )?)?[A-Za-z0-9_-]+(?:==?|\s)[0-9*]",
        "dependency_resolution",
        15,
        0.4,
        r"-\s+(?:nothing provides (?:requested )?)?(?P<package>[A-Za-z0-9_.-]+)(?P<spec>(?:==?|\s)[0-9][^ ]*)",  # noqa: E501
    ),
    _r(
        "poetry-solver",
        _any(
            r"SolverProblemError",
            r"version solving failed",
            r"Unable to find installation candidates for",
            r"because no versions of [A-Za-z0-9]",
        ),
        "dependency_resolution",
        80,
        0.9,
        r"depends on (?:both )?(?P<package>[A-Za-z0-9._-]+) \((?P<spec>[^)]+)\)",
        r"no versions of (?P<package>[A-Za-z0-9._-]+) match (?P<spec>\S+)",
    ),
    _r(
        "uv-no-solution",
        _any(
            r"No solution found when resolving dependencies",
            r"your requirements are unsatisfiable",
            r"requirements are unsatisfiable",
            # The explanation's first line names the user's own requirement first.
            r"(?:─▶|`->) Because .* you require ",
        ),
        "dependency_resolution",
        80,
        0.9,
        r"you require (?P<package>[A-Za-z0-9._-]+)(?P<spec>[<>=!~][^ ,]*)",
        r"(?P<package>[A-Za-z0-9._-]+)(?P<spec>[<>=!~][^ ,]*) was not found in the package registry",  # noqa: E501
    ),
    _r(
        "pip-build-failure",
        _any(
            r"Failed building wheel for ",
            r"Could not build wheels for ",
            r"Failed to build installable wheels",
            r"metadata-generation-failed",
        ),
        "dependency_resolution",
        55,
        0.6,
        r"(?:wheels? for|building wheel for) (?P<package>[A-Za-z0-9._-]+)",
    ),
    _r(
        "pip-dependency-conflict-warning",
        r"pip's dependency resolver does not currently take into account",
        "dependency_resolution",
        10,
        0.4,
    ),
    # --- imports ---
    _r(
        "module-not-found",
        r"(?:ModuleNotFoundError: |ImportError: )No module named ",
        "missing_dependency",
        76,
        0.93,
        r"No module named '?(?P<module>[A-Za-z0-9_.]+)",
    ),
    _r(
        "shared-library-missing",
        r"(?:ImportError|OSError): (?P<library>lib[A-Za-z0-9_.+-]+\.so[0-9.]*): cannot open shared object file",  # noqa: E501
        "missing_dependency",
        76,
        0.9,
    ),
    _r(
        # Libraries that guard optional imports say so in their own words.
        "import-requires-install",
        r"ImportError: .*(?:Missing optional dependency|requires the \S+ library but it was not found|requires `?[A-Za-z]|is not installed|pip install )",  # noqa: E501
        "missing_dependency",
        76,
        0.85,
        r"not found in your environment: (?P<package>[A-Za-z][\w-]*(?:\.[\w-]+)*)",
        r"requires `?(?P<package>[A-Za-z][\w.-]*)(?P<spec>[<>=!~][^`: ]*)?`?",
        r"Missing optional dependency '(?P<package>[\w.-]+)'",
        r"(?P<package>[A-Za-z][\w.-]*) is not installed",
        r"pip install (?:-U )?`?(?P<package>[A-Za-z][\w.-]*)",
    ),
    _r(
        "command-not-found",
        r"(?:: command not found|: not found$|Failed to spawn: `)",
        "missing_dependency",
        45,
        0.6,
        r"(?P<command>[A-Za-z0-9_.-]+): command not found",
        # uv runs console scripts from the project's environment: the package is missing.
        r"Failed to spawn: `(?P<package>[^`]+)`",
    ),
    _r(
        "circular-or-own-import",
        _any(
            r"partially initialized module",
            r"most likely due to a circular import",
            r"cannot import name '[A-Za-z0-9_]+' from '[A-Za-z0-9_.]+' \((?:/home/runner/work|/__w|/github/workspace)/",  # noqa: E501
        ),
        "code_error",
        74,
        0.85,
    ),
    Rule(
        # A private submodule (torch._six) of an installed package: a new release removed it.
        "private-submodule-removed",
        r"No module named '[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*\._[A-Za-z0-9_]+'",
        "dependency_api_change",
        78,
        0.85,
        (r"No module named '(?P<module>[A-Za-z0-9_.]+)'",),
    ),
    _r(
        "library-object-attribute",
        TS_E
        + r"AttributeError: '(?:"
        + "|".join(LIBRARY_OBJECT_TYPES)
        + r")' object has no attribute '",
        "dependency_api_change",
        72,
        0.8,
        r"'(?P<object_type>\w+)' object has no attribute '(?P<name>\w+)'",
    ),
    _r(
        "cannot-import-name",
        r"ImportError: cannot import name '",
        "dependency_api_change",
        72,
        0.85,
        r"cannot import name '(?P<name>[A-Za-z0-9_]+)' from '(?P<module>[A-Za-z0-9_.]+)'(?: \((?P<module_path>[^)]+)\))?",  # noqa: E501
    ),
    _r(
        "module-has-no-attribute",
        TS_E + r"AttributeError: module '[A-Za-z0-9_.]+' has no attribute '",
        "dependency_api_change",
        72,
        0.88,
        r"module '(?P<module>[A-Za-z0-9_.]+)' has no attribute '(?P<name>[A-Za-z0-9_]+)'",
    ),
    _r(
        "unexpected-keyword",
        r"TypeError: .*(?:got an unexpected keyword argument|got multiple values for argument) '",
        "dependency_api_change",
        66,
        0.75,
        r"TypeError: (?P<callable>[A-Za-z0-9_.]+)\(\) got an unexpected keyword argument '(?P<name>[A-Za-z0-9_]+)'",  # noqa: E501
    ),
    _r(
        "removed-api",
        r"(?:was removed in (?:the )?\S+ [0-9.]+ release|has been removed in (?:version )?[0-9.]+|was removed in (?:version )?[0-9.]+)",  # noqa: E501
        "dependency_api_change",
        72,
        0.8,
    ),
    # --- data ---
    _r(
        "file-not-found",
        TS_E
        + r"(?:FileNotFoundError|OSError|IOError)?:? ?\[Errno 2\] No such file or directory: '",
        "data_missing",
        70,
        0.85,
        r"No such file or directory: '(?P<path>[^']+)'",
    ),
    _r(
        "file-not-found-generic",
        TS_E + r"(?:[\w.]+\.)?FileNotFoundError: ",
        "data_missing",
        68,
        0.8,
        r"FileNotFoundError: (?:.*?)(?P<path>[\w.~=@+-]*/[^\s'\",]+|[\w-]+\.(?:csv|parquet|json|jsonl|pt|pth|ckpt|h5|pkl|npy|npz|txt|bin|safetensors|yaml|yml))",  # noqa: E501
    ),
    _r(
        "dvc-missing",
        _any(
            r"failed to pull data from the cloud",
            r"Checkout failed for following targets",
            r"missing cache files",
            r"is missing from the cache",
            r"failed to fetch data from the cloud",
            r"Some of the cache files do not exist",
        ),
        "data_missing",
        72,
        0.85,
    ),
    _r(
        # dvc lists each missing file as "name: <path>, md5: <hash>" under its warning.
        "dvc-missing-entry",
        TS + r"name: \S+, md5: [0-9a-f]+",
        "data_missing",
        30,
        0.5,
        r"name: (?P<path>[^\s,]+), md5:",
    ),
    _r(
        "object-store-missing",
        _any(
            r"NoSuchKey",
            r"NoSuchBucket",
            r"The specified key does not exist",
            r"404 Client Error",
            r"Not Found for url",
            r"HeadObject operation: Not Found",
            r"No such object: ",
            r"An error occurred \((?:404|NoSuchKey|NoSuchBucket)\)",
        ),
        "data_missing",
        69,
        0.8,
        r"No such object: (?P<gcs_object>\S+)",
        r"(?P<path>s3://[^\s'\"]+|gs://[^\s'\"]+)",
        r"for url: (?P<path>\S+)",
    ),
    _r(
        "hub-dataset-missing",
        _any(
            r"DatasetNotFoundError",
            r"EntryNotFoundError",
            r"RevisionNotFoundError",
            r"doesn't exist on the Hub",
            r"Couldn't find a dataset script",
            r"Couldn't find any data file",
            r"is not a local folder and is not a valid model identifier",
        ),
        "data_missing",
        70,
        0.85,
        r"(?:Dataset|Repository|dataset) '(?P<path>[^']+)'",
        r"(?P<path>[\w.-]+/[\w.-]+) is not a local folder",
    ),
    _r(
        # transformers/huggingface_hub when the Hub is unreachable and nothing is cached:
        # the model is missing only because the remote was down, so a re-run can fix it.
        "hub-unreachable",
        r"We couldn't connect to '[^']+' to load",
        "data_missing",
        73,
        0.8,
        r"(?P<transient>We couldn't connect to) '(?P<url>[^']+)'",
        r"it looks like (?P<path>\S+) is not the path",
    ),
    _r(
        "mlflow-missing",
        _any(
            r"RESOURCE_DOES_NOT_EXIST",
            r"Registered Model with name=\S+ not found",
            r"No such run",
            r"Run '[0-9a-f]+' not found",
        ),
        "data_missing",
        70,
        0.8,
    ),
    _r(
        "checkpoint-missing",
        _any(
            r"checkpoint .* not found",
            r"Checkpoint at .* not found",
            r"No checkpoint found",
            r"Unable to load weights from",
            r"Error no file named",
        ),
        "data_missing",
        66,
        0.75,
        ignore_case=True,
    ),
    _r(
        "schema-validation",
        _any(
            r"SchemaError",
            r"SchemaErrors",
            r"ValidationError: .*column",
            r"Validation failed",
            r"expectation failed",
            r"ExpectationFailed",
            r"SchemaMismatch",
            r"schema mismatch",
            r"DataValidationError",
        ),
        "data_validation",
        62,
        0.8,
        r"[Cc]olumn '(?P<column>[^']+)'",
    ),
    _r(
        "nan-inf-input",
        _any(
            r"Input contains NaN",
            r"Input X contains NaN",
            r"Input contains infinity",
            r"contains NaN, infinity",
            r"NaN or Inf found in input",
        ),
        "data_validation",
        66,
        0.88,
    ),
    _r(
        "shape-mismatch",
        _any(
            r"shapes cannot be multiplied",
            r"size mismatch for",
            r"is incompatible with the layer",
            r"features, but \w+ is expecting",
            r"Found input variables with inconsistent numbers of samples",
            r"feature_names mismatch",
            r"feature_names must be",
            r"Shapes .* are incompatible",
            r"Dimensions must be equal",
            r"expected input\[",
            r"The size of tensor a",
        ),
        "data_validation",
        60,
        0.8,
    ),
    _r(
        # pandas' own words for labels missing from the columns.
        "column-keyerror",
        TS_E + r"KeyError: \"(?:\[.*\] not in index|\[.*\] not found in axis|None of \[)",
        "data_validation",
        56,
        0.75,
        r"KeyError: \"?\[?'(?P<column>[^']+)'",
    ),
    _r(
        "value-conversion",
        _any(
            r"could not convert string to float",
            r"invalid literal for int\(\) with base 10",
            r"Unable to parse string",
            r"cannot convert float NaN to integer",
            r"ArrowInvalid",
            r"ArrowTypeError",
            r"ComputeError",
            r"Unknown label type",
            r"contains non-numeric",
            r"dtype mismatch",
        ),
        "data_validation",
        58,
        0.75,
    ),
    # --- training divergence ---
    _r(
        "loss-nan",
        _any(
            r"loss[\"']?\s*[=:]\s*[\"']?-?(?:nan|inf)\b",
            r"loss is (?:nan|inf)",
            r"loss became (?:nan|inf)",
            r"Detected NaN",
            r"NaN loss",
            r"Loss is NaN",
            r"is not finite",
            r"Invalid loss, terminating training",
            r"returned nan values",
            r"Tensor had NaN values",
            r"invalid value \(nan\) encountered",
            r"-(?:rmse|logloss|mlogloss|error|auc):nan",
            r"Gradient overflow\. Skipping step",
            r"NaN detected",
            r"loss scale already at minimum",
        ),
        "nan_loss",
        74,
        0.88,
        ignore_case=True,
    ),
    # --- time limits ---
    _r(
        "actions-max-time",
        _any(
            r"has exceeded the maximum execution time of",
            r"The action has timed out",
            r"has timed out after \d+ minutes",
        ),
        "timeout",
        76,
        0.92,
        r"maximum execution time of (?P<timeout_minutes>\d+) minutes",
        r"timed out after (?P<timeout_minutes>\d+) minutes",
    ),
    _r(
        "pytest-timeout",
        r"(?:Failed: Timeout >|\+{5,} Timeout \+{5,}|Timeout \(\d+:\d\d:\d\d\)!)",
        "timeout",
        76,
        0.9,
        r"Timeout >(?P<seconds>[0-9.]+)s",
    ),
    _r(
        "subprocess-timeout",
        r"(?:TimeoutExpired: Command .* timed out after|Timed out after \d+ seconds waiting)",
        "timeout",
        72,
        0.8,
    ),
    _r("operation-canceled", r"The operation was canceled\.", "timeout", 25, 0.5),
    # --- network ---
    _r(
        "connection-failure",
        _any(
            r"Connection reset by peer",
            r"Connection refused",
            r"Connection aborted",
            r"RemoteDisconnected",
            r"Read timed out",
            r"ReadTimeout",
            r"ConnectTimeout",
            r"ConnectTimeoutError",
            r"timed out while connecting",
            r"Temporary failure in name resolution",
            r"Name or service not known",
            r"nodename nor servname",
            r"Could not resolve host",
            r"CONNECTION FAILED",
            r"CondaHTTPError",
            r"the remote end hung up unexpectedly",
            r"RPC failed; curl",
            r"problem confirming the ssl certificate",
            r"getaddrinfo failed",
            r"Max retries exceeded with url",
            r"NewConnectionError",
            r"Failed to establish a new connection",
            r"[Cc]ould(?:n't| not) connect to",
            r"ECONNRESET",
            r"ETIMEDOUT",
            r"EAI_AGAIN",
            r"Network is unreachable",
            r"IncompleteRead",
            r"SSLError",
            r"SSL: UNEXPECTED_EOF",
            r"ChunkedEncodingError",
            r"Connection timed out",
            r"ConnectionError",
            r"The read operation timed out",
            r"TLS handshake timeout",
            r"handshake timed out",
            r"awaiting headers\)",
            r"request canceled while waiting for connection",
            r"dial tcp [^ ]+: i/o timeout",
            r"ECONNREFUSED",
            r"ENOTFOUND",
            r"EHOSTUNREACH",
            r"socket hang up",
            r"Temporary failure resolving",
            r"Hash Sum mismatch",
            r"Failed to connect to \S+ port \d+",
            r"gnutls_handshake\(\) failed",
            r"Connection closed by remote host",
            r"Connection was closed",
            r"ProtocolError\('Connection",
            r"ServerDisconnectedError",
            r"ClientConnectorError",
            r"EndpointConnectionError",
        ),
        "network_transient",
        72,
        0.85,
        r"(?:url: |host=')(?P<url>[^\s')]+)",
    ),
    Rule(
        # pip logs each retry as a WARNING; the last one (total=0) means the index was
        # unreachable, so a following "from versions: none" is a network failure.
        "pip-retries-exhausted",
        r"Retrying \(Retry\(total=0,",
        "network_transient",
        85,
        0.85,
        (r"connection broken by '(?P<error>\w+)", r"\)\)?\"?\)?'?: (?P<url>/\S+)"),
        on_warning_lines=True,
    ),
    _r(
        "http-5xx",
        _any(
            r"\b50[0234] Server Error",
            r"\b429 Client Error",
            r"Too Many Requests",
            r"Service Unavailable",
            r"Bad Gateway",
            r"Gateway Time-?out",
            r"Internal Server Error",
            r"HTTP Error 50[0234]",
            r"HTTP Error 429",
            r"status code:? 50[0234]",
            r"rate limit exceeded",
            r"Rate limit reached",
            r"returned error: 50[0234]",
            r"\(SlowDown\)",
            r"reduce your request rate",
        ),
        "network_transient",
        70,
        0.8,
        ignore_case=True,
    ),
    # --- credentials ---
    _r(
        "auth-failure",
        _any(
            r"401 Client Error",
            r"HTTP Error 40[13]",
            r"403 Client Error",
            r"Bad credentials",
            r"NoCredentialsError",
            r"Unable to locate credentials",
            r"Resource not accessible by integration",
            r"GatedRepoError",
            r"gated repo",
            r"is restricted",
            r"Access to model .* is restricted",
            r"Invalid username or password",
            r"Authentication failed",
            r"Permission denied \(publickey\)",
            r"Permission to \S+ denied",
            r"InvalidAccessKeyId",
            r"SignatureDoesNotMatch",
            r"ExpiredToken",
            r"security token included in the request is invalid",
            r"AccessDenied",
            r"Access Denied",
            r"Unauthorized",
            r"api_key not configured",
            r"Invalid API key",
            r"invalid token",
            r"Token is required",
            r"HTTP 401",
            r"HTTP 403",
            r"requested access to the resource is denied",
            r"Must have admin rights",
            r"could not read Username",
            r"\b40[13] (?:GET|POST|PUT|PATCH|DELETE|HEAD) http",
            r"exceptions\.Forbidden",
            r"does not have [\w.]+ access to",
            r"Permission '[\w.]+' denied",
            r"error code 40[13] != 200",
            r"401 Authorization Required",
            # boto3/botocore: "An error occurred (403) when calling the HeadObject operation".
            r"An error occurred \((?:40[13]|AccessDenied|Forbidden|InvalidAccessKeyId|ExpiredToken|UnauthorizedOperation|InvalidClientTokenId|AuthFailure)\)",  # noqa: E501
            r"operation: Forbidden",
            r"\b403 Forbidden",
            r"status(?: code)?[:= ]+40[13]\b",
            r"denied: (?:requested access|permission|installation not allowed)",
            r"remote: Repository not found",
            r"could not read Password",
            r"Write access to repository not granted",
            r"Credentials could not be loaded",
            r"Could not load credentials",
            r"Login to the Hub first",
            r"Invalid user token",
            r"You must be logged in",
            r"secret \S+ is not set",
        ),
        "auth_error",
        78,
        0.88,
        ignore_case=True,
    ),
    # --- linters ---
    _r(
        "linter-diagnostic",
        TS + r"\.?/?[\w./-]+\.pyi?:\d+:\d+: [A-Z]{1,3}\d{2,4}\b",
        "lint_failure",
        60,
        0.9,
        r"(?P<file>[\w./-]+\.pyi?):(?P<line>\d+):\d+: (?P<rule>[A-Z]{1,3}\d{2,4})",
    ),
    _r(
        "ruff-full-location",
        TS + r"[ \t]*--> [\w./-]+\.pyi?:\d+:\d+",
        "lint_failure",
        58,
        0.8,
        r"--> (?P<file>[\w./-]+\.pyi?):(?P<line>\d+)",
    ),
    _r(
        "ruff-summary",
        TS + r"Found \d+ errors?\.?[ \t]*(?:\(\d+ fixed, \d+ remaining\)\.)?[ \t]*$",
        "lint_failure",
        58,
        0.85,
    ),
    _r(
        "mypy-error",
        TS + r"[\w./-]+\.pyi?:\d+: error: ",
        "lint_failure",
        60,
        0.9,
        r"(?P<file>[\w./-]+\.pyi?):(?P<line>\d+): error: .*\[(?P<rule>[a-z-]+)\]",
    ),
    _r(
        "mypy-summary",
        r"Found \d+ errors? in \d+ files? \(checked \d+ source files?\)",
        "lint_failure",
        60,
        0.9,
    ),
    _r(
        "formatter-check",
        _any(
            r"[Ww]ould reformat:? ",
            r"\d+ files? would be reformatted",
            r"Imports are incorrectly sorted",
            r"Oh no! ",
        ),
        "lint_failure",
        60,
        0.88,
        r"[Ww]ould reformat:? (?P<file>\S+)",
    ),
    _r(
        "pre-commit-hook",
        r"\.{4,}(?:\x1b\[[0-9;]*m)?Failed",
        "lint_failure",
        55,
        0.8,
        r"^(?P<hook>[^.]+?)\.{4,}",
    ),
    # --- tests ---
    _r(
        "pytest-failed",
        TS + r"(?:FAILED|ERROR) [\w./-]+\.py::",
        "test_failure",
        40,
        0.85,
        r"(?:FAILED|ERROR) (?P<test_id>[\w./-]+\.py::[^ ]+)",
    ),
    _r(
        "pytest-summary",
        r"={3,} (?:\d+ errors?, )?\d+ failed",
        "test_failure",
        38,
        0.8,
    ),
    _r(
        "assertion",
        TS_E + r"(?:AssertionError\b|assert )",
        "test_failure",
        42,
        0.8,
    ),
    _r(
        "unittest-fail",
        TS + r"(?:FAIL|ERROR): test\w* \(",
        "test_failure",
        40,
        0.8,
        r"(?:FAIL|ERROR): (?P<test_name>test\w*) \((?P<test_class>[\w.]+)\)",
    ),
    _r("unittest-summary", TS + r"FAILED \((?:failures|errors)=\d+", "test_failure", 38, 0.75),
    # --- the project's own bugs ---
    _r(
        "python-syntax",
        TS_E + r"(?:SyntaxError|IndentationError|TabError): ",
        "code_error",
        64,
        0.9,
    ),
    _r(
        "python-exception",
        TS_E
        + r"(?:[\w.]+\.)?(?:TypeError|ValueError|IndexError|NameError|UnboundLocalError|ZeroDivisionError|RecursionError|NotImplementedError|AttributeError|RuntimeError|LookupError|OverflowError|UnicodeDecodeError): ",  # noqa: E501
        "code_error",
        50,
        0.7,
    ),
    Rule(
        "keyerror",
        TS_E + r"(?:[\w.]+\.)?KeyError: ",
        "code_error",
        50,
        0.7,
        (r"KeyError: \"?\[?'(?P<key>[^']+)'",),
        raised_in=(("pandas", "data_validation"), ("polars", "data_validation")),
    ),
    _r(
        # Any other uncaught exception: better a pointer at the code than no diagnosis.
        "uncaught-exception",
        TS_E + r"(?:[a-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception): \S",
        "code_error",
        34,
        0.55,
    ),
)


def validate_rule(rule: Rule) -> None:
    """Raise `RuleError` naming the rule if its category, priority or patterns are unusable."""
    if rule.kind == "failure" and rule.category not in CATEGORIES:
        raise RuleError(
            f"rule {rule.id!r}: unknown category {rule.category!r}; use one of {', '.join(CATEGORIES)}"  # noqa: E501
        )
    if not 0 <= rule.priority <= 100:
        raise RuleError(f"rule {rule.id!r}: priority {rule.priority} is outside 0..100")
    if not 0.0 <= rule.confidence <= 1.0:
        raise RuleError(f"rule {rule.id!r}: confidence {rule.confidence} is outside 0..1")
    for pattern in (rule.pattern, *rule.extractors):
        try:
            re.compile(pattern)
        except re.error as error:
            raise RuleError(f"rule {rule.id!r}: invalid pattern {pattern!r}: {error}") from error


def rules_from_config(entries: Sequence[Mapping[str, object]]) -> tuple[Rule, ...]:
    """Build extra rules from a repository config's `diagnosis.rules` list.

    >>> rules_from_config([{"id": "vram", "pattern": "ran out of VRAM",
    ...                     "category": "gpu_oom", "priority": 95}])
    """
    rules = []
    for index, entry in enumerate(entries):
        unknown_keys = set(entry) - {
            "id",
            "pattern",
            "category",
            "priority",
            "confidence",
            "params",
        }
        if unknown_keys:
            raise RuleError(f"rule #{index + 1}: unknown keys {sorted(unknown_keys)}")
        rule_id, pattern, category = entry.get("id"), entry.get("pattern"), entry.get("category")
        if not isinstance(rule_id, str) or not isinstance(pattern, str):
            raise RuleError(f"rule #{index + 1}: 'id' and 'pattern' must be strings")
        if not isinstance(category, str):
            raise RuleError(f"rule {rule_id!r}: 'category' must be a string")
        priority = entry.get("priority", 60)
        confidence = entry.get("confidence", 0.9)
        params = entry.get("params", [])
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise RuleError(f"rule {rule_id!r}: 'priority' must be an integer")
        if not isinstance(confidence, int | float) or isinstance(confidence, bool):
            raise RuleError(f"rule {rule_id!r}: 'confidence' must be a number")
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise RuleError(
                f"rule {rule_id!r}: 'params' must be a list of regexes with named groups"
            )
        rule = Rule(rule_id, pattern, category, priority, float(confidence), tuple(params))
        validate_rule(rule)
        rules.append(rule)
    return tuple(rules)
