from __future__ import annotations

import pytest

from self_healing_bot.core.events import EVENT_MODELS, MalformedEventError, parse_event
from tests.webhooks import examples

ACTED_ON = [
    (event, index, payload)
    for event in EVENT_MODELS
    for index, payload in enumerate(examples()[event])
]


@pytest.mark.parametrize(("event", "index", "payload"), ACTED_ON, ids=lambda v: str(v)[:30])
def test_every_github_example_of_an_event_we_act_on_parses_into_its_model(
    event: str, index: int, payload: dict[str, object]
) -> None:
    parsed = parse_event(event, payload)
    assert type(parsed) is EVENT_MODELS[event], (event, index)


def test_every_other_event_is_ignored() -> None:
    others = [event for event in examples() if event not in EVENT_MODELS]
    assert len(others) == 58 - len(EVENT_MODELS)
    for event in others:
        assert parse_event(event, examples()[event][0]) is None


def test_a_payload_of_the_wrong_shape_is_reported_with_the_event_name() -> None:
    with pytest.raises(MalformedEventError, match="workflow_run payload does not match"):
        parse_event("workflow_run", {"action": "completed"})
