"""Repositories: metadata, contents, branches, labels, collaborators, rate limit."""

from __future__ import annotations

import time

from self_healing_bot.sandbox import representations as render
from self_healing_bot.sandbox.handlers import Context, Handler, Reply
from self_healing_bot.sandbox.openapi_spec import RequestRejected


async def get_repository(context: Context) -> Reply:
    return Reply(200, render.repository(context.repo(), context.base))


async def get_content(context: Context) -> Reply:
    repo = context.repo()
    ref = context.params.get("ref") or repo.default_branch
    sha = repo.branch_sha(ref) or (ref if ref in repo.git.commits else None)
    if sha is None:
        raise RequestRejected(404, f"No commit found for the ref {ref}")
    path = str(context.params["path"]).strip("/")
    tree_sha = repo.git.commits[sha].tree
    files = repo.git.trees[tree_sha]
    if path in files:
        blob = files[path]
        return Reply(
            200, render.content_file(repo, path, repo.git.blobs[blob], blob, ref, context.base)
        )
    prefix = path + "/"
    children = sorted({p[len(prefix) :].split("/")[0] for p in files if p.startswith(prefix)})
    if not children:
        raise RequestRejected(404, "Not Found")
    listing = []
    for name in children:
        child = prefix + name
        if child in files:
            entry = render.content_file(repo, child, b"", files[child], ref, context.base)
            entry.pop("content")
            entry.pop("encoding")
            entry["size"] = len(repo.git.blobs[files[child]])
        else:
            entry = {"type": "dir", "name": name, "path": child, "size": 0}
            entry["sha"] = repo.git.entry_sha(tree_sha, child)
        listing.append(entry)
    return Reply(200, listing)


async def get_branch(context: Context) -> Reply:
    repo = context.repo()
    branch = str(context.params["branch"])
    sha = repo.branch_sha(branch)
    if sha is None:
        raise RequestRejected(404, "Branch not found")
    commit = render.git_commit(repo, sha, context.base)
    return Reply(
        200,
        {
            "name": branch,
            "commit": {
                "sha": sha,
                "node_id": commit["node_id"],
                "url": f"{context.base}/repos/{repo.full_name}/commits/{sha}",
                "html_url": commit["html_url"],
                "comments_url": f"{context.base}/repos/{repo.full_name}/commits/{sha}/comments",
                "commit": commit,
                "author": None,
                "committer": None,
                "parents": commit["parents"],
            },
            "protected": False,
            "protection_url": f"{context.base}/repos/{repo.full_name}/branches/{branch}/protection",
            "_links": {
                "self": f"{context.base}/repos/{repo.full_name}/branches/{branch}",
                "html": f"{render.html_root(context.base)}/{repo.full_name}/tree/{branch}",
            },
        },
    )


async def list_labels(context: Context) -> Reply:
    repo = context.repo()
    return context.paginate(
        [render.label(item, repo, context.base) for item in repo.labels.values()]
    )


async def get_collaborator_permission(context: Context) -> Reply:
    repo = context.repo()
    username = str(context.params["username"])
    permission = repo.collaborators.get(username)
    if permission is None:
        raise RequestRejected(404, f"{username} is not a user")
    # The REST field keeps GitHub's legacy names: maintain → write, triage → read.
    legacy = {"maintain": "write", "triage": "read"}.get(permission, permission)
    return Reply(
        200,
        {
            "permission": legacy,
            "role_name": permission,
            "user": render.user(context.sandbox.user(username), context.base),
        },
    )


async def get_rate_limit(context: Context) -> Reply:
    core = {"limit": 5000, "remaining": 5000, "reset": int(time.time()) + 3600, "used": 0}
    return Reply(200, {"resources": {"core": core, "search": core}, "rate": core})


ROUTES: dict[str, Handler] = {
    "repos/get": get_repository,
    "repos/get-content": get_content,
    "repos/get-branch": get_branch,
    "issues/list-labels-for-repo": list_labels,
    "repos/get-collaborator-permission-level": get_collaborator_permission,
    "rate-limit/get": get_rate_limit,
}
