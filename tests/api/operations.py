"""Every `/api/v1` operation with the role it needs and what a successful call writes.

The authorization matrix and the audit test are driven by this table, and a test checks that it
names exactly the operations in the app's OpenAPI, so a new route fails until it is declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from self_healing_bot.storage.api_keys import Role


@dataclass(frozen=True)
class Operation:
    role: Role
    audit_action: str | None = None  # a successful call writes this audit action
    body: dict[str, Any] | None = None
    ok_status: int = 200


PLAYBOOK = """\
name: rerun-flaky
trigger: {category: network_transient}
steps:
  - uses: rerun_failed_jobs
"""

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/api/v1/deliveries"): Operation(Role.VIEWER),
    ("GET", "/api/v1/deliveries/{delivery_id}"): Operation(Role.VIEWER),
    ("POST", "/api/v1/deliveries/{delivery_id}/replay"): Operation(
        Role.OPERATOR, audit_action="replay", ok_status=202
    ),
    ("GET", "/api/v1/executions"): Operation(Role.VIEWER),
    ("GET", "/api/v1/executions/{execution_id}"): Operation(Role.VIEWER),
    ("POST", "/api/v1/executions/{execution_id}/rerun"): Operation(
        Role.OPERATOR, audit_action="replay", ok_status=202
    ),
    ("GET", "/api/v1/detections"): Operation(Role.VIEWER),
    ("GET", "/api/v1/signatures"): Operation(Role.VIEWER),
    ("POST", "/api/v1/signatures/{owner}/{name}/{signature}/ignore"): Operation(
        Role.OPERATOR, audit_action="signature.ignore"
    ),
    ("GET", "/api/v1/repairs"): Operation(Role.VIEWER),
    ("GET", "/api/v1/repairs/{repair_id}"): Operation(Role.VIEWER),
    ("POST", "/api/v1/repairs/{repair_id}/approve"): Operation(
        Role.OPERATOR, audit_action="repair.approve"
    ),
    ("GET", "/api/v1/drift-reports"): Operation(Role.VIEWER),
    ("GET", "/api/v1/drift-reports/{report_id}"): Operation(Role.VIEWER),
    ("GET", "/api/v1/drift-reports/{report_id}/report.html"): Operation(Role.VIEWER),
    ("GET", "/api/v1/repositories"): Operation(Role.VIEWER),
    ("GET", "/api/v1/repositories/{owner}/{name}"): Operation(Role.VIEWER),
    ("GET", "/api/v1/playbooks"): Operation(Role.VIEWER),
    ("POST", "/api/v1/playbooks/validate"): Operation(Role.VIEWER, body={"content": PLAYBOOK}),
    ("GET", "/api/v1/audit"): Operation(Role.ADMIN),
    ("GET", "/api/v1/settings"): Operation(Role.ADMIN),
    ("GET", "/api/v1/keys"): Operation(Role.ADMIN),
    ("POST", "/api/v1/keys"): Operation(
        Role.ADMIN, audit_action="key.create", body={"role": "viewer", "name": "new"}, ok_status=201
    ),
    ("DELETE", "/api/v1/keys/{key_id}"): Operation(Role.ADMIN, audit_action="key.revoke"),
}
