"""What the bot stored, as the API shows it: detections with evidence, signatures with their
marks, repairs with steps, links and timings, approving and ignoring, drift reports, configs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from self_healing_bot.storage.api_keys import Role
from self_healing_bot.storage.detections import signature_history
from self_healing_bot.storage.repairs import Repair
from tests.api.conftest import World
from tests.api.rows import EVIDENCE, FLAKY_SIGNATURE, OOM_SIGNATURE


async def test_detections_filter_and_carry_their_evidence(world: World) -> None:
    viewer = world.as_role(Role.VIEWER)
    cases = {
        "": {OOM_SIGNATURE, FLAKY_SIGNATURE},
        "?category=gpu_oom": {OOM_SIGNATURE},
        f"?signature={FLAKY_SIGNATURE}": {FLAKY_SIGNATURE},
        "?repository=octo/ml&category=gpu_oom": {OOM_SIGNATURE},
        "?repository=other/repo": set(),
    }
    for query, expected in cases.items():
        response = await world.client.get(f"/api/v1/detections{query}", headers=viewer)
        assert response.status_code == 200, response.text
        assert {item["signature"] for item in response.json()["items"]} == expected, query
    [oom] = (await world.client.get("/api/v1/detections?category=gpu_oom", headers=viewer)).json()[
        "items"
    ]
    assert oom["evidence"] == EVIDENCE
    assert (oom["job"], oom["step"], oom["head_sha"]) == ("train", "Run training", "a" * 40)


async def test_signatures_show_counts_and_flaky_marks(world: World) -> None:
    viewer = world.as_role(Role.VIEWER)
    everything = (await world.client.get("/api/v1/signatures", headers=viewer)).json()["items"]
    marks = {
        item["signature"]: (item["count"], item["flaky"], item["ignored"]) for item in everything
    }
    assert marks == {OOM_SIGNATURE: (1, False, False), FLAKY_SIGNATURE: (1, True, False)}
    flaky = (await world.client.get("/api/v1/signatures?flaky=true", headers=viewer)).json()
    assert [item["signature"] for item in flaky["items"]] == [FLAKY_SIGNATURE]


async def test_a_repair_shows_its_steps_links_and_timings(world: World) -> None:
    response = await world.client.get(
        f"/api/v1/repairs/{world.rows.verified_repair}", headers=world.as_role(Role.VIEWER)
    )
    assert response.status_code == 200
    repair = response.json()
    assert repair["state"] == "verified"
    # The test settings name the sandbox as the GitHub API: links are built from it.
    assert repair["links"] == {"pull_request": "http://sandbox.test/octo/ml/pull/7"}
    assert repair["timings"] == {
        "time_to_detect_s": 5.0,
        "time_to_fix_pr_s": 15.0,
        "time_to_verified_s": 75.0,
    }
    [step] = repair["steps"]
    assert (step["uses"], step["status"], step["outputs"]["number"]) == (
        "open_fix_pull_request",
        "succeeded",
        7,
    )
    waiting = await world.client.get(
        "/api/v1/repairs?state=awaiting_approval", headers=world.as_role(Role.VIEWER)
    )
    assert [item["id"] for item in waiting.json()["items"]] == [world.rows.approval_repair]


async def test_approving_runs_the_waiting_repair_once(world: World) -> None:
    operator = world.as_role(Role.OPERATOR)
    path = f"/api/v1/repairs/{world.rows.approval_repair}/approve"
    approved = await world.client.post(path, headers=operator)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    # A dry run: the executor ran, recorded the step it would take, and took none.
    assert body["state"] == "ignored"
    [step] = body["steps"]
    assert step["status"] == "skipped" and step["summary"].startswith("dry run: would run")
    again = await world.client.post(path, headers=operator)
    assert again.status_code == 409
    assert "only a repair awaiting_approval can be approved" in again.json()["error"]["message"]


async def test_ignoring_a_signature_silences_it_as_heal_ignore_does(world: World) -> None:
    path = f"/api/v1/signatures/octo/ml/{FLAKY_SIGNATURE}/ignore"
    response = await world.client.post(path, headers=world.as_role(Role.OPERATOR))
    assert response.status_code == 200 and response.json()["ignored"] is True
    async with world.database.session() as session:
        repair = await session.get(Repair, world.rows.approval_repair)
        history = await signature_history(session, "octo/ml", FLAKY_SIGNATURE)
        assert repair is not None and history is not None
        assert (repair.state, repair.silenced, history.ignored) == ("ignored", True, True)
        others = (await session.scalars(select(Repair).where(Repair.silenced))).all()
    assert [other.id for other in others] == [world.rows.approval_repair]


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("GET", "/api/v1/repairs/999", "no repair 999"),
        ("POST", "/api/v1/repairs/999/approve", "no repair 999"),
        ("POST", "/api/v1/signatures/octo/ml/nope/ignore", "never failed with signature 'nope'"),
        ("GET", "/api/v1/drift-reports/999", "no drift report 999"),
        ("GET", "/api/v1/drift-reports/999/report.html", "no drift report 999"),
        ("GET", "/api/v1/repositories/octo/unknown", "the bot has not heard from octo/unknown"),
    ],
)
async def test_unknown_resources_are_404s_that_say_where_to_look(
    world: World, method: str, path: str, message: str
) -> None:
    response = await world.client.request(method, path, headers=world.as_role(Role.OPERATOR))
    assert response.status_code == 404
    assert message in response.json()["error"]["message"]


async def test_drift_reports_as_json_and_as_their_page(world: World) -> None:
    viewer = world.as_role(Role.VIEWER)
    listed = (await world.client.get("/api/v1/drift-reports", headers=viewer)).json()["items"]
    assert [(item["dataset"], item["dataset_drifted"]) for item in listed] == [
        ("data/current.csv", True)
    ]
    report_id = world.rows.drift_report
    detail = (await world.client.get(f"/api/v1/drift-reports/{report_id}", headers=viewer)).json()
    assert detail["drifted_columns"] == ["loss"] and detail["report"]["dataset_drifted"] is True
    page = await world.client.get(f"/api/v1/drift-reports/{report_id}/report.html", headers=viewer)
    assert page.headers["content-type"].startswith("text/html")
    assert "Dataset drift detected" in page.text and "<svg" in page.text
    assert "script-src" not in page.headers["content-security-policy"]


async def test_a_repository_shows_its_effective_config(world: World) -> None:
    response = await world.client.get(
        "/api/v1/repositories/octo/ml", headers=world.as_role(Role.VIEWER)
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["deliveries"], body["dead_deliveries"]) == (1, 1)
    assert body["config"]["approvers"]["minimum_permission"] == "write"
    assert body["config_updated_at"] is not None
