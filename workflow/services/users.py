"""Users of the dashboard and the JSON API: logins, passwords, API tokens, the log of their use.

* Passwords are hashed with argon2id (``argon2-cffi``'s ``PasswordHasher``); a hash made with
  weaker parameters than today's is rehashed at the next successful login.
* API tokens are 256 random bits (``gpw_`` + URL-safe Base64); only their SHA-256 is stored (a
  token is not a password: a fast hash of a random secret cannot be guessed back), with a short
  prefix to tell them apart in a list. A token is revoked, never deleted.
* Every login, failed login, throttled attempt, logout, token creation and revocation is written to
  ``gpw_auth_event``; token use too, at most once a minute a token (``token_used``), with the
  token's ``last_used_at``. No event holds a password or a token.
* Login attempts are throttled per login and per address: after :data:`MAX_FAILURES_PER_LOGIN`
  failures of one login, or :data:`MAX_FAILURES_PER_IP` from one address, within
  :data:`THROTTLE_WINDOW`, further attempts are refused (:class:`LoginThrottled`, HTTP 429) until
  the window has passed, even with the right password. The counts live in the database, so every
  web process of a deployment shares them; attempts on one login or from one address are
  checked one at a time, so a burst sent at once is counted like one sent attempt by attempt.
"""

from __future__ import annotations

import builtins
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from states.enums import Role
from states.errors import InvalidInput, LoginThrottled, NotFound, Unauthenticated
from states.model import Actor
from workflow.db import Database
from workflow.services.scope import EVERYWHERE, Scope
from workflow.store import lock_stream
from workflow.tables import auth_event_t, token_t, user_t

#: failed logins of one login within the window before it is throttled
MAX_FAILURES_PER_LOGIN = 5
#: failed logins from one address within the window before it is throttled
MAX_FAILURES_PER_IP = 20
THROTTLE_WINDOW = timedelta(minutes=15)
#: a token's use is logged at most once in this interval
TOKEN_USE_LOG_INTERVAL = timedelta(minutes=1)
TOKEN_PREFIX = "gpw_"
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
_LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
#: roles a person may hold (``system`` is the engine's own)
USER_ROLES = tuple(r.value for r in Role if r is not Role.SYSTEM)
#: roles whose reads reach a region of purchasers
REGION_ROLES = (Role.SUPERVISOR.value, Role.EVALUATOR.value)


@dataclass(frozen=True, slots=True)
class User:
    """A person who logs in: one role in one organisation."""

    id: int
    login: str
    name: str
    role: str
    org: str
    region: tuple[str, ...]
    active: bool

    def actor(self) -> Actor:
        """The actor the engine sees when this user acts."""
        return Actor(id=self.login, role=self.role, org=self.org, name=self.name or self.login)

    def scope(self) -> Scope:
        """The projects this user may read."""
        return Scope.of(self.role, self.org, self.region)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "login": self.login,
            "name": self.name,
            "role": self.role,
            "org": self.org,
            "region": list(self.region),
            "active": self.active,
        }


def _user(row: Any) -> User:
    return User(
        id=row.id,
        login=row.login,
        name=row.name,
        role=row.role,
        org=row.org,
        region=tuple(row.region or ()),
        active=bool(row.active),
    )


def _storable(text: str) -> str:
    """Text every database stores: NUL (PostgreSQL stores none in text) and lone surrogates
    (no UTF-8) replaced by U+FFFD. A login holding one is no user's: it fails like any wrong
    login, and is recorded."""
    if "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return "".join("\ufffd" if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in text)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _one_line(value: object, field: str, what_zh: str, what_en: str, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what_zh}不能为空", f"{what_en} is required", field=field)
    if len(value) > limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidInput(
            f"{what_zh}须为一行、不超过 {limit} 个字符",
            f"{what_en} must be one line of at most {limit} characters",
            field=field,
        )
    return value.strip()


#: a session's two reads (every page asks them: built once, bound per request)
_SESSION_USER = select(user_t).where(user_t.c.login == bindparam("b_login"))
_e = auth_event_t.c
_SESSION_ENDED = (
    select(_e.id)
    .where(
        _e.login == bindparam("b_login"),
        _e.at >= bindparam("b_since", type_=_e.at.type),
        or_(
            and_(_e.kind == "logout", _e.detail == bindparam("b_session")),
            and_(_e.kind == "user_changed", _e.at > bindparam("b_since", type_=_e.at.type)),
        ),
    )
    .limit(1)
)


class Users:
    """The users service (``wf.users``)."""

    def __init__(self, db: Database, hasher: PasswordHasher | None = None) -> None:
        self._db = db
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    @property
    def _dummy(self) -> str:
        """A hash to verify against when the login is unknown, so a wrong login costs as much
        time as a wrong password (no telling which logins exist by timing)."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    # -- checks ---------------------------------------------------------------------------------

    @staticmethod
    def _check_login(login: object) -> str:
        if not isinstance(login, str) or not _LOGIN.match(login):
            raise InvalidInput(
                "登录名须为 1–64 个字母、数字或 . _ @ -，以字母或数字开头",
                "login: 1-64 letters, digits or . _ @ -, starting with a letter or digit",
                field="login",
            )
        return login

    @staticmethod
    def _check_password(password: object) -> str:
        if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InvalidInput(
                f"密码须为 {MIN_PASSWORD}–{MAX_PASSWORD} 个字符",
                f"password: {MIN_PASSWORD} to {MAX_PASSWORD} characters",
                field="password",
            )
        return password

    @staticmethod
    def _check_region(role: str, region: Iterable[str]) -> tuple[str, ...]:
        if isinstance(region, str):
            region = [region]
        entries = tuple(region)
        if entries and role not in REGION_ROLES:
            raise InvalidInput(
                f"只有 {'、'.join(REGION_ROLES)} 有辖区（region）",
                f"only {', '.join(REGION_ROLES)} have a region",
                field="region",
            )
        checked = tuple(
            _one_line(e, "region", "辖区", "region") if e != EVERYWHERE else e for e in entries
        )
        if role in REGION_ROLES and not checked:
            raise InvalidInput(
                f"{role} 须有辖区：购买主体名称前缀，或 * 表示全部",
                f"{role} needs a region: purchaser name prefixes, or * for all",
                field="region",
            )
        return checked

    # -- users ----------------------------------------------------------------------------------

    def add(
        self,
        login: str,
        *,
        role: str,
        org: str,
        password: str,
        name: str = "",
        region: Iterable[str] = (),
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> User:
        """Add a user (``gpw user add``). ``region``: for supervisors and evaluators, the
        purchaser-name prefixes whose projects they read, or ``["*"]``."""
        login = self._check_login(login)
        if role not in USER_ROLES:
            raise InvalidInput(
                f"未知角色 {role!r}；可选：{', '.join(USER_ROLES)}",
                f"unknown role {role!r}; one of {', '.join(USER_ROLES)}",
                field="role",
            )
        org = _one_line(org, "org", "单位", "org")
        if name:
            name = _one_line(name, "name", "姓名", "name")
        entries = self._check_region(role, region)
        hashed = self.hasher.hash(self._check_password(password))
        at = self._db.at(at)
        with self._db.transaction(connection) as conn:
            exists = conn.execute(select(user_t.c.id).where(user_t.c.login == login)).first()
            if exists is not None:
                raise InvalidInput(
                    f"登录名已存在：{login}", f"login already exists: {login}", field="login"
                )
            user_id = conn.execute(
                insert(user_t)
                .values(
                    login=login,
                    name=name,
                    role=role,
                    org=org,
                    region=list(entries),
                    password_hash=hashed,
                    active=True,
                    created_at=at,
                    updated_at=at,
                )
                .returning(user_t.c.id)
            ).scalar_one()
            self._log(conn, at, login, "user_added", detail=f"{role} {org}")
        return User(user_id, login, name, role, org, entries, True)

    def get(self, login: str, *, connection: Connection | None = None) -> User:
        with self._db.read(connection) as conn:
            row = conn.execute(select(user_t).where(user_t.c.login == login)).first()
        if row is None:
            raise NotFound(f"用户不存在：{login}", f"no such user: {login}", field="login")
        return _user(row)

    def list(self, *, connection: Connection | None = None) -> list[User]:
        with self._db.read(connection) as conn:
            rows = conn.execute(select(user_t).order_by(user_t.c.login)).all()
        return [_user(r) for r in rows]

    def set_password(
        self,
        login: str,
        password: str,
        *,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> None:
        hashed = self.hasher.hash(self._check_password(password))
        at = self._db.at(at)
        with self._db.transaction(connection) as conn:
            done = conn.execute(
                update(user_t)
                .where(user_t.c.login == login)
                .values(password_hash=hashed, updated_at=at)
            ).rowcount
            if not done:
                raise NotFound(f"用户不存在：{login}", f"no such user: {login}", field="login")
            self._log(conn, at, login, "user_changed", detail="password")

    def set_active(
        self,
        login: str,
        active: bool,
        *,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> None:
        """Deactivate (or reactivate) a user: an inactive user cannot log in, and its tokens
        stop working."""
        at = self._db.at(at)
        with self._db.transaction(connection) as conn:
            done = conn.execute(
                update(user_t).where(user_t.c.login == login).values(active=active, updated_at=at)
            ).rowcount
            if not done:
                raise NotFound(f"用户不存在：{login}", f"no such user: {login}", field="login")
            self._log(conn, at, login, "user_changed", detail=f"active={active}")

    # -- logins ---------------------------------------------------------------------------------

    def _failures(self, conn: Connection, column: Any, value: str, since: datetime) -> int:
        return int(
            conn.execute(
                select(func.count())
                .select_from(auth_event_t)
                .where(
                    column == value,
                    auth_event_t.c.kind == "login_failed",
                    auth_event_t.c.at > since,
                )
            ).scalar_one()
        )

    def login(
        self,
        login: str,
        password: str,
        *,
        ip: str = "",
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> User:
        """Check a login and password; record the attempt.

        Raises:
            LoginThrottled: too many failures of this login or from this address lately.
            Unauthenticated: unknown login, wrong password, or an inactive user (one message
                for all three).
        """
        at = self._db.at(at)
        login = _storable(login[:64] if isinstance(login, str) else "")
        ip = _storable((ip or "")[:64])
        since = at - THROTTLE_WINDOW
        refusal: Unauthenticated
        with self._db.transaction(connection) as conn:
            # attempts on one login, or from one address, one at a time (PostgreSQL: advisory
            # locks until the attempt is recorded; SQLite: BEGIN IMMEDIATE already serializes):
            # otherwise a burst sent at once is counted before any of its failures is written,
            # and every guess in it is checked
            lock_stream(conn, f"auth-login:{login}")
            if ip:
                lock_stream(conn, f"auth-ip:{ip}")
            by_login = self._failures(conn, auth_event_t.c.login, login, since)
            by_ip = self._failures(conn, auth_event_t.c.ip, ip, since) if ip else 0
            if by_login >= MAX_FAILURES_PER_LOGIN or by_ip >= MAX_FAILURES_PER_IP:
                self._log(conn, at, login, "login_throttled", ip)
                minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
                refusal = LoginThrottled(
                    f"登录失败次数过多，请 {minutes} 分钟后再试",
                    f"too many failed logins; try again in {minutes} minutes",
                    field="login",
                )
            else:
                row = conn.execute(select(user_t).where(user_t.c.login == login)).first()
                ok = False
                try:
                    ok = self.hasher.verify(row.password_hash if row else self._dummy, password)
                except (VerificationError, InvalidHashError, TypeError, UnicodeError):
                    ok = False  # UnicodeError: a password no UTF-8 spells (a lone surrogate)
                if row is not None and ok and row.active:
                    if self.hasher.check_needs_rehash(row.password_hash):
                        conn.execute(
                            update(user_t)
                            .where(user_t.c.id == row.id)
                            .values(password_hash=self.hasher.hash(password))
                        )
                    self._log(conn, at, login, "login_ok", ip)
                    return _user(row)
                self._log(conn, at, login, "login_failed", ip)
                refusal = Unauthenticated(
                    "登录名或密码错误", "wrong login or password", field="password"
                )
        # the refusal is recorded (committed) before it is raised
        raise refusal

    def logout(
        self,
        login: str,
        *,
        ip: str = "",
        session: str = "",
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> None:
        """Record a logout; ``session``: the id of the dashboard session it ends (kept in the
        event's ``detail``: :meth:`session_user` refuses that session from then on)."""
        with self._db.transaction(connection) as conn:
            self._log(conn, self._db.at(at), login, "logout", ip, detail=session[:64])

    def session_user(
        self,
        login: str,
        *,
        session: str,
        since: datetime,
        connection: Connection | None = None,
    ) -> User:
        """The user of a dashboard session with id ``session`` logged in at ``since``, if the
        session still stands: the user exists and is active, the session was not logged out
        (a ``logout`` naming it), and the user has not been changed since (a new password, a
        deactivation or a reactivation ends every session begun before it).

        Raises:
            Unauthenticated: the session no longer stands.
        """
        ended = Unauthenticated("会话已结束，请重新登录", "the session has ended; log in again")
        if not session:
            raise ended
        with self._db.read(connection) as conn:
            row = conn.execute(_SESSION_USER, {"b_login": login}).first()
            if row is None or not row.active:
                raise ended
            found = conn.execute(
                _SESSION_ENDED, {"b_login": login, "b_since": since, "b_session": session}
            ).first()
        if found is not None:
            raise ended
        return _user(row)

    # -- tokens ---------------------------------------------------------------------------------

    def issue_token(
        self,
        login: str,
        *,
        label: str = "",
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> str:
        """A new API token for the user (shown once: only its hash is kept)."""
        if label:
            label = _one_line(label, "label", "标签", "label", limit=100)
        user = self.get(login, connection=connection)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        at = self._db.at(at)
        with self._db.transaction(connection) as conn:
            conn.execute(
                insert(token_t).values(
                    user_id=user.id,
                    token_hash=_token_hash(token),
                    prefix=token[: len(TOKEN_PREFIX) + 6],
                    label=label,
                    created_at=at,
                )
            )
            self._log(conn, at, login, "token_created", detail=token[: len(TOKEN_PREFIX) + 6])
        return token

    def tokens(
        self, login: str, *, connection: Connection | None = None
    ) -> builtins.list[dict[str, Any]]:
        user = self.get(login, connection=connection)
        with self._db.read(connection) as conn:
            rows = conn.execute(
                select(token_t).where(token_t.c.user_id == user.id).order_by(token_t.c.id)
            ).all()
        return [
            {
                "id": r.id,
                "prefix": r.prefix,
                "label": r.label,
                "created_at": r.created_at.isoformat(),
                "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            }
            for r in rows
        ]

    def revoke_token(
        self,
        login: str,
        token_id: int,
        *,
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> None:
        user = self.get(login, connection=connection)
        at = self._db.at(at)
        with self._db.transaction(connection) as conn:
            row = conn.execute(
                select(token_t.c.prefix, token_t.c.revoked_at).where(
                    token_t.c.id == token_id, token_t.c.user_id == user.id
                )
            ).first()
            if row is None:
                raise NotFound(
                    f"{login} 没有编号为 {token_id} 的令牌",
                    f"{login} has no token {token_id}",
                    field="token_id",
                )
            if row.revoked_at is None:
                conn.execute(update(token_t).where(token_t.c.id == token_id).values(revoked_at=at))
                self._log(conn, at, login, "token_revoked", detail=row.prefix)

    def authenticate_token(
        self,
        token: str,
        *,
        ip: str = "",
        at: datetime | None = None,
        connection: Connection | None = None,
    ) -> User:
        """The user whose live token this is; its use is recorded (at most once a minute).

        Raises:
            Unauthenticated: no such token, revoked, or its user inactive.
        """
        refused = Unauthenticated(
            "API 令牌无效或已撤销", "the API token is invalid or revoked", field="token"
        )
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            raise refused
        at = self._db.at(at)
        digest = _token_hash(token)
        with self._db.read(connection) as conn:
            row = conn.execute(
                select(user_t, token_t.c.id.label("token_id"), token_t.c.prefix)
                .join(token_t, token_t.c.user_id == user_t.c.id)
                .where(token_t.c.token_hash == digest, token_t.c.revoked_at.is_(None))
            ).first()
        if row is None or not row.active:
            raise refused
        # log the use unless it was logged within the last minute (one conditional update, so
        # concurrent requests log it once)
        with self._db.transaction(connection) as conn:
            logged = conn.execute(
                update(token_t)
                .where(
                    token_t.c.id == row.token_id,
                    or_(
                        token_t.c.last_used_at.is_(None),
                        token_t.c.last_used_at < at - TOKEN_USE_LOG_INTERVAL,
                    ),
                )
                .values(last_used_at=at)
            ).rowcount
            if logged:
                self._log(conn, at, row.login, "token_used", ip, detail=row.prefix)
        return _user(row)

    # -- the log --------------------------------------------------------------------------------

    @staticmethod
    def _log(
        conn: Connection, at: datetime, login: str, kind: str, ip: str = "", detail: str = ""
    ) -> None:
        conn.execute(
            insert(auth_event_t).values(at=at, login=login, kind=kind, ip=ip, detail=detail)
        )

    def events(
        self,
        *,
        login: str | None = None,
        kinds: Sequence[str] = (),
        limit: int = 100,
        connection: Connection | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """The log of logins and token use, newest first."""
        query = select(auth_event_t).order_by(auth_event_t.c.id.desc()).limit(limit)
        conditions = []
        if login is not None:
            conditions.append(auth_event_t.c.login == login)
        if kinds:
            conditions.append(auth_event_t.c.kind.in_(list(kinds)))
        if conditions:
            query = query.where(and_(*conditions))
        with self._db.read(connection) as conn:
            rows = conn.execute(query).all()
        return [
            {
                "id": r.id,
                "at": r.at.isoformat(),
                "login": r.login,
                "kind": r.kind,
                "ip": r.ip,
                "detail": r.detail,
            }
            for r in rows
        ]
