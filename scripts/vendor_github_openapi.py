"""Refresh the sandbox's vendored subset of GitHub's OpenAPI description.

Downloads `@octokit/openapi@23.0.2` with `npm pack`, keeps only the operations the bot uses
(OPERATIONS below), resolves every `$ref`, maps OpenAPI 3.0 `nullable` to JSON Schema type
unions (so jsonschema-rs reads it as GitHub means it), drops examples (some are invalid), and
writes `self_healing_bot/sandbox/openapi/api.github.com.subset.json.gz`; does the same for the
webhook payload schemas the sandbox sends (`@octokit/webhooks-schemas@7.6.1`, JSON Schema
draft 7) into `webhooks.subset.json.gz`.

    python scripts/vendor_github_openapi.py     # fetches both packages with npm
    python scripts/vendor_github_openapi.py --spec api.github.com.json --webhooks schema.json
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@octokit/openapi@23.0.2"
MEMBER = "package/generated/api.github.com.json"
WEBHOOKS_PACKAGE = "@octokit/webhooks-schemas@7.6.1"
WEBHOOKS_MEMBER = "package/schema.json"
VENDOR_DIR = Path(__file__).resolve().parent.parent / "self_healing_bot/sandbox/openapi"
TARGET = VENDOR_DIR / "api.github.com.subset.json.gz"
WEBHOOKS_TARGET = VENDOR_DIR / "webhooks.subset.json.gz"

# The webhook events (definition names of @octokit/webhooks-schemas) the sandbox sends.
WEBHOOK_EVENTS = [
    "pull_request$opened",
    "pull_request$synchronize",
    "pull_request$closed",
    "issue_comment$created",
    "workflow_run$requested",
    "workflow_run$completed",
    "workflow_job$queued",
    "workflow_job$completed",
    "check_suite$completed",
    "check_run$completed",
    "push$event",
]

OPERATIONS: dict[str, list[str]] = {
    "/rate_limit": ["get"],
    "/app": ["get"],
    "/app/installations": ["get"],
    "/app/installations/{installation_id}/access_tokens": ["post"],
    "/app/hook/deliveries": ["get"],
    "/app/hook/deliveries/{delivery_id}": ["get"],
    "/app/hook/deliveries/{delivery_id}/attempts": ["post"],
    "/installation/repositories": ["get"],
    "/repos/{owner}/{repo}": ["get"],
    "/repos/{owner}/{repo}/installation": ["get"],
    "/repos/{owner}/{repo}/contents/{path}": ["get"],
    "/repos/{owner}/{repo}/branches/{branch}": ["get"],
    "/repos/{owner}/{repo}/git/ref/{ref}": ["get"],
    "/repos/{owner}/{repo}/git/refs": ["post"],
    "/repos/{owner}/{repo}/git/refs/{ref}": ["patch", "delete"],
    "/repos/{owner}/{repo}/git/blobs": ["post"],
    "/repos/{owner}/{repo}/git/blobs/{file_sha}": ["get"],
    "/repos/{owner}/{repo}/git/trees": ["post"],
    "/repos/{owner}/{repo}/git/trees/{tree_sha}": ["get"],
    "/repos/{owner}/{repo}/git/commits": ["post"],
    "/repos/{owner}/{repo}/git/commits/{commit_sha}": ["get"],
    "/repos/{owner}/{repo}/pulls": ["get", "post"],
    "/repos/{owner}/{repo}/pulls/{pull_number}": ["get", "patch"],
    "/repos/{owner}/{repo}/pulls/{pull_number}/merge": ["put"],
    "/repos/{owner}/{repo}/issues": ["get", "post"],
    "/repos/{owner}/{repo}/issues/{issue_number}": ["get", "patch"],
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ["get", "post"],
    "/repos/{owner}/{repo}/issues/{issue_number}/labels": ["post"],
    "/repos/{owner}/{repo}/issues/comments/{comment_id}": ["get", "patch"],
    "/repos/{owner}/{repo}/labels": ["get"],
    "/repos/{owner}/{repo}/collaborators/{username}/permission": ["get"],
    "/repos/{owner}/{repo}/actions/workflows": ["get"],
    "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches": ["post"],
    "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs": ["get"],
    "/repos/{owner}/{repo}/actions/runs": ["get"],
    "/repos/{owner}/{repo}/actions/runs/{run_id}": ["get"],
    "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs": ["get"],
    "/repos/{owner}/{repo}/actions/runs/{run_id}/logs": ["get"],
    "/repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs": ["post"],
    "/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts": ["get"],
    "/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}": ["get"],
    "/repos/{owner}/{repo}/actions/jobs/{job_id}": ["get"],
    "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs": ["get"],
    "/repos/{owner}/{repo}/check-runs": ["post"],
    "/repos/{owner}/{repo}/check-runs/{check_run_id}": ["get", "patch"],
    "/repos/{owner}/{repo}/commits/{ref}/check-runs": ["get"],
}

DROPPED_KEYS = {"example", "examples", "externalDocs", "x-github", "x-octokit", "summary"}


class SpecError(ValueError):
    """The downloaded description lacks an operation we vendor."""


def fetch(package: str, member_name: str) -> dict[str, Any]:
    """Download an npm package and read one JSON file from it."""
    with tempfile.TemporaryDirectory() as workdir:
        subprocess.run(["npm", "pack", package, "--silent"], cwd=workdir, check=True)
        (tarball,) = Path(workdir).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            member = archive.extractfile(member_name)
            if member is None:
                raise SpecError(f"{package} has no {member_name}")
            document: dict[str, Any] = json.load(member)
            return document


def resolve(node: Any, spec: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """Inline every `$ref`, map `nullable`, and drop documentation-only keys."""
    if isinstance(node, list):
        return [resolve(item, spec, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        reference = node["$ref"]
        if reference in seen:
            raise SpecError(f"recursive reference {reference}")
        target: Any = spec
        for part in reference.removeprefix("#/").split("/"):
            target = target[part]
        return resolve(copy.deepcopy(target), spec, (*seen, reference))
    resolved: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED_KEYS or (key == "description" and isinstance(value, str)):
            continue
        if key == "properties":
            # A map of names to schemas, not a schema: a property may be named "nullable".
            resolved[key] = {name: resolve(item, spec, seen) for name, item in value.items()}
        else:
            resolved[key] = resolve(value, spec, seen)
    return map_nullable(resolved)


def map_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0 `nullable: true` becomes a JSON Schema union with null."""
    if not schema.pop("nullable", False):
        return schema
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    if isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def subset(spec: dict[str, Any]) -> dict[str, Any]:
    """The vendored document: the same OpenAPI layout with only our operations."""
    paths: dict[str, Any] = {}
    for path, methods in OPERATIONS.items():
        item = spec["paths"].get(path)
        if item is None:
            raise SpecError(f"{PACKAGE} has no path {path}")
        for method in methods:
            if method not in item:
                raise SpecError(f"{PACKAGE} has no operation {method.upper()} {path}")
            paths.setdefault(path, {})[method] = resolve(item[method], spec)
    return {
        "openapi": spec["openapi"],
        "info": {"title": spec["info"]["title"], "version": spec["info"]["version"]},
        "x-source": PACKAGE,
        "paths": paths,
    }


def webhook_subset(schemas: dict[str, Any]) -> dict[str, Any]:
    """One resolved JSON Schema per webhook event the sandbox sends."""
    definitions = schemas["definitions"]
    missing = [name for name in WEBHOOK_EVENTS if name not in definitions]
    if missing:
        raise SpecError(f"{WEBHOOKS_PACKAGE} has no {missing}")
    return {
        "x-source": WEBHOOKS_PACKAGE,
        "events": {name: resolve(definitions[name], schemas) for name in WEBHOOK_EVENTS},
    }


def write(document: dict[str, Any], target: Path) -> None:
    data = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    target.write_bytes(gzip.compress(data, mtime=0))
    print(f"wrote {target} ({len(data)} bytes before gzip)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, help="an unpacked api.github.com.json")
    parser.add_argument("--webhooks", type=Path, help="an unpacked webhooks schema.json")
    arguments = parser.parse_args()
    spec = json.loads(arguments.spec.read_text()) if arguments.spec else fetch(PACKAGE, MEMBER)
    write(subset(spec), TARGET)
    schemas = (
        json.loads(arguments.webhooks.read_text())
        if arguments.webhooks
        else fetch(WEBHOOKS_PACKAGE, WEBHOOKS_MEMBER)
    )
    write(webhook_subset(schemas), WEBHOOKS_TARGET)


if __name__ == "__main__":
    main()
