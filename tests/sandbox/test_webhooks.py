"""Webhooks: signed, shaped like GitHub's, recorded in the app's delivery list, re-sendable."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from self_healing_bot.sandbox import GitHubSandbox
from self_healing_bot.sandbox.ci_rules import JobSpec
from self_healing_bot.sandbox.deliveries import webhook_schemas
from self_healing_bot.sandbox.shapes import validator
from tests.github_sandbox_plugin import SANDBOX_BASE_URL, WEBHOOK_SECRET


@dataclass
class Receiver:
    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP endpoint on a free local port that records what it receives."""
    found = Receiver(url="")

    async def hook(request: Request) -> Response:
        found.received.append((dict(request.headers), await request.body()))
        return Response(status_code=found.status)

    app = Starlette(routes=[Route("/webhooks/github", hook, methods=["POST"])])
    # A socket listening before the server starts: early deliveries wait in its backlog.
    listener = socket.create_server(("127.0.0.1", 0))
    found.url = f"http://127.0.0.1:{listener.getsockname()[1]}/webhooks/github"
    server = uvicorn.Server(uvicorn.Config(app, log_config=None))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    yield found
    server.should_exit = True
    await task


@pytest.fixture
async def app_http(
    github_sandbox: GitHubSandbox, app_jwt: Callable[..., str]
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=github_sandbox.asgi_app),
        base_url=SANDBOX_BASE_URL,
        headers={"authorization": f"Bearer {app_jwt()}"},
    ) as client:
        yield client


async def test_state_changes_send_signed_webhooks_with_githubs_shapes(
    github_sandbox: GitHubSandbox, receiver: Receiver
) -> None:
    github_sandbox.apps[1].webhook_url = receiver.url
    github_sandbox.add_workflow("org/ml", "ci", [JobSpec.parse({"name": "test"})])
    repo = github_sandbox.repository("org/ml")
    github_sandbox.set_ref(repo, "refs/heads/fix", repo.refs["refs/heads/main"])
    github_sandbox.commit_files("org/ml", "fix", {"a.txt": "1"}, "add a")
    pull = github_sandbox.create_pull_request(repo, "t", "b", "fix", "main", repo.owner)
    github_sandbox.commit_files("org/ml", "fix", {"a.txt": "2"}, "change a")
    github_sandbox.create_comment(repo, repo.issues[pull.number], "/retry", repo.owner)
    await github_sandbox.drain()
    github_sandbox.close_issue(repo, repo.issues[pull.number])
    await github_sandbox.drain()

    seen = set()
    for headers, body in receiver.received:
        expected = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-hub-signature-256"] == f"sha256={expected}"
        assert headers["x-github-hook-installation-target-type"] == "integration"
        payload = json.loads(body)
        key = f"{headers['x-github-event']}${payload.get('action', 'event')}"
        errors = [e.message for e in validator(webhook_schemas()[key]).iter_errors(payload)]
        assert errors == [], key
        assert payload["installation"]["id"] == 10
        seen.add(key)
    assert seen == {
        "push$event", "pull_request$opened", "pull_request$synchronize", "pull_request$closed",
        "issue_comment$created", "workflow_run$requested", "workflow_run$completed",
        "workflow_job$queued", "workflow_job$completed", "check_run$completed",
        "check_suite$completed",
    }  # fmt: skip
    assert {d.status for d in github_sandbox.sender.deliveries} == {"OK"}


async def test_missed_deliveries_are_listed_as_failed_and_redelivered_once_asked(
    github_sandbox: GitHubSandbox, receiver: Receiver, app_http: httpx.AsyncClient
) -> None:
    github_sandbox.apps[1].webhook_url = receiver.url
    repo = github_sandbox.repository("org/ml")
    github_sandbox.faults.drop_deliveries(1)
    receiver.status = 503
    for index in range(3):
        github_sandbox.create_issue(repo, f"i{index}", None, repo.owner)
        github_sandbox.create_comment(repo, repo.issues[index + 1], f"c{index}", repo.owner)
    await github_sandbox.drain()
    assert len(receiver.received) == 2  # the dropped one never arrived

    failed = (await app_http.get("/app/hook/deliveries", params={"status": "failure"})).json()
    assert [d["status_code"] for d in failed] == [503, 503, 0]
    receiver.status = 200
    for delivery in failed:
        resent = await app_http.post(f"/app/hook/deliveries/{delivery['id']}/attempts")
        assert resent.status_code == 202
    await github_sandbox.drain()
    listed = (await app_http.get("/app/hook/deliveries")).json()
    redelivered = [d for d in listed if d["redelivery"]]
    assert {d["guid"] for d in redelivered} == {d["guid"] for d in failed}
    assert {d["status"] for d in redelivered} == {"OK"}
    detail = (await app_http.get(f"/app/hook/deliveries/{failed[0]['id']}")).json()
    assert detail["request"]["payload"]["comment"]["body"] in {"c0", "c1", "c2"}


async def test_deliveries_page_by_cursor(
    github_sandbox: GitHubSandbox, app_http: httpx.AsyncClient
) -> None:
    repo = github_sandbox.repository("org/ml")
    issue = github_sandbox.create_issue(repo, "i", None, repo.owner)
    for index in range(5):
        github_sandbox.create_comment(repo, issue, f"c{index}", repo.owner)
    await github_sandbox.drain()
    ids, url = [], "/app/hook/deliveries?per_page=2"
    while url:
        response = await app_http.get(url)
        ids += [d["id"] for d in response.json()]
        link = response.headers.get("link", "")
        url = link[1 : link.index(">")] if link else ""
    assert ids == sorted((d.id for d in github_sandbox.sender.deliveries), reverse=True)


async def test_hook_deliveries_need_the_app_jwt(sandbox_http: httpx.AsyncClient) -> None:
    response = await sandbox_http.get("/app/hook/deliveries")
    assert response.status_code == 401
