"""The directory: who holds a role in an organisation, and how to reach them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from notifications.channels import Person
from workflow.tables import person_t


def to_person(r: Any) -> Person:
    return Person(id=r.id, org=r.org, role=r.role, name=r.name, email=r.email, webhook=r.webhook)


def insert(
    conn: Connection,
    *,
    org: str,
    role: str,
    name: str,
    email: str | None,
    webhook: str | None,
    at: datetime,
) -> int:
    return int(
        conn.execute(
            person_t.insert()
            .values(
                org=org,
                role=role,
                name=name,
                email=email,
                webhook=webhook,
                active=True,
                created_at=at,
            )
            .returning(person_t.c.id)
        ).scalar_one()
    )


def deactivate(conn: Connection, person_id: int) -> bool:
    """Mark an active person inactive; False if there was none."""
    done = conn.execute(
        person_t.update()
        .where(person_t.c.id == person_id, person_t.c.active.is_(True))
        .values(active=False)
    )
    return done.rowcount == 1


def people(
    conn: Connection, *, org: str | None, role: str | None, limit: int | None
) -> list[Person]:
    query = select(person_t).where(person_t.c.active.is_(True)).order_by(person_t.c.id)
    if limit is not None:
        query = query.limit(limit)
    if org is not None:
        query = query.where(person_t.c.org == org)
    if role is not None:
        query = query.where(person_t.c.role == role)
    return [to_person(r) for r in conn.execute(query)]


def resolve(
    conn: Connection, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[Person]]:
    """The active people holding each (organisation, role)."""
    wanted = set(pairs)
    out: dict[tuple[str, str], list[Person]] = {p: [] for p in wanted}
    if not wanted:
        return out
    orgs = {o for o, _ in wanted}
    rows = conn.execute(
        select(person_t).where(person_t.c.active.is_(True), person_t.c.org.in_(orgs))
    )
    for r in rows:
        if (r.org, r.role) in out:
            out[(r.org, r.role)].append(to_person(r))
    return out
