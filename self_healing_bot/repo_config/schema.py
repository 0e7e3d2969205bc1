"""The published JSON Schema of the repository config, generated from `RepoConfig`.

Regenerate after changing the model: `python -m self_healing_bot.repo_config.schema`
(a test fails while `schema.json` is stale).
"""

from __future__ import annotations

import json
from pathlib import Path

from self_healing_bot.repo_config.model import RepoConfig

SCHEMA_PATH = Path(__file__).with_name("schema.json")


def schema_text() -> str:
    """The schema as it should be on disk: stable key order, trailing newline."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "self-healing-bot repository config (.github/self-healing-bot.yml)",
        **RepoConfig.model_json_schema(),
    }
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text())
    print(f"wrote {SCHEMA_PATH}")
