"""GitHub's write windows shared by every process through the real Redis, and the fall-back
to this process's own pacing when Redis is down."""

from __future__ import annotations

import secrets
import time

import pytest

from self_healing_bot.github.pacing import (
    SharedWritePacer,
    Window,
    WritePacer,
    write_pacer,
)
from tests.servers import REDIS_URL, require_server

THREE_PER_MINUTE = [Window(3, 60.0)]


class Paced(Exception):
    """Raised instead of sleeping: the pacer asked to wait."""


class StopAtSleep:
    """Real time, but a sleep is recorded and ends the call, so no test waits a minute."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        raise Paced


def _redis() -> None:
    host_port = REDIS_URL.split("://", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    require_server("Redis", host, int(port or 6379))


async def test_two_processes_share_one_installations_window() -> None:
    _redis()
    key = f"installation:{secrets.token_hex(6)}"
    clock = StopAtSleep()
    first, second = (SharedWritePacer(REDIS_URL, clock, THREE_PER_MINUTE) for _ in range(2))
    for pacer in (first, second, first):
        await pacer.wait_turn(key)
    assert clock.waits == []

    with pytest.raises(Paced):
        await second.wait_turn(key)  # the fourth write in a minute, from either process
    (wait,) = clock.waits
    assert 50.0 < wait <= 60.0  # until the first of the three leaves the window

    await first.wait_turn(f"{key}-other")  # another installation has its own window
    assert len(clock.waits) == 1


async def test_without_redis_each_process_paces_alone_and_still_paces() -> None:
    clock = StopAtSleep()
    pacer = SharedWritePacer("redis://127.0.0.1:1/0", clock, [Window(2, 60.0)], outage_seconds=60)
    await pacer.wait_turn("installation:1")
    await pacer.wait_turn("installation:1")
    with pytest.raises(Paced):
        await pacer.wait_turn("installation:1")
    assert clock.waits == [pytest.approx(60.0, abs=1.0)]


def test_the_pacer_is_shared_only_when_there_is_a_redis() -> None:
    clock = StopAtSleep()
    assert isinstance(write_pacer(None, clock), WritePacer)
    assert isinstance(write_pacer(REDIS_URL, clock), SharedWritePacer)
