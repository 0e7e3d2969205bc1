from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from self_healing_bot.settings import Settings
from self_healing_bot.storage.database import Database
from tests.webhooks import (
    SECRET,
    examples,
    executions,
    headers,
    running_app,
    stored,
    wait_for_status,
    workflow_run_body,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        broker_url="",
        webhook_secret=f"{SECRET},previous-secret",
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(settings) as client:
        yield client


@pytest.fixture
async def database(client: httpx.AsyncClient) -> Database:
    db: Database = client.app.state.database  # type: ignore[attr-defined]
    return db


async def test_every_github_example_payload_is_accepted_and_stored(
    client: httpx.AsyncClient, database: Database
) -> None:
    sent: dict[str, str] = {}
    for event, payloads in examples().items():
        for payload in payloads:
            body = json.dumps(payload).encode()
            for refused in (
                headers(event, body, secret=None),
                headers(event, body, secret="retired-secret"),
                headers(event, b"{}"),  # a signature of another body
            ):
                response = await client.post("/webhooks/github", content=body, headers=refused)
                assert response.status_code == 401, (event, response.text)
            request_headers = headers(event, body)
            response = await client.post("/webhooks/github", content=body, headers=request_headers)
            assert response.status_code == 202, (event, response.text)
            sent[request_headers["X-GitHub-Delivery"]] = event
    assert len(sent) == 329 and len(set(sent.values())) == 58
    rows = await stored(database)
    assert {delivery_id: row.event for delivery_id, row in rows.items()} == sent


@pytest.mark.parametrize(
    ("case", "signature"),
    [
        ("missing", None),
        ("wrong", "sha256=" + "0" * 64),
        ("another body's", "other-body"),
        ("rotated-out secret", "retired-secret"),
        ("sha1 instead of sha256", "sha1=" + "0" * 40),
        ("no prefix", "bare-hex"),
    ],
)
async def test_bad_signatures_are_401_and_nothing_is_stored(
    client: httpx.AsyncClient, database: Database, case: str, signature: str | None
) -> None:
    from self_healing_bot.web.signature import sign

    body = workflow_run_body()
    request_headers = headers("workflow_run", body, secret=None)
    if signature == "other-body":
        signature = sign(b'{"other": true}', SECRET)
    elif signature == "retired-secret":
        signature = sign(body, "retired-secret")
    elif signature == "bare-hex":
        signature = sign(body, SECRET).removeprefix("sha256=")
    if signature is not None:
        request_headers["X-Hub-Signature-256"] = signature
    response = await client.post("/webhooks/github", content=body, headers=request_headers)
    assert response.status_code == 401, case
    assert await stored(database) == {}


@pytest.mark.parametrize("secret", [SECRET, "previous-secret"], ids=["current", "previous"])
async def test_any_configured_secret_verifies_so_secrets_can_rotate(
    client: httpx.AsyncClient, secret: str
) -> None:
    body = workflow_run_body()
    response = await client.post(
        "/webhooks/github", content=body, headers=headers("workflow_run", body, secret=secret)
    )
    assert response.status_code == 202


async def test_form_encoded_deliveries_are_accepted(
    client: httpx.AsyncClient, database: Database
) -> None:
    payload = workflow_run_body()
    body = urlencode({"payload": payload.decode()}).encode()
    request_headers = headers(
        "workflow_run", body, content_type="application/x-www-form-urlencoded"
    )
    response = await client.post("/webhooks/github", content=body, headers=request_headers)
    assert response.status_code == 202
    row = (await stored(database))[request_headers["X-GitHub-Delivery"]]
    assert json.loads(row.body) == json.loads(payload)
    assert row.repository == json.loads(payload)["repository"]["full_name"]


async def test_truncated_json_is_400_and_stored_as_failed_with_the_reason(
    client: httpx.AsyncClient, database: Database
) -> None:
    body = workflow_run_body()[:-10]
    request_headers = headers("workflow_run", body)
    response = await client.post("/webhooks/github", content=body, headers=request_headers)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    row = (await stored(database))[request_headers["X-GitHub-Delivery"]]
    assert row.status == "failed" and row.last_error and "not valid JSON" in row.last_error
    assert await executions(database, row.delivery_id) == []


def _too_large() -> bytes:
    return b" " * (26 * 1024 * 1024)


@pytest.mark.parametrize(
    ("case", "build", "status"),
    [
        ("wrong content type", lambda b: headers("push", b, content_type="text/plain"), 415),
        ("no event header", lambda b: {**headers("push", b), "X-GitHub-Event": ""}, 400),
        ("no delivery header", lambda b: {**headers("push", b), "X-GitHub-Delivery": ""}, 400),
        (
            "unicode delivery id",
            lambda b: {**headers("push", b), "X-GitHub-Delivery": "dé-livéry".encode()},
            400,
        ),
        (
            "unicode event",
            lambda b: {**headers("push", b), "X-GitHub-Event": "pûsh".encode()},
            400,
        ),
    ],
)
async def test_malformed_requests_get_a_4xx_and_nothing_is_stored(
    client: httpx.AsyncClient, database: Database, case: str, build: object, status: int
) -> None:
    body = workflow_run_body()
    request_headers = build(body)  # type: ignore[operator]
    response = await client.post("/webhooks/github", content=body, headers=request_headers)
    assert response.status_code == status, case
    assert await stored(database) == {}


async def test_a_26_mb_body_is_413_and_nothing_is_stored(
    client: httpx.AsyncClient, database: Database
) -> None:
    body = _too_large()
    response = await client.post("/webhooks/github", content=body, headers=headers("push", body))
    assert response.status_code == 413
    assert await stored(database) == {}


async def test_the_same_delivery_twice_is_processed_once(
    client: httpx.AsyncClient, database: Database
) -> None:
    body = workflow_run_body()
    request_headers = headers("workflow_run", body)
    first = await client.post("/webhooks/github", content=body, headers=request_headers)
    assert first.status_code == 202
    delivery_id = request_headers["X-GitHub-Delivery"]
    await wait_for_status(database, delivery_id, {"done"})
    again = await client.post("/webhooks/github", content=body, headers=request_headers)
    assert again.status_code == 200
    assert again.json() == {"delivery_id": delivery_id, "status": "done"}
    runs = await executions(database, delivery_id)
    assert len(runs) == 1
    assert runs[0].end_state == "no_detection"
    assert list(runs[0].stages) == [
        "validate", "throttle", "parse", "context", "scan", "detect",
        "select_playbook", "act", "verify", "notify",
    ]  # fmt: skip


async def test_health_readiness_metrics_and_headers(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz", headers={"X-Request-Id": "req-42"})
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert health.headers["x-request-id"] == "req-42"
    assert health.headers["x-content-type-options"] == "nosniff"
    assert health.headers["x-frame-options"] == "DENY"
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == {"ok": True}
    assert ready.json()["checks"]["queue"]["kind"] == "embedded"
    body = workflow_run_body()
    await client.post("/webhooks/github", content=body, headers=headers("workflow_run", body))
    metrics = (await client.get("/metrics")).text
    assert 'shbot_webhook_deliveries_total{event="workflow_run",status="accepted"}' in metrics
    for name in (
        "shbot_delivery_latency_seconds",
        "shbot_queue_depth",
        "shbot_dead_letters",
        "shbot_oldest_queued_delivery_age_seconds",
    ):
        assert name in metrics


async def test_other_methods_are_405_and_answers_carry_the_request_context(
    client: httpx.AsyncClient, database: Database
) -> None:
    wrong = await client.get("/webhooks/github")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    body = workflow_run_body()
    request_headers = {**headers("workflow_run", body), "X-Request-Id": "req-7"}
    accepted = await client.post("/webhooks/github", content=body, headers=request_headers)
    assert accepted.status_code == 202
    assert accepted.json() == {
        "delivery_id": request_headers["X-GitHub-Delivery"],
        "status": "received",
    }
    assert accepted.headers["x-request-id"] == "req-7"
    assert accepted.headers["x-content-type-options"] == "nosniff"
    assert list(await stored(database)) == [request_headers["X-GitHub-Delivery"]]
