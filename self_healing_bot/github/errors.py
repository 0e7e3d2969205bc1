"""Typed failures of GitHub calls, each with a message that says what to do next."""

from __future__ import annotations


class GitHubError(Exception):
    """Base class: any failure talking to GitHub."""


class GitHubConfigurationError(GitHubError):
    """The GitHub credentials or URL in the settings cannot work."""


class GitHubApiError(GitHubError):
    """GitHub answered with an error status that retrying will not fix (4xx)."""

    def __init__(self, method: str, url: str, status: int, message: str) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.github_message = message
        super().__init__(f"GitHub answered {status} to {method} {url}: {message}")


class GitHubNotFoundError(GitHubApiError):
    """404: the object does not exist, or the installation cannot see it."""


class GitHubAuthenticationError(GitHubApiError):
    """401: the token or app JWT was refused; check the app id, private key or token."""


class GitHubRateLimitError(GitHubError):
    """GitHub's rate limit still blocks us after bounded waiting; try again at `retry_at`."""

    def __init__(self, method: str, url: str, retry_at: float, attempts: int) -> None:
        self.retry_at = retry_at
        self.attempts = attempts
        super().__init__(
            f"GitHub rate limit blocks {method} {url} after {attempts} attempt(s); "
            f"retry after epoch {retry_at:.0f}"
        )


class GitHubUnavailableError(GitHubError):
    """GitHub kept failing (5xx or connection errors) through every bounded retry."""

    def __init__(self, method: str, url: str, attempts: int, last_failure: str) -> None:
        self.attempts = attempts
        self.last_failure = last_failure
        super().__init__(
            f"GitHub did not complete {method} {url} after {attempts} attempt(s) "
            f"(last: {last_failure}); the request can be retried later"
        )


class CircuitOpenError(GitHubError):
    """The circuit for this installation is open after repeated failures; calls fail fast."""

    def __init__(self, key: str, retry_at: float) -> None:
        self.key = key
        self.retry_at = retry_at
        super().__init__(
            f"GitHub circuit for {key} is open after repeated failures; "
            f"the next probe is allowed at epoch {retry_at:.0f}"
        )
