"""GitHub webhook signatures: HMAC-SHA256 of the raw body, `X-Hub-Signature-256: sha256=<hex>`.

Any of several secrets verifies, so a secret can be rotated without dropping deliveries.
SHA-1 (`X-Hub-Signature`) is never accepted.

    verify_signature(body, request.headers.get("x-hub-signature-256"), ["new", "old"])
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value GitHub would send for `body` signed with `secret`."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """True when `header` is a valid SHA-256 signature of `body` by any of `secrets`."""
    if not header or not header.startswith(PREFIX) or not secrets:
        return False
    presented = header.encode("latin-1")
    # Compare against every secret (no early exit) so timing does not reveal which one matched.
    matches = [hmac.compare_digest(sign(body, secret).encode(), presented) for secret in secrets]
    return any(matches)
