"""Runtime settings, read from `SHBOT_*` environment variables and `.env`.

The defaults are the embedded mode: SQLite and an in-process queue, no server needed.

    >>> settings = load_settings()
    >>> settings.embedded
    True
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting the bot reads; names follow INTERFACES.md (prefix `SHBOT_`)."""

    model_config = SettingsConfigDict(env_prefix="SHBOT_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./shbot.db"
    broker_url: str = ""
    webhook_secret: str = ""
    github_app_id: int | None = None
    github_private_key: str = ""
    github_api_url: str = "https://api.github.com"
    github_token: str = ""
    sandbox_request_log: str = ""
    log_level: str = "INFO"
    log_json: bool = True
    max_delivery_attempts: int = Field(default=5, ge=1)
    # Queue and workers (issue 2): a claimed delivery is owned for `lease_seconds`; past that the
    # reconciler hands it to another worker. Redis only notices a dead worker after the heartbeat
    # timeout, and only on the fraction of fetches that run maintenance (per million).
    queue_name: str = "deliveries"
    lease_seconds: float = Field(default=300.0, gt=0)
    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    retry_min_backoff_ms: int = Field(default=1000, ge=1)
    retry_max_backoff_ms: int = Field(default=300_000, ge=1)
    throttle_per_repository_per_minute: int = Field(default=120, ge=1)
    redis_heartbeat_timeout_ms: int = Field(default=60_000, ge=1000)
    redis_maintenance_chance: int = Field(default=1000, ge=0, le=1_000_000)
    # Signs the dashboard's session cookies; set it when several processes serve the dashboard
    # (empty: a random secret per process, so sessions end when it restarts).
    session_secret: str = ""
    # Extra modules imported at start-up so they can register detectors (comma-separated).
    plugins: str = ""
    # REST API (issue 7): requests per API key in a moving window (`limits` notation), counted in
    # Redis at `counter_redis_url` (with GitHub's write pacing), else in memory.
    api_rate_limit: str = "600/minute"
    rate_limit_url: str = ""
    # Scheduler (issues 3 and 5): missed-delivery recovery every `redelivery_interval` seconds
    # when App credentials are set. The worker serves /metrics on `worker_metrics_port` (0: off).
    redelivery_interval: float = Field(default=600.0, gt=0)
    worker_metrics_port: int = Field(default=9101, ge=0, le=65535)

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: the queue runs inside the web process."""
        return not self.broker_url

    @property
    def counter_redis_url(self) -> str | None:
        """The Redis the shared counters (API rate limits, GitHub write pacing) live in:
        `rate_limit_url`, else a redis:// `broker_url`; None counts in each process's memory
        (embedded mode, or an AMQP broker with no `rate_limit_url`)."""
        for url in (self.rate_limit_url, self.broker_url):
            if url.startswith(("redis://", "rediss://")):
                return url
        return None

    @property
    def webhook_secrets(self) -> list[str]:
        """All configured secrets; any one verifies a delivery, so secrets can rotate."""
        return [secret.strip() for secret in self.webhook_secret.split(",") if secret.strip()]

    @property
    def plugin_modules(self) -> list[str]:
        """The modules named in `plugins`, to import so their detectors register."""
        return [name.strip() for name in self.plugins.split(",") if name.strip()]

    def github_private_key_pem(self) -> str:
        """The App's private key, given either as PEM text or as a path to a PEM file."""
        value = self.github_private_key.strip()
        if not value or value.startswith("-----BEGIN"):
            return value
        return Path(value).expanduser().read_text()


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
