"""`/healthz` (the process answers), `/readyz` (database and queue reachable), `/metrics`."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 when the database and the queue answer, else 503 with what is wrong."""
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
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
async def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
