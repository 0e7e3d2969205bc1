"""The REST API under `/api/v1`: one router per resource, each route declaring its role.

app.include_router(api.router)
errors.install(app)
"""

from __future__ import annotations

from fastapi import APIRouter

from self_healing_bot.web.api import (
    audit,
    deliveries,
    detections,
    drift_reports,
    executions,
    keys,
    playbooks,
    repairs,
    repositories,
    settings,
    signatures,
)
from self_healing_bot.web.api.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
RESOURCES = (
    deliveries,
    executions,
    detections,
    signatures,
    repairs,
    drift_reports,
    repositories,
    playbooks,
    audit,
    keys,
    settings,
)
for resource in RESOURCES:
    router.include_router(resource.router)
