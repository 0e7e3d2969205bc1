"""The pages as a signed-in user sees them, over a seeded database."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from self_healing_bot.core.chatops import ignore_signature
from self_healing_bot.storage.api_keys import revoke_key, split_key
from self_healing_bot.storage.detections import mark_flaky
from self_healing_bot.storage.models import AuditEvent, WebhookDelivery
from self_healing_bot.web.dashboard.session import COOKIE_NAME
from tests.api.rows import EVIDENCE, OOM_SIGNATURE
from tests.dashboard.conftest import csrf_token, dashboard_settings, sign_in
from tests.dashboard.seed import HOSTILE, ISSUE_URL, PULL_REQUEST_URL, Seeded
from tests.webhooks import running_app

PAGES = [
    "/",
    "/incidents",
    "/signatures",
    "/drift",
    "/drift/1",
    "/drift/1/report.html",
    "/deliveries",
    "/health",
    "/executions/1",
]


def text_of(html: str) -> str:
    """The page's visible words, roughly: tags dropped, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize("page", PAGES)
async def test_every_page_sends_a_visitor_without_a_session_to_the_login(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


async def test_login_sets_a_signed_httponly_lax_cookie_and_returns_to_the_page_asked_for(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await sign_in(client, seeded.viewer_key, next_page="/deliveries")
    assert response.status_code == 303 and response.headers["location"] == "/deliveries"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert seeded.viewer_key not in cookie
    page = await client.get("/deliveries")
    assert page.status_code == 200 and "Delivery ledger" in page.text


@pytest.mark.parametrize(
    ("case", "key", "status", "message"),
    [
        ("wrong key", "shbot_000000000000_wrong", 401, "That API key is not valid or was revoked."),
        ("not a key", "hunter2", 401, "That API key is not valid or was revoked."),
        ("empty", "", 401, "That API key is not valid or was revoked."),
    ],
)
async def test_a_bad_key_is_refused_with_a_message_and_no_session(
    client: httpx.AsyncClient, case: str, key: str, status: int, message: str
) -> None:
    response = await sign_in(client, key)
    assert response.status_code == status, case
    assert message in response.text
    assert (await client.get("/")).status_code == 303


async def test_a_login_post_without_the_forms_csrf_token_is_refused(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await client.get("/login")
    response = await client.post("/login", data={"key": seeded.viewer_key, "csrf_token": "forged"})
    assert response.status_code == 403
    assert "The login form expired or did not come from this site" in response.text
    assert (await client.get("/")).status_code == 303


async def test_a_login_from_another_site_has_no_session_cookie_and_is_refused(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await client.post("/login", data={"key": seeded.viewer_key, "csrf_token": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
async def test_login_never_redirects_off_site(
    client: httpx.AsyncClient, seeded: Seeded, target: str
) -> None:
    response = await sign_in(client, seeded.viewer_key, next_page=target)
    assert response.headers["location"] == "/"


async def test_a_forged_cookie_is_no_session(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await sign_in(client, seeded.viewer_key)
    value = client.cookies[COOKIE_NAME]
    client.cookies.set(COOKIE_NAME, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert (await client.get("/")).status_code == 303


async def test_revoking_the_key_ends_its_dashboard_session(
    viewer: httpx.AsyncClient, seeded: Seeded
) -> None:
    assert (await viewer.get("/")).status_code == 200
    key_id = split_key(seeded.viewer_key)
    assert key_id is not None
    async with viewer.app.state.database.session() as session:  # type: ignore[attr-defined]
        await revoke_key(session, key_id)
    assert (await viewer.get("/")).status_code == 303


async def test_logout_needs_the_csrf_token_and_then_ends_the_session(
    viewer: httpx.AsyncClient,
) -> None:
    page = await viewer.get("/")
    await viewer.post("/logout", data={"csrf_token": "forged"})
    assert (await viewer.get("/")).status_code == 200
    response = await viewer.post("/logout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert (await viewer.get("/")).status_code == 303


async def test_overview_shows_success_rate_mttr_and_charts(viewer: httpx.AsyncClient) -> None:
    response = await viewer.get("/")
    assert response.status_code == 200
    words = text_of(response.text)
    assert "50% success rate" in words
    # The healed incident's repair recorded failure → verified in 80 s (its execution took 90).
    assert "1 min 20 s mean time to repair" in words
    assert "2 incidents (1 healed)" in words
    assert "1 dead letters" in words
    assert response.text.count("<svg") == 3
    assert 'aria-label="Incidents per day"' in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


async def test_timeline_lists_incidents_newest_first_with_links(
    viewer: httpx.AsyncClient, seeded: Seeded
) -> None:
    text = (await viewer.get("/incidents")).text
    healed = text.index(f"/executions/{seeded.healed_execution}")
    escalated = text.index(f"/executions/{seeded.escalated_execution}")
    assert healed < escalated
    words = text_of(text)
    assert f"gpu_oom {OOM_SIGNATURE} verified" in words
    assert "dependency_conflict" in words and "escalated" in words
    assert "no_detection" not in words


async def test_execution_page_shows_stages_diagnosis_actions_and_verification(
    viewer: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await viewer.get(f"/executions/{seeded.healed_execution}")
    assert response.status_code == 200
    words = text_of(response.text)
    for stage in ("validate", "detect", "select_playbook", "act", "verify", "notify"):
        assert stage in words
    assert "900.0 ms" in words and "4000.0 ms" in words
    assert f"gpu_oom pipeline_failure {OOM_SIGNATURE}" in words
    assert 'aria-label="Stage durations"' in response.text


async def test_execution_page_shows_the_stored_detection_and_repair(
    viewer: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await viewer.get(f"/executions/{seeded.healed_execution}")
    words = text_of(response.text)
    for item in EVIDENCE:
        assert f"{item['line']}: {item['text']}" in words
    assert "Confidence 97%, job train, step Run training" in words
    repair = seeded.verified_repair
    assert f"Repair {repair}: cuda-oom (attempt 1) State verified" in words
    assert f'<a href="{PULL_REQUEST_URL}">' in response.text
    assert "Time to detect 5 s Time to fix PR 15 s Time to verified 1 min 15 s" in words
    assert "steps open_fix_pull_request succeeded" in words
    assert "opened pull request #7 halving batch_size" in words
    assert f"Repair {repair}: verified by CI at" in words


async def test_an_execution_without_remediation_says_why(viewer: httpx.AsyncClient) -> None:
    text = text_of((await viewer.get("/executions/3")).text)
    assert "Nothing was detected in this execution." in text
    assert "No action was taken: no playbook engine is installed." in text
    assert "No verification ran: no playbook engine is installed." in text


@pytest.mark.parametrize("execution_id", ["999", "abc", "-1"])
async def test_an_unknown_execution_is_a_404_page(
    viewer: httpx.AsyncClient, execution_id: str
) -> None:
    response = await viewer.get(f"/executions/{execution_id}")
    assert response.status_code == 404
    assert f"No execution '{execution_id}' is stored." in text_of(response.text)


async def test_stored_text_is_escaped_and_only_web_links_are_links(
    viewer: httpx.AsyncClient, seeded: Seeded
) -> None:
    pages = [
        await viewer.get(page)
        for page in ("/incidents", "/signatures", f"/executions/{seeded.escalated_execution}")
    ]
    for page in pages:
        assert HOSTILE not in page.text
        assert "&lt;script&gt;" in page.text
    execution = pages[2].text
    assert f'<a href="{ISSUE_URL}">' in execution
    assert 'href="javascript:' not in execution


async def test_signatures_count_occurrences_and_show_flaky_and_ignored_marks(
    viewer: httpx.AsyncClient,
) -> None:
    words = text_of((await viewer.get("/signatures")).text)
    assert f"{OOM_SIGNATURE} gpu_oom octo/train 1 1" in words
    async with viewer.app.state.database.session() as session:  # type: ignore[attr-defined]
        await ignore_signature(session, "octo/train", OOM_SIGNATURE, "test")
        await mark_flaky(session, "octo/train", "a" * 40, 4001)
    marked = text_of((await viewer.get("/signatures")).text)
    assert f"{OOM_SIGNATURE} flaky ignored gpu_oom octo/train 1 1" in marked


async def test_drift_reports_list_their_verdict_and_show_the_report_with_its_plots(
    viewer: httpx.AsyncClient, seeded: Seeded
) -> None:
    listing = await viewer.get("/drift")
    assert "octo/train data/current.csv a1b2c3 drifted 1 of 1: loss" in text_of(listing.text)
    page = await viewer.get(f"/drift/{seeded.drift_report}")
    assert "dataset drift" in text_of(page.text)
    assert "1 of 1 tested columns drifted (share 100%)" in text_of(page.text)
    assert "frame-src 'self'" in page.headers["content-security-policy"]
    report = await viewer.get(f"/drift/{seeded.drift_report}/report.html")
    assert report.status_code == 200 and "<svg" in report.text
    assert report.text.startswith("<!DOCTYPE html>") and "Dataset drift detected" in report.text
    policy = report.headers["content-security-policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy


@pytest.mark.parametrize("path", ["/drift/999", "/drift/x", "/drift/999/report.html"])
async def test_an_unknown_drift_report_is_a_404_page(viewer: httpx.AsyncClient, path: str) -> None:
    response = await viewer.get(path)
    assert response.status_code == 404
    assert "is stored. Pick one from the list." in text_of(response.text)


async def test_ledger_counts_and_filters_deliveries(viewer: httpx.AsyncClient) -> None:
    words = text_of((await viewer.get("/deliveries")).text)
    for figure in ("5 received", "3 processed", "1 in flight", "1 dead", "1 redelivered"):
        assert figure in words
    assert "replays: 1" in words
    dead = text_of((await viewer.get("/deliveries?status=dead")).text)
    assert "d-dead" in dead and "Boom()" in dead and "d-healed" not in dead
    assert "No delivery is failed." in (await viewer.get("/deliveries?status=failed")).text


async def test_an_unknown_status_filter_is_a_400_naming_the_valid_ones(
    viewer: httpx.AsyncClient,
) -> None:
    response = await viewer.get("/deliveries?status=lost")
    assert response.status_code == 400
    assert "There is no delivery status 'lost'; pick one of received" in text_of(response.text)


async def test_a_viewer_sees_no_replay_button_and_cannot_replay(
    viewer: httpx.AsyncClient, seeded: Seeded
) -> None:
    page = await viewer.get("/deliveries")
    assert "Replay</button>" not in page.text
    response = await viewer.post(
        f"/deliveries/{seeded.dead_delivery}/replay", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 403
    assert "Replaying needs the operator role" in response.text
    assert await status_of(viewer, seeded.dead_delivery) == "dead"


async def test_an_operator_replays_a_dead_delivery_and_it_is_audited(
    operator: httpx.AsyncClient, seeded: Seeded
) -> None:
    page = await operator.get("/deliveries")
    assert "Replay</button>" in page.text
    response = await operator.post(
        f"/deliveries/{seeded.dead_delivery}/replay", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 303
    notice = await operator.get(response.headers["location"])
    assert f"Delivery {seeded.dead_delivery} is queued to be processed again." in notice.text
    async with operator.app.state.database.session() as session:  # type: ignore[attr-defined]
        audit = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.subject == seeded.dead_delivery)
            )
        ).one()
    assert audit.action == "replay" and audit.actor.startswith("on-call (key ")
    assert audit.detail["client"] == "127.0.0.1"  # from where, as the API's replay records it
    assert audit.detail["actor_key_id"] == split_key(seeded.operator_key)


@pytest.mark.parametrize(
    ("case", "delivery", "token", "status", "message"),
    [
        ("no csrf token", "d-dead", None, 403, "This form expired"),
        ("in flight", "d-processing", "valid", 409, "is processing; only done, failed or dead"),
        ("unknown", "d-missing", "valid", 404, "No delivery 'd-missing' is stored."),
    ],
)
async def test_replays_that_must_not_happen_are_refused_with_a_reason(
    operator: httpx.AsyncClient,
    case: str,
    delivery: str,
    token: str | None,
    status: int,
    message: str,
) -> None:
    page = await operator.get("/deliveries")
    data = {"csrf_token": csrf_token(page.text)} if token else {}
    before = await status_of(operator, delivery)
    response = await operator.post(f"/deliveries/{delivery}/replay", data=data)
    assert response.status_code == status, case
    assert message in text_of(response.text)
    assert await status_of(operator, delivery) == before


async def status_of(client: httpx.AsyncClient, delivery_id: str) -> str | None:
    async with client.app.state.database.session() as session:  # type: ignore[attr-defined]
        status: str | None = await session.scalar(
            select(WebhookDelivery.status).where(WebhookDelivery.delivery_id == delivery_id)
        )
    return status


async def test_bot_health_shows_queue_and_says_when_github_was_not_called(
    viewer: httpx.AsyncClient,
) -> None:
    words = text_of((await viewer.get("/health")).text)
    assert "0 deliveries waiting (embedded queue)" in words
    assert "1 dead letters" in words
    assert "This process has not called GitHub yet" in words


async def test_an_empty_database_degrades_to_clear_messages(tmp_path: Path) -> None:
    from self_healing_bot.storage.api_keys import Role, create_key

    settings = dashboard_settings(tmp_path)
    async with running_app(settings) as client:
        async with client.app.state.database.session() as session:  # type: ignore[attr-defined]
            issued = await create_key(session, role=Role.VIEWER, name="empty")
        await sign_in(client, issued.key)
        expected = {
            "/": "No incidents in the last 14 days",
            "/incidents": "No incidents in the last 30 days.",
            "/signatures": "No failure signature was detected in the last 90 days.",
            "/deliveries": "No webhook delivery has been received yet.",
            "/drift": "No drift reports are stored yet",
        }
        for page, message in expected.items():
            response = await client.get(page)
            assert response.status_code == 200 and message in response.text, page
        overview = (await client.get("/")).text
        assert "- success rate" in text_of(overview) and overview.count("<svg") == 3


async def test_the_stylesheet_is_served_locally(client: httpx.AsyncClient) -> None:
    response = await client.get("/assets/dashboard.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
