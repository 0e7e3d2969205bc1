"""The REST surface: what a client sees for git data, pulls, issues, and GitHub's HTTP rules."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx

from self_healing_bot.sandbox import GitHubSandbox

REPO = "/repos/org/ml"


async def commit(http: httpx.AsyncClient, branch: str, changes: dict[str, str | None]) -> str:
    """One commit on `branch` through blobs → tree → commit → ref, as the bot's client does."""
    head = (await http.get(f"{REPO}/git/ref/heads/{branch}")).json()["object"]["sha"]
    base_tree = (await http.get(f"{REPO}/git/commits/{head}")).json()["tree"]["sha"]
    entries = []
    for path, text in changes.items():
        sha = None
        if text is not None:
            blob = await http.post(f"{REPO}/git/blobs", json={"content": text, "encoding": "utf-8"})
            sha = blob.json()["sha"]
        entries.append({"path": path, "mode": "100644", "type": "blob", "sha": sha})
    tree = await http.post(f"{REPO}/git/trees", json={"base_tree": base_tree, "tree": entries})
    created = await http.post(
        f"{REPO}/git/commits",
        json={"message": "change", "tree": tree.json()["sha"], "parents": [head]},
    )
    moved = await http.patch(f"{REPO}/git/refs/heads/{branch}", json={"sha": created.json()["sha"]})
    assert moved.status_code == 200, moved.text
    return str(created.json()["sha"])


async def read(http: httpx.AsyncClient, path: str, ref: str) -> str | None:
    response = await http.get(f"{REPO}/contents/{path}", params={"ref": ref})
    if response.status_code == 404:
        return None
    return base64.b64decode(response.json()["content"]).decode()


async def test_commit_through_git_data_changes_and_deletes_files(
    sandbox_http: httpx.AsyncClient,
) -> None:
    main = (await sandbox_http.get(f"{REPO}/git/ref/heads/main")).json()["object"]["sha"]
    await sandbox_http.post(f"{REPO}/git/refs", json={"ref": "refs/heads/fix", "sha": main})
    await commit(sandbox_http, "fix", {"configs/train.yaml": "batch_size: 8\n", "README.md": None})
    assert await read(sandbox_http, "configs/train.yaml", "fix") == "batch_size: 8\n"
    assert await read(sandbox_http, "README.md", "fix") is None
    assert await read(sandbox_http, "configs/train.yaml", "main") == "batch_size: 16\nlr: 0.001\n"


async def test_a_bad_request_is_rejected_with_githubs_422(
    sandbox_http: httpx.AsyncClient, expected_rejections: list[tuple[str, str, int]]
) -> None:
    expected_rejections.append(("POST", f"{REPO}/issues", 422))
    response = await sandbox_http.post(f"{REPO}/issues", json={"title": "t", "labels": "bug"})
    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid request.")
    assert response.json()["documentation_url"]
    assert response.json()["errors"]


async def test_unknown_paths_and_broken_json_answer_like_github(
    sandbox_http: httpx.AsyncClient, expected_rejections: list[tuple[str, str, int]]
) -> None:
    expected_rejections.extend([("GET", f"{REPO}/wiki", 404), ("POST", f"{REPO}/issues", 400)])
    assert (await sandbox_http.get(f"{REPO}/wiki")).json()["message"] == "Not Found"
    broken = await sandbox_http.post(f"{REPO}/issues", content=b"{not json")
    assert (broken.status_code, broken.json()["message"]) == (400, "Problems parsing JSON")


async def test_pull_request_lifecycle(
    github_sandbox: GitHubSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    main = (await sandbox_http.get(f"{REPO}/git/ref/heads/main")).json()["object"]["sha"]
    await sandbox_http.post(f"{REPO}/git/refs", json={"ref": "refs/heads/fix", "sha": main})
    head = await commit(sandbox_http, "fix", {"configs/train.yaml": "batch_size: 8\n"})
    opened = await sandbox_http.post(
        f"{REPO}/pulls",
        json={"title": "Lower batch size", "head": "fix", "base": "main", "body": "b"},
    )
    assert opened.status_code == 201
    duplicate = await sandbox_http.post(
        f"{REPO}/pulls", json={"title": "again", "head": "fix", "base": "main"}
    )
    assert duplicate.status_code == 422
    found = (await sandbox_http.get(f"{REPO}/pulls", params={"head": "org:fix"})).json()
    assert [pull["number"] for pull in found] == [opened.json()["number"]]
    number = opened.json()["number"]
    stale = await sandbox_http.put(f"{REPO}/pulls/{number}/merge", json={"sha": main})
    assert stale.status_code == 409
    merged = await sandbox_http.put(f"{REPO}/pulls/{number}/merge", json={"sha": head})
    assert merged.json()["merged"] is True
    assert await read(sandbox_http, "configs/train.yaml", "main") == "batch_size: 8\n"
    pull = (await sandbox_http.get(f"{REPO}/pulls/{number}")).json()
    assert (pull["state"], pull["merged"]) == ("closed", True)
    deleted = await sandbox_http.delete(f"{REPO}/git/refs/heads/fix")
    assert deleted.status_code == 204
    assert (await sandbox_http.get(f"{REPO}/git/ref/heads/fix")).status_code == 404


async def test_issues_comments_and_labels(sandbox_http: httpx.AsyncClient) -> None:
    marker = "<!-- self-healing-bot:oom -->"
    created = await sandbox_http.post(
        f"{REPO}/issues", json={"title": "OOM", "body": f"x\n{marker}", "labels": ["ci"]}
    )
    number = created.json()["number"]
    await sandbox_http.post(f"{REPO}/issues/{number}/labels", json={"labels": ["needs-triage"]})
    comment = await sandbox_http.post(f"{REPO}/issues/{number}/comments", json={"body": "first"})
    await sandbox_http.patch(
        f"{REPO}/issues/comments/{comment.json()['id']}", json={"body": "edited"}
    )
    await sandbox_http.patch(f"{REPO}/issues/{number}", json={"state": "closed"})
    issue = (await sandbox_http.get(f"{REPO}/issues/{number}")).json()
    assert [label["name"] for label in issue["labels"]] == ["ci", "needs-triage"]
    assert issue["state"] == "closed" and marker in issue["body"]
    comments = (await sandbox_http.get(f"{REPO}/issues/{number}/comments")).json()
    assert [c["body"] for c in comments] == ["edited"]
    assert (await sandbox_http.get(f"{REPO}/issues")).json() == []


async def test_collaborator_permission(sandbox_http: httpx.AsyncClient) -> None:
    alice = await sandbox_http.get(f"{REPO}/collaborators/alice/permission")
    assert alice.json()["permission"] == "write"
    assert (await sandbox_http.get(f"{REPO}/collaborators/eve/permission")).status_code == 404


async def test_etag_revalidation_costs_nothing(sandbox_http: httpx.AsyncClient) -> None:
    first = await sandbox_http.get(REPO)
    again = await sandbox_http.get(REPO, headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]
    assert first.headers["x-ratelimit-resource"] == "core"


async def test_pagination_across_three_pages(sandbox_http: httpx.AsyncClient) -> None:
    for index in range(5):
        await sandbox_http.post(f"{REPO}/issues", json={"title": f"issue {index}"})
    titles, url, pages = [], f"{REPO}/issues?per_page=2", 0
    while url:
        response = await sandbox_http.get(url)
        titles += [issue["title"] for issue in response.json()]
        pages += 1
        next_links = [
            part for part in response.headers.get("link", "").split(", ") if 'rel="next"' in part
        ]
        url = next_links[0][1 : next_links[0].index(">")] if next_links else ""
    assert pages == 3
    assert titles == [f"issue {index}" for index in reversed(range(5))]


async def test_enterprise_base_path_and_request_log(
    github_sandbox: GitHubSandbox, tmp_path: Path
) -> None:
    github_sandbox.request_log = tmp_path / "requests.jsonl"
    token = github_sandbox.installation_token(10)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=github_sandbox.asgi_app),
        base_url="http://ghes.test/api/v3",
    ) as ghes:
        response = await ghes.post(
            f"{REPO}/issues", json={"title": "t"}, headers={"authorization": f"token {token}"}
        )
    assert response.json()["url"].startswith("http://ghes.test/api/v3/repos/org/ml/issues/")
    (entry,) = [json.loads(line) for line in github_sandbox.request_log.read_text().splitlines()]
    assert entry["method"] == "POST" and entry["path"] == "/api/v3/repos/org/ml/issues"
    assert entry["body"] == {"title": "t"} and entry["query"] == {}
    assert "authorization" in entry["headers"]
