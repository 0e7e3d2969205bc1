"""`/healthz` (the process answers), `/readyz` (database and queue reachable), `/metrics`.

`/readyz` also shows the GitHub circuit breakers, without letting an open one fail readiness:
intake needs only the database and the queue, and every web pod shares the same GitHub, so an
open breaker failing readiness would take all of them out of the Service at once and turn a
GitHub outage into lost webhooks. The open breaker is shown (`checks.github`) and alerted on
(`shbot_github_circuit_state`) instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from self_healing_bot.github.connection import circuit_states

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 when the database and the queue answer, else 503 with what is wrong; the GitHub
    breakers are detail (`checks.github.ok` is false while one is open), not readiness."""
    state = request.app.state
    checks: dict[str, Any] = {}
    try:
        await asyncio.wait_for(state.database.ping(), timeout=5)
        checks["database"] = {"ok": True}
    except Exception as error:
        checks["database"] = {"ok": False, "error": repr(error)}
    try:
        await asyncio.wait_for(asyncio.to_thread(state.queue_probe), timeout=5)
        checks["queue"] = {"ok": True, "kind": state.queue_kind}
    except Exception as error:
        checks["queue"] = {"ok": False, "kind": state.queue_kind, "error": repr(error)}
    ready = all(check["ok"] for check in checks.values())
    breakers = circuit_states()
    open_breakers = sorted(key for key, state in breakers.items() if state == "open")
    checks["github"] = {"ok": not open_breakers, "circuits": breakers, "open": open_breakers}
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
async def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
