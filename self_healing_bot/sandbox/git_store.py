"""Git objects of one sandbox repository: blobs, trees and commits, addressed by SHA-1.

Trees are kept flat (path → entry) and every directory of a stored tree is registered as a
tree of its own, so both `GET /git/trees/{sha}` and `?recursive=1` answer like GitHub.

    >>> store = GitStore()
    >>> tree = store.write_tree({"a/b.txt": store.write_blob(b"hi")})
    >>> sorted(store.tree_entries(tree, recursive=True))
    [('a', '040000', 'tree'), ('a/b.txt', '100644', 'blob')]
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

FILE_MODE = "100644"
TREE_MODE = "040000"


@dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str
    author_name: str
    author_email: str
    date: datetime


@dataclass
class GitStore:
    """Content-addressed objects; a tree maps each file path to its blob SHA."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, dict[str, str]] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    def write_blob(self, content: bytes) -> str:
        sha = _object_sha("blob", content)
        self.blobs[sha] = content
        return sha

    def write_tree(self, files: Mapping[str, str]) -> str:
        """Store a tree of `path → blob sha` (and each of its directories); return its SHA."""
        sha = _tree_sha(files)
        self.trees[sha] = dict(files)
        for directory in _directories(files):
            prefix = directory + "/"
            self.write_tree({p[len(prefix) :]: b for p, b in files.items() if p.startswith(prefix)})
        return sha

    def write_commit(
        self,
        tree: str,
        parents: tuple[str, ...],
        message: str,
        author_name: str = "sandbox",
        author_email: str = "sandbox@users.noreply.github.com",
        date: datetime | None = None,
    ) -> Commit:
        when = date or datetime.now(UTC).replace(microsecond=0)
        header = f"tree {tree}\n" + "".join(f"parent {parent}\n" for parent in parents)
        identity = f"{author_name} <{author_email}> {int(when.timestamp())} +0000"
        text = f"{header}author {identity}\ncommitter {identity}\n\n{message}"
        commit = Commit(
            _object_sha("commit", text.encode()),
            tree,
            parents,
            message,
            author_name,
            author_email,
            when,
        )
        self.commits[commit.sha] = commit
        return commit

    def files_at(self, commit_sha: str) -> dict[str, bytes]:
        """Every file of a commit with its content."""
        tree = self.trees[self.commits[commit_sha].tree]
        return {path: self.blobs[blob] for path, blob in tree.items()}

    def tree_entries(self, tree_sha: str, recursive: bool) -> list[tuple[str, str, str]]:
        """(path, mode, type) of a tree's entries: direct children, or all with `recursive`."""
        files = self.trees[tree_sha]
        directories = _directories(files)
        entries = [(d, TREE_MODE, "tree") for d in directories]
        entries += [(p, FILE_MODE, "blob") for p in files]
        if not recursive:
            entries = [entry for entry in entries if "/" not in entry[0]]
        return sorted(entries)

    def entry_sha(self, tree_sha: str, path: str) -> str:
        """The SHA of a file or directory inside a tree (KeyError if absent)."""
        files = self.trees[tree_sha]
        if path in files:
            return files[path]
        prefix = path + "/"
        inner = {p[len(prefix) :]: b for p, b in files.items() if p.startswith(prefix)}
        if not inner:
            raise KeyError(path)
        return _tree_sha(inner)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor in self.ancestors(descendant)

    def ancestors(self, commit_sha: str) -> set[str]:
        """The commit and everything it descends from."""
        seen: set[str] = set()
        pending = [commit_sha]
        while pending:
            sha = pending.pop()
            if sha not in seen:
                seen.add(sha)
                pending.extend(self.commits[sha].parents)
        return seen


def _directories(files: Mapping[str, str]) -> set[str]:
    return {path.rsplit("/", i)[0] for path in files for i in range(1, path.count("/") + 1)}


def _tree_sha(files: Mapping[str, str]) -> str:
    listing = "".join(f"{FILE_MODE} {path}\0{sha}\n" for path, sha in sorted(files.items()))
    return _object_sha("tree", listing.encode())


def _object_sha(kind: str, content: bytes) -> str:
    return hashlib.sha1(
        f"{kind} {len(content)}\0".encode() + content, usedforsecurity=False
    ).hexdigest()
