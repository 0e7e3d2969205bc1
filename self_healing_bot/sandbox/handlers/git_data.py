"""The git data API: blobs, trees, commits and refs."""

from __future__ import annotations

import base64
import binascii

from self_healing_bot.sandbox import representations as render
from self_healing_bot.sandbox.handlers import Context, Handler, Reply
from self_healing_bot.sandbox.openapi_spec import RequestRejected


async def create_blob(context: Context) -> Reply:
    repo = context.repo()
    content = str(context.body["content"])
    if context.body.get("encoding", "utf-8") == "base64":
        try:
            data = base64.b64decode(content, validate=False)
        except binascii.Error as error:
            raise RequestRejected(422, f"Invalid base64 content: {error}") from error
    else:
        data = content.encode()
    sha = repo.git.write_blob(data)
    return Reply(201, {"sha": sha, "url": f"{context.base}/repos/{repo.full_name}/git/blobs/{sha}"})


async def get_blob(context: Context) -> Reply:
    repo = context.repo()
    sha = str(context.params["file_sha"])
    data = repo.git.blobs.get(sha)
    if data is None:
        raise RequestRejected(404, "Not Found")
    return Reply(
        200,
        {
            "sha": sha,
            "node_id": f"B_{sha}",
            "size": len(data),
            "url": f"{context.base}/repos/{repo.full_name}/git/blobs/{sha}",
            "content": base64.encodebytes(data).decode(),
            "encoding": "base64",
        },
    )


async def create_tree(context: Context) -> Reply:
    repo = context.repo()
    base_tree = context.body.get("base_tree")
    if base_tree is not None and base_tree not in repo.git.trees:
        raise RequestRejected(422, "base_tree is not a valid tree oid")
    files = dict(repo.git.trees[base_tree]) if base_tree else {}
    for index, entry in enumerate(context.body["tree"]):
        path = entry.get("path")
        if not path:
            raise RequestRejected(422, f"tree.{index}.path is missing")
        if entry.get("type", "blob") != "blob":
            raise RequestRejected(422, f"tree.{index}: the sandbox stores only blobs")
        if "content" in entry:
            files[path] = repo.git.write_blob(str(entry["content"]).encode())
        elif entry.get("sha") is None:
            if path not in files:
                raise RequestRejected(422, f"tree.{index}.path {path!r} does not exist")
            del files[path]
        elif entry["sha"] in repo.git.blobs:
            files[path] = entry["sha"]
        else:
            raise RequestRejected(422, f"tree.{index}.sha {entry['sha']} is not a valid blob")
    sha = repo.git.write_tree(files)
    return Reply(201, _tree(context, sha, recursive=False))


async def get_tree(context: Context) -> Reply:
    repo = context.repo()
    sha = str(context.params["tree_sha"])
    if sha in repo.git.commits:
        sha = repo.git.commits[sha].tree
    elif repo.branch_sha(sha):
        sha = repo.git.commits[repo.branch_sha(sha) or ""].tree
    if sha not in repo.git.trees:
        raise RequestRejected(404, "Not Found")
    return Reply(200, _tree(context, sha, recursive=bool(context.params.get("recursive"))))


def _tree(context: Context, sha: str, recursive: bool) -> dict[str, object]:
    repo = context.repo()
    entries = []
    for path, mode, kind in repo.git.tree_entries(sha, recursive):
        entry_sha = repo.git.entry_sha(sha, path)
        entry: dict[str, object] = {"path": path, "mode": mode, "type": kind, "sha": entry_sha}
        if kind == "blob":
            entry["size"] = len(repo.git.blobs[entry_sha])
        entry["url"] = f"{context.base}/repos/{repo.full_name}/git/{kind}s/{entry_sha}"
        entries.append(entry)
    return {
        "sha": sha,
        "url": f"{context.base}/repos/{repo.full_name}/git/trees/{sha}",
        "tree": entries,
        "truncated": False,
    }


async def create_commit(context: Context) -> Reply:
    repo = context.repo()
    tree = str(context.body["tree"])
    parents = tuple(context.body.get("parents") or [])
    if tree not in repo.git.trees:
        raise RequestRejected(422, "Tree SHA does not exist")
    missing = [parent for parent in parents if parent not in repo.git.commits]
    if missing:
        raise RequestRejected(
            422, f"Parent SHA does not exist or is not a commit object: {missing[0]}"
        )
    author = context.body.get("author") or {}
    actor = context.actor()
    commit = repo.git.write_commit(
        tree,
        parents,
        str(context.body["message"]),
        author_name=author.get("name", actor.login),
        author_email=author.get("email", f"{actor.id}+{actor.login}@users.noreply.github.com"),
        date=context.sandbox.clock(),
    )
    return Reply(201, render.git_commit(repo, commit.sha, context.base))


async def get_commit(context: Context) -> Reply:
    repo = context.repo()
    sha = str(context.params["commit_sha"])
    if sha not in repo.git.commits:
        raise RequestRejected(404, "Not Found")
    return Reply(200, render.git_commit(repo, sha, context.base))


async def get_ref(context: Context) -> Reply:
    repo = context.repo()
    ref = f"refs/{context.params['ref']}"
    if ref not in repo.refs:
        raise RequestRejected(404, "Not Found")
    return Reply(200, render.git_ref(repo, ref, context.base))


async def create_ref(context: Context) -> Reply:
    repo = context.repo()
    ref, sha = str(context.body["ref"]), str(context.body["sha"])
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise RequestRejected(422, f"{ref} is not a valid ref name.")
    if ref in repo.refs:
        raise RequestRejected(422, "Reference already exists")
    if sha not in repo.git.commits:
        raise RequestRejected(422, "Object does not exist")
    context.sandbox.set_ref(repo, ref, sha)
    return Reply(201, render.git_ref(repo, ref, context.base))


async def update_ref(context: Context) -> Reply:
    repo = context.repo()
    ref, sha = f"refs/{context.params['ref']}", str(context.body["sha"])
    if ref not in repo.refs:
        raise RequestRejected(422, "Reference does not exist")
    if sha not in repo.git.commits:
        raise RequestRejected(422, "Object does not exist")
    if not context.body.get("force") and not repo.git.is_ancestor(repo.refs[ref], sha):
        raise RequestRejected(422, "Update is not a fast forward")
    context.sandbox.set_ref(repo, ref, sha)
    return Reply(200, render.git_ref(repo, ref, context.base))


async def delete_ref(context: Context) -> Reply:
    repo = context.repo()
    ref = f"refs/{context.params['ref']}"
    if ref not in repo.refs:
        raise RequestRejected(422, "Reference does not exist")
    context.sandbox.delete_ref(repo, ref)
    return Reply(204)


ROUTES: dict[str, Handler] = {
    "git/create-blob": create_blob,
    "git/get-blob": get_blob,
    "git/create-tree": create_tree,
    "git/get-tree": get_tree,
    "git/create-commit": create_commit,
    "git/get-commit": get_commit,
    "git/get-ref": get_ref,
    "git/create-ref": create_ref,
    "git/update-ref": update_ref,
    "git/delete-ref": delete_ref,
}
