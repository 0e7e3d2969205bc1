from __future__ import annotations

from typing import Any

import pytest

from self_healing_bot.sandbox.ci_rules import JobSpec, ScenarioError

OOM = "RuntimeError: CUDA out of memory"
BATCH = {"file": "c.yaml", "key": "batch_size", "greater_than": 32}
LR = {"file": "c.yaml", "key": "t.lr", "less_than": 0.1}
PIN = {"file": "requirements.txt", "not_matches": r"^numpy<2"}


@pytest.mark.parametrize(
    ("when", "files", "attempt", "conclusion"),
    [
        (BATCH, {"c.yaml": b"batch_size: 64"}, 1, "failure"),
        (BATCH, {"c.yaml": b"batch_size: 32"}, 1, "success"),
        (LR, {"c.yaml": b"t: {lr: 0.01}"}, 1, "failure"),
        (BATCH, {}, 1, "success"),
        (PIN, {"requirements.txt": b"numpy\n"}, 1, "failure"),
        (PIN, {"requirements.txt": b"numpy<2\n"}, 1, "success"),
        ({"file": "data.csv", "exists": False}, {}, 1, "failure"),
        ({"file": "a.py", "contains": "TODO"}, {"a.py": b"# TODO"}, 1, "failure"),
        ({"attempt_below": 2}, {}, 1, "failure"),
        ({"attempt_below": 2}, {}, 2, "success"),
    ],
)  # fmt: skip
def test_a_job_fails_while_its_rule_holds(
    when: dict[str, Any], files: dict[str, bytes], attempt: int, conclusion: str
) -> None:
    job = JobSpec.parse({"name": "train", "failures": [{"when": when, "log": OOM}]})
    outcome = job.run(files, attempt)
    assert outcome.conclusion == conclusion
    assert (outcome.log == OOM) == (conclusion == "failure")


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ({"failures": []}, "needs a 'name'"),
        ({"name": "t", "failures": [{"log": "x"}]}, "non-empty 'when'"),
        ({"name": "t", "failures": [{"when": {"file": "a", "bigger": 1}}]}, "unknown condition"),
        ({"name": "t", "failures": [{"when": {"file": "a"}}]}, "'file' needs one of"),
    ],
)
def test_a_bad_job_is_refused_with_the_reason(job: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        JobSpec.parse(job)


def test_a_passing_job_uploads_its_artifacts_and_a_failing_one_does_not() -> None:
    job = JobSpec.parse(
        {
            "name": "train",
            "failures": [{"when": BATCH, "log": OOM}],
            "artifacts": {"metrics": {"eval/metrics.json": '{"accuracy": 0.9}'}},
        }
    )
    passed = job.run({"c.yaml": b"batch_size: 16"}, attempt=1)
    assert passed.artifacts == {"metrics": {"eval/metrics.json": b'{"accuracy": 0.9}'}}
    assert job.run({"c.yaml": b"batch_size: 64"}, attempt=1).artifacts == {}


@pytest.mark.parametrize(
    ("artifacts", "message"),
    [
        (["metrics.json"], "expected a mapping of artifact name"),
        ({"eval/metrics": {"m.json": "{}"}}, "'eval/metrics' is not an artifact name"),
        ({"a:b": {"m.json": "{}"}}, "'a:b' is not an artifact name"),
        ({"metrics": {}}, "'metrics' needs a non-empty mapping"),
        ({"metrics": {"/etc/passwd": "x"}}, "bad path '/etc/passwd'"),
        ({"metrics": {"../m.json": "x"}}, "bad path '../m.json'"),
        ({"metrics": {"m.json": 3}}, "metrics/m.json must be text or bytes"),
    ],
)
def test_a_bad_artifact_declaration_is_refused_with_the_reason(
    artifacts: Any, message: str
) -> None:
    with pytest.raises(ScenarioError, match=message):
        JobSpec.parse({"name": "train", "artifacts": artifacts})
