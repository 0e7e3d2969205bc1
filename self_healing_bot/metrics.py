"""Prometheus metrics; dashboards and alerts use exactly these names."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WEBHOOK_DELIVERIES = Counter(
    "shbot_webhook_deliveries_total",
    "Webhook deliveries answered, by event and outcome (accepted, duplicate, rejected, invalid).",
    ["event", "status"],
)
DELIVERY_LATENCY = Histogram(
    "shbot_delivery_latency_seconds",
    "Time from reception to the end of processing.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
QUEUE_DEPTH = Gauge("shbot_queue_depth", "Deliveries received or queued, not yet processing.")
DEAD_LETTERS = Gauge("shbot_dead_letters", "Deliveries that exhausted their attempts.")
OLDEST_QUEUED_AGE = Gauge(
    "shbot_oldest_queued_delivery_age_seconds", "Age of the oldest delivery still waiting."
)
STAGE_DURATION = Histogram(
    "shbot_stage_duration_seconds", "Duration of each pipeline stage.", ["stage"]
)
EXECUTIONS = Counter(
    "shbot_executions_total", "Finished processing runs, by end state.", ["end_state"]
)
SCHEDULED_JOBS = Counter(
    "shbot_scheduled_jobs_total",
    "Scheduler job runs that did something (redelivery, drift_schedule), by outcome.",
    ["job", "outcome"],
)
