"""Every "typical evidence" example in ../shared/TAXONOMY.md, one row each, classifies right.

The table is the floor the category ids promise to playbooks: if a row here fails, the
taxonomy says one thing and the detector does another.
"""

from __future__ import annotations

import pytest

from self_healing_bot.diagnosis import diagnose_lines

PROJECT = "/home/runner/work/shop/shop"
SITE = "/opt/hostedtoolcache/Python/3.11.9/x64/lib/python3.11/site-packages"


def _raised_in(path: str, line: int, error: str) -> list[str]:
    return [
        "Traceback (most recent call last):",
        f'  File "{PROJECT}/train.py", line 9, in <module>',
        "    main()",
        f'  File "{path}", line {line}, in run',
        "    step()",
        error,
    ]


EVIDENCE: list[tuple[str, str, list[str]]] = [
    # gpu_oom
    (
        "gpu_oom",
        "torch.cuda.OutOfMemoryError",
        ["torch.cuda.OutOfMemoryError: CUDA out of memory. GPU 0 has a total capacity of 15 GiB"],
    ),
    (
        "gpu_oom",
        "CUDA out of memory. Tried to allocate",
        ["RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total)"],
    ),
    (
        "gpu_oom",
        "TF ResourceExhaustedError ... OOM when allocating tensor",
        [
            "tensorflow.python.framework.errors_impl.ResourceExhaustedError: "
            "OOM when allocating tensor with shape[64,512,512] and type float on "
            "/job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc"
        ],
    ),
    (
        "gpu_oom",
        "JAX RESOURCE_EXHAUSTED on device",
        [
            "jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Failed to allocate "
            "request for 1.50GiB (1610612736B) on device ordinal 0"
        ],
    ),
    (
        "gpu_oom",
        "MPS out of memory",
        [
            "RuntimeError: MPS backend out of memory (MPS allocated: 8.12 GB, other "
            "allocations: 1.02 GB, max allowed: 9.07 GB). "
            "Tried to allocate 256.00 MB on private pool."
        ],
    ),
    # host_oom
    ("host_oom", "MemoryError", _raised_in(f"{PROJECT}/features.py", 12, "MemoryError")),
    (
        "host_oom",
        "Killed / exit code 137",
        [
            "/home/runner/work/_temp/9f1c.sh: line 1:  2930 Killed                  pytest -q",
            "##[error]Process completed with exit code 137.",
        ],
    ),
    (
        "host_oom",
        "std::bad_alloc",
        [
            "terminate called after throwing an instance of 'std::bad_alloc'",
            "  what():  std::bad_alloc",
        ],
    ),
    (
        "host_oom",
        "Unable to allocate 3.2 GiB for an array",
        [
            "numpy.core._exceptions._ArrayMemoryError: Unable to allocate 3.2 GiB for an array "
            "with shape (20736, 20736) and data type float64"
        ],
    ),
    # cuda_error
    (
        "cuda_error",
        "device-side assert",
        ["RuntimeError: CUDA error: device-side assert triggered"],
    ),
    (
        "cuda_error",
        "illegal memory access",
        ["RuntimeError: CUDA error: an illegal memory access was encountered"],
    ),
    (
        "cuda_error",
        "no CUDA GPUs are available",
        ["RuntimeError: No CUDA GPUs are available"],
    ),
    (
        "cuda_error",
        "driver too old",
        ["RuntimeError: The NVIDIA driver on your system is too old (found version 10010)."],
    ),
    (
        "cuda_error",
        "cuDNN error",
        ["RuntimeError: cuDNN error: CUDNN_STATUS_NOT_INITIALIZED"],
    ),
    (
        "cuda_error",
        "cuBLAS error",
        [
            "RuntimeError: CUDA error: CUBLAS_STATUS_EXECUTION_FAILED "
            "when calling `cublasSgemm( handle)`"
        ],
    ),
    (
        "cuda_error",
        "NCCL error",
        [
            "torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/"
            "ProcessGroupNCCL.cpp:1970, unhandled cuda error, NCCL version 2.19.3"
        ],
    ),
    # dependency_resolution
    (
        "dependency_resolution",
        "pip ResolutionImpossible",
        [
            "ERROR: Cannot install torch==2.1.0 and torchvision==0.18.0 because these package "
            "versions have conflicting dependencies.",
            "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/"
            "dependency-resolution/#dealing-with-dependency-conflicts",
        ],
    ),
    (
        "dependency_resolution",
        "Could not find a version that satisfies the requirement",
        [
            "ERROR: Could not find a version that satisfies the requirement torch==2.6.0 "
            "(from versions: 2.0.0, 2.0.1, 2.2.2)"
        ],
    ),
    (
        "dependency_resolution",
        "No matching distribution found",
        ["ERROR: No matching distribution found for tensorflow==2.3.0"],
    ),
    (
        "dependency_resolution",
        "conda UnsatisfiableError",
        [
            "UnsatisfiableError: The following specifications were found to be incompatible "
            "with each other:"
        ],
    ),
    (
        "dependency_resolution",
        "poetry SolverProblemError",
        [
            "  SolverProblemError",
            "  Because myproject depends on torch (2.10.2) which doesn't match any versions, "
            "version solving failed.",
        ],
    ),
    # missing_dependency
    (
        "missing_dependency",
        "ModuleNotFoundError: No module named",
        _raised_in(f"{PROJECT}/data.py", 3, "ModuleNotFoundError: No module named 'sklearn'"),
    ),
    (
        "missing_dependency",
        "ImportError: libGL.so.1: cannot open shared object file",
        ["ImportError: libGL.so.1: cannot open shared object file: No such file or directory"],
    ),
    # dependency_api_change
    (
        "dependency_api_change",
        "AttributeError: module 'numpy' has no attribute 'float'",
        _raised_in(
            f"{SITE}/numpy/__init__.py",
            324,
            "AttributeError: module 'numpy' has no attribute 'float'.",
        ),
    ),
    (
        "dependency_api_change",
        "cannot import name 'X' from 'lib'",
        [
            "ImportError: cannot import name 'cached_download' from 'huggingface_hub' "
            f"({SITE}/huggingface_hub/__init__.py)"
        ],
    ),
    (
        "dependency_api_change",
        "unexpected keyword argument raised inside a library call",
        _raised_in(
            f"{SITE}/sklearn/preprocessing/_encoders.py",
            1012,
            "TypeError: OneHotEncoder.__init__() got an unexpected keyword argument 'sparse'",
        ),
    ),
    # data_missing
    (
        "data_missing",
        "FileNotFoundError on a data path",
        _raised_in(
            f"{PROJECT}/data.py",
            21,
            "FileNotFoundError: [Errno 2] No such file or directory: 'data/train.csv'",
        ),
    ),
    (
        "data_missing",
        "FileNotFoundError on a checkpoint path",
        _raised_in(
            f"{PROJECT}/evaluate.py",
            14,
            "FileNotFoundError: [Errno 2] No such file or directory: 'checkpoints/best.ckpt'",
        ),
    ),
    (
        "data_missing",
        "S3 NoSuchKey",
        [
            "botocore.errorfactory.NoSuchKey: An error occurred (NoSuchKey) when calling the "
            "GetObject operation: The specified key does not exist."
        ],
    ),
    (
        "data_missing",
        "S3 404",
        [
            "botocore.exceptions.ClientError: An error occurred (404) when calling the "
            "HeadObject operation: Not Found"
        ],
    ),
    (
        "data_missing",
        "dvc pull errors",
        [
            "ERROR: failed to pull data from the cloud - Checkout failed for following targets:",
            "data/raw",
        ],
    ),
    (
        "data_missing",
        "dataset not found on a hub",
        [
            "datasets.exceptions.DatasetNotFoundError: Dataset 'acme/reviews' doesn't exist on "
            "the Hub or cannot be accessed."
        ],
    ),
    # data_validation
    (
        "data_validation",
        "schema mismatch",
        ["pyarrow.lib.ArrowInvalid: Schema at index 1 was different: schema mismatch"],
    ),
    (
        "data_validation",
        "KeyError on a column",
        _raised_in(f"{SITE}/pandas/core/indexes/base.py", 3805, "KeyError: 'target'"),
    ),
    (
        "data_validation",
        "pandera failure",
        [
            "pandera.errors.SchemaError: Column 'age' failed element-wise validator number 0: "
            "greater_than_or_equal_to(0) failure cases: -3"
        ],
    ),
    (
        "data_validation",
        "Great Expectations failure",
        [
            "great_expectations.exceptions.ValidationError: Validation failed for suite "
            "'orders.warning': 2 of 14 expectations failed"
        ],
    ),
    (
        "data_validation",
        "unexpected dtype",
        ["ValueError: could not convert string to float: 'n/a'"],
    ),
    (
        "data_validation",
        "NaN or inf in inputs",
        ["ValueError: Input X contains NaN."],
    ),
    (
        "data_validation",
        "shape mismatch with the model input",
        ["RuntimeError: mat1 and mat2 shapes cannot be multiplied (64x512 and 256x10)"],
    ),
    # nan_loss
    ("nan_loss", "loss is NaN", ["Epoch 3: loss = nan", "ValueError: loss is nan, stopping"]),
    ("nan_loss", "loss is inf", ["step 120 | loss: inf | lr 3.0e-04"]),
    (
        "nan_loss",
        "Detected NaN",
        ["RuntimeError: Function 'LogSoftmaxBackward0' returned nan values in its 0th output."],
    ),
    (
        "nan_loss",
        "gradient overflow with no recovery",
        [
            "[deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: 1, reducing to 1",
            "Exception: Current loss scale already at minimum - cannot decrease scale anymore. "
            "Exiting run.",
        ],
    ),
    # timeout
    (
        "timeout",
        "has exceeded the maximum execution time",
        [
            "##[error]The job running on runner GitHub Actions 3 has exceeded the maximum "
            "execution time of 360 minutes."
        ],
    ),
    (
        "timeout",
        "The operation was canceled. after timeout-minutes",
        ["##[error]The action has timed out.", "##[error]The operation was canceled."],
    ),
    (
        "timeout",
        "pytest-timeout",
        [
            "+++++++++++++++++++++++++++++++++++ Timeout ++++++++++++++++++++++++++++++++++++",
            "E   Failed: Timeout >300.0s",
        ],
    ),
    # network_transient
    (
        "network_transient",
        "connection reset",
        ["ConnectionResetError: [Errno 104] Connection reset by peer"],
    ),
    (
        "network_transient",
        "connection refused",
        ["ConnectionRefusedError: [Errno 111] Connection refused"],
    ),
    (
        "network_transient",
        "read timed out",
        [
            "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='huggingface.co', "
            "port=443): Read timed out. (read timeout=10)"
        ],
    ),
    (
        "network_transient",
        "DNS failure",
        [
            "fatal: unable to access 'https://github.com/acme/data.git/': "
            "Could not resolve host: github.com"
        ],
    ),
    (
        "network_transient",
        "HTTP 429 from a remote",
        [
            "requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: "
            "https://huggingface.co/api/models/bert-base-uncased"
        ],
    ),
    (
        "network_transient",
        "HTTP 502 from a remote",
        ["urllib.error.HTTPError: HTTP Error 502: Bad Gateway"],
    ),
    (
        "network_transient",
        "HTTP 503 from a remote",
        [
            "requests.exceptions.HTTPError: 503 Server Error: Service Unavailable for url: "
            "https://pypi.org/simple/numpy/"
        ],
    ),
    (
        "network_transient",
        "Max retries exceeded with url",
        [
            "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.wandb.ai', "
            "port=443): Max retries exceeded with url: /graphql"
        ],
    ),
    # auth_error
    (
        "auth_error",
        "401",
        [
            "requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: "
            "https://mlflow.acme.dev/api/2.0/mlflow/runs/create"
        ],
    ),
    (
        "auth_error",
        "403",
        [
            "botocore.exceptions.ClientError: An error occurred (403) when calling the "
            "HeadObject operation: Forbidden"
        ],
    ),
    ("auth_error", "Bad credentials", ["HttpError: Bad credentials"]),
    (
        "auth_error",
        "NoCredentialsError",
        ["botocore.exceptions.NoCredentialsError: Unable to locate credentials"],
    ),
    (
        "auth_error",
        "gated hub repo",
        [
            "huggingface_hub.errors.GatedRepoError: 401 Client Error. Cannot access gated repo "
            "for url https://huggingface.co/meta-llama/Llama-2-7b-hf/resolve/main/config.json."
        ],
    ),
    (
        "auth_error",
        "Resource not accessible by integration",
        ["##[error]Unhandled error: HttpError: Resource not accessible by integration"],
    ),
    # disk_full
    (
        "disk_full",
        "No space left on device",
        ["ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device"],
    ),
    ("disk_full", "disk quota exceeded", ["OSError: [Errno 122] Disk quota exceeded"]),
    # test_failure
    (
        "test_failure",
        "pytest FAILED ... AssertionError",
        [
            ">       assert predictions.shape == (10, 2)",
            "E       AssertionError: assert (10, 3) == (10, 2)",
            "FAILED tests/test_model.py::test_predict_shape - "
            "AssertionError: assert (10, 3) == (10, 2)",
        ],
    ),
    (
        "test_failure",
        "unittest failures",
        [
            "FAIL: test_accuracy (tests.test_model.ModelTest)",
            "AssertionError: 0.71 not greater than or equal to 0.8",
            "FAILED (failures=1)",
        ],
    ),
    # code_error
    (
        "code_error",
        "SyntaxError",
        [f'  File "{PROJECT}/train.py", line 12', "    if x", "SyntaxError: expected ':'"],
    ),
    (
        "code_error",
        "NameError",
        _raised_in(f"{PROJECT}/report.py", 30, "NameError: name 'np' is not defined"),
    ),
    (
        "code_error",
        "TypeError in the project's own files",
        _raised_in(
            f"{PROJECT}/features.py",
            44,
            "TypeError: unsupported operand type(s) for +: 'int' and 'str'",
        ),
    ),
    (
        "code_error",
        "ValueError in the project's own files",
        _raised_in(f"{PROJECT}/config.py", 18, "ValueError: invalid literal for rank: 'auto'"),
    ),
    (
        "code_error",
        "IndexError in the project's own files",
        _raised_in(f"{PROJECT}/dataset.py", 57, "IndexError: list index out of range"),
    ),
    # lint_failure
    (
        "lint_failure",
        "ruff",
        ["src/train.py:3:8: F401 [*] `os` imported but unused", "Found 1 error."],
    ),
    ("lint_failure", "flake8", ["./src/train.py:41:80: E501 line too long (91 > 79 characters)"]),
    (
        "lint_failure",
        "black --check",
        ["would reformat src/train.py", "Oh no! 💥 💔 💥", "1 file would be reformatted."],
    ),
    (
        "lint_failure",
        "isort",
        [
            "ERROR: /home/runner/work/shop/shop/src/train.py "
            "Imports are incorrectly sorted and/or formatted."
        ],
    ),
    (
        "lint_failure",
        "mypy errors",
        [
            'src/train.py:12: error: Argument 1 to "fit" has incompatible type "str"; '
            'expected "int"  [arg-type]',
            "Found 1 error in 1 file (checked 12 source files)",
        ],
    ),
]


@pytest.mark.parametrize(
    ("category", "lines"),
    [(category, lines) for category, _, lines in EVIDENCE],
    ids=[f"{category}: {example}" for category, example, _ in EVIDENCE],
)
def test_taxonomy_evidence_example_classifies_as_its_category(
    category: str, lines: list[str]
) -> None:
    assert diagnose_lines(lines).category == category


def test_every_taxonomy_category_has_an_evidence_row() -> None:
    from self_healing_bot.diagnosis import CATEGORIES

    covered = {category for category, _, _ in EVIDENCE}
    assert covered == set(CATEGORIES) - {"unknown"}
