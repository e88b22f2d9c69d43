"""Projects: the row (state, version, data, audit head), its audit entries and its deadline rows.

A save is a compare-and-set on the row's version plus the project's audit entries, in the
caller's transaction: a second writer that read the same version loses (``ConcurrentUpdate``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, Text, bindparam, cast, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from states import deadlines as dl
from states import ladder
from states.calendar import WorkingDayCalendar
from states.enums import DeadlineStatus
from states.errors import ConcurrentUpdate, InvalidInput, ProjectNotFound
from states.machine import Record
from states.model import Deadline, Project
from states.policy import Policy
from workflow import audit
from workflow.store import new_id, subscriptions
from workflow.store.calendar import REVISION_COLUMNS, REVISION_HEAD, REVISION_ON
from workflow.tables import audit_t, deadline_t, project_t

# The statements of an event, built once: SQLAlchemy then compiles each once and reuses it (a
# statement built per call costs more to build and to look up than to run on SQLite).
_LOAD = select(project_t).where(project_t.c.id == bindparam("b_id"))
#: an event's load also reads the calendar's and the subscription set's revisions (issue #11:
#: an event with no subscriber to tell pays no statement of its own for it)
#: the event's load reads the project's data as its JSON text, which pydantic parses and
#: validates in one pass (:func:`to_project`), instead of ``json.loads`` and then validating
_EVENT_COLUMNS = [
    type_coerce(c, Text).label("data") if c.name == "data" else c for c in project_t.columns
]
_LOAD_WITH_CALENDAR = (
    select(*_EVENT_COLUMNS, *REVISION_COLUMNS, *subscriptions.REVISION_COLUMNS)
    .select_from(
        project_t.outerjoin(REVISION_HEAD, REVISION_ON).outerjoin(
            subscriptions.REVISION_HEAD, subscriptions.REVISION_ON
        )
    )
    .where(project_t.c.id == bindparam("b_id"))
)
_LOADS = {
    (False, False): _LOAD,
    (True, False): _LOAD.with_for_update(),
    (False, True): _LOAD_WITH_CALENDAR,
    (True, True): _LOAD_WITH_CALENDAR.with_for_update(of=project_t),
}
_COMPARE_AND_SET = project_t.update().where(
    project_t.c.id == bindparam("b_id"), project_t.c.version == bindparam("b_old")
)


def _save_statements(data: Any) -> dict[bool, Any]:
    """The compare-and-set, for a new project's first entries (``True``: its version stays 1)
    and for an event's (``False``: version + 1)."""
    values = {
        "state": bindparam("b_state"),
        "title": bindparam("b_title"),
        "contractor_id": bindparam("b_contractor_id"),
        "data": data,
        "audit_seq": bindparam("b_audit_seq"),
        "audit_head": bindparam("b_audit_head"),
        "updated_at": bindparam("b_updated_at", type_=project_t.c.updated_at.type),
    }
    return {
        True: _COMPARE_AND_SET.values(**values),
        False: _COMPARE_AND_SET.values(version=bindparam("b_version"), **values),
    }


# The data goes in as the canonical JSON text its digest is computed over (one serialization,
# not two): as it is on SQLite (JSON is text there), cast on PostgreSQL. By dialect name.
_SAVES = {
    "sqlite": _save_statements(bindparam("b_data", type_=String())),
    "postgresql": _save_statements(cast(bindparam("b_data", type_=String()), JSONB)),
}
_SENT_STAGES = select(deadline_t.c.key, deadline_t.c.stage_index, deadline_t.c.moved_from).where(
    deadline_t.c.project_id == bindparam("b_project_id")
)
_DEADLINE_COLUMNS = (
    "kind",
    "owner",
    "rule",
    "due",
    "due_at",
    "provisional",
    "status",
    "met_on",
    "late",
    "updated_at",
    "next_stage",
    "next_fire_at",
)
_UPDATE_DEADLINE = deadline_t.update().where(
    deadline_t.c.project_id == bindparam("b_project_id"), deadline_t.c.key == bindparam("b_key")
)
#: a deadline row's update, with and without ``moved_from`` (left as it is unless it moved)
_UPDATE_DEADLINES = {
    moved: _UPDATE_DEADLINE.values(
        version=deadline_t.c.version + 1,
        **{
            c: bindparam(f"b_{c}", type_=deadline_t.c[c].type)
            for c in (*_DEADLINE_COLUMNS, *(("moved_from",) if moved else ()))
        },
    )
    for moved in (False, True)
}


#: built once: building an INSERT and its cache key costs more per event than SQLite runs it
_AUDIT_INSERT = audit_t.insert()


def load(
    conn: Connection, project_id: int, *, lock: bool = False, with_calendar: bool = False
) -> Any:
    """The project's row. ``lock``: ``SELECT … FOR UPDATE`` where the database has it
    (PostgreSQL), so concurrent writers of one project queue instead of racing.
    ``with_calendar``: the row also carries the calendar's revision (``calendar_seq``,
    ``calendar_hash``; :func:`workflow.store.calendar.revision_of`) and the subscription set's
    (:func:`workflow.store.subscriptions.revision_of`), read in the same statement."""
    if not isinstance(project_id, int) or isinstance(project_id, bool):
        raise InvalidInput("项目编号须为整数", "project_id must be an integer", field="project_id")
    query = _LOADS[(lock and conn.dialect.name != "sqlite", with_calendar)]
    row = conn.execute(query, {"b_id": project_id}).first()
    if row is None:
        raise ProjectNotFound(
            f"项目 {project_id} 不存在", f"project {project_id} not found", field="project_id"
        )
    return row


def to_project(row: Any) -> Project:
    """The project of a row (its ``data`` as a mapping, or as JSON text: an event's load)."""
    data = row.data
    project = (
        Project.model_validate_json(data) if isinstance(data, str) else Project.model_validate(data)
    )
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
    data: dict[str, Any] | None = None,
) -> datetime | None:
    """Write the project after an event: compare-and-set on ``version``, its audit entries
    (stamped ``now``), its changed deadline rows. Returns the earliest notice stage it scheduled
    (or None). ``data``: ``project.to_json()``, when the caller has it already."""
    assert project.id is not None
    if data is None:
        data = project.to_json()
    after = 1 if created else version + 1
    canonical = audit.canonical_json(data)
    digest = audit.text_digest(canonical)
    rows = audit.build_entries(
        f"project:{project.id}",
        head,
        [_record_dict(r, recorded_at=now, version=after, digest=digest) for r in records],
        project_id=project.id,
    )
    values = {
        "b_id": project.id,
        "b_old": version,
        "b_state": project.state.value,
        "b_title": project.title,
        "b_contractor_id": project.contractor_id,
        "b_data": canonical,
        "b_audit_seq": rows[-1]["seq"],
        "b_audit_head": rows[-1]["hash"],
        "b_updated_at": at,
    }
    if not created:
        values["b_version"] = after
    # compare-and-set on the version: a second writer that read the same version loses
    saves = _SAVES.get(conn.dialect.name)
    if saves is None:  # another database: the JSON column's own serialization
        values["b_data"] = data
        saves = _save_statements(bindparam("b_data", type_=project_t.c.data.type))
    done = conn.execute(saves[created], values)
    if done.rowcount != 1:
        raise ConcurrentUpdate(details={"version": version})
    # a duplicate (stream, seq) is a lost race too: the Database translates it
    conn.execute(_AUDIT_INSERT, rows)
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
    sent = {r.key: r for r in conn.execute(_SENT_STAGES, {"b_project_id": project.id})}
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
            # a suspended deadline's row says so: the scheduler claims open rows only
            "status": dl.row_status(d),
            "met_on": d.met_on,
            "late": d.late,
            "updated_at": at,
            "next_stage": None,
            "next_fire_at": None,
        }
        if values["status"] == DeadlineStatus.OPEN.value:
            # the ladder moves with the due day; stages already sent are not sent again
            rungs = ladder.ladder(d.kind, d.due, policy, working_days)
            rung = ladder.next_after(rungs, stage_index)
            if rung is not None:
                values["next_stage"], values["next_fire_at"] = rung.stage, rung.fire_at
                earliest = rung.fire_at if earliest is None else min(earliest, rung.fire_at)
            # a move is told in the next notice: once a stage was sent, or always when the clock
            # restarted or was extended (the next notice says so)
            clocked = prev is not None and len(d.changes) > len(prev.changes)
            if prev is not None and prev.due != d.due and (stage_index >= 0 or clocked):
                values["moved_from"] = (
                    row.moved_from if row is not None and row.moved_from else prev.due
                )
        if row is None:
            conn.execute(
                deadline_t.insert(),
                {"project_id": project.id, "key": d.key, "version": 1, "stage_index": -1, **values},
            )
        else:
            conn.execute(
                _UPDATE_DEADLINES["moved_from" in values],
                {
                    "b_project_id": project.id,
                    "b_key": d.key,
                    **{f"b_{k}": v for k, v in values.items()},
                },
            )
    return earliest


def with_open_deadlines(conn: Connection, *, provisional_only: bool) -> list[int]:
    """Ids of the projects holding an open deadline, running or suspended (only provisional
    ones, if asked)."""
    query = select(deadline_t.c.project_id).where(
        deadline_t.c.status.in_((DeadlineStatus.OPEN.value, DeadlineStatus.SUSPENDED.value))
    )
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
