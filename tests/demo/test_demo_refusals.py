"""The demo fails, naming the request, when the bot sent one GitHub's API description refuses."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from self_healing_bot.commands.demo import _refuse_invalid_requests
from self_healing_bot.demo.stage import DemoError
from self_healing_bot.sandbox import GitHubSandbox
from self_healing_bot.sandbox.openapi_spec import Rejection


def test_a_refused_request_fails_the_demo_with_its_reason() -> None:
    sandbox = GitHubSandbox()
    stage: Any = SimpleNamespace(sandbox=sandbox)
    _refuse_invalid_requests(stage)  # nothing refused: the demo goes on
    sandbox.rejections.append(
        Rejection("GET", "/repos/org/ml/pulls", 422, "'merged' is not one of")
    )
    with pytest.raises(DemoError, match="GET /repos/org/ml/pulls → 422: 'merged' is not one of"):
        _refuse_invalid_requests(stage)
