"""CI logs for the scenarios: the demo's real tool logs, and a traceback with planted secrets."""

from __future__ import annotations

from importlib import resources

GITHUB_TOKEN = "ghp_" + "Zq7" * 12
AWS_KEY = "AKIA" + "QX7W2ZPLM4RT6YBN"
PASSWORD = "hunter2-but-longer"


def demo_log(name: str) -> str:
    """One of `self_healing_bot/demo/logs/*.log` (real GitHub Actions output)."""
    return resources.files("self_healing_bot.demo").joinpath("logs", name).read_text()


NUMPY_RELEASE = demo_log("numpy-release.log")
NETWORK_TIMEOUT = demo_log("network-timeout.log")
FLAKY_TEST = demo_log("flaky-test.log")
CODE_ERROR = (
    "Run python train.py\n"
    "Traceback (most recent call last):\n"
    '  File "/home/runner/work/ml/ml/train.py", line 12, in <module>\n'
    "    main()\n"
    '  File "/home/runner/work/ml/ml/train.py", line 9, in main\n'
    "    rows = load(config)\n"
    "TypeError: unsupported operand type(s) for +: 'int' and 'str'\n"
    "##[error]Process completed with exit code 1.\n"
)
LEAKY_CODE_ERROR = (
    "Run python train.py\n"
    f"export GITHUB_TOKEN={GITHUB_TOKEN}\n"
    f"AWS_ACCESS_KEY_ID={AWS_KEY}\n"
    "Traceback (most recent call last):\n"
    '  File "/home/runner/work/ml/ml/train.py", line 12, in <module>\n'
    "    main()\n"
    '  File "/home/runner/work/ml/ml/train.py", line 9, in main\n'
    f'    connect("postgresql://trainer:{PASSWORD}@db.internal:5432/ml")\n'
    f"ValueError: login failed for token {GITHUB_TOKEN} with key {AWS_KEY} "
    f"at postgresql://trainer:{PASSWORD}@db.internal:5432/ml\n"
    "##[error]Process completed with exit code 1.\n"
)
SECRETS = (GITHUB_TOKEN, AWS_KEY, PASSWORD)
