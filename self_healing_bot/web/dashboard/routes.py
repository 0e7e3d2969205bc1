"""The dashboard's pages, mounted at `/`: each handler reads through `queries.py`, computes with
`incidents.py` and `charts.py`, and renders one template.

    install(app, settings)   # in the app factory; pages need `app.state.database`

Every page but the login form needs a session signed in with a live API key; replaying a
delivery needs the operator role. Every form carries the session's CSRF token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import structlog
from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader

from self_healing_bot.audit import Actor
from self_healing_bot.github.connection import circuit_states
from self_healing_bot.github.metrics import RATE_LIMIT_REMAINING
from self_healing_bot.settings import Settings
from self_healing_bot.storage import api_keys, deliveries, views
from self_healing_bot.storage.database import Database
from self_healing_bot.storage.models import DeliveryStatus, utc_now
from self_healing_bot.web.dashboard import charts, queries
from self_healing_bot.web.dashboard.incidents import by_signature, human_duration, summarize
from self_healing_bot.web.dashboard.session import COOKIE_NAME, Session, SessionCodec, safe_next

log = structlog.stdlib.get_logger(__name__)

OVERVIEW_DAYS = 14
TIMELINE_DAYS = 30
SIGNATURE_DAYS = 90
LEDGER_ROWS = 200
DRIFT_REPORTS = 100
STYLESHEET = Path(__file__).with_name("dashboard.css")

# No script and no third-party origin may run or load; forms post only back to us.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _when(moment: datetime | str | None) -> str:
    if moment is None:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _percent(fraction: float | None) -> str:
    return "-" if fraction is None else f"{fraction * 100:.0f}%"


def _web_link(value: object) -> str | None:
    """The value when it is an http(s) URL (a PR or issue link), else None: never `javascript:`."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("self_healing_bot.web.dashboard", "templates"), autoescape=True
    )
    environment.filters.update(when=_when, duration=human_duration, percent=_percent)
    environment.globals.update(web_link=_web_link)
    return environment


templates = Jinja2Templates(env=_environment())
router = APIRouter(include_in_schema=False)


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the pages on `app`, signing sessions with `settings.session_secret`."""
    secret = settings.session_secret
    if not secret:
        log.warning(
            "SHBOT_SESSION_SECRET is empty: dashboard sessions use a per-process secret and "
            "end when this process restarts; set it when several processes serve the dashboard"
        )
        secret = secrets.token_urlsafe(32)
    app.state.dashboard_sessions = SessionCodec(secret)
    app.include_router(router)


def _codec(request: Request) -> SessionCodec:
    codec: SessionCodec = request.app.state.dashboard_sessions
    return codec


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _set_session(request: Request, response: Response, session: Session | None) -> None:
    if session is None:
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
        return
    response.set_cookie(
        COOKIE_NAME,
        _codec(request).dumps(session),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


@dataclass(frozen=True)
class Visitor:
    session: Session
    key: api_keys.KeyInfo

    @property
    def can_operate(self) -> bool:
        return self.key.role.allows(api_keys.Role.OPERATOR)


def _login_redirect(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(303, "sign in first", headers={"Location": f"/login?next={quote(target)}"})


async def _visitor(request: Request) -> Visitor:
    """The signed-in visitor; a missing, forged, expired or revoked session goes to /login."""
    session = _codec(request).loads(request.cookies.get(COOKIE_NAME))
    if session is None or session.key_id is None:
        raise _login_redirect(request)
    async with _database(request).session() as db:
        key = await queries.live_key(db, session.key_id)
    if key is None:
        raise _login_redirect(request)
    return Visitor(session, key)


def _render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    visitor: Visitor | None,
    status_code: int = 200,
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, template, {"visitor": visitor, **context}, status_code=status_code
    )
    response.headers.update(SECURITY_HEADERS)
    return response


class _NotFound(LookupError):
    """What a page names does not exist; the message says where to look instead."""


def _not_found(request: Request, visitor: Visitor, title: str, message: str) -> HTMLResponse:
    context = {"title": title, "message": message}
    return _render(request, "error.html", context, visitor=visitor, status_code=404)


def _today() -> datetime:
    return datetime.combine(utc_now().date(), time(), tzinfo=UTC)


def _window_start(days: int, today: datetime) -> datetime:
    """The start of the `days`-day window that ends with `today` (today counts as one)."""
    return today - timedelta(days=days - 1)


@router.get("/assets/dashboard.css")
async def stylesheet() -> FileResponse:
    return FileResponse(STYLESHEET, media_type="text/css")


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request) -> HTMLResponse:
    visitor = await _visitor(request)
    today = _today()
    async with _database(request).session() as db:
        incidents = await queries.recent_incidents(db, since=_window_start(OVERVIEW_DAYS, today))
        queue = await deliveries.queue_figures(db)
    figures = summarize(incidents, today.date(), OVERVIEW_DAYS)
    labels = [day.day.strftime("%m-%d") for day in figures.daily]
    day_charts = [
        charts.stacked_bars(
            "Incidents per day",
            labels,
            [
                ("healed", "healed", [day.healed for day in figures.daily]),
                ("not healed", "unhealed", [day.incidents - day.healed for day in figures.daily]),
            ],
        ),
        charts.line(
            "Success rate per day",
            labels,
            [None if day.success_rate is None else day.success_rate * 100 for day in figures.daily],
            top_value=100,
            fmt=lambda value: f"{value:.0f}%",
        ),
        charts.line(
            "Mean time to repair per day",
            labels,
            [day.mttr_seconds for day in figures.daily],
            fmt=human_duration,
        ),
    ]
    context = {"figures": figures, "days": OVERVIEW_DAYS, "charts": day_charts, "queue": queue}
    return _render(request, "overview.html", context, visitor=visitor)


@router.get("/incidents", response_class=HTMLResponse)
async def timeline(request: Request) -> HTMLResponse:
    visitor = await _visitor(request)
    async with _database(request).session() as db:
        incidents = await queries.recent_incidents(db, since=_window_start(TIMELINE_DAYS, _today()))
    by_day: dict[str, list[Any]] = {}
    for incident in reversed(incidents):
        by_day.setdefault(incident.received_at.strftime("%Y-%m-%d"), []).append(incident)
    context = {"by_day": by_day, "days": TIMELINE_DAYS}
    return _render(request, "timeline.html", context, visitor=visitor)


@router.get("/executions/{execution_id}", response_class=HTMLResponse)
async def execution(request: Request, execution_id: str) -> HTMLResponse:
    visitor = await _visitor(request)
    view = None
    if execution_id.isdigit():
        async with _database(request).session() as db:
            view = await queries.execution_view(db, int(execution_id))
    if view is None:
        message = f"No execution {execution_id!r} is stored. Pick one from the incident timeline."
        return _not_found(request, visitor, "Execution not found", message)
    status_class = {"ok": "ok", "failed": "failed", "deferred": "deferred"}
    timing = charts.horizontal_bars(
        "Stage durations",
        [
            (stage.name, stage.duration_ms, status_class.get(stage.status, "skipped"))
            for stage in view.stages
        ],
        fmt=lambda value: f"{value:.1f} ms",
    )
    settings: Settings = request.app.state.settings
    root = views.github_web_root(settings.github_api_url)
    links = {item.repair.id: views.repair_links(item.repair, root) for item in view.repairs}
    context = {"view": view, "timing": timing, "links": links}
    return _render(request, "execution.html", context, visitor=visitor)


@router.get("/signatures", response_class=HTMLResponse)
async def signatures(request: Request) -> HTMLResponse:
    visitor = await _visitor(request)
    async with _database(request).session() as db:
        incidents = await queries.recent_incidents(
            db, since=_window_start(SIGNATURE_DAYS, _today())
        )
        rows = by_signature(incidents)
        marks = await views.signature_marks(db, [row.signature for row in rows])
    context = {"rows": rows, "marks": marks, "days": SIGNATURE_DAYS}
    return _render(request, "signatures.html", context, visitor=visitor)


@router.get("/drift", response_class=HTMLResponse)
async def drift_reports(request: Request) -> HTMLResponse:
    visitor = await _visitor(request)
    async with _database(request).session() as db:
        reports = await views.drift_reports(db, DRIFT_REPORTS)
    return _render(request, "drift.html", {"reports": reports}, visitor=visitor)


async def _drift_report(request: Request, report_id: str) -> tuple[views.DriftSummary, str]:
    found = None
    if report_id.isdigit():
        async with _database(request).session() as db:
            found = await views.drift_report(db, int(report_id))
    if found is None:
        raise _NotFound(f"No drift report {report_id!r} is stored. Pick one from the list.")
    summary, record = found
    return summary, record.html


@router.get("/drift/{report_id}", response_class=HTMLResponse)
async def drift_report(request: Request, report_id: str) -> HTMLResponse:
    visitor = await _visitor(request)
    try:
        summary, _ = await _drift_report(request, report_id)
    except _NotFound as missing:
        return _not_found(request, visitor, "Drift report not found", str(missing))
    response = _render(request, "drift_report.html", {"report": summary}, visitor=visitor)
    # The stored report page, with its plots, is framed from this site only.
    response.headers["Content-Security-Policy"] += "; frame-src 'self'"
    return response


@router.get("/drift/{report_id}/report.html", response_class=HTMLResponse)
async def drift_report_page(request: Request, report_id: str) -> HTMLResponse:
    visitor = await _visitor(request)
    try:
        _, html = await _drift_report(request, report_id)
    except _NotFound as missing:
        return _not_found(request, visitor, "Drift report not found", str(missing))
    response = HTMLResponse(html, headers=SECURITY_HEADERS)
    # The renderer's page is self-contained: inline CSS and SVG; no script may run in it.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


async def _ledger_page(
    request: Request,
    visitor: Visitor,
    status: str | None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    chosen = None
    if status:
        try:
            chosen = DeliveryStatus(status)
        except ValueError:
            names = ", ".join(item.value for item in DeliveryStatus)
            error = f"There is no delivery status {status!r}; pick one of {names}."
            status_code = 400
    async with _database(request).session() as db:
        ledger = await queries.ledger(db, chosen, LEDGER_ROWS)
    context = {
        "ledger": ledger,
        "status": chosen,
        "statuses": list(DeliveryStatus),
        "notice": notice,
        "error": error,
    }
    return _render(request, "deliveries.html", context, visitor=visitor, status_code=status_code)


@router.get("/deliveries", response_class=HTMLResponse)
async def delivery_ledger(
    request: Request, status: str | None = None, replayed: str | None = None
) -> HTMLResponse:
    visitor = await _visitor(request)
    notice = f"Delivery {replayed} is queued to be processed again." if replayed else None
    return await _ledger_page(request, visitor, status, notice=notice)


@router.post("/deliveries/{delivery_id}/replay", response_model=None)
async def replay_delivery(
    request: Request, delivery_id: str, csrf_token: Annotated[str | None, Form()] = None
) -> Response:
    visitor = await _visitor(request)
    if not visitor.session.csrf_matches(csrf_token):
        message = "This form expired or did not come from the dashboard; reload the page and retry."
        return await _ledger_page(request, visitor, None, error=message, status_code=403)
    if not visitor.can_operate:
        message = f"Replaying needs the operator role; your key {visitor.key.key_id} is a viewer."
        return await _ledger_page(request, visitor, None, error=message, status_code=403)
    client = request.client.host if request.client else None
    actor = Actor(key_id=visitor.key.key_id, name=visitor.key.name, client=client)
    try:
        async with _database(request).session() as db:
            await deliveries.replay(db, delivery_id, actor=actor.label, context=actor.detail())
    except deliveries.UnknownDeliveryError:
        message = f"No delivery {delivery_id!r} is stored."
        return await _ledger_page(request, visitor, None, error=message, status_code=404)
    except deliveries.ReplayRefusedError as refused:
        return await _ledger_page(request, visitor, None, error=str(refused), status_code=409)
    request.app.state.outbox.notify([delivery_id])
    return RedirectResponse(f"/deliveries?replayed={quote(delivery_id)}", status_code=303)


def _rate_limit_budget() -> dict[str, float]:
    """GitHub's remaining requests per installation, from the latest responses this process saw."""
    return {
        sample.labels["installation"]: sample.value
        for metric in RATE_LIMIT_REMAINING.collect()
        for sample in metric.samples
    }


@router.get("/health", response_class=HTMLResponse)
async def bot_health(request: Request) -> HTMLResponse:
    visitor = await _visitor(request)
    async with _database(request).session() as db:
        queue = await deliveries.queue_figures(db)
    context = {
        "queue": queue,
        "queue_kind": request.app.state.queue_kind,
        "breakers": circuit_states(),
        "budget": _rate_limit_budget(),
    }
    return _render(request, "health.html", context, visitor=visitor)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> Response:
    session = _codec(request).loads(request.cookies.get(COOKIE_NAME))
    if session is not None and session.key_id is not None:
        async with _database(request).session() as db:
            if await queries.live_key(db, session.key_id) is not None:
                return RedirectResponse(safe_next(next), status_code=303)
    session = session if session is not None and session.key_id is None else Session.anonymous()
    response = _render(
        request, "login.html", {"csrf": session.csrf, "next": safe_next(next)}, visitor=None
    )
    _set_session(request, response, session)
    return response


@router.post("/login", response_model=None)
async def login(
    request: Request,
    key: Annotated[str, Form()] = "",
    csrf_token: Annotated[str | None, Form()] = None,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    session = _codec(request).loads(request.cookies.get(COOKIE_NAME))
    if session is None or not session.csrf_matches(csrf_token):
        fresh = Session.anonymous()
        context = {
            "csrf": fresh.csrf,
            "next": safe_next(next),
            "error": "The login form expired or did not come from this site; try again.",
        }
        refused = _render(request, "login.html", context, visitor=None, status_code=403)
        _set_session(request, refused, fresh)
        return refused
    async with _database(request).session() as db:
        info = await api_keys.authenticate(db, key.strip())
    if info is None:
        context = {
            "csrf": session.csrf,
            "next": safe_next(next),
            "error": "That API key is not valid or was revoked.",
        }
        return _render(request, "login.html", context, visitor=None, status_code=401)
    log.info("dashboard.login", key_id=info.key_id, role=info.role.value)
    response = RedirectResponse(safe_next(next), status_code=303)
    _set_session(request, response, Session.signed_in(info.key_id))
    return response


@router.post("/logout", response_model=None)
async def logout(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> Response:
    session = _codec(request).loads(request.cookies.get(COOKIE_NAME))
    if session is None or not session.csrf_matches(csrf_token):
        return RedirectResponse("/", status_code=303)
    response = RedirectResponse("/login", status_code=303)
    _set_session(request, response, None)
    return response
