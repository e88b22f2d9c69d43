"""Alembic owns gpw's schema: upgrade a database, tell its revision, refuse an old one.

The migrations ship inside the package (``workflow/migrations``) and Alembic is configured here,
in code: no ``alembic.ini``, no network. The version table is ``gpw_alembic_version`` so a host's
database can keep its own Alembic history beside gpw's.

* :func:`upgrade` brings an empty database, or one an older release made, to :func:`head_revision`
  in one transaction. A database gpw 0.1.0 made (gpw's tables, no version table) counts as
  revision ``0001_v0_1_0`` and is stamped so before it is upgraded.
* :func:`current_revision` reads the revision without writing anything.
* :func:`check_current` refuses (``ConfigurationError``, field ``db``) a database that is not at
  the head — older ("run gpw db upgrade") or newer than this release.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, inspect, text
from sqlmodel import SQLModel

from states.errors import ConfigurationError
from workflow.persistence import READ_ONLY, make_engine, prepare_engine

#: Alembic's version table for gpw (not ``alembic_version``: a host may have its own)
VERSION_TABLE = "gpw_alembic_version"
#: the revision that is v0.1.0's schema; a database that release made carries no version table
BASELINE = "0001_v0_1_0"
#: the scripts: ``env.py`` and ``versions/``
MIGRATIONS = Path(__file__).resolve().with_name("migrations")
#: gpw's tables start so; a gpw database holds at least the project table
TABLE_PREFIX = "gpw_"
MARKER_TABLE = "gpw_project"
#: PostgreSQL: one upgrade at a time (a transaction-scoped advisory lock on this key)
_PG_LOCK_KEY = 0x67707701


@dataclass(frozen=True, slots=True)
class Upgrade:
    """What :func:`upgrade` did: the revision before (None: an empty database) and after."""

    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.before, "to": self.after, "changed": self.changed}


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic compares and touches only gpw's tables (never its version table)."""
    if type_ == "table":
        return bool(name) and str(name).startswith(TABLE_PREFIX) and name != VERSION_TABLE
    return True


def target_metadata() -> MetaData:
    """gpw's tables as the code declares them (those of ``SQLModel.metadata`` named gpw_*)."""
    wanted = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        if include_name(table.name, "table", {}):
            table.to_metadata(wanted)
    return wanted


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, in code; ``connection`` is the one the migrations run on."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_table", VERSION_TABLE)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The revision this release's code expects."""
    head = _script().get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def _stamped(connection: Connection) -> str | None:
    """The revision in the version table (None: no table or no row); reads only."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _has_gpw_tables(connection: Connection) -> bool:
    return bool(inspect(connection).has_table(MARKER_TABLE))


def current_revision(connection: Connection) -> str | None:
    """The database's schema revision, read without writing: the version table's, else
    ``0001_v0_1_0`` for gpw's tables without one (gpw 0.1.0 made it), else None (no gpw
    tables)."""
    stamped = _stamped(connection)
    if not _has_gpw_tables(connection):
        return None  # a version row without gpw's tables (dropped): nothing to vouch for
    return stamped or BASELINE


@cache
def known_revisions() -> frozenset[str]:
    """Every revision this release ships (a database at another one is newer than the code)."""
    return frozenset(r.revision for r in _script().walk_revisions())


def _known(revision: str) -> bool:
    return revision in known_revisions()


def _newer(revision: str) -> ConfigurationError:
    return ConfigurationError(
        f"数据库结构版本 {revision} 比本程序新（本程序为 {head_revision()}）：请升级 gpw",
        f"the database schema ({revision}) is newer than this release ({head_revision()}): "
        "upgrade gpw",
        field="db",
        details={"current": revision, "head": head_revision()},
    )


def check_current(connection: Connection) -> None:
    """Refuse a database whose schema is not this release's: older (or without gpw's tables),
    or newer (a revision this code does not know). Reads only."""
    revision = current_revision(connection)
    head = head_revision()
    if revision == head:
        return
    if revision is not None and not _known(revision):
        raise _newer(revision)
    raise ConfigurationError(
        "数据库结构版本过旧：请运行 gpw db upgrade",
        "the database schema is older than this release: run gpw db upgrade",
        field="db",
        details={"current": revision, "head": head},
    )


def ensure_current(engine: Engine, *, create: bool = False) -> None:
    """What opening a workflow does: with ``create``, an empty database (no gpw tables) gets
    this release's schema through the migrations; an existing one is never altered, only
    checked (:func:`check_current`: older → "run gpw db upgrade", newer → "upgrade gpw")."""
    with engine.connect() as conn:
        revision = current_revision(conn.execution_options(**READ_ONLY))
    if revision is None and create:
        with engine.begin() as conn:
            if current_revision(conn) is None:  # still empty now that we hold the lock
                upgrade_connection(conn)
                return
    with engine.connect() as conn:
        check_current(conn.execution_options(**READ_ONLY))


def _lock(connection: Connection) -> None:
    """Serialize upgrades. SQLite: gpw's engines BEGIN IMMEDIATE (the write lock is held from
    the start); PostgreSQL: a transaction-scoped advisory lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def upgrade_connection(connection: Connection) -> Upgrade:
    """Upgrade on ``connection``, inside its transaction (the caller commits)."""
    _lock(connection)
    before = current_revision(connection)
    if before is not None and not _known(before):
        raise _newer(before)
    config = alembic_config(connection)
    stamped = _stamped(connection)
    if before is None and stamped is not None:
        # a version row left behind by tables dropped by hand: start again from nothing
        connection.execute(text(f"DELETE FROM {VERSION_TABLE}"))
    elif before == BASELINE and stamped is None:
        command.stamp(config, BASELINE)  # made by gpw 0.1.0, which had no version table
    command.upgrade(config, "head")
    return Upgrade(before=before, after=head_revision())


def upgrade(engine_or_url: Engine | str) -> Upgrade:
    """Bring the database to :func:`head_revision`: create gpw's tables in an empty one,
    migrate one an older release made. One transaction: all of it or nothing. A URL is opened
    with gpw's settings (it is not checked; see ``persistence.check_database``)."""
    own = isinstance(engine_or_url, str)
    engine = (
        make_engine(engine_or_url)
        if isinstance(engine_or_url, str)
        else prepare_engine(engine_or_url)
    )
    try:
        with engine.begin() as connection:
            return upgrade_connection(connection)
    finally:
        if own:
            engine.dispose()
