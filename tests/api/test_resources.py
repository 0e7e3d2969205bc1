"""What the resources answer: the dead-letter filter, pagination links, 404s in the error shape."""

from __future__ import annotations

from self_healing_bot.repo_config.loading import CONFIG_PATH
from self_healing_bot.storage import deliveries
from self_healing_bot.storage.api_keys import Role
from self_healing_bot.web.api.repositories import RepositoryDetail
from tests.api.conftest import World


async def _store(world: World, count: int) -> None:
    rows = [
        deliveries.NewDelivery(
            f"ok-{n}", "ping", None, "octo/other", 1, b"{}", status=deliveries.DeliveryStatus.DONE
        )
        for n in range(count)
    ]
    async with world.database.session() as session:
        await deliveries.insert_new(session, rows)


async def test_status_dead_lists_only_dead_deliveries(world: World) -> None:
    await _store(world, 3)
    response = await world.client.get(
        "/api/v1/deliveries", params={"status": "dead"}, headers=world.as_role(Role.VIEWER)
    )
    assert response.status_code == 200
    assert [item["delivery_id"] for item in response.json()["items"]] == [world.dead_delivery_id]


async def test_pages_follow_next_links_to_the_end_with_the_filters(world: World) -> None:
    await _store(world, 5)
    viewer = world.as_role(Role.VIEWER)
    seen: list[str] = []
    url: str | None = "/api/v1/deliveries?repository=octo/other&limit=2"
    while url is not None:
        body = (await world.client.get(url, headers=viewer)).json()
        seen += [item["delivery_id"] for item in body["items"]]
        url = body["next"]
        assert url is None or "repository=octo%2Fother" in url
    assert seen == [f"ok-{n}" for n in reversed(range(5))]


async def test_unknown_ids_are_404_in_the_one_error_shape(world: World) -> None:
    operator = world.as_role(Role.OPERATOR)
    replay = await world.client.post("/api/v1/deliveries/nope/replay", headers=operator)
    execution = await world.client.get("/api/v1/executions/999", headers=operator)
    for response in (replay, execution):
        assert response.status_code == 404
        assert set(response.json()) == {"error"}
        assert response.json()["error"]["code"] == "not_found"
    assert "GET /api/v1/deliveries" in replay.json()["error"]["message"]


async def test_an_invalid_playbook_is_reported_with_its_line(world: World) -> None:
    response = await world.client.post(
        "/api/v1/playbooks/validate",
        json={"content": "name: x\ntrigger: {}\nsteps:\n  - uses: no_such_action\n"},
        headers=world.as_role(Role.VIEWER),
    )
    body = response.json()
    assert response.status_code == 200 and body["valid"] is False
    assert any(problem["line"] == 4 for problem in body["problems"]), body


def test_the_published_config_field_names_the_file_the_bot_reads() -> None:
    schema = RepositoryDetail.model_json_schema()
    assert f"`{CONFIG_PATH}`" in schema["properties"]["config"]["description"]
