"""The dashboard's login session: a signed, HttpOnly, SameSite=Lax cookie and its CSRF token.

The cookie holds the API key's public id and a CSRF token, never the key. Every request
re-reads the key, so revoking it ends its dashboard sessions at once. Every form carries the
session's CSRF token; a POST whose token does not match is refused.

    codec = SessionCodec("a long random secret")
    cookie = codec.dumps(Session.anonymous())
    codec.loads(cookie)            # the same Session, or None when forged or expired
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "shbot_session"
MAX_AGE_SECONDS = 8 * 3600


@dataclass(frozen=True)
class Session:
    """`key_id` is None until the visitor signs in."""

    csrf: str
    key_id: str | None = None

    @classmethod
    def anonymous(cls) -> Session:
        return cls(csrf=secrets.token_urlsafe(32))

    @classmethod
    def signed_in(cls, key_id: str) -> Session:
        # A fresh token at sign-in: a token planted before login is worthless after it.
        return cls(csrf=secrets.token_urlsafe(32), key_id=key_id)

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf)


class SessionCodec:
    """Signs sessions into cookie values and checks them back (forged or expired → None)."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="shbot-dashboard-session")

    def dumps(self, session: Session) -> str:
        return self._serializer.dumps(asdict(session))

    def loads(self, value: str | None) -> Session | None:
        if not value:
            return None
        try:
            data: Any = self._serializer.loads(value, max_age=MAX_AGE_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        key_id = data.get("key_id")
        return Session(csrf=data["csrf"], key_id=key_id if isinstance(key_id, str) else None)


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only, so the login cannot redirect away.

    >>> safe_next("//evil.example/x"), safe_next("/incidents?day=3")
    ('/', '/incidents?day=3')
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target
