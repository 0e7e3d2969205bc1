"""Handlers of the sandbox's REST operations, keyed by GitHub's `operationId`.

A handler is `async def handler(context: Context) -> Reply`; it returns the fields the sandbox
models and the server completes them against the response schema. Each module of this package
holds one API area and exports `ROUTES`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from self_healing_bot.sandbox.auth import Credential
from self_healing_bot.sandbox.openapi_spec import Operation, RequestRejected
from self_healing_bot.sandbox.state import Repository, User

if TYPE_CHECKING:
    from self_healing_bot.sandbox.github_sandbox import GitHubSandbox


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Context:
    """What a handler needs: the sandbox, the validated request and who sent it."""

    sandbox: GitHubSandbox
    operation: Operation
    params: dict[str, Any]
    body: Any
    credential: Credential
    base: str
    download_links: dict[str, tuple[float, bytes, str]]

    def repo(self) -> Repository:
        """The repository in the path; 404 when absent or outside the token's installation."""
        full_name = f"{self.params['owner']}/{self.params['repo']}".lower()
        repo = self.sandbox.repositories.get(full_name)
        if repo is None or not self._can_access(repo):
            raise RequestRejected(404, "Not Found")
        return repo

    def actor(self) -> User:
        """The user shown as author: `<app-slug>[bot]` for an installation, else the login."""
        if self.credential.installation_id is not None:
            installation = self.sandbox.installations[self.credential.installation_id]
            slug = self.sandbox.apps[installation.app_id].slug
            return self.sandbox.user(f"{slug}[bot]", "Bot")
        return self.sandbox.user(self.credential.login or "ghost")

    def _can_access(self, repo: Repository) -> bool:
        if self.credential.kind == "user":
            return True
        installation = self.sandbox.installations.get(self.credential.installation_id or -1)
        return installation is not None and repo.full_name in installation.repositories

    def paginate(self, items: Sequence[Any], wrap: str | None = None, **extra: Any) -> Reply:
        """One page of `items` with GitHub's `Link` header; `wrap` names the list's key when
        the response is an object such as `{"total_count": n, "jobs": [...]}`."""
        per_page = max(1, min(int(self.params.get("per_page") or 30), 100))
        page = max(1, int(self.params.get("page") or 1))
        last = max(1, -(-len(items) // per_page))
        chunk = list(items[(page - 1) * per_page : page * per_page])
        query = {k: v for k, v in self.params.items() if k in self._query_names()}
        url = f"{self.base}{self._path()}"

        def link(number: int, rel: str) -> str:
            return (
                f'<{url}?{urlencode({**query, "per_page": per_page, "page": number})}>; rel="{rel}"'
            )

        links = []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        headers = {"link": ", ".join(links)} if links else {}
        body: Any = {"total_count": len(items), wrap: chunk, **extra} if wrap else chunk
        return Reply(200, body, headers)

    def _query_names(self) -> set[str]:
        return {p.name for p in self.operation.parameters if p.location == "query"} - {
            "per_page",
            "page",
        }

    def _path(self) -> str:
        path = self.operation.template
        for name, value in self.params.items():
            path = path.replace(f"{{{name}}}", str(value))
        return path


Handler = Callable[[Context], Awaitable[Reply]]


def _collect() -> dict[str, Handler]:
    # Imported here: each area module imports Context and Reply from this package.
    from self_healing_bot.sandbox.handlers import (
        actions,
        apps,
        checks,
        git_data,
        issues,
        pulls,
        repositories,
    )

    routes: dict[str, Handler] = {}
    for module in (actions, apps, checks, git_data, issues, pulls, repositories):
        routes |= module.ROUTES
    return routes


HANDLERS: dict[str, Handler] = _collect()
