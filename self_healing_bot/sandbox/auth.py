"""Credentials as GitHub checks them: app JWTs, installation tokens and personal tokens.

An app JWT must be RS256, signed by the registered app's key, name the app in `iss`, expire
within 10 minutes of `iat`, and not be issued in the future (60 s of clock skew tolerated).
Installation tokens (`ghs_…`) expire after one hour. Every failure is a 401 like GitHub's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from self_healing_bot.sandbox.openapi_spec import RequestRejected

INSTALLATION_TOKEN_LIFETIME = timedelta(hours=1)
MAX_JWT_LIFETIME = timedelta(minutes=10)
CLOCK_SKEW = timedelta(seconds=60)


@dataclass(frozen=True)
class Credential:
    """Who a request acts as: the app itself, an installation, or a user (personal token)."""

    kind: str  # "app" | "installation" | "user"
    app_id: int | None = None
    installation_id: int | None = None
    login: str | None = None
    token: str = ""


@dataclass
class IssuedToken:
    token: str
    installation_id: int
    expires_at: datetime


def issue_installation_token(installation_id: int, now: datetime) -> IssuedToken:
    return IssuedToken(
        f"ghs_{secrets.token_urlsafe(27)[:36]}", installation_id, now + INSTALLATION_TOKEN_LIFETIME
    )


def bearer(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer X` or `token X` header; 401 when absent."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() not in {"bearer", "token"} or not value.strip():
        raise RequestRejected(401, "Requires authentication")
    return value.strip()


def verify_app_jwt(token: str, public_keys: dict[int, str], now: datetime) -> Credential:
    """The app a JWT authenticates, checked the way GitHub checks it."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise RequestRejected(401, "A JSON web token could not be decoded") from error
    if header.get("alg") != "RS256":
        raise RequestRejected(401, "A JSON web token could not be decoded")
    try:
        app_id = int(claims["iss"])
        issued = datetime.fromtimestamp(int(claims["iat"]), UTC)
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (KeyError, TypeError, ValueError) as error:
        raise RequestRejected(401, "'Issuer' claim ('iss') must be an Integer") from error
    key = public_keys.get(app_id)
    if key is None:
        raise RequestRejected(401, f"Integration not found for issuer {app_id}")
    try:
        jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as error:
        raise RequestRejected(401, "A JSON web token could not be decoded") from error
    if issued > now + CLOCK_SKEW:
        raise RequestRejected(
            401, "'Issued at' claim ('iat') must be an Integer representing a time in the past"
        )
    if (
        expires - issued > MAX_JWT_LIFETIME + CLOCK_SKEW
        or expires > now + MAX_JWT_LIFETIME + CLOCK_SKEW
    ):
        raise RequestRejected(401, "'Expiration time' claim ('exp') is too far in the future")
    if expires <= now:
        raise RequestRejected(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires",
        )
    return Credential("app", app_id=app_id, token=token)
