"""Faults the sandbox injects on demand: 5xx bursts, rate limits, slow answers, lost webhooks.

Each fault is armed for a number of requests (or deliveries) and disarms itself after them;
`path` (a regular expression searched in the request path) narrows a request fault.

    sandbox.faults.server_errors(3, status=502)            # the next 3 requests fail
    sandbox.faults.secondary_rate_limit(1, retry_after=2)  # 403 with retry-after: 2
    sandbox.faults.drop_deliveries(2)                      # the next 2 webhooks are lost
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from self_healing_bot.sandbox.ci_rules import ScenarioError


@dataclass
class RequestFault:
    kind: str  # "server_error" | "secondary_rate_limit" | "primary_rate_limit" | "slow"
    remaining: int
    path: str | None = None
    status: int = 500
    retry_after: int = 60
    seconds: float = 0.0

    def applies_to(self, path: str) -> bool:
        return self.path is None or re.search(self.path, path) is not None


@dataclass
class Faults:
    """The armed faults; the server asks `take_request_fault` once per request."""

    request_faults: list[RequestFault] = field(default_factory=list)
    dropped_deliveries: int = 0

    def server_errors(self, count: int, status: int = 502, path: str | None = None) -> None:
        self.request_faults.append(RequestFault("server_error", count, path, status=status))

    def secondary_rate_limit(
        self, count: int = 1, retry_after: int = 60, status: int = 403, path: str | None = None
    ) -> None:
        self.request_faults.append(
            RequestFault(
                "secondary_rate_limit", count, path, status=status, retry_after=retry_after
            )
        )

    def exhaust_rate_limit(self, count: int = 1, path: str | None = None) -> None:
        """The next `count` requests find the primary limit used up (remaining 0)."""
        self.request_faults.append(RequestFault("primary_rate_limit", count, path, status=403))

    def slow(self, count: int, seconds: float, path: str | None = None) -> None:
        self.request_faults.append(RequestFault("slow", count, path, seconds=seconds))

    def drop_deliveries(self, count: int) -> None:
        self.dropped_deliveries += count

    def take_request_fault(self, path: str) -> RequestFault | None:
        """The first armed fault for this path, counted down (None when none applies)."""
        for fault in self.request_faults:
            if fault.applies_to(path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.request_faults.remove(fault)
                return fault
        return None

    def take_dropped_delivery(self) -> bool:
        if self.dropped_deliveries <= 0:
            return False
        self.dropped_deliveries -= 1
        return True

    def clear(self) -> None:
        self.request_faults.clear()
        self.dropped_deliveries = 0

    def arm(self, spec: dict[str, Any]) -> None:
        """Arm one fault from data (a scenario's `faults:` entry or a `POST /_sandbox/faults`).

        >>> Faults().arm({"kind": "server_error", "count": 2, "status": 503})
        """
        kind = spec.get("kind")
        options = {key: value for key, value in spec.items() if key != "kind"}
        armings: dict[str, Callable[..., None]] = {
            "server_error": self.server_errors,
            "secondary_rate_limit": self.secondary_rate_limit,
            "primary_rate_limit": self.exhaust_rate_limit,
            "slow": self.slow,
            "drop_deliveries": self.drop_deliveries,
        }
        arming = armings.get(str(kind))
        if arming is None:
            raise ScenarioError(
                f"unknown fault kind {kind!r}; use one of server_error, "
                "secondary_rate_limit, primary_rate_limit, slow, drop_deliveries"
            )
        try:
            arming(**options)
        except TypeError as error:
            raise ScenarioError(f"fault {kind!r}: {error}") from error
