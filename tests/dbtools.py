"""Portable database helpers for tests: the same code reads and edits a SQLite file and a
PostgreSQL database.

Everything goes through SQLAlchemy Core on gpw's own tables (``workflow.persistence``), never
through a raw SQL string or the sqlite3 module: dates, aware datetimes and JSON columns (JSONB on
PostgreSQL) are bound and read back by their column types on either backend. A test edits a row
the way an attacker with database access would — ``execute(db_url, project_t.update()…)`` — on
its own engine, which is disposed at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    MetaData,
    Table,
    create_engine,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import make_url

from workflow.tables import gpw_tables as _gpw_tables

#: gpw's tables by name, with their column types (aware datetimes, JSON)
TABLES: dict[str, Table] = {t.name: t for t in _gpw_tables()}

Target = str | Engine


@contextmanager
def engine_for(target: Target) -> Iterator[Engine]:
    """An engine for a URL (created here and disposed at the end), or the engine given."""
    if isinstance(target, Engine):
        yield target
        return
    engine = create_engine(target)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def begin(target: Target) -> Iterator[Connection]:
    """One transaction on ``target``, committed when the block ends without an error."""
    with engine_for(target) as engine, engine.begin() as conn:
        yield conn


def execute(target: Target, *statements: Executable) -> None:
    """Run Core statements (``t.update()``, ``t.delete()``, ``t.insert()``…) in one transaction."""
    with begin(target) as conn:
        for statement in statements:
            conn.execute(statement)


def rows(target: Target, statement: Executable) -> list[dict[str, Any]]:
    """A query's rows as dicts (column name → value, typed by the table's columns)."""
    with begin(target) as conn:
        return [dict(r._mapping) for r in conn.execute(statement)]


def row(target: Target, statement: Executable) -> dict[str, Any]:
    """The one row a query returns."""
    found = rows(target, statement)
    assert len(found) == 1, f"expected one row, got {len(found)}"
    return found[0]


def scalar(target: Target, statement: Executable) -> Any:
    with begin(target) as conn:
        return conn.execute(statement).scalar_one()


def count(target: Target, table: Table | str) -> int:
    """How many rows ``table`` (a Table or a gpw table's name) holds."""
    t = TABLES[table] if isinstance(table, str) else table
    return int(scalar(target, select(func.count()).select_from(t)))


def gpw_tables(target: Target) -> list[str]:
    """The names of the gpw_* tables in the database, sorted."""
    with engine_for(target) as engine, engine.connect() as conn:
        return sorted(n for n in inspect(conn).get_table_names() if n.startswith("gpw_"))


def dump(target: Target) -> list[tuple[str, list[str]]]:
    """Every row of every gpw_* table, each table's rows sorted: what "the database is unchanged"
    means. A table this module does not know is reflected, so a new one is not missed."""
    with engine_for(target) as engine, engine.connect() as conn:
        names = sorted(n for n in inspect(conn).get_table_names() if n.startswith("gpw_"))
        reflected = MetaData()
        out: list[tuple[str, list[str]]] = []
        for name in names:
            known = TABLES.get(name)
            table = known if known is not None else Table(name, reflected, autoload_with=conn)
            out.append((name, sorted(repr(tuple(r)) for r in conn.execute(select(table)))))
        return out


def sqlite_path(url: str) -> Path | None:
    """The file a ``sqlite:///…`` URL names; None for a server (or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def sqlite_files(url: str) -> dict[str, bytes] | None:
    """The bytes of an SQLite database (the file, its -wal and -shm); None for a server."""
    path = sqlite_path(url)
    if path is None:
        return None
    return {p.name: p.read_bytes() for p in path.parent.glob(path.name + "*")}


def fingerprint(url: str) -> Any:
    """What "nothing was written" is checked on: an SQLite file byte for byte (its -wal and -shm
    included: no transaction was even committed), on a server every gpw row (``dump``)."""
    files = sqlite_files(url)
    return files if files is not None else dump(url)
