"""`self-healing-bot demo --once --json` end to end, and the rules that decide an end state."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from self_healing_bot.demo.outcome import DeliveryRecord, RepairRecord, incident_outcome, summary
from self_healing_bot.demo.scenario import load_demo_scenario

SHA = "a" * 40
ROOT = "http://sandbox/org/ml"
RUN = DeliveryRecord("d1", "done", {"workflow_run": {"head_sha": SHA}}, "detected")
OTHER = DeliveryRecord("d2", "done", {"after": "b" * 40}, "no_detection")


def repair(state: str, **links: int) -> RepairRecord:
    return RepairRecord(
        "d1", state, "gpu_oom", "gpu-oom", links.get("pr"), links.get("issue"), links.get("run")
    )


@pytest.mark.parametrize(
    ("deliveries", "repairs", "quiet", "expected"),
    [
        ([RUN], [repair("verified", pr=3)], False, ("verified", f"{ROOT}/pull/3")),
        ([RUN], [repair("escalated", issue=4)], False, ("escalated", f"{ROOT}/issues/4")),
        ([RUN], [repair("awaiting_verification", pr=3)], True, None),
        ([RUN], [], False, None),
        ([RUN], [], True, ("detected", "")),
        ([OTHER], [repair("verified", pr=3)], True, None),
    ],
    ids=["verified", "escalated", "still-verifying", "ci-busy", "no-repair", "other-commit"],
)
def test_outcome_is_read_from_the_bot_records(deliveries, repairs, quiet, expected):
    outcome = incident_outcome(SHA, deliveries, repairs, ROOT, quiet)
    assert (outcome and (outcome.end_state, outcome.url)) == expected


def test_summary_says_whether_every_incident_ended_as_expected():
    row = {"name": "n", "diagnosis": "d", "action": "a", "url": "", "seconds": 1.0}
    good = {**row, "end_state": "verified", "expected_end_state": "verified"}
    bad = {**row, "end_state": "timeout", "expected_end_state": "verified"}
    assert summary([good])["all_expected"] is True
    assert summary([good, bad])["all_expected"] is False


def test_scenario_plays_the_six_incidents_of_the_issue():
    scenario = load_demo_scenario()
    assert [incident.name for incident in scenario.incidents] == [
        "CUDA out of memory",
        "Breaking dependency release",
        "Transient network error",
        "Flaky test",
        "Data drift",
        "Metric regression",
    ]
    assert "data/current.csv" not in scenario.files  # the drift incident adds it


@pytest.mark.slow
def test_every_incident_reaches_its_expected_end_state():
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from self_healing_bot.cli import main; main()",
            "demo",
            "--once",
            "--json",
            "--incident-timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    document = json.loads(completed.stdout)
    assert len(document["incidents"]) == 6
    ends = {
        row["name"]: (row["end_state"], row["expected_end_state"]) for row in document["incidents"]
    }
    assert all(end == expected for end, expected in ends.values()), (
        f"{ends}\n{completed.stderr[-6000:]}"
    )
    assert document["all_expected"] is True
    assert completed.returncode == 0, completed.stderr[-2000:]
