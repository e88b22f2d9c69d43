"""The engine set-up and what is at a database URL: SQLite pragmas, ``BEGIN IMMEDIATE``, read-only
files, URL checks. The tables live in :mod:`workflow.tables` and are re-exported here, so
``from workflow.persistence import project_t`` keeps working.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from states.errors import ConfigurationError, NotFound
from workflow.tables import (
    JSON_TYPE,
    AuditHeadRow,
    AuditRow,
    AwareDateTime,
    CalendarYearRow,
    ContractorRow,
    DeadlineRow,
    DeliveryRow,
    InboxRow,
    MetaRow,
    NoticeRow,
    PersonRow,
    ProjectRow,
    audit_t,
    calendar_t,
    contractor_t,
    create_schema,
    deadline_t,
    delivery_t,
    drop_schema,
    gpw_tables,
    head_t,
    inbox_t,
    meta_t,
    notice_t,
    person_t,
    project_t,
)

__all__ = [
    "DEMO_MARK",
    "GPW_TABLES",
    "JSON_TYPE",
    "READ_ONLY",
    "AuditHeadRow",
    "AuditRow",
    "AwareDateTime",
    "CalendarYearRow",
    "ContractorRow",
    "DatabaseInfo",
    "DatabaseStatus",
    "DeadlineRow",
    "DeliveryRow",
    "InboxRow",
    "MetaRow",
    "NoticeRow",
    "PersonRow",
    "ProjectRow",
    "audit_t",
    "calendar_t",
    "check_database",
    "contractor_t",
    "create_schema",
    "deadline_t",
    "delivery_t",
    "drop_schema",
    "gpw_tables",
    "head_t",
    "inbox_t",
    "inspect_database",
    "make_engine",
    "meta_t",
    "notice_t",
    "open_engine",
    "person_t",
    "prepare_engine",
    "project_t",
    "safe_url",
    "sqlite_file",
    "utcnow",
]

#: kept for callers of the old private name
_gpw_tables = gpw_tables

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
    """The URL; a plain ``postgresql://`` one means psycopg 3, the driver gpw ships."""
    try:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed
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


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """A server database's connection pool, per process (README "Deployment").

    Args:
        size: connections kept open (SQLAlchemy ``pool_size``).
        max_overflow: further connections opened under load, closed when returned.
        timeout: seconds to wait for a free connection before giving up.
        connect_timeout: seconds to wait for the server when opening a connection.
        statement_timeout: seconds a statement may run before PostgreSQL cancels it (0: none).
    """

    size: int = 5
    max_overflow: int = 10
    timeout: float = 30.0
    connect_timeout: int = 10
    statement_timeout: float = 60.0

    def engine_options(self, backend: str) -> dict[str, Any]:
        if backend != "postgresql":
            return {}
        options: dict[str, Any] = {
            "pool_size": self.size,
            "max_overflow": self.max_overflow,
            "pool_timeout": self.timeout,
            "connect_args": {"connect_timeout": self.connect_timeout},
        }
        if self.statement_timeout > 0:
            ms = int(self.statement_timeout * 1000)
            options["connect_args"]["options"] = f"-c statement_timeout={ms}"
        return options


def make_engine(url: str, *, read_only: bool = False, pool: PoolSettings | None = None) -> Engine:
    """An engine for ``url`` with gpw's settings (SQLite: WAL, busy timeout, IMMEDIATE;
    PostgreSQL: psycopg 3, a pre-pinged pool sized by ``pool``).

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
        options = (pool or PoolSettings()).engine_options(_parse_url(url).get_backend_name())
        engine = _create_engine(url, pool_pre_ping=True, **options)
    return prepare_engine(engine)


def open_engine(
    url: str, *, mode: Literal["read", "write"] = "write", pool: PoolSettings | None = None
) -> Engine:
    """Check what is at ``url`` (:func:`check_database`), then an engine for ``mode``."""
    check_database(url, mode)
    return make_engine(url, read_only=mode == "read", pool=pool)


def utcnow() -> datetime:
    return datetime.now(UTC)
