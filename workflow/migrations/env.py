"""Alembic's environment for gpw's schema, configured by :mod:`workflow.schema` (no alembic.ini).

The caller puts an open connection in ``config.attributes["connection"]`` and runs inside its
transaction, so an upgrade commits whole or not at all. Only gpw's tables (``gpw_*``) are
compared or touched; the version table is ``gpw_alembic_version``, so a host's database can keep
its own Alembic history beside gpw's.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from workflow.schema import VERSION_TABLE, include_name, target_metadata

config = context.config


def _options() -> dict[str, Any]:
    return {
        "target_metadata": target_metadata(),
        "version_table": VERSION_TABLE,
        "include_name": include_name,
        "render_as_batch": True,  # SQLite alters a table by copying it
        "compare_type": True,
    }


def run_offline() -> None:
    """``--sql``: the statements for ``sqlalchemy.url``, printed, nothing connected."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_online(connection: Connection) -> None:
    context.configure(connection=connection, **_options())
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        run_offline()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        run_online(connection)
        return
    from workflow.persistence import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///gpw.db")
    try:
        with engine.begin() as conn:
            run_online(conn)
    finally:
        engine.dispose()


main()
