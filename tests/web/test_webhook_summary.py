"""What the receiver stores beside the raw body, and what it calls not JSON: the bounded
msgspec decode must agree with json.loads on every input."""

from __future__ import annotations

import json

import pytest

from self_healing_bot.web.webhooks import Summary, summarize

GITHUB_SHAPED = json.dumps(
    {
        "action": "completed",
        "workflow_run": {"id": 1, "name": "CI", "pull_requests": [], "head_commit": None},
        "repository": {"id": 9, "full_name": "octo/repo", "owner": {"login": "octo"}},
        "installation": {"id": 42, "node_id": "MDIz"},
    }
).encode()


@pytest.mark.parametrize(
    ("case", "text", "expected"),
    [
        ("a GitHub payload", GITHUB_SHAPED, Summary("completed", "octo/repo", 42)),
        ("no such fields", b'{"zen": "Keep it logically awesome."}', Summary(None, None, None)),
        ("an array", b"[1, 2]", Summary(None, None, None)),
        ("repository as text", b'{"repository": "octo/repo"}', Summary(None, None, None)),
        ("numeric action", b'{"action": 3, "installation": {"id": 5}}', Summary(None, None, 5)),
        ("boolean id", b'{"installation": {"id": true}}', Summary(None, None, None)),
        ("id beyond BIGINT", b'{"installation": {"id": %d}}' % 2**63, Summary(None, None, None)),
        ("NaN, which json accepts", b'{"action": "x", "score": NaN}', Summary("x", None, None)),
        ("a byte-order mark", b'\xef\xbb\xbf{"action": "y"}', Summary("y", None, None)),
        ("a lone surrogate escape", b'{"action": "z", "t": "\\ud800"}', Summary("z", None, None)),
        ("UTF-8 text", '{"action": "é", "t": "日本"}'.encode(), Summary("é", None, None)),
        ("a long action", b'{"action": "' + b"a" * 100 + b'"}', Summary("a" * 64, None, None)),
    ],
)  # fmt: skip
def test_summary_of_a_payload(case: str, text: bytes, expected: Summary) -> None:
    assert summarize(text) == expected, case


@pytest.mark.parametrize(
    ("case", "text"),
    [
        ("truncated", GITHUB_SHAPED[:-10]),
        ("a syntax error deep inside a skipped field", b'{"workflow_run": {"steps": [1, 2,]}}'),
        ("invalid UTF-8 inside a skipped string", b'{"action": "x", "t": "\xff"}'),
        ("trailing text", b'{"action": "x"} and more'),
        ("empty", b""),
    ],
)
def test_what_is_not_json_is_refused_with_json_s_reason(case: str, text: bytes) -> None:
    with pytest.raises(ValueError) as refused:
        summarize(text)
    with pytest.raises(ValueError) as by_json:
        json.loads(text)
    assert str(refused.value) == str(by_json.value), case
