"""The app itself (JWT): installations, installation tokens, hook deliveries."""

from __future__ import annotations

from urllib.parse import urlencode

from self_healing_bot.sandbox import representations as render
from self_healing_bot.sandbox.auth import issue_installation_token
from self_healing_bot.sandbox.handlers import Context, Handler, Reply
from self_healing_bot.sandbox.openapi_spec import RequestRejected
from self_healing_bot.sandbox.state import App, Delivery


def _app(context: Context) -> App:
    return context.sandbox.apps[context.credential.app_id or -1]


def _delivery(context: Context) -> Delivery:
    delivery_id = int(context.params["delivery_id"])
    app = _app(context)
    for delivery in context.sandbox.sender.deliveries:
        if delivery.id == delivery_id and _belongs(context, delivery, app):
            return delivery
    raise RequestRejected(404, "Not Found")


def _belongs(context: Context, delivery: Delivery, app: App) -> bool:
    installation = context.sandbox.installations.get(delivery.installation_id or -1)
    return installation is not None and installation.app_id == app.id


async def get_app(context: Context) -> Reply:
    return Reply(200, render.app_json(_app(context), context.base))


async def list_installations(context: Context) -> Reply:
    app = _app(context)
    installations = [
        render.installation(item, app, context.base)
        for item in context.sandbox.installations.values()
        if item.app_id == app.id
    ]
    return context.paginate(installations)


async def get_repo_installation(context: Context) -> Reply:
    app = _app(context)
    full_name = f"{context.params['owner']}/{context.params['repo']}".lower()
    for item in context.sandbox.installations.values():
        if item.app_id == app.id and full_name in {name.lower() for name in item.repositories}:
            return Reply(200, render.installation(item, app, context.base))
    raise RequestRejected(404, "Not Found")


async def create_installation_token(context: Context) -> Reply:
    app = _app(context)
    installation = context.sandbox.installations.get(int(context.params["installation_id"]))
    if installation is None or installation.app_id != app.id:
        raise RequestRejected(404, "Not Found")
    issued = issue_installation_token(installation.id, context.sandbox.clock())
    context.sandbox.tokens[issued.token] = issued
    repositories = sorted(installation.repositories)
    return Reply(
        201,
        {
            "token": issued.token,
            "expires_at": render.timestamp(issued.expires_at),
            "permissions": render.app_json(app, context.base)["permissions"],
            "repository_selection": "selected",
            "repositories": [
                render.repository(context.sandbox.repository(name), context.base)
                for name in repositories
            ],
        },
    )


async def list_installation_repositories(context: Context) -> Reply:
    installation = context.sandbox.installations.get(context.credential.installation_id or -1)
    if installation is None:
        raise RequestRejected(403, "This endpoint requires an installation access token")
    names = sorted(installation.repositories)
    repositories = [render.repository(context.sandbox.repository(n), context.base) for n in names]
    return context.paginate(repositories, wrap="repositories")


async def list_deliveries(context: Context) -> Reply:
    """Newest first, with GitHub's cursor pagination (`cursor` = the next delivery id)."""
    app = _app(context)
    per_page = max(1, min(int(context.params.get("per_page") or 30), 100))
    cursor = context.params.get("cursor")
    status = context.params.get("status")
    deliveries = [
        d
        for d in reversed(context.sandbox.sender.deliveries)
        if _belongs(context, d, app)
        and d.status != "pending"
        and (status is None or (status == "success") == (d.status == "OK"))
        and (cursor is None or d.id <= int(cursor))
    ]
    page, rest = deliveries[:per_page], deliveries[per_page:]
    headers = {}
    if rest:
        query = urlencode(
            {"per_page": per_page, "cursor": rest[0].id} | ({"status": status} if status else {})
        )
        headers["link"] = f'<{context.base}/app/hook/deliveries?{query}>; rel="next"'
    return Reply(200, [render.delivery_item(d) for d in page], headers)


async def get_delivery(context: Context) -> Reply:
    delivery = _delivery(context)
    return Reply(200, render.delivery_detail(delivery, _app(context).webhook_url))


async def redeliver(context: Context) -> Reply:
    delivery = _delivery(context)
    context.sandbox.sender.send(
        _app(context),
        delivery.event,
        delivery.action,
        delivery.payload,
        delivery.installation_id,
        delivery.repository_id,
        guid=delivery.guid,
    )
    return Reply(202, {})


ROUTES: dict[str, Handler] = {
    "apps/get-authenticated": get_app,
    "apps/list-installations": list_installations,
    "apps/get-repo-installation": get_repo_installation,
    "apps/create-installation-access-token": create_installation_token,
    "apps/list-repos-accessible-to-installation": list_installation_repositories,
    "apps/list-webhook-deliveries": list_deliveries,
    "apps/get-webhook-delivery": get_delivery,
    "apps/redeliver-webhook-delivery": redeliver,
}
