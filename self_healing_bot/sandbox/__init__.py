"""A stateful in-memory GitHub for tests and `make demo` (see `github_sandbox.py`)."""

from self_healing_bot.sandbox.github_sandbox import GitHubSandbox

__all__ = ["GitHubSandbox"]
