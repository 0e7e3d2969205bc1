"""The webhook delivery that caused the current work, carried on every GitHub request.

The worker binds it once per task; every request then sends it in `X-Shbot-Delivery` and
every log line carries `delivery_id`:

    with delivery_context("72d3162e-cc78-11e3-81ab-4c9367dc0958"):
        await client.create_comment("octo/repo", 7, "...")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

DELIVERY_HEADER = "X-Shbot-Delivery"

_delivery_id: ContextVar[str | None] = ContextVar("shbot_delivery_id", default=None)


def current_delivery_id() -> str | None:
    """The delivery id bound by the innermost `delivery_context`, if any."""
    return _delivery_id.get()


@contextmanager
def delivery_context(delivery_id: str) -> Iterator[None]:
    """Bind `delivery_id` for GitHub requests and structured logs inside the block."""
    token = _delivery_id.set(delivery_id)
    try:
        with structlog.contextvars.bound_contextvars(delivery_id=delivery_id):
            yield
    finally:
        _delivery_id.reset(token)
