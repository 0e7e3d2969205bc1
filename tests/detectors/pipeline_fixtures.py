"""A GitHub sandbox with simulated CI whose webhooks the bot processes end to end.

`Bot.process_webhooks()` takes every webhook the sandbox sent since the last call, stores it
as the intake would, and runs the task a worker runs (`process_delivery`), with our GitHub
client talking to the sandbox over httpx's ASGI transport.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from self_healing_bot.detectors.registry import load_detectors
from self_healing_bot.github.connection import GitHub
from self_healing_bot.queue.tasks import Runtime, process_delivery
from self_healing_bot.sandbox import GitHubSandbox
from self_healing_bot.sandbox.ci_rules import JobSpec
from self_healing_bot.settings import Settings
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.deliveries import NewDelivery, insert_new
from self_healing_bot.storage.migrate import upgrade
from tests.github.world import APP_ID, BASE, PRIVATE_PEM, PUBLIC_PEM
from tests.github_sandbox_plugin import assert_github_would_accept

INSTALLATION_ID = 77
REPO = "octo/ml"
ORG_REPO = "octo/.github"
CONFIG = ".github/self-healing-bot.yml"

CUDA_OOM_LOG = """\
##[group]Run actions/checkout@v4
Syncing repository: octo/ml
##[endgroup]
##[group]Run python train.py --config configs/train.yaml
Loading dataset from data/train.parquet
batch_size: 64
Traceback (most recent call last):
  File "/home/runner/work/ml/ml/train.py", line 41, in <module>
    loss = model(batch).loss
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB \
(GPU 0; 15.77 GiB total capacity; 13.11 GiB already allocated)
##[error]Process completed with exit code 1.
"""

SHARD_LOG = """\
##[group]Run python train.py
FeatureStore: shard 7 unavailable, giving up
##[error]Process completed with exit code 3.
"""

BIG_BATCH = {"file": "configs/train.yaml", "key": "batch_size", "greater_than": 32}


@dataclass
class Bot:
    sandbox: GitHubSandbox
    github: GitHub
    database: Database
    runtime: Runtime
    processed: int = 0
    results: list[tuple[str, str, str]] = field(default_factory=list)

    async def process_webhooks(self) -> list[tuple[str, str, str]]:
        """(event, action, outcome) for each webhook the sandbox sent since the last call."""
        await self.sandbox.drain()
        new = self.sandbox.sender.deliveries[self.processed :]
        self.processed += len(new)
        results = []
        for delivery in new:
            body = json.dumps(delivery.payload).encode()
            async with self.database.session() as session:
                await insert_new(
                    session,
                    [
                        NewDelivery(
                            delivery.guid,
                            delivery.event,
                            delivery.action,
                            delivery.payload["repository"]["full_name"],
                            delivery.installation_id,
                            body,
                        )
                    ],
                )
            outcome = await process_delivery(self.runtime, delivery.guid)
            results.append((delivery.event, delivery.action or "", outcome.kind))
        self.results.extend(results)
        return results

    def push(self, files: dict[str, bytes | str | None], branch: str = "main") -> str:
        return self.sandbox.commit_files(REPO, branch, files, "change")


def add_ci(sandbox: GitHubSandbox, failures: list[dict[str, Any]], name: str = "train") -> None:
    job = JobSpec.parse({"name": name, "failures": failures})
    sandbox.add_workflow(REPO, "ci", [job], triggers=("push", "pull_request"))


def make_sandbox(org_config: str | None = None) -> GitHubSandbox:
    sandbox = GitHubSandbox(base_url=BASE, run_delay=0.0, validate_responses=True)
    sandbox.register_app(APP_ID, PUBLIC_PEM, webhook_secret="s3cret")
    sandbox.add_repository(
        REPO, {"train.py": b"print('train')\n", "configs/train.yaml": b"batch_size: 64\n"}
    )
    repositories = [REPO]
    if org_config is not None:
        sandbox.add_repository(ORG_REPO, {CONFIG: org_config.encode()})
        repositories.append(ORG_REPO)
    sandbox.add_installation(INSTALLATION_ID, "octo", repositories)
    return sandbox


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session", autouse=True)
def detectors_loaded() -> None:
    load_detectors()


@pytest.fixture
def org_config() -> str | None:
    """Override in a test module (or parametrize) to give the organisation a config file."""
    return None


@pytest.fixture
async def bot(sqlite_url: str, org_config: str | None) -> AsyncIterator[Bot]:
    sandbox = make_sandbox(org_config)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.asgi_app))
    github = GitHub(BASE, app_id=APP_ID, private_key_pem=PRIVATE_PEM, http=http)
    database = Database.connect(sqlite_url)
    settings = Settings(_env_file=None, database_url=sqlite_url)  # type: ignore[call-arg]
    bot = Bot(sandbox, github, database, Runtime(settings, database, github))
    yield bot
    await github.aclose()
    await sandbox.close()
    await database.close()
    assert_github_would_accept(sandbox)
