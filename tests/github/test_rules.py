"""The pure rules of the client: rate-limit waits, Link pages, pacing slots, markers."""

from __future__ import annotations

import pytest

from self_healing_bot.github.markers import has_marker, marker, with_marker
from self_healing_bot.github.pacing import GITHUB_CONTENT_WINDOWS, Window, next_slot
from self_healing_bot.github.pagination import next_page_url
from self_healing_bot.github.transport import rate_limit_wait

NOW = 1_000.0


@pytest.mark.parametrize(
    ("status", "headers", "message", "expected"),
    [
        (403, {"retry-after": "30"}, "You have exceeded a secondary rate limit", 30.0),
        (429, {"retry-after": "5"}, "", 5.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1600"}, "API rate limit", 600.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "900"}, "API rate limit", 0.0),
        (403, {"x-ratelimit-remaining": "12"}, "You have exceeded a secondary rate limit", 60.0),
        (429, {}, "", 60.0),
        (403, {"x-ratelimit-remaining": "4000"}, "Resource not accessible by integration", None),
        (404, {"retry-after": "30"}, "Not Found", None),
        (500, {}, "rate limit", None),
    ],
)
def test_rate_limit_wait_follows_githubs_rules(
    status: int, headers: dict[str, str], message: str, expected: float | None
) -> None:
    assert rate_limit_wait(status, headers, message, NOW) == expected


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (None, None),
        ("", None),
        (
            '<https://api.github.com/repositories/1/issues?page=2>; rel="next", '
            '<https://api.github.com/repositories/1/issues?page=5>; rel="last"',
            "https://api.github.com/repositories/1/issues?page=2",
        ),
        (
            '<https://h/api/v3/app/hook/deliveries?cursor=v1_12&per_page=100>; rel="next"',
            "https://h/api/v3/app/hook/deliveries?cursor=v1_12&per_page=100",
        ),
        (
            '<https://api.github.com/x?page=1>; rel="prev", '
            '<https://api.github.com/x?page=1>; rel="first"',
            None,
        ),
    ],
)
def test_next_page_url_reads_the_link_header(link: str | None, expected: str | None) -> None:
    assert next_page_url(link) == expected


@pytest.mark.parametrize(
    ("history", "now", "windows", "expected"),
    [
        ([], 5.0, [Window(2, 60.0)], 5.0),
        ([0.0], 5.0, [Window(2, 60.0)], 5.0),
        ([0.0, 1.0], 5.0, [Window(2, 60.0)], 60.0),
        ([0.0, 1.0], 61.0, [Window(2, 60.0)], 61.0),
        ([10.0], 5.0, [Window(2, 60.0)], 10.0),  # slots are handed out in order
        ([0.0, 0.0, 70.0], 70.0, [Window(2, 60.0), Window(3, 3600.0)], 3600.0),
    ],
)
def test_next_slot_keeps_every_window_under_its_limit(
    history: list[float], now: float, windows: list[Window], expected: float
) -> None:
    assert next_slot(history, now, windows) == expected


def test_github_windows_allow_80_a_minute_and_500_an_hour() -> None:
    slots: list[float] = []
    for _ in range(600):
        slots.append(next_slot(slots, 0.0, GITHUB_CONTENT_WINDOWS))
    for index, slot in enumerate(slots):
        assert sum(1 for other in slots[: index + 1] if other > slot - 60) <= 80
        assert sum(1 for other in slots[: index + 1] if other > slot - 3600) <= 500
    assert slots[79] == 0.0 and slots[80] == 60.0
    assert slots[499] < 3600.0 <= slots[500]


def test_markers_are_hidden_and_exact() -> None:
    body = with_marker("CUDA out of memory in train.py", "gpu_oom:abc")
    assert body.endswith("<!-- self-healing-bot:gpu_oom:abc -->")
    assert has_marker(body, "gpu_oom:abc")
    assert not has_marker(body, "gpu_oom:ab")
    assert not has_marker(None, "gpu_oom:abc")
    with pytest.raises(ValueError, match="must not contain"):
        marker("evil --> <script>")
