"""`self-healing-bot worker [--concurrency N]`: a Dramatiq worker for distributed mode.

It serves its own Prometheus `/metrics` (execution and stage metrics are counted where the
pipeline runs) on `SHBOT_WORKER_METRICS_PORT` (default 9101; 0 turns it off).
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from self_healing_bot.command_errors import fail


def worker(
    concurrency: Annotated[int, typer.Option(help="Deliveries processed at once.", min=1)] = 4,
) -> None:
    """Process deliveries from the broker named by SHBOT_BROKER_URL until SIGTERM or SIGINT."""
    from prometheus_client import start_http_server

    from self_healing_bot.settings import load_settings

    settings = load_settings()
    if settings.embedded:
        fail(
            "SHBOT_BROKER_URL is empty; in embedded mode `serve` processes deliveries "
            "itself. Set it to redis://... or amqp://... to run workers.",
            2,
        )
    # Before the heavy imports, so a taken port is reported at once; metrics registered later
    # are still served (the registry is read at each scrape).
    if settings.worker_metrics_port:
        try:
            start_http_server(settings.worker_metrics_port)
        except OSError as error:
            fail(
                f"cannot serve /metrics on port {settings.worker_metrics_port} ({error}); "
                "set SHBOT_WORKER_METRICS_PORT to a free port, or 0 to turn metrics off",
                1,
            )
    import dramatiq

    from self_healing_bot.core.bot import install_remediation
    from self_healing_bot.core.remediation import PlaybookRemediation
    from self_healing_bot.detectors.registry import load_detectors
    from self_healing_bot.logging_setup import configure_logging
    from self_healing_bot.queue.broker import build_broker, declare_actor

    configure_logging(settings.log_level, settings.log_json)
    load_detectors(settings.plugin_modules)
    install_remediation(PlaybookRemediation())
    broker = build_broker(settings)
    declare_actor(broker, settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    consumer = dramatiq.Worker(broker, worker_threads=concurrency, worker_timeout=500)
    consumer.start()
    try:
        stop.wait()
    finally:
        consumer.stop()
        broker.close()


def register(app: typer.Typer) -> None:
    app.command()(worker)
