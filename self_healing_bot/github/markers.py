"""Hidden markers that let the bot find what it created before (idempotency by key).

body = with_marker("Training fails: CUDA OOM ...", key="gpu_oom:train.yml:3f2a")
existing = await client.find_issue_by_marker("octo/repo", "gpu_oom:train.yml:3f2a")
"""

from __future__ import annotations


def marker(key: str) -> str:
    """The HTML comment GitHub renders invisibly; `key` must not contain `-->`."""
    if "-->" in key or "\n" in key:
        raise ValueError(f"marker key {key!r} must not contain '-->' or a newline")
    return f"<!-- self-healing-bot:{key} -->"


def with_marker(body: str, key: str) -> str:
    """`body` followed by the hidden marker for `key`."""
    return f"{body}\n\n{marker(key)}"


def has_marker(body: str | None, key: str) -> bool:
    return marker(key) in (body or "")
