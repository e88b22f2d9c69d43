"""Disclosure: published OCDS releases (``gpw_release``), published anchors (``gpw_anchor``) and
the audit entries the ledgers list. SQL only; the mapping is :mod:`states.ocds`'s."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from workflow.store import FEED_ANCHORS, FEED_RELEASES, lock_feed, new_id
from workflow.tables import anchor_t, audit_t, project_t, release_t

_INSERT_RELEASES = release_t.insert()


#: ``conn.info`` key: the releases a long transaction holds back until its end
_HELD = "gpw_held_releases"


def insert_releases(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Publish releases in the caller's transaction (visible from its commit), their ids in the
    order of the commits (:func:`~workflow.store.lock_feed`). In a transaction that holds its
    releases back (:func:`hold_releases`), they wait in ``conn.info`` instead."""
    if rows:
        held = conn.info.get(_HELD)
        if held is not None:
            held.extend(rows)
            return
        lock_feed(conn, FEED_RELEASES)
        conn.execute(_INSERT_RELEASES, list(rows))


def hold_releases(conn: Connection) -> list[dict[str, Any]]:
    """Hold back the releases this transaction publishes until :func:`release_held`: a long
    transaction (an import of thousands of rows) then takes the feed's lock at its end, for its
    commit only, instead of from its first public event on, queueing every other publisher
    behind it. Returns the list they wait in (a caller whose SAVEPOINT rolls back drops what
    was added in it)."""
    held: list[dict[str, Any]] = []
    conn.info[_HELD] = held
    return held


def release_held(conn: Connection, *, publish: bool) -> None:
    """End :func:`hold_releases`; ``publish``: insert what waits (just before the commit)."""
    held = conn.info.pop(_HELD, None) or []
    if publish:
        insert_releases(conn, held)


def releases(
    conn: Connection,
    project_ids: Iterable[int] | None = None,
    *,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[Any]:
    """Published releases (id, ocid, release_id, project_id, seq, tag, date, release,
    published_at), by project then entry (or, paging the feed, by id after ``after_id``)."""
    query = select(release_t)
    if project_ids is not None:
        query = query.where(release_t.c.project_id.in_(sorted(set(project_ids))))
    if after_id is not None:
        query = query.where(release_t.c.id > after_id)
    if limit is not None:
        query = query.order_by(release_t.c.id).limit(limit)
    else:
        query = query.order_by(release_t.c.project_id, release_t.c.seq)
    return list(conn.execute(query))


def latest_release(conn: Connection) -> tuple[int, datetime | None]:
    """The newest release's id and when it was published (0, None: none yet): a feed's ETag
    and Last-Modified."""
    row = conn.execute(select(func.max(release_t.c.id), func.max(release_t.c.published_at))).one()
    return int(row[0] or 0), row[1]


def release_window(
    conn: Connection,
    *,
    project_id: int | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> tuple[int, int, datetime | None]:
    """What a page of the feed (``after_id``, ``limit``) or a project's releases hold, read from
    the ids and times alone (no release is read): how many, the newest id, the newest
    publication time (0, 0, None: none). Releases are never rewritten, so these change exactly
    when the page's releases do: a page's ETag and Last-Modified."""
    inner = select(release_t.c.id, release_t.c.published_at)
    if project_id is not None:
        inner = inner.where(release_t.c.project_id == project_id)
    if after_id is not None:
        inner = inner.where(release_t.c.id > after_id)
    if limit is not None:
        inner = inner.order_by(release_t.c.id).limit(limit)
    page = inner.subquery()
    row = conn.execute(
        select(func.count(), func.max(page.c.id), func.max(page.c.published_at))
    ).one()
    return int(row[0]), int(row[1] or 0), row[2]


def projects_without_releases(conn: Connection) -> list[int]:
    """Projects that have no published release yet (made before disclosure, or still private)."""
    released = select(release_t.c.project_id).where(release_t.c.project_id == project_t.c.id)
    query = select(project_t.c.id).where(~released.exists()).order_by(project_t.c.id)
    return [int(r.id) for r in conn.execute(query)]


def entries(
    conn: Connection,
    project_ids: Iterable[int] | None = None,
    *,
    since: datetime | None = None,
    before: datetime | None = None,
) -> list[Any]:
    """Project audit entries (``stream`` ``project:N``), by project then seq, optionally those
    of some projects and with ``since <= at < before``."""
    query = select(audit_t).where(audit_t.c.project_id.is_not(None))
    if project_ids is not None:
        query = query.where(audit_t.c.project_id.in_(sorted(set(project_ids))))
    if since is not None:
        query = query.where(audit_t.c.at >= since)
    if before is not None:
        query = query.where(audit_t.c.at < before)
    query = query.where(audit_t.c.stream.like("project:%"))
    return list(conn.execute(query.order_by(audit_t.c.project_id, audit_t.c.seq)))


def public_project_rows(conn: Connection, *, after_id: int | None, limit: int) -> list[Any]:
    """Rows of the projects that published a release, by id (a page after ``after_id``)."""
    released = select(release_t.c.id).where(release_t.c.project_id == project_t.c.id)
    query = select(project_t).where(released.exists()).order_by(project_t.c.id).limit(limit)
    if after_id is not None:
        query = query.where(project_t.c.id > after_id)
    return list(conn.execute(query))


def project_rows(conn: Connection, project_ids: Iterable[int] | None = None) -> list[Any]:
    query = select(project_t).order_by(project_t.c.id)
    if project_ids is not None:
        query = query.where(project_t.c.id.in_(sorted(set(project_ids))))
    return list(conn.execute(query))


# -- anchors --------------------------------------------------------------------------------------


def insert_anchor(conn: Connection, anchor: dict[str, Any], at: datetime, now: datetime) -> int:
    """Publish an anchor, its id in the order of the commits (:func:`~workflow.store.lock_feed`)."""
    lock_feed(conn, FEED_ANCHORS)
    return new_id(
        conn.execute(
            anchor_t.insert().values(
                at=at, digest=anchor["digest"], anchor=anchor, published_at=now
            )
        )
    )


def anchors(conn: Connection, *, limit: int = 100, before_id: int | None = None) -> list[Any]:
    """Published anchors, newest first."""
    query = select(anchor_t).order_by(anchor_t.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(anchor_t.c.id < before_id)
    return list(conn.execute(query))


def anchor_window(
    conn: Connection, *, limit: int, before_id: int | None = None
) -> tuple[int, int, datetime | None]:
    """What a page of published anchors (newest first) holds, read without reading an anchor:
    how many, the newest id, the newest publication time (0, 0, None: none)."""
    inner = select(anchor_t.c.id, anchor_t.c.published_at)
    if before_id is not None:
        inner = inner.where(anchor_t.c.id < before_id)
    page = inner.order_by(anchor_t.c.id.desc()).limit(limit).subquery()
    row = conn.execute(
        select(func.count(), func.max(page.c.id), func.max(page.c.published_at))
    ).one()
    return int(row[0]), int(row[1] or 0), row[2]


def anchor_since(conn: Connection, since: datetime) -> bool:
    """Whether an anchor of ``since`` or later (its own ``at``) was published."""
    query = select(anchor_t.c.id).where(anchor_t.c.at >= since).limit(1)
    return conn.execute(query).first() is not None
