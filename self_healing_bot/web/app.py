"""The web app factory: webhook intake, health, metrics and the REST API.

    app = create_app(Settings(webhook_secret="s3cret"))   # uvicorn.run(app)

On start it connects the database (embedded mode also migrates it), picks the queue (the
in-process one, or a Dramatiq broker), and starts the background tasks: the group-commit
writer, the outbox, the scheduler (`scheduler.py`), and in embedded mode the in-process
workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI

from self_healing_bot.core.bot import install_remediation, installed_remediation
from self_healing_bot.core.remediation import PlaybookRemediation
from self_healing_bot.detectors.registry import load_detectors
from self_healing_bot.queue.outbox import Outbox, Sink
from self_healing_bot.queue.tasks import Runtime
from self_healing_bot.scheduler import Scheduler
from self_healing_bot.settings import Settings, load_settings
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.migrate import upgrade
from self_healing_bot.web import api, health, webhooks
from self_healing_bot.web.api import errors as api_errors
from self_healing_bot.web.api.rate_limit import RateLimiter
from self_healing_bot.web.dashboard import routes as dashboard
from self_healing_bot.web.intake import IntakeWriter
from self_healing_bot.web.middleware import RequestContextMiddleware

log = structlog.stdlib.get_logger(__name__)


def _queue(
    settings: Settings, database: Database
) -> tuple[Sink, str, Callable[[], object], list[Coroutine[Any, Any, None]], Callable[[], None]]:
    """The sink, its kind, a readiness probe, background work and a closer for the queue."""
    if settings.embedded:
        from self_healing_bot.queue.embedded import EmbeddedQueue

        queue = EmbeddedQueue(Runtime(settings, database))
        return queue, "embedded", lambda: None, [queue.run()], lambda: None
    from self_healing_bot.queue.broker import BrokerSink, build_broker, declare_actor, probe

    broker = build_broker(settings)
    sink = BrokerSink(declare_actor(broker, settings))
    return sink, type(broker).__name__, lambda: probe(broker), [], broker.close


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.webhook_secrets:
            log.warning("SHBOT_WEBHOOK_SECRET is empty: every webhook will be rejected (401)")
        if settings.embedded:
            await asyncio.to_thread(upgrade, settings.database_url)
        load_detectors(settings.plugin_modules)
        remediation = PlaybookRemediation()
        if installed_remediation() is None:  # tests install their own first
            install_remediation(remediation)
        database = Database.connect(settings.database_url)
        sink, kind, probe_queue, work, close_queue = _queue(settings, database)
        outbox = Outbox(database, sink, settings)
        writer = IntakeWriter(database, on_commit=outbox.notify)
        scheduler = Scheduler.for_process(settings, database, outbox.notify)
        app.state.settings = settings
        app.state.database = database
        app.state.outbox = outbox
        app.state.writer = writer
        app.state.queue_kind = kind
        app.state.queue_probe = probe_queue
        app.state.sink = sink
        background = (writer.run(), outbox.run(), scheduler.run(), *work)
        tasks = [asyncio.create_task(job) for job in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await scheduler.close()
            close_queue()
            await database.close()
            if installed_remediation() is remediation:
                install_remediation(None)
            await remediation.aclose()

    # We export Prometheus metrics, not OpenTelemetry: FastAPI's per-request check for an
    # OpenTelemetry provider costs about 7% of a webhook's CPU (bench/ingest), so it is off.
    app = FastAPI(
        title="self-healing-bot",
        version="0.1.0",
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_middleware(webhooks.WebhookIntake)  # inside the request context: ids and headers
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    dashboard.install(app, settings)
    app.include_router(api.router)
    api_errors.install(app)
    app.state.rate_limiter = RateLimiter.from_settings(settings)
    return app


def app_from_environment() -> FastAPI:
    """The uvicorn factory `serve` runs (in every worker process): settings and logs from env."""
    from self_healing_bot.logging_setup import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings)
