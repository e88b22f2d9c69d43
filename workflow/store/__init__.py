"""The SQL of each aggregate, and nothing else: rows in, rows (or domain objects) out.

One module per aggregate — ``projects`` (with its deadline rows), ``outbox`` (notices, deliveries,
the inbox, tick and relay claims), ``contractors``, ``directory``, ``calendar``; the audit trail is
:mod:`workflow.audit`. Functions take the ``Connection`` of the caller's transaction and never
begin, commit or roll back. Nothing here imports a service or the facade.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

#: the first key of the advisory locks on shared audit streams ("gpw" + 2; the upgrade lock is a
#: single 64-bit key, a key space of its own)
_STREAM_LOCK_CLASS = 0x67707702
#: the first key of the advisory locks on the public feeds (releases, anchors)
_FEED_LOCK_CLASS = 0x67707703
#: the second key of each feed's lock
FEED_RELEASES, FEED_ANCHORS = 1, 2


def new_id(result: Any) -> int:
    """The primary key an INSERT produced."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def for_update(query: Any, conn: Connection, *, skip_locked: bool = False) -> Any:
    """``SELECT … FOR UPDATE`` (PostgreSQL: lock the rows until the transaction ends; with
    ``skip_locked``, pass over rows another worker holds). SQLite needs none: ``BEGIN IMMEDIATE``
    already serializes writers."""
    if conn.dialect.name == "sqlite":
        return query
    return query.with_for_update(skip_locked=skip_locked)


def lock_stream(conn: Connection, stream: str) -> None:
    """Take the append lock of a shared audit stream (directory, calendar, notices) until the
    transaction ends. PostgreSQL: a transaction-scoped advisory lock, so concurrent writers queue
    instead of colliding on the stream's next ``seq``. SQLite: ``BEGIN IMMEDIATE`` already holds
    the database's write lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_STREAM_LOCK_CLASS, func.hashtext(stream))))


def lock_feed(conn: Connection, feed: int) -> None:
    """Take a public feed's publication lock until the transaction ends, before taking its next
    id (issue #9). A harvester pages a feed by id (``cursor``): on PostgreSQL a sequence hands
    out ids when rows are inserted, not when they commit, so without this a release that took id 7
    and committed after id 8 would be behind a harvester that had already read past 8, and never
    seen. Holding the lock from the insert to the commit makes the ids' order the commits' order
    (PostgreSQL releases a transaction's locks after its commit is visible). SQLite: ``BEGIN
    IMMEDIATE`` already serializes writers."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_FEED_LOCK_CLASS, feed)))
