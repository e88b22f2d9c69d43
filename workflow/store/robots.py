"""Group-chat robots (issue #11): the robots of organisations, the slots of their rate limit,
and the deferral of a notice a full robot makes wait."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select

from notifications.robots import Robot
from workflow.store import for_update
from workflow.tables import notice_t, robot_send_t, robot_t

#: the rate limit's window
MINUTE = timedelta(minutes=1)
#: sends older than this (before the relay's now) are pruned as slots are taken
KEEP_SENDS = timedelta(minutes=10)


def to_robot(r: Any) -> Robot:
    return Robot(id=r.id, org=r.org, kind=r.kind, url=r.url, secret=r.secret)


def insert(
    conn: Connection, *, org: str, kind: str, url: str, secret: str | None, at: datetime
) -> int:
    return int(
        conn.execute(
            robot_t.insert()
            .values(org=org, kind=kind, url=url, secret=secret, active=True, created_at=at)
            .returning(robot_t.c.id)
        ).scalar_one()
    )


def active_with_url(conn: Connection, *, org: str, kind: str, url: str) -> int | None:
    """The id of an active robot of ``org`` and ``kind`` at ``url``, if there is one."""
    found = conn.execute(
        select(robot_t.c.id).where(
            robot_t.c.active.is_(True),
            robot_t.c.org == org,
            robot_t.c.kind == kind,
            robot_t.c.url == url,
        )
    ).first()
    return None if found is None else int(found.id)


def deactivate(conn: Connection, robot_id: int, at: datetime) -> Robot | None:
    """Mark an active robot removed; returns it (None: there was no active robot ``robot_id``)."""
    row = conn.execute(
        for_update(
            select(robot_t).where(robot_t.c.id == robot_id, robot_t.c.active.is_(True)), conn
        )
    ).first()
    if row is None:
        return None
    conn.execute(
        robot_t.update().where(robot_t.c.id == robot_id).values(active=False, removed_at=at)
    )
    return to_robot(row)


def robots(conn: Connection, *, org: str | None, limit: int | None) -> list[Robot]:
    """The active robots (of ``org``), by id."""
    query = select(robot_t).where(robot_t.c.active.is_(True)).order_by(robot_t.c.id)
    if org is not None:
        query = query.where(robot_t.c.org == org)
    if limit is not None:
        query = query.limit(limit)
    return [to_robot(r) for r in conn.execute(query)]


def of_orgs(conn: Connection, orgs: Iterable[str], kinds: Iterable[str]) -> dict[str, list[Robot]]:
    """The active robots of each organisation, of the given kinds, by id."""
    wanted, kinds = set(orgs), set(kinds)
    out: dict[str, list[Robot]] = {}
    if not wanted or not kinds:
        return out
    query = (
        select(robot_t)
        .where(robot_t.c.active.is_(True), robot_t.c.org.in_(wanted), robot_t.c.kind.in_(kinds))
        .order_by(robot_t.c.id)
    )
    for r in conn.execute(query):
        out.setdefault(r.org, []).append(to_robot(r))
    return out


def take_slot(conn: Connection, robot_id: int, at: datetime, per_minute: int) -> datetime | None:
    """Take one of a robot's ``per_minute`` slots at ``at``: None when taken (a send is
    recorded at ``at``), else when the next slot frees (the robot was posted to ``per_minute``
    times in the minute before ``at``). The robot's row is locked first (PostgreSQL; SQLite's
    ``BEGIN IMMEDIATE`` serializes writers), so two relays never take the last slot both."""
    conn.execute(for_update(select(robot_t.c.id).where(robot_t.c.id == robot_id), conn))
    recent: list[datetime] = list(
        conn.execute(
            select(robot_send_t.c.sent_at)
            .where(robot_send_t.c.robot_id == robot_id, robot_send_t.c.sent_at > at - MINUTE)
            .order_by(robot_send_t.c.sent_at)
        ).scalars()
    )
    if len(recent) >= per_minute:
        # the window frees a slot when its oldest send but (per_minute - 1) ages out
        return max(recent[len(recent) - per_minute] + MINUTE, at)
    conn.execute(robot_send_t.insert().values(robot_id=robot_id, sent_at=at))
    conn.execute(
        delete(robot_send_t).where(
            robot_send_t.c.robot_id == robot_id, robot_send_t.c.sent_at < at - KEEP_SENDS
        )
    )
    return None


def sends(conn: Connection, robot_id: int) -> list[datetime]:
    """The recorded sends of a robot, oldest first."""
    return list(
        conn.execute(
            select(robot_send_t.c.sent_at)
            .where(robot_send_t.c.robot_id == robot_id)
            .order_by(robot_send_t.c.sent_at)
        ).scalars()
    )


_DEFER = (
    notice_t.update()
    .where(notice_t.c.id == bindparam("b_id"), notice_t.c.lease_owner == bindparam("b_token"))
    .values(
        lease_owner=None,
        lease_until=None,
        next_attempt_at=bindparam("b_when", type_=notice_t.c.next_attempt_at.type),
    )
)


def defer_notices(conn: Connection, deferred: Sequence[tuple[int, datetime]], token: str) -> None:
    """Release ``token``'s leases on notices a full robot makes wait and try them again at
    their time: their status, attempts and last error stay as they were (a wait is no failed
    attempt)."""
    if deferred:
        conn.execute(
            _DEFER, [{"b_id": nid, "b_token": token, "b_when": when} for nid, when in deferred]
        )
