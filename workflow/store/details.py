"""The SQL of the read models (issue #8): a project's notices and deliveries, its deadline rows'
ladders, the inbox with its read and acknowledged marks, the contractor register by page.

Functions take the ``Connection`` of the caller's transaction; only the inbox marks write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from workflow.tables import (
    audit_t,
    contractor_t,
    deadline_t,
    delivery_t,
    inbox_t,
    notice_t,
    project_t,
)

#: what the project page shows of a notice (not its rendered text)
_NOTICE_COLUMNS = (
    notice_t.c.id,
    notice_t.c.key,
    notice_t.c.deadline_key,
    notice_t.c.deadline_kind,
    notice_t.c.stage,
    notice_t.c.status,
    notice_t.c.subject,
    notice_t.c.recipients,
    notice_t.c.attempts,
    notice_t.c.last_error,
    notice_t.c.created_at,
    notice_t.c.sent_at,
)


def notices_of_project(conn: Connection, project_id: int) -> list[Any]:
    """Every notice of the project's deadlines, oldest first."""
    query = (
        select(*_NOTICE_COLUMNS).where(notice_t.c.project_id == project_id).order_by(notice_t.c.id)
    )
    return list(conn.execute(query))


def deliveries_of(conn: Connection, notice_ids: Sequence[int]) -> list[Any]:
    """The deliveries of these notices, in the order they were first tried."""
    if not notice_ids:
        return []
    query = (
        select(
            delivery_t.c.notice_id,
            delivery_t.c.channel,
            delivery_t.c.address,
            delivery_t.c.person,
            delivery_t.c.status,
            delivery_t.c.attempts,
            delivery_t.c.sent_at,
            delivery_t.c.last_error,
        )
        .where(delivery_t.c.notice_id.in_(list(notice_ids)))
        .order_by(delivery_t.c.id)
    )
    return list(conn.execute(query))


def ladders(conn: Connection, project_id: int) -> dict[str, Any]:
    """Each deadline row's place on its notice ladder, by key: the next stage and when."""
    query = select(
        deadline_t.c.key,
        deadline_t.c.stage_index,
        deadline_t.c.next_stage,
        deadline_t.c.next_fire_at,
    ).where(deadline_t.c.project_id == project_id)
    return {r.key: r for r in conn.execute(query)}


def stream(conn: Connection, name: str) -> list[Any]:
    """The audit entries of a stream, oldest first."""
    return list(
        conn.execute(select(audit_t).where(audit_t.c.stream == name).order_by(audit_t.c.seq))
    )


# -- the inbox --------------------------------------------------------------------------------

_INBOX = select(
    inbox_t.c.id,
    inbox_t.c.org,
    inbox_t.c.role,
    inbox_t.c.created_at,
    inbox_t.c.read_at,
    inbox_t.c.read_by,
    inbox_t.c.acknowledged_at,
    inbox_t.c.acknowledged_by,
    notice_t.c.id.label("notice_id"),
    notice_t.c.project_id,
    notice_t.c.deadline_key,
    notice_t.c.deadline_kind,
    notice_t.c.stage,
    notice_t.c.subject,
    notice_t.c.body,
    project_t.c.title.label("project_title"),
).select_from(
    inbox_t.join(notice_t, notice_t.c.id == inbox_t.c.notice_id).outerjoin(
        project_t, project_t.c.id == notice_t.c.project_id
    )
)


def inbox_page(
    conn: Connection,
    org: str,
    role: str,
    *,
    unread_only: bool,
    before: int | None,
    limit: int,
) -> list[Any]:
    """Up to ``limit`` inbox entries of an organisation and role, newest first, those with an
    id below ``before`` (the cursor)."""
    query = _INBOX.where(inbox_t.c.org == org, inbox_t.c.role == role)
    if unread_only:
        query = query.where(inbox_t.c.read_at.is_(None))
    if before is not None:
        query = query.where(inbox_t.c.id < before)
    return list(conn.execute(query.order_by(inbox_t.c.id.desc()).limit(limit)))


def inbox_entry(conn: Connection, inbox_id: int) -> Any:
    """The inbox entry with its notice and project title, or None."""
    return conn.execute(_INBOX.where(inbox_t.c.id == inbox_id)).first()


def mark_read(conn: Connection, inbox_id: int, at: datetime, login: str) -> bool:
    """Record the first opening; a later one changes nothing. True when this one was first."""
    done = conn.execute(
        inbox_t.update()
        .where(inbox_t.c.id == inbox_id, inbox_t.c.read_at.is_(None))
        .values(read_at=at, read_by=login)
    )
    return bool(done.rowcount == 1)


def mark_acknowledged(conn: Connection, inbox_id: int, at: datetime, login: str) -> bool:
    """Record the first acknowledgement; a later one changes nothing. True when this one was
    first."""
    done = conn.execute(
        inbox_t.update()
        .where(inbox_t.c.id == inbox_id, inbox_t.c.acknowledged_at.is_(None))
        .values(acknowledged_at=at, acknowledged_by=login)
    )
    return bool(done.rowcount == 1)


# -- the contractor register ------------------------------------------------------------------


def contractor_page(conn: Connection, *, q: str | None, after: int | None, limit: int) -> list[Any]:
    """Up to ``limit`` register entries by id, those after ``after`` (the cursor), whose name
    contains ``q`` (case-insensitive)."""
    query = select(contractor_t).order_by(contractor_t.c.id).limit(limit)
    if q:
        query = query.where(func.lower(contractor_t.c.name).contains(q.lower(), autoescape=True))
    if after is not None:
        query = query.where(contractor_t.c.id > after)
    return list(conn.execute(query))


def projects_of_contractor(conn: Connection, contractor_id: int) -> list[Any]:
    """The projects awarded to the contractor: what a summary and a scope check need (the
    awarded name and the supervising bodies, as JSON text, taken out of the data)."""
    query = (
        select(
            project_t.c.id,
            project_t.c.title,
            project_t.c.purchaser,
            project_t.c.policy,
            project_t.c.state,
            project_t.c.version,
            project_t.c.updated_at,
            project_t.c.data["contractor_name"].as_string().label("contractor_name"),
            project_t.c.data["supervisors"].as_string().label("supervisors"),
        )
        .where(project_t.c.contractor_id == contractor_id)
        .order_by(project_t.c.id.desc())
    )
    return list(conn.execute(query))
