"""Session cookies: signed, tamper-evident, CSRF token per session, on-site redirects only."""

from __future__ import annotations

import pytest

from self_healing_bot.web.dashboard.session import Session, SessionCodec, safe_next


def test_a_session_survives_the_round_trip_and_a_fresh_login_gets_a_new_csrf_token() -> None:
    codec = SessionCodec("secret")
    anonymous = Session.anonymous()
    signed_in = Session.signed_in("3f9a0c1b2d4e")
    assert codec.loads(codec.dumps(anonymous)) == anonymous
    assert codec.loads(codec.dumps(signed_in)) == signed_in
    assert signed_in.csrf != anonymous.csrf


@pytest.mark.parametrize(
    ("case", "value"),
    [
        ("missing", None),
        ("empty", ""),
        ("garbage", "not-a-cookie"),
        ("signed with another secret", SessionCodec("other").dumps(Session.anonymous())),
    ],
)
def test_forged_or_foreign_cookies_are_no_session(case: str, value: str | None) -> None:
    assert SessionCodec("secret").loads(value) is None, case


@pytest.mark.parametrize(
    ("presented", "matches"), [(None, False), ("", False), ("wrong", False), ("token", True)]
)
def test_csrf_matches(presented: str | None, matches: bool) -> None:
    assert Session(csrf="token").csrf_matches(presented) is matches


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "/"),
        ("", "/"),
        ("/deliveries?status=dead", "/deliveries?status=dead"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_safe_next_stays_on_site(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
