"""Benchmark: requests per second through the GitHub sandbox, in-process over httpx's ASGI
transport, with request validation and response completion on (as in tests).

    .venv/bin/python bench/sandbox/run.py [--requests 500]

Goal: a test suite's GitHub traffic costs little: >= 300 GET /repos/{o}/{r} per second and
>= 50 five-request git-data commits per second on a 2-core machine.
Prints one line: `get_repo_per_s=... commits_per_s=... issues_per_s=...`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx

from self_healing_bot.sandbox import GitHubSandbox

REPO = "/repos/org/ml"


async def main(requests: int) -> None:
    sandbox = GitHubSandbox(base_url="http://sandbox.bench")
    sandbox.add_repository("org/ml", {"configs/train.yaml": b"batch_size: 16\n"})
    sandbox.add_personal_token("ghp_bench", "bench")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.asgi_app),
        base_url="http://sandbox.bench",
        headers={"authorization": "token ghp_bench"},
    ) as http:
        await http.get(REPO)  # load the spec and compile validators once
        started = time.perf_counter()
        for _ in range(requests):
            await http.get(REPO)
        get_rate = requests / (time.perf_counter() - started)

        commits = max(1, requests // 5)
        started = time.perf_counter()
        for index in range(commits):
            ref = (await http.get(f"{REPO}/git/ref/heads/main")).json()["object"]["sha"]
            tree = (await http.get(f"{REPO}/git/commits/{ref}")).json()["tree"]["sha"]
            blob = await http.post(f"{REPO}/git/blobs", json={"content": f"batch_size: {index}\n"})
            new_tree = await http.post(
                f"{REPO}/git/trees",
                json={"base_tree": tree, "tree": [{"path": "configs/train.yaml", "mode": "100644",
                                                   "type": "blob", "sha": blob.json()["sha"]}]},
            )  # fmt: skip
            made = await http.post(
                f"{REPO}/git/commits",
                json={"message": "m", "tree": new_tree.json()["sha"], "parents": [ref]},
            )
            await http.patch(f"{REPO}/git/refs/heads/main", json={"sha": made.json()["sha"]})
        commit_rate = commits / (time.perf_counter() - started)

        started = time.perf_counter()
        for index in range(requests):
            await http.post(f"{REPO}/issues", json={"title": f"issue {index}", "labels": ["bot"]})
        issue_rate = requests / (time.perf_counter() - started)
    await sandbox.close()
    print(
        f"get_repo_per_s={get_rate:.0f} commits_per_s={commit_rate:.1f} "
        f"issues_per_s={issue_rate:.0f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    asyncio.run(main(parser.parse_args().requests))
