"""A circuit breaker per installation: stop hammering GitHub while it keeps failing.

Closed: requests flow. After `failure_threshold` consecutive failures (5xx or connection
errors) it opens: requests fail fast with `CircuitOpenError`. After `reset_after` seconds it
lets exactly one probe through (half-open); the probe's success closes it, its failure
re-opens it. The state is the gauge `shbot_github_circuit_state{installation}`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

from self_healing_bot.github.clock import Clock
from self_healing_bot.github.errors import CircuitOpenError
from self_healing_bot.github.metrics import CIRCUIT_STATE


class CircuitState(IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    """The breaker of one key (an installation id, "app" or "token")."""

    def __init__(
        self, key: str, clock: Clock, failure_threshold: int = 5, reset_after: float = 30.0
    ) -> None:
        self.key = key
        self._clock = clock
        self._failure_threshold = failure_threshold
        self._reset_after = reset_after
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False
        self._set(CircuitState.CLOSED)

    def _set(self, state: CircuitState) -> None:
        self.state = state
        CIRCUIT_STATE.labels(installation=self.key).set(int(state))

    def _admit(self) -> bool:
        """Whether this request is the half-open probe; raises while the circuit is open."""
        if self.state is CircuitState.CLOSED:
            return False
        retry_at = self._opened_at + self._reset_after
        if self.state is CircuitState.OPEN and self._clock.time() >= retry_at:
            self._set(CircuitState.HALF_OPEN)
        if self.state is CircuitState.HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        raise CircuitOpenError(self.key, retry_at)

    @contextmanager
    def guard(self, failures: tuple[type[BaseException], ...]) -> Iterator[None]:
        """Run one request through the breaker; exceptions of a type in `failures` count against it.

        Any other exception (a 4xx answer) still shows GitHub is answering and counts as
        success; a cancelled request neither opens nor closes the circuit.
        """
        probe = self._admit()
        try:
            yield
        except failures:
            self._record_failure()
            raise
        except Exception:
            self._record_success()
            raise
        else:
            self._record_success()
        finally:
            if probe:
                self._probe_in_flight = False

    def _record_success(self) -> None:
        self._failures = 0
        if self.state is not CircuitState.CLOSED:
            self._set(CircuitState.CLOSED)

    def _record_failure(self) -> None:
        self._failures += 1
        if self.state is CircuitState.HALF_OPEN or self._failures >= self._failure_threshold:
            self._opened_at = self._clock.time()
            self._set(CircuitState.OPEN)


class CircuitBreakers:
    """One breaker per key, created on first use."""

    def __init__(self, clock: Clock, failure_threshold: int = 5, reset_after: float = 30.0) -> None:
        self._clock = clock
        self._failure_threshold = failure_threshold
        self._reset_after = reset_after
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, key: str) -> CircuitBreaker:
        if key not in self._breakers:
            self._breakers[key] = CircuitBreaker(
                key, self._clock, self._failure_threshold, self._reset_after
            )
        return self._breakers[key]

    def states(self) -> dict[str, CircuitState]:
        """Every known key's state, e.g. for /readyz."""
        return {key: breaker.state for key, breaker in self._breakers.items()}
