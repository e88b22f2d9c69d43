"""The pages' session: who is logged in, the form token (CSRF), the chosen language.

The session is Starlette's ``SessionMiddleware``: a cookie signed with ``itsdangerous`` (its
content can be read by its holder, not changed), HttpOnly, ``SameSite=Lax``, ``Secure`` when the
app runs behind HTTPS (``https_only``). It holds only two things: the login, and a random CSRF
token that every POST form carries back (compared in constant time). No password, no role: the
user is read afresh on every request, so a deactivated user is out at their next click.

The language is not session data: a cookie of its own (``gpw_lang``), set by ``?lang=en``.
"""

from __future__ import annotations

import secrets
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


def start_session(request: Request, login: str) -> None:
    """A fresh session for ``login``: everything before it is dropped, a new form token."""
    request.session.clear()
    request.session[_LOGIN_KEY] = login
    request.session[_CSRF_KEY] = secrets.token_urlsafe(32)


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
