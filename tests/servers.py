"""Reaching the real servers our machines run (PostgreSQL, Redis, RabbitMQ).

Under CI (`CI=true`) an unreachable server fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "SHBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SHBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("SHBOT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def require_server(name: str, host: str, port: int) -> None:
    """Fail under CI, skip elsewhere, when `host:port` does not accept a TCP connection."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as error:
        reason = f"{name} is not reachable at {host}:{port} ({error})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
