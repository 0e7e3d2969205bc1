"""The circuit breaker's states as /metrics and /readyz show them."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from self_healing_bot.github.breaker import CircuitBreaker, CircuitState
from self_healing_bot.github.errors import CircuitOpenError
from tests.github.conftest import FakeClock


class Boom(Exception):
    pass


def gauge(key: str) -> float | None:
    return REGISTRY.get_sample_value("shbot_github_circuit_state", {"installation": key})


def fail(breaker: CircuitBreaker) -> None:
    with pytest.raises(Boom), breaker.guard(failures=(Boom,)):
        raise Boom


def test_opens_after_threshold_then_probes_once_and_closes(clock: FakeClock) -> None:
    breaker = CircuitBreaker("breaker-test-1", clock, failure_threshold=3, reset_after=30.0)
    for _ in range(3):
        fail(breaker)
    assert breaker.state is CircuitState.OPEN and gauge("breaker-test-1") == 2
    with (
        pytest.raises(CircuitOpenError, match="open after repeated failures"),
        breaker.guard(failures=(Boom,)),
    ):
        pass
    clock.now += 30
    with breaker.guard(failures=(Boom,)):
        assert gauge("breaker-test-1") == 1
        with pytest.raises(CircuitOpenError), breaker.guard(failures=(Boom,)):
            pass  # only one probe at a time
    assert breaker.state is CircuitState.CLOSED and gauge("breaker-test-1") == 0


def test_a_failed_probe_reopens_and_a_4xx_counts_as_an_answer(clock: FakeClock) -> None:
    breaker = CircuitBreaker("breaker-test-2", clock, failure_threshold=2, reset_after=10.0)
    fail(breaker)
    with pytest.raises(KeyError), breaker.guard(failures=(Boom,)):
        raise KeyError("a 404 is an answer")
    fail(breaker)
    assert breaker.state is CircuitState.CLOSED  # the answer in between reset the count
    fail(breaker)
    assert breaker.state is CircuitState.OPEN
    clock.now += 10
    fail(breaker)
    assert breaker.state is CircuitState.OPEN and gauge("breaker-test-2") == 2
