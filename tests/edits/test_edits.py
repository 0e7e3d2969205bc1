"""Each edit returns the new text with only its target changed, or an EditError saying why."""

from __future__ import annotations

import tomllib

import pytest

from self_healing_bot.edits import (
    EditError,
    add_requirement,
    changed_lines,
    json_set,
    requirements_pin,
    text_replace,
    workflow_timeout,
    yaml_scale,
    yaml_set,
)

WORKFLOW_FOUR_SPACES = """\
# CI for the model
name: train
on: [push]
jobs:
    train:
        name: Train model
        runs-on: ubuntu-latest  # GPU runner later
        steps:
            -   uses: actions/checkout@v4
            -   run: |
                    python train.py --config 'params.yaml'
"""

PARAMS = """\
# training hyper-parameters
train:
  batch_size: 64   # fits a T4
  learning_rate: 0.001
  optimizer: "adamw"
data:
  - path: data/train.csv
  - path: data/valid.csv
"""


@pytest.mark.parametrize(
    ("text", "path", "value", "expected"),
    [
        (PARAMS, "train.batch_size", 32, PARAMS.replace("64   #", "32   #")),
        (PARAMS, "train.optimizer", "sgd", PARAMS.replace('"adamw"', '"sgd"')),
        (
            PARAMS,
            "train.epochs",
            10,
            PARAMS.replace('"adamw"\n', '"adamw"\n  epochs: 10\n'),
        ),
        (PARAMS, "data.1.path", "data/v2.csv", PARAMS.replace("valid.csv", "v2.csv")),
        (
            WORKFLOW_FOUR_SPACES,
            "jobs.train.runs-on",
            "gpu",
            # ruamel keeps the comment in its column
            WORKFLOW_FOUR_SPACES.replace("ubuntu-latest  #", "gpu            #"),
        ),
    ],
)
def test_yaml_set_changes_only_the_target(
    text: str, path: str, value: object, expected: str
) -> None:
    assert yaml_set(text, path, value) == expected


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("model.layers", "'model' not found"),
        ("data.5.path", "no item '5'"),
        ("train.optimizer.name", "not a mapping or list"),
        ("train..x", "invalid path"),
    ],
)
def test_yaml_set_missing_target_is_an_error(path: str, reason: str) -> None:
    with pytest.raises(EditError, match=reason):
        yaml_set(PARAMS, path, 1)


def test_yaml_set_rejects_invalid_yaml() -> None:
    with pytest.raises(EditError, match="not valid YAML"):
        yaml_set("a: [1,\n", "a", 1)


@pytest.mark.parametrize(
    ("path", "factor", "default", "expected_line"),
    [
        ("train.batch_size", 0.5, None, "  batch_size: 32   # fits a T4"),
        ("train.learning_rate", 0.5, None, "  learning_rate: 0.0005"),
        ("train.gradient_accumulation_steps", 2, 1, "  gradient_accumulation_steps: 2"),
    ],
)
def test_yaml_scale(path: str, factor: float, default: float | None, expected_line: str) -> None:
    assert expected_line in yaml_scale(PARAMS, path, factor, default=default).splitlines()


def test_yaml_scale_keeps_integers_at_least_one() -> None:
    assert yaml_scale("batch_size: 1\n", "batch_size", 0.5) == "batch_size: 1\n"


@pytest.mark.parametrize(
    ("path", "factor", "reason"),
    [
        ("train.optimizer", 0.5, "not a number"),
        ("train.gradient_accumulation_steps", 2, "not found"),
        ("train.batch_size", 0, "positive"),
    ],
)
def test_yaml_scale_errors(path: str, factor: float, reason: str) -> None:
    with pytest.raises(EditError, match=reason):
        yaml_scale(PARAMS, path, factor)


def test_json_set_keeps_order_and_indentation() -> None:
    text = '{\n    "model": "resnet",\n    "train": {\n        "lr": 0.1\n    }\n}\n'
    expected = '{\n    "model": "resnet",\n    "train": {\n        "lr": 0.05\n    }\n}\n'
    assert json_set(text, "train.lr", 0.05) == expected


@pytest.mark.parametrize(
    ("text", "reason"), [('{"a": 1}', "'train' not found"), ("{nope", "not valid JSON")]
)
def test_json_set_errors(text: str, reason: str) -> None:
    with pytest.raises(EditError, match=reason):
        json_set(text, "train.lr", 1)


REQUIREMENTS = """\
# runtime
numpy>=1.20  # math
Scikit_Learn[alldeps] >=1.0 ; python_version >= '3.9'
-r extra.txt
torch @ https://download.example/torch.whl
"""


@pytest.mark.parametrize(
    ("package", "specifier", "expected_line"),
    [
        ("numpy", "<2", "numpy<2  # math"),
        ("NUMPY", ">=1.20,<2", "numpy>=1.20,<2  # math"),
        ("scikit-learn", "<1.5", "Scikit_Learn[alldeps]<1.5 ; python_version >= '3.9'"),
        ("scikit.learn", "!=1.4.0", "Scikit_Learn[alldeps]!=1.4.0 ; python_version >= '3.9'"),
    ],
)
def test_requirements_pin(package: str, specifier: str, expected_line: str) -> None:
    result = requirements_pin(REQUIREMENTS, package, specifier)
    assert expected_line in result.splitlines()
    assert changed_lines(REQUIREMENTS, result) == 2


@pytest.mark.parametrize(
    ("package", "specifier", "reason"),
    [
        ("pandas", "<2", "not in requirements.txt"),
        ("torch", "<2", "from a URL"),
        ("numpy", "two", "not a version specifier"),
    ],
)
def test_requirements_pin_errors(package: str, specifier: str, reason: str) -> None:
    with pytest.raises(EditError, match=reason):
        requirements_pin(REQUIREMENTS, package, specifier)


def test_add_requirement_appends_and_refuses_duplicates() -> None:
    assert add_requirement("numpy", "pandas>=2") == "numpy\npandas>=2\n"
    with pytest.raises(EditError, match=r"already in requirements\.txt"):
        add_requirement(REQUIREMENTS, "scikit-learn")
    with pytest.raises(EditError, match="not a requirement"):
        add_requirement(REQUIREMENTS, "pandas is great")


PYPROJECT = """\
[project]
name = "model"
dependencies = [
  "numpy>=1.2",  # math
  'pandas'
]

[project.optional-dependencies]
dev = ["pytest"]
"""


@pytest.mark.parametrize(
    ("edit", "expected_dependencies"),
    [
        (lambda text: requirements_pin(text, "Pandas", "<3"), ["numpy>=1.2", "pandas<3"]),
        (lambda text: add_requirement(text, "scipy>=1"), ["numpy>=1.2", "pandas", "scipy>=1"]),
    ],
)
def test_pyproject_edits(edit: object, expected_dependencies: list[str]) -> None:
    result = edit(PYPROJECT)  # type: ignore[operator]
    parsed = tomllib.loads(result)
    assert parsed["project"]["dependencies"] == expected_dependencies
    assert parsed["project"]["optional-dependencies"] == {"dev": ["pytest"]}
    assert "# math" in result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[project]\nname = "x"\ndependencies = ["a", "b>1"]\n', ["a", "b>1", "c"]),
        ('[project]\nname = "x"\ndependencies = []\n', ["c"]),
    ],
)
def test_add_requirement_to_inline_arrays(text: str, expected: list[str]) -> None:
    assert tomllib.loads(add_requirement(text, "c"))["project"]["dependencies"] == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('[project]\nname = "x"\ndynamic = ["dependencies"]\n', "no literal dependencies"),
        ('[project]\nname = "x"\ndependencies = ["pandas"]\n', "not in \\[project\\]"),
    ],
)
def test_pyproject_pin_errors(text: str, reason: str) -> None:
    with pytest.raises(EditError, match=reason):
        requirements_pin(text, "numpy", "<2")


def test_text_replace_demands_the_expected_count() -> None:
    assert text_replace("lr = 0.1\n", "0.1", "0.05") == "lr = 0.05\n"
    with pytest.raises(EditError, match="not found"):
        text_replace("lr = 0.1\n", "0.2", "0.05")
    with pytest.raises(EditError, match="found 2 occurrences"):
        text_replace("a a", "a", "b")


@pytest.mark.parametrize("job", ["train", "Train model"])
def test_workflow_timeout_by_id_or_name(job: str) -> None:
    result = workflow_timeout(WORKFLOW_FOUR_SPACES, job, 90)
    assert result == WORKFLOW_FOUR_SPACES.replace(
        "# GPU runner later\n", "# GPU runner later\n        timeout-minutes: 90\n"
    )
    assert workflow_timeout(result, job, 120).count("timeout-minutes: 120") == 1


@pytest.mark.parametrize(
    ("text", "job", "minutes", "reason"),
    [
        (WORKFLOW_FOUR_SPACES, "deploy", 10, "job 'deploy' not found"),
        ("name: x\n", "train", 10, "no 'jobs'"),
        (WORKFLOW_FOUR_SPACES, "train", 0, "must be between 1 and"),
    ],
)
def test_workflow_timeout_errors(text: str, job: str, minutes: int, reason: str) -> None:
    with pytest.raises(EditError, match=reason):
        workflow_timeout(text, job, minutes)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [("a\nb\n", "a\nb\n", 0), ("a\nb\n", "a\nc\n", 2), ("", "a\nb\n", 2), ("a\n", "", 1)],
)
def test_changed_lines(old: str, new: str, expected: int) -> None:
    assert changed_lines(old, new) == expected
