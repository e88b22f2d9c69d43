"""The pages' session: who is logged in, the form token (CSRF), the chosen language.

The session is Starlette's ``SessionMiddleware``: a cookie signed with ``itsdangerous`` (its
content can be read by its holder, not changed), HttpOnly, ``SameSite=Lax``, ``Secure`` when the
app runs behind HTTPS (``https_only``). It holds the login, a random CSRF token that every POST
form carries back (compared in constant time), and the session's own random id and the time of
its login. No password, no role: the user is read afresh on every request, so a deactivated user
is out at their next click.

A signed cookie cannot be taken back, so the server decides whether a session still stands
(``Users.session_user``): logging out records the session's id (a copy of the cookie is then
worth nothing), a new password or a deactivation ends every session begun before it, and a
session ends :data:`SESSION_MAX_AGE` after its login however often it is used (the cookie itself
is refreshed at every answer).

The language is not session data: a cookie of its own (``gpw_lang``), set by ``?lang=en``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response

from workflow.web.i18n import DEFAULT_LANG, normalise_lang

SESSION_COOKIE = "gpw_session"
LANG_COOKIE = "gpw_lang"
#: the hidden field of every POST form
CSRF_FIELD = "csrf_token"
#: a session lasts a working day; logging in again starts a new one
SESSION_MAX_AGE = 8 * 3600
#: the language cookie lasts a year
LANG_MAX_AGE = 365 * 24 * 3600

_LOGIN_KEY = "login"
_CSRF_KEY = "csrf"
_SID_KEY = "sid"
_SINCE_KEY = "since"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """Whose session this is, its id, and when its login was."""

    login: str
    sid: str
    since: datetime


def add_session_middleware(app: Any, *, secret_key: str, https_only: bool) -> None:
    """Sign the session cookie with ``secret_key``; Secure when ``https_only``."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=https_only,
    )


def session_login(request: Request) -> str | None:
    """The login this session belongs to, if any."""
    login = request.session.get(_LOGIN_KEY)
    return login if isinstance(login, str) and login else None


def csrf_token(request: Request) -> str:
    """This session's form token, made on first use."""
    token = request.session.get(_CSRF_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[_CSRF_KEY] = token
    return token


def csrf_ok(request: Request, submitted: object) -> bool:
    """Whether a submitted form token is this session's (constant-time comparison)."""
    token = request.session.get(_CSRF_KEY)
    if not isinstance(token, str) or not token or not isinstance(submitted, str):
        return False
    return secrets.compare_digest(token.encode(), submitted.encode())


def session_info(request: Request) -> SessionInfo | None:
    """This session's login, id and login time; None without a login, or for a session that
    lacks its id or time (one from before they were kept: it must log in again)."""
    login = session_login(request)
    sid = request.session.get(_SID_KEY)
    since = request.session.get(_SINCE_KEY)
    if login is None or not isinstance(sid, str) or not sid or not isinstance(since, str):
        return None
    try:
        started = datetime.fromisoformat(since)
    except ValueError:
        return None
    if started.tzinfo is None:
        return None
    return SessionInfo(login, sid, started)


def start_session(request: Request, login: str, now: datetime) -> None:
    """A fresh session for ``login``, logged in at ``now``: everything before it is dropped, a
    new form token, a new session id."""
    request.session.clear()
    request.session[_LOGIN_KEY] = login
    request.session[_CSRF_KEY] = secrets.token_urlsafe(32)
    request.session[_SID_KEY] = secrets.token_urlsafe(16)
    request.session[_SINCE_KEY] = now.isoformat()


def end_session(request: Request) -> None:
    request.session.clear()


def request_lang(request: Request) -> tuple[str, str | None]:
    """The page language, and the value to remember in the cookie when ``?lang=`` chose it."""
    chosen = normalise_lang(request.query_params.get("lang"))
    if chosen is not None:
        return chosen, chosen
    return normalise_lang(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANG, None


def remember_lang(response: Response, lang: str, *, https_only: bool) -> None:
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=LANG_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=https_only,
    )
