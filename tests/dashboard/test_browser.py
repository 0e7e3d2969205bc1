"""The dashboard in a real headless Chromium (Debian's, never a downloaded one).

The app runs under uvicorn on a free loopback port over a seeded SQLite database; each test
signs in with a key and checks what a user sees, keeping a screenshot of each page under
`test-artifacts/screenshots/`.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from self_healing_bot.web.app import create_app
from tests.dashboard.conftest import dashboard_settings, seed_database
from tests.dashboard.seed import PULL_REQUEST_URL, Seeded

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Served:
    url: str
    seeded: Seeded


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    settings = dashboard_settings(tmp_path_factory.mktemp("browser"))
    # A thread of its own: the test session may already run an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        seeded = pool.submit(asyncio.run, seed_database(settings)).result()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(200):
        if server.started:
            started.set()
            break
        threading.Event().wait(0.05)
    assert started.is_set(), "uvicorn did not start within 10 s"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Served(f"http://127.0.0.1:{port}", seeded)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


def signed_in_page(browser: Any, served: Served, key: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{served.url}/")
    assert page.url.startswith(f"{served.url}/login")
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/")
    return page


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_a_wrong_key_shows_an_error_on_the_login_page(browser: Any, served: Served) -> None:
    page = browser.new_page()
    page.goto(f"{served.url}/login")
    page.fill("#key", "shbot_000000000000_nope")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "That API key is not valid or was revoked."
    screenshot(page, "login-refused")
    page.close()


def test_the_main_pages_show_what_is_stored(browser: Any, served: Served) -> None:
    page = signed_in_page(browser, served, served.seeded.viewer_key)
    assert page.locator("h1").inner_text() == "Overview"
    assert page.locator("#success-rate").inner_text() == "50%"
    assert page.locator("#mttr").inner_text() == "1 min 20 s"  # the repair's failure → verified
    assert page.locator("figure.chart svg").count() == 3
    assert page.locator("svg[aria-label='Incidents per day'] rect").count() == 2
    screenshot(page, "overview")

    page.click("text=Incidents")
    assert page.locator("h1").inner_text() == "Incident timeline"
    assert page.locator("tbody tr").count() == 2
    screenshot(page, "incidents")

    page.goto(f"{served.url}/executions/{served.seeded.healed_execution}")
    assert page.locator("h1").inner_text() == f"Execution {served.seeded.healed_execution}"
    stages = page.locator("#stages table").first.locator("tbody > tr")
    assert stages.count() == 10
    assert page.locator(f"#actions a[href='{PULL_REQUEST_URL}']").count() == 1
    assert page.locator("svg[aria-label='Stage durations'] rect").count() == 10
    evidence = page.locator("#diagnosis pre.evidence").inner_text()
    assert "412: torch.OutOfMemoryError: CUDA out of memory" in evidence
    repair = served.seeded.verified_repair
    assert page.locator(f"#repair-{repair} table.steps tbody tr").count() == 1
    assert page.locator(f"#verification-{repair} .stage").inner_text() == "verified"
    screenshot(page, "execution")

    page.click("header nav >> text=Drift")
    page.click(f"a[href='/drift/{served.seeded.drift_report}']")
    assert page.locator("h1").inner_text() == f"Drift report {served.seeded.drift_report}"
    report = page.frame_locator("iframe.drift-report")
    assert report.locator("h1").inner_text() == "Dataset drift detected"
    assert report.locator("svg").count() >= 1
    screenshot(page, "drift-report")

    expected = {
        "Failure signatures": "Failure signatures",
        "Drift": "Drift reports",
        "Deliveries": "Delivery ledger",
        "Bot health": "Bot health",
    }
    for link, heading in expected.items():
        page.click(f"header nav >> text={link}")
        assert page.locator("h1").inner_text() == heading
        screenshot(page, heading.lower().replace(" ", "-"))
    assert page.locator("#dead-letters").inner_text() == "1"
    page.close()


def test_an_operator_replays_a_dead_delivery_from_the_ledger(browser: Any, served: Served) -> None:
    page = signed_in_page(browser, served, served.seeded.operator_key)
    page.goto(f"{served.url}/deliveries?status=dead")
    row = page.locator("tbody tr", has_text=served.seeded.dead_delivery)
    row.locator("button", has_text="Replay").click()
    notice = page.locator("[role=status]")
    assert (
        notice.inner_text()
        == f"Delivery {served.seeded.dead_delivery} is queued to be processed again."
    )
    screenshot(page, "replayed")
    page.click("text=Sign out")
    assert page.locator("h1").inner_text() == "Sign in"
    page.close()
