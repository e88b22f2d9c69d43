"""The outbox: deadline rows as ``tick`` claims them, notices, their deliveries, the inbox, and
the engine's own facts (``gpw_meta``: last tick, last relay, the demo mark).

Claims take ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers pass over rows another
one holds; on SQLite ``BEGIN IMMEDIATE`` serializes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import NullType, TypeDecorator

from workflow.store import for_update
from workflow.tables import (
    contractor_t,
    deadline_t,
    delivery_t,
    inbox_t,
    meta_t,
    notice_t,
    project_t,
)


def insert_ignore_stmt(conn: Connection, table: Table, keys: Sequence[str]) -> Any:
    """INSERT … ON CONFLICT (keys) DO NOTHING, on SQLite and PostgreSQL alike."""
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table).on_conflict_do_nothing(index_elements=keys)


def insert_ignore(
    conn: Connection, table: Table, values: dict[str, Any], keys: Sequence[str]
) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, on SQLite and PostgreSQL alike."""
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    stmt = dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    return conn.execute(stmt.returning(table.c.id)).scalar()


def upsert_meta(conn: Connection, key: str, value: str) -> None:
    """Set a ``gpw_meta`` fact (last tick, last relay, the demo mark)."""
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    stmt = dialect.insert(meta_t).values(key=key, value=value)
    conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


# -- tick -------------------------------------------------------------------------------------


#: what a notice needs of its deadline row (not its datetimes: each costs a conversion per row);
#: ``tick`` unpacks the rows in this order
_CLAIMED = (
    deadline_t.c.id,
    deadline_t.c.project_id,
    deadline_t.c.key,
    deadline_t.c.kind,
    deadline_t.c.owner,
    deadline_t.c.rule,
    deadline_t.c.due,
    deadline_t.c.provisional,
    deadline_t.c.version,
    deadline_t.c.stage_index,
    deadline_t.c.moved_from,
)


def claim_due_deadlines(conn: Connection, now: datetime, batch: int) -> list[Any]:
    """Open deadline rows whose next stage is due at ``now``, oldest first, locked: id,
    project_id, key, kind, owner, rule, due, provisional, version, stage_index, moved_from."""
    query = (
        select(*_CLAIMED)
        .where(deadline_t.c.status == "open", deadline_t.c.next_fire_at <= now)
        .order_by(deadline_t.c.next_fire_at, deadline_t.c.id)
        .limit(batch)
    )
    return list(conn.execute(for_update(query, conn, skip_locked=True)).all())


def projects_of(conn: Connection, ids: Iterable[int]) -> dict[int, Any]:
    """What a notice says of its project, by id: rows of id, title, purchaser, policy,
    contractor_id and its supervising bodies (``supervisors``: their JSON text, or None, taken
    out of the data by the database; the rest of the project's data is not read), in that
    order (``tick`` unpacks them)."""
    return {
        r.id: r
        for r in conn.execute(
            select(
                project_t.c.id,
                project_t.c.title,
                project_t.c.purchaser,
                project_t.c.policy,
                project_t.c.contractor_id,
                project_t.c.data["supervisors"].as_string().label("supervisors"),
            ).where(project_t.c.id.in_(set(ids)))
        )
    }


def clock_changes(conn: Connection, ids: Iterable[int]) -> dict[tuple[int, str], list[Any]]:
    """The suspensions, resumptions and extensions of the projects' deadlines (中止计时、延长),
    by (project id, deadline key), for the notices that tell a move: only those projects'
    deadlines are read (``tick`` asks for the moved rows' alone)."""
    wanted = set(ids)
    if not wanted:
        return {}
    out: dict[tuple[int, str], list[Any]] = {}
    query = select(project_t.c.id, project_t.c.data["deadlines"].label("deadlines")).where(
        project_t.c.id.in_(wanted)
    )
    for pid, deadlines in conn.execute(query):
        for d in deadlines if isinstance(deadlines, list) else ():
            if isinstance(d, dict) and d.get("changes"):
                out[(pid, str(d.get("key")))] = list(d["changes"])
    return out


def contractor_names(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {
        r.id: r.name
        for r in conn.execute(
            select(contractor_t.c.id, contractor_t.c.name).where(contractor_t.c.id.in_(wanted))
        )
    }


#: the columns whose values the notices of a batch share (their recipients' list, the time they
#: are written): converted for the database once per distinct value, not once a row
_SHARED = ("recipients", "next_attempt_at", "created_at")
_NONE = object()


class _Converted(TypeDecorator[Any]):
    """A bound value already converted by its column's type: passed to the driver as it is (no
    conversion, no cast)."""

    impl = NullType
    cache_ok = True


def _insert_notices_stmt(dialect: Any) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING RETURNING id, key, the shared columns bound as
    their values already converted (``c_<column>``; a type without a conversion of its own)."""
    return (
        dialect.insert(notice_t)
        .values({name: bindparam(f"c_{name}", type_=_Converted()) for name in _SHARED})
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(notice_t.c.id, notice_t.c.key)
    )


#: by "is the connection SQLite?"
_INSERT_NOTICES = {True: _insert_notices_stmt(sqlite), False: _insert_notices_stmt(postgresql)}


def insert_notices(conn: Connection, values: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Write notices under their unique keys, once: returns the ids of those this call created,
    by key (a key already there is skipped). A value the rows share (the same object: tick's
    recipients of a stage, its ``now``) is converted once (the column type's own conversion)."""
    if not values:
        return {}
    dialect = conn.dialect
    convert = {
        name: notice_t.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        for name in _SHARED
    }
    # by identity: every value is held by ``values`` until the call returns
    converted: dict[tuple[str, int], Any] = {}
    rows = []
    for v in values:
        row = v.copy()
        for name, process in convert.items():
            value = row.pop(name)
            found = converted.get((name, id(value)), _NONE)
            if found is _NONE:
                found = converted[(name, id(value))] = value if process is None else process(value)
            row[f"c_{name}"] = found
        rows.append(row)
    return {r.key: r.id for r in conn.execute(_INSERT_NOTICES[dialect.name == "sqlite"], rows)}


_ADVANCE_ONE = (
    deadline_t.update()
    .where(deadline_t.c.id == bindparam("b_id"))
    .values(
        stage_index=bindparam("b_stage_index"),
        next_stage=bindparam("b_next_stage"),
        next_fire_at=bindparam("b_next_fire_at", type_=deadline_t.c.next_fire_at.type),
        moved_from=bindparam("b_moved_from", type_=deadline_t.c.moved_from.type),
    )
)
_ADVANCE_MANY = (
    deadline_t.update()
    .where(deadline_t.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(
        stage_index=bindparam("b_stage_index"),
        next_stage=bindparam("b_next_stage"),
        next_fire_at=bindparam("b_next_fire_at", type_=deadline_t.c.next_fire_at.type),
        moved_from=bindparam("b_moved_from", type_=deadline_t.c.moved_from.type),
    )
)


def advance_deadlines(conn: Connection, moves: Sequence[dict[str, Any]]) -> None:
    """Move each deadline's ladder on: ``b_id``, ``b_stage_index``, ``b_next_stage``,
    ``b_next_fire_at``, ``b_moved_from``. Deadlines moved alike (due together: the same stage
    next, at the same time) in one statement per move, the others in one statement."""
    if not moves:
        return
    alike: dict[tuple[Any, ...], list[int]] = {}
    for m in moves:
        move = (m["b_stage_index"], m["b_next_stage"], m["b_next_fire_at"], m["b_moved_from"])
        alike.setdefault(move, []).append(m["b_id"])
    single = []
    for (stage_index, next_stage, next_fire_at, moved_from), ids in alike.items():
        if len(ids) == 1:
            single.append(
                {
                    "b_id": ids[0],
                    "b_stage_index": stage_index,
                    "b_next_stage": next_stage,
                    "b_next_fire_at": next_fire_at,
                    "b_moved_from": moved_from,
                }
            )
        else:
            conn.execute(
                _ADVANCE_MANY,
                {
                    "b_ids": ids,
                    "b_stage_index": stage_index,
                    "b_next_stage": next_stage,
                    "b_next_fire_at": next_fire_at,
                    "b_moved_from": moved_from,
                },
            )
    if single:
        conn.execute(_ADVANCE_ONE, single)


# -- relay ------------------------------------------------------------------------------------


#: notices due for (re)delivery at ``b_now`` and held by no live lease, oldest first, up to
#: ``b_batch`` of them (built once; by "is the connection SQLite?": PostgreSQL locks them
#: ``FOR UPDATE SKIP LOCKED``)
_DUE_NOTICES = (
    select(notice_t.c.id)
    .where(
        notice_t.c.status.in_(("pending", "failed")),
        notice_t.c.next_attempt_at <= bindparam("b_now", type_=notice_t.c.next_attempt_at.type),
        or_(
            notice_t.c.lease_until.is_(None),
            notice_t.c.lease_until <= bindparam("b_now", type_=notice_t.c.lease_until.type),
        ),
    )
    .order_by(notice_t.c.next_attempt_at, notice_t.c.id)
    .limit(bindparam("b_batch"))
)
_DUE_NOTICE_IDS = {True: _DUE_NOTICES, False: _DUE_NOTICES.with_for_update(skip_locked=True)}


def _due_notice_ids(conn: Connection, now: datetime, batch: int) -> list[int]:
    """Up to ``batch`` notices due for (re)delivery and held by no live lease, oldest first,
    locked ``FOR UPDATE SKIP LOCKED`` where the database has it."""
    return list(
        conn.execute(
            _DUE_NOTICE_IDS[conn.dialect.name == "sqlite"], {"b_now": now, "b_batch": batch}
        ).scalars()
    )


def claim_notices(
    conn: Connection, now: datetime, *, batch: int, token: str, lease_seconds: int
) -> list[Any]:
    """Lease up to ``batch`` notices due for (re)delivery to ``token``; returns their rows."""
    ids = _due_notice_ids(conn, now, batch)
    if not ids:
        return []
    conn.execute(
        notice_t.update()
        .where(notice_t.c.id.in_(ids))
        .values(lease_owner=token, lease_until=now + timedelta(seconds=lease_seconds))
    )
    return list(
        conn.execute(select(notice_t).where(notice_t.c.id.in_(ids)).order_by(notice_t.c.id)).all()
    )


def sent_deliveries(conn: Connection, notice_ids: Sequence[int]) -> set[tuple[int, str, str]]:
    """(notice, channel, address) already delivered: not sent again."""
    return {
        (d.notice_id, d.channel, d.address)
        for d in conn.execute(
            select(delivery_t.c.notice_id, delivery_t.c.channel, delivery_t.c.address).where(
                delivery_t.c.notice_id.in_(list(notice_ids)), delivery_t.c.status == "sent"
            )
        )
    }


def renew_leases(
    conn: Connection, notice_ids: Sequence[int], token: str, until: datetime
) -> set[int]:
    """Extend this relay's leases on ``notice_ids`` to ``until``; returns the ids it still holds
    (a lease that ran out and was taken over by another relay is not renewed: fencing)."""
    if not notice_ids:
        return set()
    held = conn.execute(
        notice_t.update()
        .where(notice_t.c.id.in_(list(notice_ids)), notice_t.c.lease_owner == token)
        .values(lease_until=until)
        .returning(notice_t.c.id)
    )
    return {int(i) for i in held.scalars()}


def record_delivery(
    conn: Connection,
    notice_id: int,
    channel: str,
    address: str,
    person: str,
    error: str | None,
    now: datetime,
    *,
    token: str | None = None,
    until: datetime | None = None,
) -> bool:
    """One attempt to deliver a notice to an address on a channel (a sent one stays sent).

    With ``token`` (the relay's lease, a fencing token) the attempt is recorded only while that
    relay still holds the notice, and its lease is extended to ``until``; returns False, recording
    nothing, when another relay has taken the notice over."""
    if token is not None:
        held = conn.execute(
            _FENCE,
            {"b_id": notice_id, "b_token": token, "b_until": until if until is not None else now},
        )
        if held.rowcount != 1:
            return False
    # one statement: a new row, or the next attempt on the row there unless it was sent
    conn.execute(
        _RECORD_DELIVERY[conn.dialect.name == "sqlite"],
        {
            "notice_id": notice_id,
            "channel": channel,
            "address": address,
            "person": person,
            "status": "failed" if error else "sent",
            "attempts": 1,
            "last_error": error,
            "sent_at": None if error else now,
        },
    )
    return True


_FENCE = (
    notice_t.update()
    .where(notice_t.c.id == bindparam("b_id"), notice_t.c.lease_owner == bindparam("b_token"))
    .values(lease_until=bindparam("b_until", type_=notice_t.c.lease_until.type))
)


def _record_delivery_stmt(dialect: Any) -> Any:
    stmt = dialect.insert(delivery_t)
    return stmt.on_conflict_do_update(
        index_elements=["notice_id", "channel", "address"],
        set_={
            "status": stmt.excluded.status,
            "attempts": delivery_t.c.attempts + 1,
            "last_error": stmt.excluded.last_error,
            "sent_at": stmt.excluded.sent_at,
        },
        where=delivery_t.c.status != "sent",
    )


#: by "is the connection SQLite?"
_RECORD_DELIVERY = {True: _record_delivery_stmt(sqlite), False: _record_delivery_stmt(postgresql)}


def project_policies(conn: Connection, project_ids: Iterable[int]) -> dict[int, str]:
    return {
        p.id: p.policy
        for p in conn.execute(
            select(project_t.c.id, project_t.c.policy).where(project_t.c.id.in_(set(project_ids)))
        )
    }


def leases(conn: Connection, notice_ids: Sequence[int]) -> dict[int, Any]:
    """Each notice's lease owner and attempts, as they stand now."""
    return {
        r.id: r
        for r in conn.execute(
            select(notice_t.c.id, notice_t.c.lease_owner, notice_t.c.attempts).where(
                notice_t.c.id.in_(list(notice_ids))
            )
        )
    }


def add_to_inbox(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Inbox entries (notice, org, role, created_at); one per notice and recipient."""
    if rows:
        conn.execute(insert_ignore_stmt(conn, inbox_t, ["notice_id", "org", "role"]), list(rows))


#: what marking a notice sent at ``b_now`` writes: its lease released, one attempt more
_SENT_VALUES: dict[str, Any] = {
    "lease_owner": None,
    "lease_until": None,
    "attempts": notice_t.c.attempts + 1,
    "status": "sent",
    "sent_at": bindparam("b_now", type_=notice_t.c.sent_at.type),
    "last_error": None,
    "next_attempt_at": bindparam("b_now", type_=notice_t.c.next_attempt_at.type),
}
#: mark ``b_ids`` sent without a lease (the inbox as the only channel: claimed in this
#: transaction)
_MARK_SENT_UNLEASED = (
    notice_t.update()
    .where(notice_t.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(**_SENT_VALUES)
)
#: the same for the notices whose lease ``b_token`` still holds
_MARK_SENT = _MARK_SENT_UNLEASED.where(notice_t.c.lease_owner == bindparam("b_token"))


def mark_sent(conn: Connection, notice_ids: Sequence[int], now: datetime, token: str) -> None:
    """Release the leases ``token`` holds on ``notice_ids`` and mark them sent: the usual
    outcome, one statement for the batch (the other outcomes: :func:`finish_notices`)."""
    if notice_ids:
        conn.execute(_MARK_SENT, {"b_ids": list(notice_ids), "b_token": token, "b_now": now})


def deliver_to_inbox(conn: Connection, now: datetime, *, batch: int) -> int:
    """With the inbox as the only channel: up to ``batch`` due notices into the inbox and sent,
    in the caller's one transaction (claimed ``FOR UPDATE SKIP LOCKED``; no lease is needed
    since nothing is sent outside the transaction). The inbox rows are made by the database
    from each notice's recipients, in notice and recipient order. Returns how many."""
    ids = _due_notice_ids(conn, now, batch)
    if not ids:
        return 0
    conn.execute(_INBOX_OF_NOTICES[conn.dialect.name == "sqlite"], {"ids": ids, "now": now})
    conn.execute(_MARK_SENT_UNLEASED, {"b_ids": ids, "b_now": now})
    return len(ids)


def _inbox_of_notices(select_recipients: str) -> Any:
    return text(
        "INSERT INTO gpw_inbox (notice_id, org, role, created_at) "
        f"{select_recipients} "
        "ON CONFLICT (notice_id, org, role) DO NOTHING"
    ).bindparams(
        bindparam("ids", expanding=True),
        bindparam("now", type_=inbox_t.c.created_at.type),
    )


#: an inbox row per notice (``ids``) and recipient, by "is the connection SQLite?"
_INBOX_OF_NOTICES = {
    True: _inbox_of_notices(
        "SELECT n.id, json_extract(r.value, '$.org'), json_extract(r.value, '$.role'), :now "
        "FROM gpw_notice AS n, json_each(n.recipients) AS r "
        "WHERE n.id IN :ids ORDER BY n.id, r.key"
    ),
    False: _inbox_of_notices(
        "SELECT n.id, r.value ->> 'org', r.value ->> 'role', :now "
        "FROM gpw_notice AS n "
        "CROSS JOIN LATERAL jsonb_array_elements(n.recipients) WITH ORDINALITY AS r(value, i) "
        "WHERE n.id IN :ids ORDER BY n.id, r.i"
    ),
}


def finish_notices(conn: Connection, updates: Sequence[dict[str, Any]]) -> None:
    """Release the leases and record each notice's outcome: ``b_id``, ``b_attempts``,
    ``b_status``, ``b_sent_at``, ``b_last_error``, ``b_next_attempt_at``."""
    if not updates:
        return
    conn.execute(
        notice_t.update()
        .where(notice_t.c.id == bindparam("b_id"))
        .values(
            lease_owner=None,
            lease_until=None,
            attempts=bindparam("b_attempts"),
            status=bindparam("b_status"),
            sent_at=bindparam("b_sent_at"),
            last_error=bindparam("b_last_error"),
            next_attempt_at=bindparam("b_next_attempt_at"),
        ),
        list(updates),
    )


# -- health and reads -------------------------------------------------------------------------


def oldest_due_stage(conn: Connection, now: datetime) -> datetime | None:
    found: datetime | None = conn.execute(
        select(func.min(deadline_t.c.next_fire_at)).where(
            deadline_t.c.status == "open", deadline_t.c.next_fire_at <= now
        )
    ).scalar()
    return found


def count_by_status(conn: Connection) -> dict[str, int]:
    return dict(
        conn.execute(select(notice_t.c.status, func.count()).group_by(notice_t.c.status)).all()
    )


def oldest_undelivered(conn: Connection) -> datetime | None:
    found: datetime | None = conn.execute(
        select(func.min(notice_t.c.created_at)).where(notice_t.c.status.in_(("pending", "failed")))
    ).scalar()
    return found


def meta(conn: Connection) -> dict[str, str]:
    return dict(conn.execute(select(meta_t.c.key, meta_t.c.value)).all())


def notices(
    conn: Connection,
    *,
    project_id: int | None,
    status: str | None,
    stage: str | None,
    limit: int,
) -> list[Any]:
    query = select(notice_t).order_by(notice_t.c.id).limit(limit)
    if project_id is not None:
        query = query.where(notice_t.c.project_id == project_id)
    if status is not None:
        query = query.where(notice_t.c.status == status)
    if stage is not None:
        query = query.where(notice_t.c.stage == stage)
    return list(conn.execute(query))


def notice(conn: Connection, notice_id: int) -> Any:
    """The notice's row, or None."""
    return conn.execute(select(notice_t).where(notice_t.c.id == notice_id)).first()


def deliveries(conn: Connection, notice_id: int) -> list[dict[str, Any]]:
    return [
        dict(r._mapping)
        for r in conn.execute(
            select(delivery_t).where(delivery_t.c.notice_id == notice_id).order_by(delivery_t.c.id)
        )
    ]


def inbox(conn: Connection, org: str, role: str, *, limit: int) -> list[Any]:
    return list(
        conn.execute(
            select(notice_t)
            .join(inbox_t, inbox_t.c.notice_id == notice_t.c.id)
            .where(inbox_t.c.org == org, inbox_t.c.role == role)
            .order_by(notice_t.c.id.desc())
            .limit(limit)
        )
    )


def status_of(conn: Connection, notice_id: int) -> str | None:
    found = conn.execute(select(notice_t.c.status).where(notice_t.c.id == notice_id)).first()
    return None if found is None else str(found.status)


def reset_for_resend(conn: Connection, notice_id: int, at: datetime) -> None:
    """Make a notice pending again, on every channel, from ``at``."""
    conn.execute(
        notice_t.update()
        .where(notice_t.c.id == notice_id)
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=at,
            lease_owner=None,
            lease_until=None,
            last_error=None,
        )
    )
    conn.execute(
        delivery_t.update().where(delivery_t.c.notice_id == notice_id).values(status="pending")
    )
