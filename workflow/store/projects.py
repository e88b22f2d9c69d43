"""Projects: the row (state, version, data, audit head), its audit entries and its deadline rows.

A save is a compare-and-set on the row's version plus the project's audit entries, in the
caller's transaction: a second writer that read the same version loses (``ConcurrentUpdate``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from states import deadlines as dl
from states import ladder
from states.calendar import WorkingDayCalendar
from states.enums import DeadlineStatus
from states.errors import ConcurrentUpdate, InvalidInput, ProjectNotFound
from states.machine import Record
from states.model import Deadline, Project
from states.policy import Policy
from workflow import audit
from workflow.store import for_update, new_id
from workflow.tables import audit_t, deadline_t, project_t


def load(conn: Connection, project_id: int, *, lock: bool = False) -> Any:
    """The project's row. ``lock``: ``SELECT … FOR UPDATE`` where the database has it
    (PostgreSQL), so concurrent writers of one project queue instead of racing."""
    if not isinstance(project_id, int) or isinstance(project_id, bool):
        raise InvalidInput("项目编号须为整数", "project_id must be an integer", field="project_id")
    query = select(project_t).where(project_t.c.id == project_id)
    if lock:
        query = for_update(query, conn)
    row = conn.execute(query).first()
    if row is None:
        raise ProjectNotFound(
            f"项目 {project_id} 不存在", f"project {project_id} not found", field="project_id"
        )
    return row


def to_project(row: Any) -> Project:
    project = Project.model_validate(row.data)
    project.id = row.id
    return project


def insert(conn: Connection, project: Project, at: datetime) -> int:
    """A new project's row at version 1 with an empty audit chain; returns its id."""
    return new_id(
        conn.execute(
            project_t.insert().values(
                title=project.title,
                purchaser=project.purchaser,
                policy=project.policy,
                state=project.state.value,
                version=1,
                data=project.to_json(),
                audit_seq=0,
                audit_head=audit.GENESIS,
                created_at=at,
                updated_at=at,
            )
        )
    )


def _record_dict(
    rec: Record, *, recorded_at: datetime, version: int, digest: str
) -> dict[str, Any]:
    """An audit record of a project event: what happened, when the engine wrote it, and the
    project's version and data digest after the transaction (so the row can be replayed)."""
    return {
        "at": rec.at,
        "recorded_at": recorded_at,
        "version": version,
        "digest": digest,
        "actor_id": rec.actor.id,
        "role": rec.actor.role,
        "org": rec.actor.org,
        "event": rec.event,
        "from_state": rec.from_state.value,
        "to_state": rec.to_state.value,
        "data": rec.data,
    }


def save(
    conn: Connection,
    project: Project,
    records: Sequence[Record],
    *,
    version: int,
    created: bool,
    at: datetime,
    now: datetime,
    head: tuple[int, str],
    old_deadlines: dict[str, Deadline],
    policy: Policy,
    calendar: Callable[[], WorkingDayCalendar],
) -> datetime | None:
    """Write the project after an event: compare-and-set on ``version``, its audit entries
    (stamped ``now``), its changed deadline rows. Returns the earliest notice stage it scheduled
    (or None)."""
    assert project.id is not None
    data = project.to_json()
    after = 1 if created else version + 1
    digest = audit.data_digest(data)
    rows = audit.build_entries(
        f"project:{project.id}",
        head,
        [_record_dict(r, recorded_at=now, version=after, digest=digest) for r in records],
        project_id=project.id,
    )
    values = {
        "state": project.state.value,
        "title": project.title,
        "contractor_id": project.contractor_id,
        "data": data,
        "audit_seq": rows[-1]["seq"],
        "audit_head": rows[-1]["hash"],
        "updated_at": at,
    }
    if not created:
        values["version"] = after
    # compare-and-set on the version: a second writer that read the same version loses
    done = conn.execute(
        project_t.update()
        .where(project_t.c.id == project.id, project_t.c.version == version)
        .values(**values)
    )
    if done.rowcount != 1:
        raise ConcurrentUpdate(details={"version": version})
    # a duplicate (stream, seq) is a lost race too: the Database translates it
    conn.execute(audit_t.insert(), rows)
    return sync_deadlines(conn, project, old_deadlines, at, policy=policy, calendar=calendar)


def sync_deadlines(
    conn: Connection,
    project: Project,
    old: dict[str, Deadline],
    at: datetime,
    *,
    policy: Policy,
    calendar: Callable[[], WorkingDayCalendar],
) -> datetime | None:
    """Bring the project's deadline rows in line with its deadlines (only those that changed),
    placing each open one's next notice stage on the ladder. Returns the earliest such stage.
    ``calendar`` is asked for only when a deadline changed."""
    changed = [d for d in project.deadlines if old.get(d.key) != d]
    if not changed:
        return None
    working_days = calendar()
    earliest: datetime | None = None
    sent = {
        r.key: r
        for r in conn.execute(
            select(deadline_t.c.key, deadline_t.c.stage_index, deadline_t.c.moved_from).where(
                deadline_t.c.project_id == project.id
            )
        )
    }
    for d in changed:
        prev, row = old.get(d.key), sent.get(d.key)
        stage_index = row.stage_index if row is not None else -1
        values: dict[str, Any] = {
            "kind": d.kind,
            "owner": d.owner.value,
            "rule": d.rule,
            "due": d.due,
            "due_at": dl.end_of_day(d.due),
            "provisional": d.provisional,
            "status": d.status.value,
            "met_on": d.met_on,
            "late": d.late,
            "updated_at": at,
            "next_stage": None,
            "next_fire_at": None,
        }
        if d.status is DeadlineStatus.OPEN:
            # the ladder moves with the due day; stages already sent are not sent again
            rungs = ladder.ladder(d.kind, d.due, policy, working_days)
            rung = ladder.next_after(rungs, stage_index)
            if rung is not None:
                values["next_stage"], values["next_fire_at"] = rung.stage, rung.fire_at
                earliest = rung.fire_at if earliest is None else min(earliest, rung.fire_at)
            if prev is not None and prev.due != d.due and stage_index >= 0:
                values["moved_from"] = (
                    row.moved_from if row is not None and row.moved_from else prev.due
                )
        if row is None:
            conn.execute(
                deadline_t.insert().values(
                    project_id=project.id, key=d.key, version=1, stage_index=-1, **values
                )
            )
        else:
            conn.execute(
                deadline_t.update()
                .where(deadline_t.c.project_id == project.id, deadline_t.c.key == d.key)
                .values(version=deadline_t.c.version + 1, **values)
            )
    return earliest


def with_open_deadlines(conn: Connection, *, provisional_only: bool) -> list[int]:
    """Ids of the projects holding an open deadline (only provisional ones, if asked)."""
    query = select(deadline_t.c.project_id).where(deadline_t.c.status == DeadlineStatus.OPEN.value)
    if provisional_only:
        query = query.where(deadline_t.c.provisional.is_(True))
    return sorted({r.project_id for r in conn.execute(query)})


def summaries(
    conn: Connection, *, state: str | None, purchaser: str | None, limit: int
) -> list[dict[str, Any]]:
    """A summary line per project (id, title, purchaser, policy, state, version), newest first."""
    query = (
        select(
            project_t.c.id,
            project_t.c.title,
            project_t.c.purchaser,
            project_t.c.policy,
            project_t.c.state,
            project_t.c.version,
            project_t.c.updated_at,
        )
        .order_by(project_t.c.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(project_t.c.state == state)
    if purchaser is not None:
        query = query.where(project_t.c.purchaser == purchaser)
    return [
        {
            "id": r.id,
            "title": r.title,
            "purchaser": r.purchaser,
            "policy": r.policy,
            "state": r.state,
            "version": r.version,
            "updated_at": r.updated_at.isoformat(),
        }
        for r in conn.execute(query)
    ]


def history(conn: Connection, project_id: int) -> list[audit.AuditEntry]:
    """The project's audit entries, oldest first (the project must exist)."""
    load(conn, project_id)
    rows = conn.execute(
        select(audit_t).where(audit_t.c.stream == f"project:{project_id}").order_by(audit_t.c.seq)
    )
    return [audit.row_to_entry(r) for r in rows]
