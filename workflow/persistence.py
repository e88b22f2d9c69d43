"""Tables (SQLModel) and the engine set-up. Rows are storage, not the domain.

Every table is prefixed ``gpw_`` so a host's database can hold them beside its own. Datetimes are
stored in UTC and come back timezone-aware on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Dialect,
    Engine,
    Index,
    Integer,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from states.errors import ConfigurationError, NotFound


class AwareDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive ones are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: timezone-aware required")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _aware(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(AwareDateTime(), nullable=nullable, index=index))


#: JSON, stored as JSONB on PostgreSQL
JSON_TYPE = JSON().with_variant(postgresql.JSONB(), "postgresql")


def _json() -> Any:
    return Field(sa_column=Column(JSON_TYPE, nullable=False))


class ProjectRow(SQLModel, table=True):
    __tablename__ = "gpw_project"

    id: int | None = Field(default=None, primary_key=True)
    title: str
    purchaser: str = Field(index=True)
    policy: str
    state: str = Field(index=True)
    contractor_id: int | None = Field(default=None, index=True)
    #: optimistic lock: every accepted event increments it (compare-and-set update)
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    data: dict[str, Any] = _json()
    #: head of this project's audit chain: seq and hash of its last entry
    audit_seq: int = 0
    audit_head: str = ""
    created_at: datetime = _aware()
    updated_at: datetime = _aware()


class DeadlineRow(SQLModel, table=True):
    """A projection of each project's deadlines, indexed by due time for the scheduler."""

    __tablename__ = "gpw_deadline"
    __table_args__ = (
        UniqueConstraint("project_id", "key", name="uq_gpw_deadline_project_key"),
        Index("ix_gpw_deadline_status_due_at", "status", "due_at"),
        # a tick touches only due rows: open deadlines by the time their next stage fires
        Index("ix_gpw_deadline_status_next_fire", "status", "next_fire_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="gpw_project.id", index=True)
    key: str
    kind: str
    owner: str
    rule: str
    due: date = Field(sa_column=Column(Date, nullable=False))
    #: the instant it passes: the end of the due day, Asia/Shanghai
    due_at: datetime = _aware()
    provisional: bool = False
    status: str
    met_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    late: bool = False
    #: bumped whenever due or status changes, so a notice can name the version it was sent for
    version: int = 1
    #: the notice ladder: index of the last stage sent (−1: none), the next one and when
    stage_index: int = -1
    next_stage: str | None = None
    next_fire_at: datetime | None = _aware(nullable=True)
    #: the due day before a recomputation, until the next notice has said so
    moved_from: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    updated_at: datetime = _aware()


class NoticeRow(SQLModel, table=True):
    """The outbox: one row per (deadline, stage, version), written by ``tick`` exactly once."""

    __tablename__ = "gpw_notice"
    __table_args__ = (Index("ix_gpw_notice_status_next_attempt", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    #: the unique key: ``{deadline_id}:{stage}:{version}`` (a resend adds ``:resend-n``)
    key: str = Field(unique=True)
    deadline_id: int | None = Field(default=None, index=True)
    project_id: int = Field(index=True)
    deadline_kind: str
    deadline_key: str
    stage: str
    recipients: list[dict[str, str]] = Field(sa_column=Column(JSON_TYPE, nullable=False))
    subject: str
    body: str
    html: str
    #: pending, sent, failed (will retry), dead (gave up)
    status: str = Field(default="pending")
    attempts: int = 0
    next_attempt_at: datetime = _aware()
    lease_owner: str | None = None
    lease_until: datetime | None = _aware(nullable=True)
    last_error: str | None = None
    created_at: datetime = _aware()
    sent_at: datetime | None = _aware(nullable=True)


class DeliveryRow(SQLModel, table=True):
    """One delivery of a notice to one address on one channel; sent at most once when it can."""

    __tablename__ = "gpw_delivery"
    __table_args__ = (UniqueConstraint("notice_id", "channel", "address", name="uq_gpw_delivery"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="gpw_notice.id", index=True)
    channel: str
    address: str
    person: str = ""
    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = _aware(nullable=True)


class InboxRow(SQLModel, table=True):
    """The inbox channel: a notice visible to an organisation and role."""

    __tablename__ = "gpw_inbox"
    __table_args__ = (UniqueConstraint("notice_id", "org", "role", name="uq_gpw_inbox"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="gpw_notice.id", index=True)
    org: str = Field(index=True)
    role: str
    created_at: datetime = _aware()
    read_at: datetime | None = _aware(nullable=True)


class PersonRow(SQLModel, table=True):
    """The directory: who holds a role in an organisation, and how to reach them."""

    __tablename__ = "gpw_person"

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(index=True)
    role: str
    name: str
    email: str | None = None
    webhook: str | None = None
    active: bool = True
    created_at: datetime = _aware()


class MetaRow(SQLModel, table=True):
    """Small facts about the engine itself (the last tick and relay), for health checks."""

    __tablename__ = "gpw_meta"

    key: str = Field(primary_key=True)
    value: str


class AuditRow(SQLModel, table=True):
    """Append-only audit trail; each stream is a hash chain (全程留痕, R15)."""

    __tablename__ = "gpw_audit"
    __table_args__ = (UniqueConstraint("stream", "seq", name="uq_gpw_audit_stream_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(index=True)
    seq: int
    project_id: int | None = Field(default=None, index=True)
    actor_id: str
    role: str
    org: str
    at: datetime = _aware()
    event: str
    from_state: str | None = None
    to_state: str | None = None
    data: dict[str, Any] = _json()
    #: the engine's clock when the entry was written (the business ``at`` is the caller's)
    recorded_at: datetime = _aware()
    #: project streams: the project's version and SHA-256 of its data after the transaction
    version: int | None = None
    digest: str | None = None
    #: the formula that hashed the entry: 1 (entries gpw 0.1.0 wrote), 2 (today's; the default)
    hash_format: int = Field(
        default=2, sa_column=Column(Integer, nullable=False, default=2, server_default="2")
    )
    prev_hash: str
    hash: str


class AuditHeadRow(SQLModel, table=True):
    """Heads of the audit streams that are not projects' (contractors, calendar)."""

    __tablename__ = "gpw_audit_head"

    stream: str = Field(primary_key=True)
    seq: int
    hash: str


class ContractorRow(SQLModel, table=True):
    __tablename__ = "gpw_contractor"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    org_type: str
    sme: bool = False
    #: qualifications and the credit record (bans)
    data: dict[str, Any] = _json()
    version: int = 1
    created_at: datetime = _aware()


class CalendarYearRow(SQLModel, table=True):
    """A year's working-day schedule added by an operator (no release needed)."""

    __tablename__ = "gpw_calendar_year"

    year: int = Field(primary_key=True)
    data: dict[str, Any] = _json()
    source: str
    loaded_at: datetime = _aware()
    loaded_by: str


project_t = ProjectRow.__table__  # type: ignore[attr-defined]
deadline_t = DeadlineRow.__table__  # type: ignore[attr-defined]
audit_t = AuditRow.__table__  # type: ignore[attr-defined]
head_t = AuditHeadRow.__table__  # type: ignore[attr-defined]
contractor_t = ContractorRow.__table__  # type: ignore[attr-defined]
calendar_t = CalendarYearRow.__table__  # type: ignore[attr-defined]
notice_t = NoticeRow.__table__  # type: ignore[attr-defined]
delivery_t = DeliveryRow.__table__  # type: ignore[attr-defined]
inbox_t = InboxRow.__table__  # type: ignore[attr-defined]
person_t = PersonRow.__table__  # type: ignore[attr-defined]
meta_t = MetaRow.__table__  # type: ignore[attr-defined]

#: execution option: this connection only reads (SQLite: a deferred BEGIN, no write lock)
READ_ONLY = {"gpw_read_only": True}


def _sqlite_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred and late).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_connect_read_only(
    dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry
) -> None:
    # No journal_mode: setting it writes the file's header. query_only refuses any write.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A writer takes the write lock at BEGIN (IMMEDIATE): two writers serialize instead of
    # failing with "database is locked" at their first write. SQLite ignores SELECT … FOR UPDATE.
    read_only = conn.get_execution_options().get("gpw_read_only") or getattr(
        conn.engine, "_gpw_read_only", False
    )
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def prepare_engine(engine: Engine) -> Engine:
    """Install the SQLite pragmas and BEGIN IMMEDIATE on an engine (no-op elsewhere)."""
    if engine.dialect.name == "sqlite" and not getattr(engine, "_gpw_prepared", False):
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        engine._gpw_prepared = True  # type: ignore[attr-defined]
    return engine


#: a gpw database holds at least these tables (the projects and the audit trail)
GPW_TABLES = ("gpw_project", "gpw_audit")
#: the gpw_meta key ``gpw demo`` writes, so that a later ``gpw demo`` may replace the file
DEMO_MARK = "demo"

DatabaseStatus = Literal["missing", "empty", "gpw", "foreign", "unknown"]


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """What is at a database URL, found without changing anything there.

    ``status``: ``missing`` (no file), ``empty`` (an SQLite file or database without any table),
    ``gpw`` (holds gpw's project and audit tables), ``foreign`` (tables, but not gpw's),
    ``unknown`` (a server database :func:`check_database` had no need to look at).
    ``path`` is the SQLite file (None for other databases and in-memory ones); ``demo`` tells
    whether ``gpw demo`` made it.
    """

    url: str
    status: DatabaseStatus
    path: Path | None = None
    tables: tuple[str, ...] = ()
    demo: bool = False


def safe_url(url: str) -> str:
    """The URL as it may be printed: a password is masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"数据库地址无效：{url}",
            f"not a database URL: {url}",
            field="db",
        ) from exc


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names; None for in-memory, URI-style or other databases."""
    parsed = _parse_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.query.get("uri"):
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _read_sqlite(path: Path) -> tuple[tuple[str, ...], bool]:
    """The tables of an SQLite file and whether it is marked as a demo, read without writing:
    a read-only URI connection, before any pragma (journal_mode=WAL would rewrite the header)."""
    shown = str(path)
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise ConfigurationError(
            f"无法打开数据库文件 {shown}：{exc}",
            f"cannot open the database file {shown}: {exc}",
            field="db",
        ) from exc
    try:
        tables = tuple(
            sorted(
                str(name)
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            )
        )
        demo = False
        if meta_t.name in tables:
            found = conn.execute(
                f"SELECT value FROM {meta_t.name} WHERE key = ?",
                (DEMO_MARK,),
            ).fetchone()
            demo = found is not None
    except sqlite3.DatabaseError as exc:
        raise ConfigurationError(
            f"{shown} 不是 SQLite 数据库或已损坏（{exc}）",
            f"{shown} is not an SQLite database or is damaged ({exc})",
            field="db",
        ) from exc
    finally:
        conn.close()
    return tables, demo


def _status(tables: Sequence[str]) -> DatabaseStatus:
    if not tables:
        return "empty"
    return "gpw" if all(t in tables for t in GPW_TABLES) else "foreign"


def inspect_database(url: str) -> DatabaseInfo:
    """What ``url`` holds (see :class:`DatabaseInfo`), changing nothing.

    SQLite files are read through a read-only connection; other databases are asked through a
    short-lived engine. Raises ConfigurationError for a file that is not SQLite (or damaged), a
    folder, an unknown URL scheme, a missing driver or a database that cannot be reached.
    """
    path = sqlite_file(url)
    parsed = _parse_url(url)
    if path is not None:
        if path.is_dir():
            raise ConfigurationError(
                f"{path} 是文件夹，不是数据库文件",
                f"{path} is a folder, not a database file",
                field="db",
            )
        if not path.exists():
            return DatabaseInfo(url=url, status="missing", path=path)
        tables, demo = _read_sqlite(path)
        return DatabaseInfo(url=url, status=_status(tables), path=path, tables=tables, demo=demo)
    if parsed.get_backend_name() == "sqlite":  # in memory or a URI: nothing to look at
        return DatabaseInfo(url=url, status="empty")
    engine = _create_engine(url)
    try:
        with engine.connect() as conn:
            tables = tuple(sorted(inspect(conn).get_table_names()))
            demo = False
            if meta_t.name in tables:
                demo = (
                    conn.execute(select(meta_t.c.value).where(meta_t.c.key == DEMO_MARK)).first()
                    is not None
                )
    except SQLAlchemyError as exc:
        raise _unreachable(url, exc) from exc
    finally:
        engine.dispose()
    return DatabaseInfo(url=url, status=_status(tables), tables=tables, demo=demo)


def _unreachable(url: str, exc: Exception) -> ConfigurationError:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
    return ConfigurationError(
        f"无法连接数据库 {safe_url(url)}：{reason}",
        f"cannot reach the database {safe_url(url)}: {reason}",
        field="db",
    )


def check_database(url: str, mode: Literal["read", "write"]) -> DatabaseInfo:
    """Refuse, before anything touches it, a database ``mode`` may not use.

    ``read``: it must exist (NotFound otherwise) and be a gpw database (ConfigurationError).
    ``write``: a missing SQLite file may be created (its folder must exist and be writable);
    an existing one must be SQLite, writable, and empty or a gpw database — never a foreign one.
    Other databases (PostgreSQL) may receive gpw's tables beside the host's own.
    """
    if mode == "write" and sqlite_file(url) is None:
        _parse_url(url)
        return DatabaseInfo(url=url, status="unknown")  # a server database: nothing to check
    info = inspect_database(url)
    path = info.path
    if info.status == "missing":
        assert path is not None
        if mode == "read":
            raise NotFound(
                f"数据库文件不存在：{path}（请检查 --db，或先运行 gpw init）",
                f"no database file at {path} (check --db, or run gpw init first)",
                field="db",
            )
        folder = path.parent
        if not folder.is_dir():
            raise NotFound(
                f"数据库文件所在的文件夹不存在：{folder}",
                f"the database file's folder does not exist: {folder}",
                field="db",
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ConfigurationError(
                f"不能在文件夹 {folder} 中创建数据库文件（无写权限）",
                f"cannot create the database file in {folder} (not writable)",
                field="db",
            )
        return info
    shown = str(path) if path is not None else safe_url(url)
    if mode == "read" and info.status != "gpw":
        what_zh = "空数据库" if info.status == "empty" else "其他程序的数据库"
        what_en = "an empty database" if info.status == "empty" else "another program's database"
        raise ConfigurationError(
            f"{shown} 不是 gpw 数据库（{what_zh}，缺少 {', '.join(GPW_TABLES)} 表）",
            f"{shown} is not a gpw database ({what_en}; no {', '.join(GPW_TABLES)} tables)",
            field="db",
        )
    if mode == "write" and path is not None:
        if info.status == "foreign":
            raise ConfigurationError(
                f"{shown} 不是 gpw 数据库（已有其他表：{', '.join(info.tables[:5])}），不会写入",
                f"{shown} is not a gpw database (it holds other tables: "
                f"{', '.join(info.tables[:5])}); nothing was written",
                field="db",
            )
        if not _writable(path):
            raise ConfigurationError(
                f"数据库文件 {shown} 是只读的（或其文件夹不可写）",
                f"the database file {shown} is read-only (or its folder is not writable)",
                field="db",
            )
    return info


def _writable(path: Path) -> bool:
    # the permission bits count even for root: a file made read-only is not written to
    mode = path.stat().st_mode
    folder = path.parent
    return (
        bool(mode & stat.S_IWUSR)
        and os.access(path, os.W_OK)
        and os.access(folder, os.W_OK | os.X_OK)
    )


def _create_engine(url: str, **kwargs: Any) -> Engine:
    """``create_engine`` with a missing driver or an unknown scheme as ConfigurationError."""
    parsed = _parse_url(url)
    try:
        return create_engine(parsed, **kwargs)
    except ImportError as exc:
        driver = exc.name or parsed.get_driver_name()
        raise ConfigurationError(
            f"缺少数据库驱动 {driver}（{safe_url(url)}）：请安装它，或换用 SQLite 文件",
            f"the database driver {driver} is not installed ({safe_url(url)}): install it or "
            "use an SQLite file",
            field="db",
        ) from exc
    except ArgumentError as exc:  # NoSuchModuleError: an unknown dialect
        raise ConfigurationError(
            f"不支持的数据库地址 {safe_url(url)}：{exc}",
            f"unsupported database URL {safe_url(url)}: {exc}",
            field="db",
        ) from exc


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for ``url`` with gpw's settings (SQLite: WAL, busy timeout, IMMEDIATE).

    ``read_only``: an SQLite file is opened read-only (``mode=ro``, ``query_only``) and its
    journal mode is left alone, so nothing can change it.
    """
    path = sqlite_file(url)
    if path is not None and read_only:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        engine = _create_engine(
            url,
            creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30),
        )
        event.listen(engine, "connect", _sqlite_connect_read_only)
        event.listen(engine, "begin", _sqlite_begin)
        engine._gpw_prepared = True  # type: ignore[attr-defined]
        engine._gpw_read_only = True  # type: ignore[attr-defined]
        return engine
    if url.startswith("sqlite"):
        engine = _create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    else:
        engine = _create_engine(url, pool_pre_ping=True)
    return prepare_engine(engine)


def open_engine(url: str, *, mode: Literal["read", "write"] = "write") -> Engine:
    """Check what is at ``url`` (:func:`check_database`), then an engine for ``mode``."""
    check_database(url, mode)
    return make_engine(url, read_only=mode == "read")


def _gpw_tables() -> list[Any]:
    return [
        project_t,
        deadline_t,
        audit_t,
        head_t,
        contractor_t,
        calendar_t,
        notice_t,
        delivery_t,
        inbox_t,
        person_t,
        meta_t,
    ]


def create_schema(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=_gpw_tables())


def drop_schema(engine: Engine) -> None:
    """Drop gpw's tables (and nothing else): ``gpw demo --replace`` on a server database."""
    SQLModel.metadata.drop_all(engine, tables=_gpw_tables())


def utcnow() -> datetime:
    return datetime.now(UTC)
