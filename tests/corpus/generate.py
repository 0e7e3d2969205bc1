"""Write the labelled diagnosis corpus (seeded, so it is reproducible).

    .venv/bin/python tests/corpus/generate.py

Each scenario prints what the real tool prints when it fails (message formats of pip,
conda, poetry, uv, PyTorch, TensorFlow, JAX, transformers, Lightning, XGBoost, DVC,
MLflow, pytest, ruff, mypy ...) with randomised names, paths and numbers. Every other
log is wrapped in a full GitHub Actions job log with set-up noise. Every third log is in
the validation split; rules are tuned on the training split only.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
SEED = 20261128

Scenario = Callable[[random.Random], tuple[str, list[str], dict[str, object]]]
SCENARIOS: list[Scenario] = []


def scenario(function: Scenario) -> Scenario:
    SCENARIOS.append(function)
    return function


REPOS = ["vision-lab", "nlp-pipeline", "forecast", "recsys", "tabular-ml", "speech-asr"]
PACKAGES = [
    ("numpy", "1.26.4"), ("pandas", "2.2.2"), ("scikit-learn", "1.5.1"), ("torch", "2.3.1"),
    ("transformers", "4.44.2"), ("datasets", "2.20.0"), ("lightning", "2.3.3"),
    ("xgboost", "2.1.1"), ("mlflow", "2.15.1"), ("dvc", "3.53.1"), ("jax", "0.4.31"),
    ("tensorflow", "2.17.0"), ("scipy", "1.14.0"), ("pyarrow", "17.0.0"), ("tqdm", "4.66.5"),
]


def ws(rng: random.Random) -> str:
    repo = rng.choice(REPOS)
    return f"/home/runner/work/{repo}/{repo}"


def site(rng: random.Random) -> str:
    version = rng.choice(["3.10", "3.11", "3.12"])
    return f"/opt/hostedtoolcache/Python/{version}.{rng.randint(4, 14)}/x64/lib/python{version}/site-packages"


def frame(path: str, line: int, function: str, code: str) -> list[str]:
    return [f'  File "{path}", line {line}, in {function}', f"    {code}"]


def project_traceback(rng: random.Random, error: str, lib_frames: list[list[str]] | None = None,
                      file: str | None = None) -> tuple[list[str], str, int]:
    root = ws(rng)
    file = file or rng.choice(["src/train.py", "train.py", "src/pipeline/fit.py", "scripts/run_experiment.py"])
    line = rng.randint(12, 480)
    lines = ["Traceback (most recent call last):"]
    lines += frame(f"{root}/{file}", rng.randint(300, 520), "<module>", "main()")
    lines += frame(f"{root}/{file}", line, "main", rng.choice(["trainer.fit(model)", "run(cfg)", "model = build(cfg)", "result = step(batch)"]))
    for extra in lib_frames or []:
        lines += extra
    lines.append(error)
    return lines, file, line


def pip_noise(rng: random.Random) -> list[str]:
    chosen = rng.sample(PACKAGES, rng.randint(4, 9))
    out = []
    for name, version in chosen:
        wheel = f"{name.replace('-', '_')}-{version}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        out.append(f"Collecting {name}=={version} (from -r requirements.txt (line {rng.randint(1, 20)}))")
        out.append(f"  Downloading {wheel} ({rng.uniform(0.1, 800):.1f} MB)")
        out.append("     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ " + f"{rng.uniform(1, 90):.1f}/{rng.uniform(90, 900):.1f} MB {rng.uniform(10, 200):.1f} MB/s eta 0:00:00")
    out.append("Requirement already satisfied: typing-extensions>=4.8.0 in /opt/hostedtoolcache/Python/3.11.9/x64/lib/python3.11/site-packages (from torch) (4.12.2)")
    out.append("Installing collected packages: " + ", ".join(name for name, _ in chosen))
    out.append("Successfully installed " + " ".join(f"{name}-{version}" for name, version in chosen))
    return out


def actions_wrap(rng: random.Random, body: list[str], step: str, *, tail_error: str | None = "##[error]Process completed with exit code 1.",
                 post: bool = True) -> list[str]:
    repo = rng.choice(REPOS)
    py = rng.choice(["3.10", "3.11", "3.12"])
    lines = [
        "Current runner version: '2.319.1'",
        "##[group]Operating System", "Ubuntu", "22.04.4", "LTS", "##[endgroup]",
        "##[group]Runner Image", "Image: ubuntu-22.04", f"Version: 20240818.1.0", "##[endgroup]",
        "##[group]GITHUB_TOKEN Permissions", "Contents: read", "Metadata: read", "##[endgroup]",
        "Secret source: Actions",
        "Prepare workflow directory",
        "Prepare all required actions",
        "Getting action download info",
        f"Download action repository 'actions/checkout@v4' (SHA:{rng.getrandbits(160):040x})",
        f"Download action repository 'actions/setup-python@v5' (SHA:{rng.getrandbits(160):040x})",
        f"Download action repository 'actions/cache@v4' (SHA:{rng.getrandbits(160):040x})",
        "Complete job name: test",
        "##[group]Run actions/checkout@v4", "with:", f"  repository: acme/{repo}", "  token: ***", "##[endgroup]",
        "Syncing repository: acme/" + repo,
        "##[group]Getting Git version info", "git version 2.46.0", "##[endgroup]",
        f"Temporarily overriding HOME='/home/runner/work/_temp/{rng.getrandbits(128):032x}' before making global git config changes",
        "##[group]Fetching the repository",
        f"[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin +{rng.getrandbits(160):040x}:refs/remotes/origin/main",
        "##[endgroup]",
        "##[group]Run actions/setup-python@v5", "with:", f"  python-version: {py}", "  cache: pip", "##[endgroup]",
        "##[group]Installed versions", f"Successfully set up CPython ({py}.{rng.randint(4, 14)})", "##[endgroup]",
        "##[group]Run actions/cache@v4", "with:", "  path: ~/.cache/pip", "##[endgroup]",
        rng.choice([f"Cache restored from key: pip-Linux-{rng.getrandbits(64):016x}", "Cache not found for input keys: pip-Linux-"]),
        "##[group]Run pip install -r requirements.txt", "pip install -r requirements.txt",
        "shell: /usr/bin/bash -e {0}", "env:", f"  pythonLocation: /opt/hostedtoolcache/Python/{py}.9/x64", "##[endgroup]",
    ]
    lines += pip_noise(rng)
    if rng.random() < 0.5:
        lines.append("WARNING: There was an error checking the latest version of pip.")
    lines += [f"##[group]Run {step}", step, "shell: /usr/bin/bash -e {0}", "##[endgroup]"]
    lines += body
    if tail_error:
        lines.append(tail_error)
    if post:
        lines += ["Post job cleanup.", "[command]/usr/bin/git version", "git version 2.46.0",
                  f"[command]/usr/bin/git config --local --name-only --get-regexp core\\.sshCommand",
                  "Cleaning up orphan processes"]
    start = dt.datetime(2024, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), tzinfo=dt.UTC)
    stamped = []
    moment = start
    for line in lines:
        moment += dt.timedelta(milliseconds=rng.randint(1, 900))
        stamped.append(moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randint(0, 9999999):07d}Z {line}")
    return stamped


# ---------------------------------------------------------------- gpu_oom
@scenario
def torch_oom(rng):
    gib = rng.choice([0.5, 1.0, 2.0, 3.5, 4.0, 8.0])
    batch = rng.choice([32, 64, 128, 256])
    body = [f"Namespace(batch_size={batch}, epochs=10, lr=0.001)", "Epoch 1/10"]
    body += [f"  {rng.randint(1, 99)}%|██▌       | {i}/500 [00:0{i % 9}<01:10,  7.1it/s]" for i in range(3)]
    tb, file, line = project_traceback(rng, f"torch.OutOfMemoryError: CUDA out of memory. Tried to allocate {gib:.2f} GiB. GPU 0 has a total capacity of 14.75 GiB of which {rng.uniform(0.1, 1):.2f} GiB is free. Process {rng.randint(1000, 9999)} has 14.12 GiB memory in use. Of the allocated memory 13.2 GiB is allocated by PyTorch, and 512.4 MiB is reserved by PyTorch but unallocated.", [frame(f"{site(rng)}/torch/nn/modules/module.py", 1553, "_call_impl", "return forward_call(*args, **kwargs)")])
    return "gpu_oom", body + tb, {"requested_bytes": int(gib * (1 << 30)), "batch_size": batch}


@scenario
def torch_oom_nccl_cascade(rng):
    gib = rng.choice([1.0, 2.0, 6.0])
    body = ["[rank0]:[W1 ProcessGroupNCCL.cpp:1168] Warning: init took 3.2s", "Epoch 0:  12%|█▏        | 60/500"]
    body += [f"[rank1]: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate {gib:.2f} GiB. GPU 1 has a total capacity of 39.39 GiB of which 1.02 GiB is free."]
    body += [f"[rank0]:[E{rng.randint(100, 999)} ProcessGroupNCCL.cpp:607] [Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1203, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600081 milliseconds before timing out."]
    body += ["[rank0]: RuntimeError: NCCL communicator was aborted on rank 0.", "E0101 12:00:00.000000 1234 torch/distributed/elastic/multiprocessing/api.py:833] failed (exitcode: 1) local_rank: 1 (pid: 4321) of binary: /usr/bin/python", "torch.distributed.elastic.multiprocessing.errors.ChildFailedError:"]
    return "gpu_oom", body, {"requested_bytes": int(gib * (1 << 30))}


@scenario
def tf_oom(rng):
    b = rng.choice([64, 128, 256])
    body = [f"Epoch 1/20", f"2024-05-01 10:00:0{rng.randint(0, 9)}.123456: W tensorflow/core/common_runtime/bfc_allocator.cc:479] Allocator (GPU_0_bfc) ran out of memory trying to allocate 1.53GiB (rounded to 1642070016)requested by op Conv2D",
            "Traceback (most recent call last):",
            f'  File "{ws(rng)}/train_keras.py", line {rng.randint(20, 200)}, in <module>', "    model.fit(ds, epochs=20)",
            f"tensorflow.python.framework.errors_impl.ResourceExhaustedError: Graph execution error:", "",
            f"OOM when allocating tensor with shape[{b},64,224,224] and type float on /job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc",
            "\t [[{{node model/conv2d/Conv2D}}]]"]
    return "gpu_oom", body, {"requested_bytes": b * 64 * 224 * 224 * 4}


@scenario
def jax_oom(rng):
    n = rng.choice([17179869184, 8589934592, 4294967296])
    body = ["I0501 jax._src.xla_bridge: Unable to initialize backend 'tpu'", "Traceback (most recent call last):",
            f'  File "{ws(rng)}/jax_train.py", line {rng.randint(30, 90)}, in <module>', "    state, metrics = train_step(state, batch)",
            f"jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory while trying to allocate {n} bytes."]
    return "gpu_oom", body, {"requested_bytes": n}


@scenario
def lightning_oom(rng):
    gib = rng.choice([0.25, 0.5, 1.5])
    body = ["GPU available: True (cuda), used: True", "LOCAL_RANK: 0 - CUDA_VISIBLE_DEVICES: [0]", "  | Name  | Type   | Params", "Sanity Checking DataLoader 0: 100%|██████████| 2/2",
            f"Epoch 0:   3%|▎         | 12/400 [00:04<02:13,  2.91it/s, v_num=0]"]
    tb, file, line = project_traceback(rng, f"torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate {int(gib * 1024)}.00 MiB. GPU 0 has a total capacity of 15.77 GiB of which 120.50 MiB is free.",
                                       [frame(f"{site(rng)}/lightning/pytorch/trainer/trainer.py", 543, "fit", "call._call_and_handle_interrupt(")])
    return "gpu_oom", body + tb, {"requested_bytes": int(gib * 1024) * (1 << 20)}


@scenario
def hf_trainer_oom_far_above(rng):
    batch = rng.choice([16, 32, 64])
    body = [f"  per_device_train_batch_size={batch},", "***** Running training *****", f"  Instantaneous batch size per device = {batch}"]
    body += [f"RuntimeError: CUDA error: out of memory", "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect."]
    body += [f"wandb: Waiting for W&B process to finish... (failed {rng.randint(1, 9)})."] + [f"wandb: uploading artifact {i}" for i in range(rng.randint(60, 200))]
    body += ["Exception ignored in atexit callback: <function _exit_function at 0x7f8c1a2b3c40>", "ValueError: I/O operation on closed file."]
    return "gpu_oom", body, {"per_device_train_batch_size": batch}


@scenario
def mps_oom(rng):
    body = ["Using device: mps", "Traceback (most recent call last):", f'  File "{ws(rng)}/finetune.py", line 77, in <module>',
            f"RuntimeError: MPS backend out of memory (MPS allocated: 17.80 GB, other allocations: 1.23 GB, max allowed: 18.13 GB). Tried to allocate {rng.randint(100, 900)}.00 MB on private pool. Use PYTORCH_MPS_HIGH_WATERMARK_RATIO=0.0 to disable upper limit for memory allocations (may cause system failure)."]
    return "gpu_oom", body, {}


# ---------------------------------------------------------------- host_oom
@scenario
def numpy_unable(rng):
    gib = rng.choice([3.2, 12.5, 48.0])
    tb, _, _ = project_traceback(rng, f"numpy.core._exceptions._ArrayMemoryError: Unable to allocate {gib} GiB for an array with shape ({rng.randint(10000, 900000)}, 4096) and data type float64")
    return "host_oom", ["Loading features..."] + tb, {"requested_bytes": round(gib * (1 << 30))}


@scenario
def killed_137(rng):
    body = ["Loading dataset into memory", f"Rows loaded: {rng.randint(1, 90)}000000", f"/home/runner/work/_temp/{rng.getrandbits(128):032x}.sh: line 1:  {rng.randint(1000, 9999)} Killed                  python train.py --config configs/base.yaml"]
    return "host_oom", body, {}


@scenario
def exit_137_only(rng):
    body = ["Building features", "xgboost: [0]\ttrain-rmse:0.51234\tvalid-rmse:0.52345", "[1]\ttrain-rmse:0.4211\tvalid-rmse:0.4512"]
    return "host_oom", body + ["##[error]Process completed with exit code 137."], {}


@scenario
def dataloader_killed(rng):
    tb, _, _ = project_traceback(rng, f"RuntimeError: DataLoader worker (pid {rng.randint(1000, 9999)}) is killed by signal: Killed. ",
                                 [frame(f"{site(rng)}/torch/utils/data/dataloader.py", 1133, "_try_get_data", "data = self._data_queue.get(timeout=timeout)")])
    return "host_oom", ["num_workers=8"] + tb, {}


@scenario
def pandas_memoryerror(rng):
    tb, _, _ = project_traceback(rng, "MemoryError", [frame(f"{site(rng)}/pandas/io/parsers/readers.py", 1026, "read_csv", "return _read(filepath_or_buffer, kwds)")])
    return "host_oom", ["Reading data/clicks.csv"] + tb, {}


@scenario
def xgboost_bad_alloc(rng):
    body = ["[10:12:01] WARNING: /workspace/src/learner.cc:740: Parameters: { \"silent\" } are not used.", "terminate called after throwing an instance of 'std::bad_alloc'", "  what():  std::bad_alloc", "Aborted (core dumped)"]
    return "host_oom", body, {}


# ---------------------------------------------------------------- cuda_error
@scenario
def device_assert(rng):
    body = [f"../aten/src/ATen/native/cuda/Loss.cu:250: nll_loss_forward_reduce_cuda_kernel_2d: block: [0,0,0], thread: [{rng.randint(0, 31)},0,0] Assertion `t >= 0 && t < n_classes` failed."]
    tb, _, _ = project_traceback(rng, "RuntimeError: CUDA error: device-side assert triggered\nCompile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.")
    return "cuda_error", body + tb, {}


@scenario
def no_cuda_gpus(rng):
    tb, _, _ = project_traceback(rng, "RuntimeError: No CUDA GPUs are available", [frame(f"{site(rng)}/torch/cuda/__init__.py", 302, "_lazy_init", "torch._C._cuda_init()")])
    return "cuda_error", tb, {}


@scenario
def driver_too_old(rng):
    tb, _, _ = project_traceback(rng, f"RuntimeError: The NVIDIA driver on your system is too old (found version {rng.randint(10, 11)}0{rng.randint(10, 90)}). Please update your GPU driver by downloading and installing a new version from the URL: http://www.nvidia.com/Download/index.aspx")
    return "cuda_error", tb, {}


@scenario
def cudnn_status(rng):
    tb, _, _ = project_traceback(rng, f"RuntimeError: cuDNN error: CUDNN_STATUS_{rng.choice(['NOT_INITIALIZED', 'INTERNAL_ERROR', 'EXECUTION_FAILED'])}")
    return "cuda_error", tb, {}


@scenario
def illegal_access(rng):
    tb, _, _ = project_traceback(rng, "RuntimeError: CUDA error: an illegal memory access was encountered")
    return "cuda_error", tb + ["terminate called after throwing an instance of 'c10::Error'"], {}


@scenario
def nccl_timeout_only(rng):
    body = [f"[rank{r}]:[E{rng.randint(100, 999)} ProcessGroupNCCL.cpp:1414] [PG 0 Rank {r}] Watchdog caught collective operation timeout: WorkNCCL(SeqNum={rng.randint(1000, 9000)}, OpType=ALLREDUCE) ran for 1800000 milliseconds before timing out." for r in range(2)]
    body += ["torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/NCCLUtils.hpp:275, unhandled system error, NCCL version 2.20.5"]
    return "cuda_error", body, {}


# ---------------------------------------------------------------- dependency_resolution
@scenario
def pip_conflict(rng):
    np_pin = rng.choice(["1.21.6", "1.23.5", "1.24.0"])
    body = [f"Collecting numpy=={np_pin}", f"  Downloading numpy-{np_pin}.tar.gz (10.7 MB)", "INFO: pip is looking at multiple versions of pandas to determine which version is compatible with other requirements. This could take a while.",
            f"ERROR: Cannot install -r requirements.txt (line 3) and numpy=={np_pin} because these package versions have conflicting dependencies.", "", "The conflict is caused by:",
            f"    The user requested numpy=={np_pin}", "    pandas 2.2.2 depends on numpy>=1.26.0; python_version >= \"3.12\"", "",
            "To fix this you could try to:", "1. loosen the range of package versions you've specified", "2. remove package versions to allow pip to attempt to solve the dependency conflict", "",
            "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts"]
    return "dependency_resolution", body, {"package": "numpy", "spec": f"=={np_pin}"}


@scenario
def pip_no_version(rng):
    name, ver = rng.choice([("torch", "2.9.9"), ("tensorflow", "2.3.0"), ("jaxlib", "0.1.2"), ("xgboost", "0.4")])
    body = [f"ERROR: Could not find a version that satisfies the requirement {name}=={ver} (from versions: 2.2.0, 2.2.1, 2.2.2, 2.3.0, 2.3.1)", f"ERROR: No matching distribution found for {name}=={ver}"]
    return "dependency_resolution", body, {"package": name, "spec": f"=={ver}"}


@scenario
def conda_unsat(rng):
    body = ["Channels:", " - conda-forge", " - defaults", "Platform: linux-64", "Collecting package metadata (repodata.json): ...working... done", "Solving environment: ...working... failed", "",
            "LibMambaUnsatisfiableError: Encountered problems while solving:", f"  - nothing provides requested cudatoolkit {rng.choice(['9.0', '10.0', '8.0'])}*", "", "Could not solve for environment specs",
            "The following package could not be installed", "└─ cudatoolkit 9.0**  does not exist (perhaps a typo or a missing channel)."]
    return "dependency_resolution", body, {"package": "cudatoolkit"}


@scenario
def poetry_solver(rng):
    spec = rng.choice(["^3.0", ">=9.0,<10.0", "^0.99"])
    body = ["Updating dependencies", "Resolving dependencies...", "", "Because vision-lab depends on torchvision (" + spec + ") which doesn't match any versions, version solving failed.", "",
            "  at ~/.local/share/pypoetry/venv/lib/python3.11/site-packages/poetry/puzzle/solver.py:164 in _solve", "  SolverProblemError"]
    return "dependency_resolution", body, {"package": "torchvision", "spec": spec}


@scenario
def uv_no_solution(rng):
    v = rng.choice(["3.0.0", "9.1", "0.0.1"])
    body = ["Using CPython 3.11.9 interpreter at: /opt/hostedtoolcache/Python/3.11.9/x64/bin/python3", "  × No solution found when resolving dependencies:",
            f"  ╰─▶ Because there is no version of scikit-learn=={v} and you require scikit-learn=={v}, we can conclude that your requirements are unsatisfiable."]
    return "dependency_resolution", body, {"package": "scikit-learn", "spec": f"=={v}"}


@scenario
def pip_python_version(rng):
    body = ["Collecting tensorflow==2.12.0", "ERROR: Ignored the following versions that require a different python version: 1.21.2 Requires-Python >=3.7,<3.11",
            "ERROR: Could not find a version that satisfies the requirement tensorflow==2.12.0 (from versions: 2.16.1, 2.16.2, 2.17.0)", "ERROR: No matching distribution found for tensorflow==2.12.0",
            "Traceback (most recent call last):", '  File "/home/runner/work/x/x/tests/test_model.py", line 3, in <module>', "ModuleNotFoundError: No module named 'tensorflow'"]
    return "dependency_resolution", body, {"package": "tensorflow", "spec": "==2.12.0"}


# ---------------------------------------------------------------- missing_dependency
MODULES = [("cv2", "opencv-python"), ("sklearn", "scikit-learn"), ("yaml", "pyyaml"), ("einops", "einops"), ("timm", "timm"), ("PIL", "pillow"), ("lightgbm", "lightgbm")]


@scenario
def pytest_collect_missing(rng):
    module, package = rng.choice(MODULES)
    root = ws(rng)
    body = ["============================= test session starts ==============================", "platform linux -- Python 3.11.9, pytest-8.3.2, pluggy-1.5.0", "collected 41 items / 1 error", "",
            "==================================== ERRORS ====================================", "___________________ ERROR collecting tests/test_augment.py ____________________",
            "ImportError while importing test module '" + root + "/tests/test_augment.py'.", "Hint: make sure your test modules/packages have valid Python names.", "Traceback:",
            "/opt/hostedtoolcache/Python/3.11.9/x64/lib/python3.11/importlib/__init__.py:126: in import_module", "    return _bootstrap._gcd_import(name[level:], package, level)",
            "tests/test_augment.py:4: in <module>", f"    import {module}", f"E   ModuleNotFoundError: No module named '{module}'",
            "=========================== short test summary info ============================", "ERROR tests/test_augment.py", "!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!", "=============================== 1 error in 2.31s ==============================="]
    return "missing_dependency", body, {"module": module, "package": package}


@scenario
def script_missing(rng):
    module, package = rng.choice(MODULES)
    tb, _, _ = project_traceback(rng, f"ModuleNotFoundError: No module named '{module}'")
    return "missing_dependency", tb, {"module": module, "package": package}


@scenario
def libgl_missing(rng):
    tb, _, _ = project_traceback(rng, "ImportError: libGL.so.1: cannot open shared object file: No such file or directory", [frame(f"{site(rng)}/cv2/__init__.py", 181, "bootstrap", "native_module = importlib.import_module(\"cv2\")")])
    return "missing_dependency", tb, {"library": "libGL.so.1"}


@scenario
def submodule_missing(rng):
    tb, _, _ = project_traceback(rng, "ModuleNotFoundError: No module named 'torchvision.transforms.v2'; 'torchvision.transforms' is not a package")
    return "missing_dependency", tb, {"module": "torchvision.transforms.v2"}


# ---------------------------------------------------------------- dependency_api_change
@scenario
def np_float(rng):
    attr = rng.choice(["float", "int", "bool", "object"])
    tb, _, _ = project_traceback(rng, f"AttributeError: module 'numpy' has no attribute '{attr}'.\n`np.{attr}` was a deprecated alias for the builtin `{attr}`. To avoid this error in existing code, use `{attr}` by itself.")
    return "dependency_api_change", tb, {"module": "numpy", "name": attr}


@scenario
def cannot_import(rng):
    name, module = rng.choice([("AdamW", "transformers"), ("soft_unicode", "markupsafe"), ("url_quote", "werkzeug.urls"), ("cached_download", "huggingface_hub")])
    tb, _, _ = project_traceback(rng, f"ImportError: cannot import name '{name}' from '{module}' ({site(rng)}/{module.replace('.', '/')}/__init__.py)")
    return "dependency_api_change", tb, {"module": module, "name": name}


@scenario
def unexpected_kwarg(rng):
    call, kw = rng.choice([("TrainingArguments.__init__", "evaluation_strategy"), ("OneHotEncoder.__init__", "sparse"), ("Trainer.__init__", "tokenizer")])
    tb, _, _ = project_traceback(rng, f"TypeError: {call}() got an unexpected keyword argument '{kw}'")
    return "dependency_api_change", tb, {"name": kw}


@scenario
def numpy2_removed(rng):
    tb, _, _ = project_traceback(rng, "AttributeError: `np.NaN` was removed in the NumPy 2.0 release. Use `np.nan` instead.")
    return "dependency_api_change", tb, {}


@scenario
def pydantic_import(rng):
    tb, _, _ = project_traceback(rng, f"ImportError: cannot import name 'BaseSettings' from 'pydantic' ({site(rng)}/pydantic/__init__.py)")
    return "dependency_api_change", tb, {"module": "pydantic", "name": "BaseSettings"}


# ---------------------------------------------------------------- data_missing
@scenario
def file_not_found(rng):
    path = rng.choice(["data/train.csv", "data/processed/features.parquet", "artifacts/model.pt", "data/raw/images/labels.json"])
    tb, _, _ = project_traceback(rng, f"FileNotFoundError: [Errno 2] No such file or directory: '{path}'")
    return "data_missing", tb, {"path": path}


@scenario
def dvc_pull(rng):
    target = rng.choice(["data/raw.csv", "models/encoder.pt", "data/features"])
    body = ["Collecting                                            |0.00 [00:00,    ?entry/s]", f"WARNING: No file hash info found for '{target}'. It won't be created.", "ERROR: failed to pull data from the cloud - Checkout failed for following targets:", target, "Is your cache up to date?", "<https://error.dvc.org/missing-files>"]
    return "data_missing", body, {}


@scenario
def s3_nosuchkey(rng):
    key = f"s3://ml-artifacts/{rng.choice(['models', 'datasets'])}/v{rng.randint(1, 9)}/part-000.parquet"
    tb, _, _ = project_traceback(rng, "botocore.errorfactory.NoSuchKey: An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist.")
    return "data_missing", [f"Downloading {key}"] + tb, {}


@scenario
def hf_dataset_missing(rng):
    name = rng.choice(["acme/reviews-v2", "acme/speech-commands", "imagenet-mini"])
    tb, _, _ = project_traceback(rng, f"datasets.exceptions.DatasetNotFoundError: Dataset '{name}' doesn't exist on the Hub or cannot be accessed.")
    return "data_missing", tb, {"path": name}


@scenario
def checkpoint_missing(rng):
    path = f"checkpoints/epoch={rng.randint(1, 20)}.ckpt"
    tb, _, _ = project_traceback(rng, f"FileNotFoundError: Checkpoint file not found: {path}")
    return "data_missing", tb, {"path": path}


@scenario
def mlflow_missing(rng):
    tb, _, _ = project_traceback(rng, "mlflow.exceptions.RestException: RESOURCE_DOES_NOT_EXIST: Registered Model with name=churn-model not found")
    return "data_missing", tb, {}


# ---------------------------------------------------------------- data_validation
@scenario
def keyerror_column(rng):
    col = rng.choice(["user_id", "label", "timestamp", "price_usd"])
    tb, _, _ = project_traceback(rng, f"KeyError: '{col}'", [frame(f"{site(rng)}/pandas/core/indexes/base.py", 3805, "get_loc", "raise KeyError(key) from err")])
    return "data_validation", ["The above exception was the direct cause of the following exception:"] + tb, {"column": col}


@scenario
def pandera_schema(rng):
    col = rng.choice(["age", "income", "score"])
    tb, _, _ = project_traceback(rng, f"pandera.errors.SchemaError: Column '{col}' failed element-wise validator number 0: greater_than_or_equal_to(0) failure cases: -1, -7")
    return "data_validation", tb, {"column": col}


@scenario
def sklearn_nan(rng):
    tb, _, _ = project_traceback(rng, "ValueError: Input X contains NaN.\nLogisticRegression does not accept missing values encoded as NaN natively.", [frame(f"{site(rng)}/sklearn/utils/validation.py", 147, "_assert_all_finite", "raise ValueError(msg_err)")])
    return "data_validation", tb, {}


@scenario
def shape_mismatch(rng):
    a, b = rng.choice([(784, 512), (2048, 1024), (300, 128)])
    tb, _, _ = project_traceback(rng, f"RuntimeError: mat1 and mat2 shapes cannot be multiplied (32x{a} and {b}x10)")
    return "data_validation", tb, {}


@scenario
def sklearn_features(rng):
    tb, _, _ = project_traceback(rng, f"ValueError: X has {rng.randint(5, 20)} features, but RandomForestClassifier is expecting {rng.randint(21, 40)} features as input.")
    return "data_validation", tb, {}


@scenario
def keras_incompatible(rng):
    tb, _, _ = project_traceback(rng, 'ValueError: Input 0 of layer "dense" is incompatible with the layer: expected axis -1 of input shape to have value 784, but received input with shape (None, 28, 28)')
    return "data_validation", tb, {}


# ---------------------------------------------------------------- nan_loss
@scenario
def hf_nan(rng):
    lr = rng.choice(["0.1", "0.5", "1.0"])
    body = [f"  learning_rate={lr},", "{'loss': 2.3012, 'grad_norm': 8.1, 'learning_rate': " + lr + ", 'epoch': 0.1}", "{'loss': nan, 'grad_norm': nan, 'learning_rate': " + lr + ", 'epoch': 0.2}",
            "Traceback (most recent call last):", f'  File "{ws(rng)}/tests/test_training_smoke.py", line 31, in test_loss_decreases', "AssertionError: training loss is not finite"]
    return "nan_loss", body, {"learning_rate": lr}


@scenario
def lightning_nonfinite(rng):
    tb, _, _ = project_traceback(rng, "RuntimeError: Monitored metric val_loss = nan is not finite. Previous best value was inf. Signaling Trainer to stop.")
    return "nan_loss", tb, {}


@scenario
def keras_terminate(rng):
    body = [f"{rng.randint(10, 99)}/500 ━━━━━━━━━━━━━━━━━━━━ 12s 30ms/step - loss: 4.1253", f"Batch {rng.randint(10, 99)}: Invalid loss, terminating training", "Training stopped early; model not saved", "Error: model checkpoint missing validation metric"]
    return "nan_loss", body, {}


@scenario
def torch_anomaly(rng):
    tb, _, _ = project_traceback(rng, "RuntimeError: Function 'LogSoftmaxBackward0' returned nan values in its 0th output.")
    return "nan_loss", ["lr=0.8"] + tb, {}


@scenario
def xgb_nan(rng):
    body = [f"[{i}]\ttrain-rmse:{rng.uniform(0.1, 1):.5f}\tvalid-rmse:{rng.uniform(0.1, 1):.5f}" for i in range(5)] + [f"[5]\ttrain-rmse:nan\tvalid-rmse:nan", "Exception: validation metric became NaN; aborting"]
    return "nan_loss", body, {}


@scenario
def jax_debug_nans(rng):
    tb, _, _ = project_traceback(rng, "FloatingPointError: invalid value (nan) encountered in jit(train_step)")
    return "nan_loss", tb, {}


@scenario
def custom_nan_loss(rng):
    body = [f"step {i} loss {rng.uniform(1, 3):.4f}" for i in range(0, 300, 50)] + [f"step 300 loss nan", f"ValueError: Loss is NaN at step 300, stopping."]
    return "nan_loss", body, {}


# ---------------------------------------------------------------- timeout
@scenario
def actions_timeout(rng):
    minutes = rng.choice([30, 60, 360])
    body = ["tests/test_train.py::test_full_epoch PASSED", "tests/test_train.py::test_distributed "]
    return "timeout", body + [f"##[error]The job running on runner GitHub Actions {rng.randint(2, 99)} has exceeded the maximum execution time of {minutes} minutes.", "##[error]The operation was canceled."], {"minutes": str(minutes)}


@scenario
def pytest_timeout(rng):
    secs = rng.choice([60.0, 300.0, 600.0])
    body = ["tests/test_pipeline.py::test_end_to_end ", f"+++++++++++++++++++++++++++++++++++ Timeout ++++++++++++++++++++++++++++++++++++", "~~~~~~~~~~~~~~~~~~~~~ Stack of MainThread (140001) ~~~~~~~~~~~~~~~~~~~~~",
            "=========================== short test summary info ============================", f"FAILED tests/test_pipeline.py::test_end_to_end - Failed: Timeout >{secs}s", "======================== 1 failed, 40 passed in 612.20s ========================"]
    return "timeout", body, {"seconds": str(secs)}


@scenario
def step_timeout(rng):
    body = ["Epoch 3/50", "Epoch 4/50", "##[error]The action has timed out."]
    return "timeout", body, {}


@scenario
def subprocess_timeout(rng):
    tb, _, _ = project_traceback(rng, "subprocess.TimeoutExpired: Command '['python', 'scripts/export_onnx.py']' timed out after 900 seconds")
    return "timeout", tb, {}


# ---------------------------------------------------------------- network_transient
@scenario
def pip_read_timeout(rng):
    body = ["Collecting torch==2.3.1", "  Downloading torch-2.3.1-cp311-cp311-manylinux1_x86_64.whl (779.1 MB)", "ERROR: Exception:", "Traceback (most recent call last):",
            f'  File "{site(rng)}/pip/_vendor/urllib3/response.py", line 438, in _error_catcher', "    yield",
            "pip._vendor.urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='files.pythonhosted.org', port=443): Read timed out."]
    return "network_transient", body, {}


@scenario
def hf_503(rng):
    code = rng.choice([502, 503, 504])
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[code]
    tb, _, _ = project_traceback(rng, f"huggingface_hub.errors.HfHubHTTPError: {code} Server Error: {reason} for url: https://huggingface.co/api/models/bert-base-uncased/revision/main")
    return "network_transient", tb, {}


@scenario
def connection_reset(rng):
    tb, _, _ = project_traceback(rng, "requests.exceptions.ConnectionError: ('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")
    return "network_transient", tb, {}


@scenario
def dns_failure(rng):
    tb, _, _ = project_traceback(rng, "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='mlflow.internal.acme.io', port=443): Max retries exceeded with url: /api/2.0/mlflow/runs/create (Caused by NameResolutionError(\"<urllib3.connection.HTTPSConnection object at 0x7f01a2c3b4d0>: Failed to resolve 'mlflow.internal.acme.io' ([Errno -3] Temporary failure in name resolution)\"))")
    return "network_transient", tb, {}


@scenario
def git_clone_fail(rng):
    body = ["Cloning into 'third_party/apex'...", "fatal: unable to access 'https://github.com/NVIDIA/apex.git/': Could not resolve host: github.com", "##[error]Process completed with exit code 128."]
    return "network_transient", body, {}


@scenario
def rate_limited(rng):
    tb, _, _ = project_traceback(rng, "urllib.error.HTTPError: HTTP Error 429: Too Many Requests")
    return "network_transient", ["Downloading https://download.pytorch.org/models/resnet50-0676ba61.pth"] + tb, {}


# ---------------------------------------------------------------- auth_error
@scenario
def hf_gated(rng):
    tb, _, _ = project_traceback(rng, "huggingface_hub.errors.GatedRepoError: 401 Client Error. (Request ID: Root=1-66c1-3b2a)\n\nCannot access gated repo for url https://huggingface.co/meta-llama/Llama-2-7b-hf/resolve/main/config.json.\nAccess to model meta-llama/Llama-2-7b-hf is restricted. You must have access to it and be authenticated to access it. Please log in.")
    return "auth_error", tb, {}


@scenario
def aws_nocreds(rng):
    body = ["Running stage 'prepare':", "> python src/prepare.py", "ERROR: unexpected error - Unable to locate credentials"]
    return "auth_error", body, {}


@scenario
def boto_nocreds(rng):
    tb, _, _ = project_traceback(rng, "botocore.exceptions.NoCredentialsError: Unable to locate credentials")
    return "auth_error", tb, {}


@scenario
def gh_integration(rng):
    body = ["Creating comment on PR #" + str(rng.randint(10, 900)), "RequestError [HttpError]: Resource not accessible by integration", "##[error]Resource not accessible by integration"]
    return "auth_error", body, {}


@scenario
def git_push_denied(rng):
    body = ["[main 3f2a1b9] Update model card", " 1 file changed, 2 insertions(+)", "remote: Permission to acme/vision-lab.git denied to github-actions[bot].",
            "fatal: unable to access 'https://github.com/acme/vision-lab/': The requested URL returned error: 403", "##[error]Process completed with exit code 128."]
    return "auth_error", body, {}


@scenario
def wandb_key(rng):
    body = ["wandb: Currently logged in as: anonymous", "wandb: ERROR api_key not configured (no-tty). call wandb.login(key=[your_api_key])", "wandb.errors.errors.UsageError: api_key not configured (no-tty). call wandb.login(key=[your_api_key])"]
    return "auth_error", body, {}


# ---------------------------------------------------------------- disk_full
@scenario
def pip_no_space(rng):
    body = ["Collecting torch==2.3.1", "  Downloading torch-2.3.1-cp311-cp311-manylinux1_x86_64.whl (779.1 MB)", "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device", ""]
    return "disk_full", body, {}


@scenario
def save_no_space(rng):
    tb, _, _ = project_traceback(rng, "RuntimeError: [enforce fail at inline_container.cc:595] . unexpected pos 1630208 vs 1630096", [frame(f"{site(rng)}/torch/serialization.py", 628, "save", "_save(obj, opened_zipfile, pickle_module)")])
    return "disk_full", ["Saving checkpoint to checkpoints/last.ckpt", "OSError: [Errno 28] No space left on device: 'checkpoints/last.ckpt'"] + tb, {}


@scenario
def docker_no_space(rng):
    body = ["#12 [5/8] RUN pip install -r requirements.txt", "#12 98.12 Installing collected packages: nvidia-cudnn-cu12, torch", "#12 ERROR: failed to copy files: copy file range failed: no space left on device",
            "ERROR: failed to solve: process \"/bin/sh -c pip install -r requirements.txt\" did not complete successfully: exit code: 1"]
    body[2] = body[2].replace("no space left on device", "No space left on device")
    return "disk_full", body, {}


@scenario
def runner_disk_warning(rng):
    body = ["##[warning]You are running out of disk space. The runner will stop working when the machine runs out of disk space. Free space left: 52 MB", "Extracting dataset...", "tar: data/images/0001.jpg: Cannot write: No space left on device", "tar: Exiting with failure status due to previous errors"]
    return "disk_full", body, {}


# ---------------------------------------------------------------- test_failure
def pytest_run(rng, failures: list[tuple[str, str]], extra: list[str] | None = None) -> list[str]:
    lines = ["============================= test session starts ==============================", "platform linux -- Python 3.11.9, pytest-8.3.2, pluggy-1.5.0", "rootdir: " + ws(rng), "plugins: anyio-4.4.0, timeout-2.3.1", f"collected {rng.randint(20, 200)} items", ""]
    lines += [f"tests/test_{m}.py {'.' * rng.randint(3, 30)}{'F' if i < len(failures) else ''}" for i, m in enumerate(["data", "model", "metrics"])]
    lines += extra or []
    lines += ["", "=================================== FAILURES ==================================="]
    for test_id, message in failures:
        name = test_id.split("::")[1]
        lines += [f"___________________________________ {name} ____________________________________", "", f"    def {name}():", f"{'>':<8}assert result == expected", f"E       {message}", "", f"{test_id.split('::')[0]}:{rng.randint(10, 300)}: AssertionError"]
    lines.append("=========================== short test summary info ============================")
    for test_id, message in failures:
        lines.append(f"FAILED {test_id} - {message}")
    lines.append(f"========================= {len(failures)} failed, {rng.randint(20, 200)} passed in {rng.uniform(2, 90):.2f}s =========================")
    return lines


@scenario
def pytest_assert(rng):
    ids = [f"tests/test_metrics.py::test_{n}" for n in rng.sample(["f1_macro", "precision_at_k", "auc_monotone", "confusion_shape"], rng.randint(1, 3))]
    return "test_failure", pytest_run(rng, [(i, f"AssertionError: assert {rng.uniform(0, 1):.3f} == {rng.uniform(0, 1):.3f}") for i in ids]), {"test_ids": ids}


@scenario
def pytest_timeout_message(rng):
    ids = ["tests/test_client.py::test_request_times_out_cleanly"]
    return "test_failure", pytest_run(rng, [(ids[0], "AssertionError: expected a timeout error after 5s, got status 200")]), {"test_ids": ids}


@scenario
def pytest_with_scary_warnings(rng):
    ids = [f"tests/test_model.py::test_forward[{rng.choice(['cpu', 'fp16', 'bf16'])}]"]
    extra = ["", "=============================== warnings summary ===============================",
             f"tests/test_model.py::test_load\n  {site(rng)}/torch/cuda/__init__.py:128: UserWarning: CUDA initialization: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver (Triggered internally at ../c10/cuda/CUDAFunctions.cpp:108.)",
             f"  {site(rng)}/urllib3/connectionpool.py:1099: InsecureRequestWarning: Connection refused while verifying certificate",
             "tests/test_model.py::test_oom_guard\n  /home/runner/work/x/x/src/model.py:55: RuntimeWarning: overflow encountered in exp; out of memory guard triggered"]
    return "test_failure", pytest_run(rng, [(ids[0], "AssertionError: Tensor-likes are not close!")], extra), {"test_ids": ids}


@scenario
def unittest_fail(rng):
    body = ["test_predict_shape (tests.test_model.TestModel.test_predict_shape) ... ok", "test_threshold (tests.test_model.TestModel.test_threshold) ... FAIL", "",
            "======================================================================", "FAIL: test_threshold (tests.test_model.TestModel.test_threshold)",
            "----------------------------------------------------------------------", "Traceback (most recent call last):", f'  File "{ws(rng)}/tests/test_model.py", line 44, in test_threshold', "    self.assertGreater(score, 0.9)",
            f"AssertionError: {rng.uniform(0.5, 0.89):.4f} not greater than 0.9", "", "----------------------------------------------------------------------", "Ran 12 tests in 3.210s", "", "FAILED (failures=1)"]
    return "test_failure", body, {}


@scenario
def pytest_many(rng):
    ids = [f"tests/test_data.py::test_split[{s}]" for s in rng.sample(["train", "val", "test", "holdout", "cv0", "cv1"], 4)]
    return "test_failure", pytest_run(rng, [(i, "assert 1203 == 1200") for i in ids]), {"test_ids": ids}


@scenario
def pytest_nccl_word_in_assert(rng):
    ids = ["tests/test_config.py::test_backend_default"]
    return "test_failure", pytest_run(rng, [(ids[0], "AssertionError: assert 'gloo' == 'nccl'")]), {"test_ids": ids}


# ---------------------------------------------------------------- code_error
@scenario
def syntax_error(rng):
    root = ws(rng)
    file = rng.choice(["src/model.py", "train.py", "src/data/loader.py"])
    body = ["Traceback (most recent call last):", f'  File "{root}/train.py", line 3, in <module>', "    from src.model import Net", f'  File "{root}/{file}", line {rng.randint(10, 90)}', "    def forward(self, x)", "                        ^", "SyntaxError: expected ':'"]
    return "code_error", body, {"file": file}


@scenario
def name_error(rng):
    tb, file, line = project_traceback(rng, f"NameError: name '{rng.choice(['optimzer', 'cfg', 'lr_schedule'])}' is not defined")
    return "code_error", tb, {"file": file, "line": line}


@scenario
def type_error_project(rng):
    tb, file, line = project_traceback(rng, "TypeError: unsupported operand type(s) for +: 'int' and 'NoneType'")
    return "code_error", tb, {"file": file, "line": line}


@scenario
def index_error(rng):
    tb, file, line = project_traceback(rng, f"IndexError: list index out of range")
    return "code_error", tb, {"file": file, "line": line}


@scenario
def value_error_project(rng):
    tb, file, line = project_traceback(rng, f"ValueError: Unknown scheduler '{rng.choice(['cosin', 'stepp', 'linear_warm'])}'")
    return "code_error", tb, {"file": file, "line": line}


@scenario
def zero_division(rng):
    tb, file, line = project_traceback(rng, "ZeroDivisionError: division by zero")
    return "code_error", tb, {"file": file, "line": line}


# ---------------------------------------------------------------- lint_failure
@scenario
def ruff_check(rng):
    files = rng.sample(["src/train.py", "src/model.py", "tests/test_data.py", "src/utils/io.py"], 2)
    body = [f"{files[0]}:{rng.randint(1, 40)}:8: F401 [*] `os` imported but unused", f"{files[1]}:{rng.randint(1, 200)}:101: E501 Line too long (112 > 100)", "Found 2 errors.", "[*] 1 fixable with the `--fix` option."]
    return "lint_failure", body, {"file": files[0]}


@scenario
def ruff_format(rng):
    body = ["Would reformat: src/train.py", "Would reformat: src/data/loader.py", "2 files would be reformatted, 31 files already formatted"]
    return "lint_failure", body, {"file": "src/train.py"}


@scenario
def mypy_errors(rng):
    file = rng.choice(["src/train.py", "src/features.py"])
    body = [f"{file}:{rng.randint(5, 200)}: error: Incompatible types in assignment (expression has type \"float\", variable has type \"int\")  [assignment]", f"{file}:{rng.randint(5, 200)}: error: Module \"numpy\" has no attribute \"float\"  [attr-defined]", "Found 2 errors in 1 file (checked 27 source files)"]
    return "lint_failure", body, {"file": file}


@scenario
def black_check(rng):
    body = ["would reformat /home/runner/work/forecast/forecast/src/forecast/model.py", "", "Oh no! 💥 💔 💥", "1 file would be reformatted, 22 files would be left unchanged."]
    return "lint_failure", body, {}


@scenario
def flake8(rng):
    body = [f"./src/pipeline.py:{rng.randint(1, 90)}:1: E302 expected 2 blank lines, found 1", f"./src/pipeline.py:{rng.randint(91, 200)}:80: E501 line too long (88 > 79 characters)", "2"]
    return "lint_failure", body, {"file": "./src/pipeline.py"}


@scenario
def isort_check(rng):
    body = ["ERROR: /home/runner/work/recsys/recsys/src/recsys/train.py Imports are incorrectly sorted and/or formatted.", "Skipped 2 files"]
    return "lint_failure", body, {}


@scenario
def pre_commit(rng):
    body = ["trim trailing whitespace.................................................Passed", "ruff.....................................................................Failed", "- hook id: ruff", "- exit code: 1", "", "src/eval.py:12:1: F811 Redefinition of unused `json` from line 3", "Found 1 error."]
    return "lint_failure", body, {}


# ---------------------------------------------------------------- unknown
@scenario
def custom_check(rng):
    body = ["Checking model card...", "model card is missing the 'intended use' section", "make: *** [Makefile:23: check-card] Error 1"]
    return "unknown", body, {}


@scenario
def git_diff_exit(rng):
    body = ["diff --git a/requirements.lock b/requirements.lock", "index 3f2a1b9..8c0d4e1 100644", "--- a/requirements.lock", "+++ b/requirements.lock", "@@ -12,7 +12,7 @@", "-numpy==1.26.4", "+numpy==2.0.1", "Lock file is out of date; run `make lock`"]
    return "unknown", body, {}


@scenario
def action_input_missing(rng):
    body = ["##[error]Input required and not supplied: path"]
    return "unknown", body, {}


@scenario
def docker_build_generic(rng):
    body = ["#9 [4/6] RUN make build", "#9 0.412 make: *** No rule to make target 'build'.  Stop.", "#9 ERROR: process \"/bin/sh -c make build\" did not complete successfully: exit code: 2",
            "ERROR: failed to solve: process \"/bin/sh -c make build\" did not complete successfully: exit code: 2"]
    return "unknown", body, {}


@scenario
def truncated_install(rng):
    return "unknown", ["Collecting torch==2.3.1", "  Downloading torch-2.3.1-cp311-cp311-manylinux1_x86_64.whl (779.1 MB)", "     ━━━━━━━━━━━━━━━━━━━━━ 412.2/779.1 MB 98.1 MB/s eta 0:00:04"], {}


@scenario
def metric_gate(rng):
    body = [f"accuracy={rng.uniform(0.6, 0.8):.4f} threshold=0.85", "Model quality gate not met; refusing to register model", "exit status 3"]
    return "unknown", body, {}


def main() -> None:
    rng = random.Random(SEED)
    logs = HERE / "logs"
    logs.mkdir(exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    labels: dict[str, dict[str, object]] = {}
    index = 0
    steps = ["python train.py", "pytest -q", "ruff check . && mypy src", "python -m src.evaluate", "dvc pull && dvc repro", "make test"]
    for round_number in range(2):
        for make in SCENARIOS:
            category, body, params = make(rng)
            body = [line for chunk in body for line in chunk.split("\n")]
            wrapped = (index % 2 == 0)
            step = rng.choice(steps)
            if wrapped:
                tail = None if any("##[error]" in line for line in body[-3:]) else "##[error]Process completed with exit code 1."
                lines = actions_wrap(rng, body, step, tail_error=tail, post=rng.random() < 0.8)
            else:
                lines = body
            if make.__name__ == "truncated_install":
                lines = lines[: max(3, len(lines) - rng.randint(0, 2))]
            name = f"{index:03d}_{make.__name__}.log"
            text = "\n".join(lines) + "\n"
            if rng.random() < 0.2:
                text = text.replace("Epoch", "\x1b[1mEpoch\x1b[0m").replace("FAILED", "\x1b[31mFAILED\x1b[0m")
            (logs / name).write_text(text, encoding="utf-8")
            label = {"category": category, "split": "validation" if index % 3 == 2 else "train", "params": params}
            if wrapped:
                label["params"] = {**params, "step": step}
            labels[name] = label
            index += 1
    (HERE / "labels.json").write_text(json.dumps(labels, indent=1, sort_keys=True) + "\n")
    print(f"wrote {index} logs")


if __name__ == "__main__":
    main()
