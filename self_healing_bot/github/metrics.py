"""Prometheus series of the GitHub client, in the default registry so /metrics shows them."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CIRCUIT_STATE = Gauge(
    "shbot_github_circuit_state",
    "GitHub circuit breaker state per installation: 0 closed, 1 half-open, 2 open.",
    ["installation"],
)
RATE_LIMIT_REMAINING = Gauge(
    "shbot_github_rate_limit_remaining",
    "GitHub's x-ratelimit-remaining from the latest response per installation.",
    ["installation"],
)
REQUESTS = Counter(
    "shbot_github_requests",
    "GitHub API requests sent, by method and response status ('error' when none came back).",
    ["method", "status"],
)
