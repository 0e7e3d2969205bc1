"""The pure parts of the shared read queries: where GitHub's pages are for an API URL."""

from __future__ import annotations

import pytest

from self_healing_bot.storage.repairs import Repair
from self_healing_bot.storage.views import github_web_root, repair_links


@pytest.mark.parametrize(
    ("api_url", "web_root"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://api.github.com/", "https://github.com"),
        ("https://ghe.example/api/v3", "https://ghe.example"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_web_root_of_an_api_url(api_url: str, web_root: str) -> None:
    assert github_web_root(api_url) == web_root


def test_a_repair_links_to_what_it_made_and_only_that() -> None:
    repair = Repair(repository="octo/ml", pull_request=7, issue=None, rerun_run_id=41)
    assert repair_links(repair, "https://github.com") == {
        "pull_request": "https://github.com/octo/ml/pull/7",
        "rerun": "https://github.com/octo/ml/actions/runs/41",
    }
