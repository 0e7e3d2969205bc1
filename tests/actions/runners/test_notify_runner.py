"""`notify` against a real HTTP receiver on loopback: Slack and JSON webhooks, redacted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from self_healing_bot.actions.context import ActionError
from self_healing_bot.actions.notify import NotificationError, NotifyParameters, run
from self_healing_bot.repo_config.model import NotificationTarget
from tests.actions.runners.conftest import PLANTED_TOKEN, SIGNATURE, MakeContext


class Receiver(ThreadingHTTPServer):
    received: list[tuple[str, dict[str, str], Any]]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append((self.path, dict(self.headers), body))
        self.send_response(500 if self.path == "/broken" else 200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), _Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _targets(receiver: Receiver, *paths: str) -> tuple[NotificationTarget, ...]:
    url = f"http://127.0.0.1:{receiver.server_address[1]}"
    kinds = {"/slack": "slack", "/hook": "webhook", "/broken": "webhook"}
    return tuple(
        NotificationTarget(name=path.strip("/"), kind=kinds[path], url=url + path)  # type: ignore[arg-type]
        for path in paths
    )


async def test_slack_and_json_webhooks_receive_the_redacted_message(
    receiver: Receiver, make_context: MakeContext
) -> None:
    context = make_context(notification_targets=_targets(receiver, "/slack", "/hook"))
    message = f"Training failed: CUDA OOM (token {PLANTED_TOKEN})"
    result = await run(context, NotifyParameters(message=message))
    assert result.outputs == {"delivered": ["slack", "hook"]}
    redacted = "Training failed: CUDA OOM (token [REDACTED])"
    [(_, _, slack), (_, headers, hook)] = sorted(receiver.received, key=lambda item: item[0])[::-1]
    assert slack == {"text": redacted}
    assert hook == {
        "text": redacted,
        "repository": "octo/ml",
        "category": "gpu_oom",
        "signature": SIGNATURE,
        "delivery_id": "delivery-1",
    }
    assert headers["Idempotency-Key"] == f"{SIGNATURE}:delivery-1"


async def test_named_targets_dry_run_and_failures(
    receiver: Receiver, make_context: MakeContext
) -> None:
    targets = _targets(receiver, "/slack", "/hook", "/broken")
    dry = await run(
        make_context(notification_targets=targets, dry_run=True), NotifyParameters(message="m")
    )
    assert dry.summary == "would notify slack, hook, broken" and receiver.received == []

    only_hook = NotifyParameters(message="m", targets=["hook"])
    assert (await run(make_context(notification_targets=targets), only_hook)).outputs == {
        "delivered": ["hook"]
    }
    with pytest.raises(
        ActionError, match=r"unknown notification target.*lists: broken, hook, slack"
    ):
        await run(
            make_context(notification_targets=targets),
            NotifyParameters(message="m", targets=["pager"]),
        )
    with pytest.raises(NotificationError) as caught:
        await run(make_context(notification_targets=targets), NotifyParameters(message="m"))
    assert str(caught.value) == (
        "notification failed: broken: answered 500 (delivered to slack, hook)"
    )
    assert "127.0.0.1" not in str(caught.value)  # webhook URLs are secrets


async def test_an_unreachable_target_is_named(make_context: MakeContext) -> None:
    target = NotificationTarget(name="gone", kind="webhook", url="http://127.0.0.1:9/")
    with pytest.raises(NotificationError, match="gone: unreachable"):
        await run(make_context(notification_targets=(target,)), NotifyParameters(message="m"))
