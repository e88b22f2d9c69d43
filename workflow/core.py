"""The ``Workflow`` facade: the one door every face (library, CLI, web) goes through.

Every accepted event is one database transaction: the project's new state and data, its deadline
rows, and its audit entries (plus any ban it writes into a contractor's credit record) commit
together or not at all. A malformed call is refused before the database is touched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from notifications.channels import Channel, NoticeConfig, Person
from states import deadlines as dl
from states import ladder
from states.calendar import WorkingDay, WorkingDayCalendar, YearSchedule
from states.enums import DeadlineStatus, ProjectState, Role
from states.errors import (
    ConcurrentUpdate,
    ContractorNotFound,
    Forbidden,
    InvalidInput,
    ProjectNotFound,
    WorkflowError,
)
from states.machine import EVENTS, Context, Outcome, Record
from states.machine import available_events as _available
from states.machine import fire as _fire
from states.model import Actor, Ban, Contractor, Deadline, Project, Supervisors
from states.payloads import (
    BanContractor,
    Payload,
    ProjectPlan,
    RegisterContractor,
    check_aware,
    check_dates,
    parse_model,
    parse_payload,
)
from states.policy import DEFAULT_POLICY, Policy, load_policy
from workflow import audit
from workflow.notices import Directory, Notice, NoticeEngine, RelayReport
from workflow.persistence import (
    READ_ONLY,
    audit_t,
    calendar_t,
    contractor_t,
    create_schema,
    deadline_t,
    head_t,
    open_engine,
    prepare_engine,
    project_t,
    utcnow,
)
from workflow.views import ContractorView, ProjectView

_LOGGER = logging.getLogger("gpw")

CALENDAR_STREAM = "calendar"


def _check_actor(actor: object) -> Actor:
    if not isinstance(actor, Actor):
        raise InvalidInput("actor 须为 Actor", "actor must be an Actor", field="actor")
    if actor.role not in {r.value for r in Role}:
        raise InvalidInput(
            f"未知角色 {actor.role!r}", f"unknown role {actor.role!r}", field="actor.role"
        )
    return actor


def _supervisors(plan: ProjectPlan, policy: Policy) -> Supervisors:
    """The project's supervising bodies: given, or the policy's where they apply (R1, notices)."""
    if plan.supervisors is not None:
        given = plan.supervisors
        return Supervisors(
            government=given.government,
            finance=given.finance,
            audit=given.audit,
            leader=given.leader or plan.purchaser,
        )
    default = policy.default_supervisors(plan.purchaser)
    if default is None:
        raise InvalidInput(
            f"政策 {policy.name} 没有适用于 {plan.purchaser} 的默认监督机关：请在 supervisors 中"
            "写明本级人民政府、财政局、审计局（government, finance, audit）",
            f"policy {policy.name} has no default supervising bodies for {plan.purchaser}: give "
            "supervisors (government, finance, audit) at the purchaser's level",
            field="supervisors",
            rule="R1",
        )
    return Supervisors(leader=plan.purchaser, **default)


def _require_role(actor: Actor, roles: set[Role], what: str) -> None:
    if Role(actor.role) not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise Forbidden(
            f"角色 {actor.role} 无权{what}；允许：{allowed}",
            f"role {actor.role} may not {what}; allowed: {allowed}",
            field="actor.role",
        )


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


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


class CalendarService:
    """The working-day calendar as this workflow sees it: official data (chinese-calendar) plus
    the years operators added to the database. Shared by every process through the database."""

    def __init__(self, wf: Workflow) -> None:
        self._wf = wf
        self._lock = threading.Lock()
        self._calendar = WorkingDayCalendar.official()
        self._revision = -1

    def current(self, conn: Connection | None = None) -> WorkingDayCalendar:
        """The calendar, reloaded when another process added a year (one indexed read)."""
        if conn is None:
            with self._wf._read() as c:
                return self.current(c)
        found = conn.execute(
            select(head_t.c.seq).where(head_t.c.stream == CALENDAR_STREAM)
        ).scalar()
        revision = int(found or 0)
        if revision != self._revision:
            extra = [
                YearSchedule.from_dict(r.data, source=r.source)
                for r in conn.execute(select(calendar_t).order_by(calendar_t.c.year))
            ]
            with self._lock:
                self._calendar = WorkingDayCalendar.official(extra)
                self._revision = revision
        return self._calendar

    def add_working_days(self, day: date, n: int) -> WorkingDay:
        return self.current().add_working_days(day, n)

    def next_working_day(self, day: date) -> WorkingDay:
        return self.current().next_working_day(day)

    def is_working_day(self, day: date) -> bool:
        return self.current().is_working_day(day)

    def working_days_between(self, a: date, b: date) -> int:
        return self.current().working_days_between(a, b)

    def schedule(self, year: int) -> YearSchedule:
        return self.current().schedule(year)

    def known_years(self) -> list[int]:
        return sorted(self.current().known_years)

    def add_year(
        self,
        schedule: YearSchedule | Mapping[str, Any] | str | Path,
        *,
        actor: Actor,
        at: datetime | None = None,
        replace: bool = False,
    ) -> list[dict[str, Any]]:
        """Load a year's official schedule (days off, make-up days, the notice) as data.

        Open provisional deadlines are recomputed in the same transaction, each change audited
        in its project's trail. Returns the changes: project, key, old and new due day.
        """
        wf = self._wf
        at = wf._record_at(at)
        _check_actor(actor)
        _require_role(actor, {Role.ADMIN, Role.GOVERNMENT}, "维护工作日历 / maintain the calendar")
        if isinstance(schedule, str | Path):
            schedule = _read_schedule_file(Path(schedule))
        if not isinstance(schedule, YearSchedule):
            schedule = YearSchedule.from_dict(schedule, source="operator")
        changes: list[dict[str, Any]] = []
        with wf._write() as conn:
            exists = conn.execute(
                select(calendar_t.c.year).where(calendar_t.c.year == schedule.year)
            ).first()
            if exists and not replace:
                raise InvalidInput(
                    f"{schedule.year} 年的工作日安排已存在（如需更正请用 replace）",
                    f"the {schedule.year} schedule exists already (use replace to correct it)",
                    field="year",
                )
            if not exists and schedule.year in self.current(conn).known_years and not replace:
                raise InvalidInput(
                    f"{schedule.year} 年已有官方数据（如需更正请用 replace）",
                    f"{schedule.year} is covered by official data (use replace to correct it)",
                    field="year",
                )
            row = {
                "year": schedule.year,
                "data": schedule.to_dict(),
                "source": "operator",
                "loaded_at": at,
                "loaded_by": actor.id,
            }
            if exists:
                conn.execute(
                    calendar_t.update().where(calendar_t.c.year == schedule.year).values(**row)
                )
            else:
                conn.execute(calendar_t.insert().values(**row))
            audit.log(
                conn,
                CALENDAR_STREAM,
                actor=actor,
                at=at,
                event="add_year" if not exists else "replace_year",
                data={
                    "year": schedule.year,
                    "notice": schedule.notice,
                    "holidays": len(schedule.holidays),
                    "workdays": len(schedule.workdays),
                },
            )
            calendar = self.current(conn)
            changes = wf._recompute_deadlines(
                conn, calendar, actor=actor, at=at, only_year=schedule.year, replace=replace
            )
        return changes


def _read_schedule_file(path: Path) -> YearSchedule:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(
            f"无法读取日历文件 {path}：{exc}",
            f"cannot read calendar file {path}: {exc}",
            field="file",
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInput(
            "日历文件须为 JSON 对象", "a calendar file is a JSON object", field="file"
        )
    return YearSchedule.from_dict(data, source="operator")


class Workflow:
    """Runs purchase projects: create, fire events, read, audit.

    Args:
        engine: a SQLAlchemy engine (SQLite or PostgreSQL). Nothing connects until used.
        policy: the default policy for new projects: a built-in name or a path to a JSON file.
        clock: returns the current aware datetime; used only where a call passes no ``at``.
        policies: further policies projects may name (built-ins are always known).
        create: create the tables if missing (SQLite's embedded default; use Alembic elsewhere).
        notices: channels, SMTP, webhook secret, language, templates (default: inbox only).
        channels: channel objects to use instead of the ones ``notices`` configures.
        mode: ``"write"`` (default) or ``"read"``: a reader never creates tables (and
            :meth:`open` opens an SQLite file read-only, refusing a missing or foreign one).
    """

    def __init__(
        self,
        *,
        engine: Engine,
        policy: str | Path | Policy = DEFAULT_POLICY,
        clock: Callable[[], datetime] = utcnow,
        policies: Sequence[str | Path | Policy] = (),
        create: bool = True,
        notices: NoticeConfig | None = None,
        channels: Sequence[Channel] | None = None,
        mode: Literal["read", "write"] = "write",
    ) -> None:
        if mode not in ("read", "write"):
            raise InvalidInput(
                f"mode 须为 read 或 write：{mode!r}",
                f"mode is read or write: {mode!r}",
                field="mode",
            )
        self.mode = mode
        self.engine = prepare_engine(engine)
        self.clock = clock
        self._listeners: list[Callable[[datetime], None]] = []
        self._policies: dict[str, Policy] = {}
        self.policy = self.register_policy(policy)
        for extra in policies:
            self.register_policy(extra)
        if create and mode == "write":
            create_schema(self.engine)
        self.calendar = CalendarService(self)
        self.directory = Directory(self)
        config = notices or NoticeConfig()
        self._notices = NoticeEngine(
            self, config, config.build_channels() if channels is None else channels
        )

    @classmethod
    def open(
        cls,
        url_or_engine: str | Engine,
        *,
        policy: str | Path | Policy = DEFAULT_POLICY,
        clock: Callable[[], datetime] = utcnow,
        policies: Sequence[str | Path | Policy] = (),
        create: bool = True,
        notices: NoticeConfig | None = None,
        channels: Sequence[Channel] | None = None,
        mode: Literal["read", "write"] = "write",
    ) -> Workflow:
        """Open a workflow on a database URL (``sqlite:///gpw.db``) or an existing engine.

        The URL is checked before anything touches it (:func:`~workflow.persistence.
        check_database`): ``mode="read"`` needs an existing gpw database (``NotFound`` for a
        missing file, ``ConfigurationError`` for another kind of file) and opens an SQLite file
        read-only; ``mode="write"`` may create a new file but never writes into a file that is
        not SQLite, is damaged, read-only or another program's database (``ConfigurationError``).
        """
        engine = (
            open_engine(url_or_engine, mode=mode)
            if isinstance(url_or_engine, str)
            else url_or_engine
        )
        return cls(
            engine=engine,
            policy=policy,
            clock=clock,
            policies=policies,
            create=create,
            notices=notices,
            channels=channels,
            mode=mode,
        )

    def close(self) -> None:
        self.engine.dispose()

    # -- plumbing -------------------------------------------------------------------------------

    def register_policy(self, policy: str | Path | Policy) -> Policy:
        loaded = policy if isinstance(policy, Policy) else load_policy(policy)
        self._policies[loaded.name] = loaded
        return loaded

    def policy_named(self, name: str) -> Policy:
        found = self._policies.get(name)
        if found is None:
            found = self.register_policy(name)
        return found

    def _at(self, at: datetime | None) -> datetime:
        return check_aware(self.clock() if at is None else at, "at")

    def _now(self) -> datetime:
        """The engine's clock, checked: what every audit entry records as ``recorded_at``."""
        return check_aware(self.clock(), "clock")

    def _record_at(self, at: datetime | None) -> datetime:
        """The business time of a write that records it (default: the clock's now). Aware, and
        at most five minutes after the clock's now: the future is not recorded (R15)."""
        now = self._now()
        at = now if at is None else check_aware(at, "at")
        audit.check_not_future(at, now)
        return at

    @staticmethod
    def _check_after_last(row: Any, at: datetime) -> None:
        """A project event is not dated before the project's last audit entry (R15). That
        entry's ``at`` is the row's ``updated_at``: both are written by the same transaction
        (and ``verify`` reports a row whose ``updated_at`` is not its last entry's ``at``)."""
        last = row.updated_at
        if last is not None and at < last:
            raise InvalidInput(
                f"字段 at（{at.isoformat()}）早于项目 {row.id} 上一条留痕的时间 "
                f"{last.isoformat()}：不能倒填",
                f"field at ({at.isoformat()}) is earlier than project {row.id}'s previous "
                f"audit entry ({last.isoformat()}): entries cannot be backdated",
                field="at",
                rule="R15",
            )

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            conn.info["gpw_earliest_fire"] = None
            conn.info[audit.CLOCK_KEY] = self._now  # recorded_at of non-project entries
            try:
                yield conn
            finally:
                conn.info.pop(audit.CLOCK_KEY, None)
            earliest = conn.info.pop("gpw_earliest_fire", None)
        # after commit only: a rolled-back change wakes nobody
        if earliest is not None:
            for listener in list(self._listeners):
                listener(earliest)

    def on_schedule(self, listener: Callable[[datetime], None]) -> None:
        """Call ``listener(fire_at)`` after a commit that scheduled a notice stage (the worker
        uses it to wake its scheduler early)."""
        self._listeners.append(listener)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(**READ_ONLY) as conn, conn.begin():
            yield conn

    # -- projects -------------------------------------------------------------------------------

    def create_project(
        self,
        *,
        actor: Actor,
        title: str,
        purchaser: str,
        budget: Any,
        items: Sequence[Mapping[str, Any]] = (),
        policy: str | None = None,
        at: datetime | None = None,
        supervisors: Mapping[str, Any] | None = None,
    ) -> int:
        """Draft a purchase plan (立项, R1). Returns the new project's id.

        ``supervisors`` names the bodies supervising the project at the purchaser's level
        (``government``, ``finance``, ``audit`` and optionally ``leader``, the organisation whose
        leader supervises the purchaser: by default the purchaser itself). Without it, the
        policy's default bodies are used where they apply to the purchaser; otherwise it is
        required (no default sends a county's escalation to a city or a province)."""
        at = self._record_at(at)
        _check_actor(actor)
        plan = parse_model(
            ProjectPlan,
            {
                "title": title,
                "purchaser": purchaser,
                "budget": budget,
                "items": items,
                "supervisors": supervisors,
            },
            what="立项 / create_project",
        )
        chosen = self.policy if policy is None else self.policy_named(policy)
        _require_role(actor, {Role.PURCHASER}, "立项 / create a project")
        if actor.org != plan.purchaser:
            raise Forbidden(
                f"{actor.org or '（未填单位）'} 不能代表 {plan.purchaser} 立项：只能为本单位操作",
                f"{actor.org or '(no organisation)'} may not create a project for "
                f"{plan.purchaser}: an actor acts only for its own organisation",
                field="actor.org",
            )
        bodies = _supervisors(plan, chosen)
        project = Project(
            title=plan.title,
            purchaser=plan.purchaser,
            policy=chosen.name,
            supervisors=bodies,
            budget=plan.budget,
            items=list(plan.items),
        )
        with self._write() as conn:
            pid = _new_id(
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
            project.id = int(pid)
            rec = Record(
                "create_project",
                actor,
                at,
                ProjectState.DRAFT,
                ProjectState.DRAFT,
                plan.model_dump(mode="json"),
            )
            self._store(
                conn,
                project,
                [rec],
                version=1,
                created=True,
                at=at,
                head=(0, audit.GENESIS),
                old_deadlines={},
            )
        return int(pid)

    def fire(
        self,
        project_id: int,
        event: str,
        *,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
        **data: Any,
    ) -> ProjectView:
        """Fire ``event`` on a project, in one transaction.

        Raises:
            InvalidInput: malformed call (checked first, whatever the state); nothing is written.
            IllegalTransition, Forbidden, GuardRefused: in that order.
            ProjectNotFound: no such project.
            ConcurrentUpdate: ``expected_version`` is stale, or another writer won the race.
        """
        at = self._record_at(at)
        _check_actor(actor)
        if expected_version is not None and (
            not isinstance(expected_version, int) or isinstance(expected_version, bool)
        ):
            raise InvalidInput(
                "expected_version 须为整数",
                "expected_version must be an integer",
                field="expected_version",
            )
        payload = parse_payload(event, data)
        check_dates(payload, dl.business_date(at))
        with self._write() as conn:
            row = self._load_row(conn, project_id)
            if expected_version is not None and row.version != expected_version:
                raise ConcurrentUpdate(
                    f"项目版本已变为 {row.version}（期望 {expected_version}）",
                    f"the project is at version {row.version}, not {expected_version}",
                    field="expected_version",
                    details={"version": row.version},
                )
            self._check_after_last(row, at)
            project = self._project(row)
            known = self._contractors_for(conn, project, event, payload)
            cid = getattr(payload, "contractor_id", None) or project.contractor_id
            ctx = Context(
                policy=self.policy_named(row.policy),
                calendar=self.calendar.current(conn),
                contractor=known.get(cid) if cid is not None else None,
                contractors=known,
            )
            try:
                outcome = _fire(project, event, payload, actor=actor, at=at, ctx=ctx)
            except WorkflowError as exc:
                # a refusal writes nothing to the project; it is logged here instead
                _LOGGER.info(
                    "refused: project %s %s by %s (%s): %s",
                    project_id,
                    event,
                    actor.id,
                    actor.role,
                    exc.message,
                )
                raise
            self._save(conn, row, project, outcome, at)
        return ProjectView.of(
            outcome.project, version=row.version + 1, created_at=row.created_at, updated_at=at
        )

    def _contractors_for(
        self, conn: Connection, project: Project, event: str, payload: Payload
    ) -> dict[int, Contractor]:
        """The register entries an event consults: the project's contractor, the candidate, the
        contractors a review scores and those of the latest review (R4, R5, R12)."""
        if not EVENTS[event].needs_contractor:
            return {}
        ids: set[int] = set()
        for cid in (getattr(payload, "contractor_id", None), project.contractor_id):
            if cid is not None:
                ids.add(int(cid))
        scored = [*getattr(payload, "scores", {})]
        if event == "award" and project.reviews:
            scored.extend(project.reviews[-1].scores)
        ids.update(int(k) for k in scored if k.isdigit() and len(k) <= 18)
        if not ids:
            return {}
        rows = conn.execute(select(contractor_t).where(contractor_t.c.id.in_(sorted(ids))))
        return {r.id: self._contractor(r) for r in rows}

    def _load_row(self, conn: Connection, project_id: int) -> Any:
        if not isinstance(project_id, int) or isinstance(project_id, bool):
            raise InvalidInput(
                "项目编号须为整数", "project_id must be an integer", field="project_id"
            )
        row = conn.execute(select(project_t).where(project_t.c.id == project_id)).first()
        if row is None:
            raise ProjectNotFound(
                f"项目 {project_id} 不存在", f"project {project_id} not found", field="project_id"
            )
        return row

    @staticmethod
    def _project(row: Any) -> Project:
        project = Project.model_validate(row.data)
        project.id = row.id
        return project

    @staticmethod
    def _contractor(row: Any) -> Contractor:
        return Contractor.model_validate(
            {"id": row.id, "name": row.name, "org_type": row.org_type, "sme": row.sme, **row.data}
        )

    def _save(
        self, conn: Connection, row: Any, before: Project, outcome: Outcome, at: datetime
    ) -> None:
        old = {d.key: d for d in before.deadlines}
        self._store(
            conn,
            outcome.project,
            outcome.records,
            version=row.version,
            created=False,
            at=at,
            head=(row.audit_seq, row.audit_head),
            old_deadlines=old,
        )
        for contractor_id, ban in outcome.bans:
            self._write_ban(conn, contractor_id, ban, outcome.records[-1].actor, at)

    def _store(
        self,
        conn: Connection,
        project: Project,
        records: list[Record],
        *,
        version: int,
        created: bool,
        at: datetime,
        head: tuple[int, str],
        old_deadlines: dict[str, Deadline],
    ) -> None:
        assert project.id is not None
        data = project.to_json()
        after = 1 if created else version + 1
        now, digest = self._now(), audit.data_digest(data)
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
        try:
            conn.execute(audit_t.insert(), rows)
        except IntegrityError as exc:
            raise ConcurrentUpdate() from exc
        self._sync_deadlines(conn, project, old_deadlines, at)

    def _sync_deadlines(
        self, conn: Connection, project: Project, old: dict[str, Deadline], at: datetime
    ) -> None:
        changed = [d for d in project.deadlines if old.get(d.key) != d]
        if not changed:
            return
        policy = self.policy_named(project.policy)
        calendar = self.calendar.current(conn)
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
                rung = ladder.next_after(
                    ladder.ladder(d.kind, d.due, policy, calendar), stage_index
                )
                if rung is not None:
                    values["next_stage"], values["next_fire_at"] = rung.stage, rung.fire_at
                    earliest = conn.info.get("gpw_earliest_fire")
                    conn.info["gpw_earliest_fire"] = min(rung.fire_at, earliest or rung.fire_at)
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

    def _recompute_deadlines(
        self,
        conn: Connection,
        calendar: WorkingDayCalendar,
        *,
        actor: Actor,
        at: datetime,
        only_year: int,
        replace: bool,
    ) -> list[dict[str, Any]]:
        """Recompute open deadlines a calendar change may move; audit each move."""
        query = select(deadline_t.c.project_id).where(
            deadline_t.c.status == DeadlineStatus.OPEN.value
        )
        if not replace:
            query = query.where(deadline_t.c.provisional.is_(True))
        project_ids = sorted({r.project_id for r in conn.execute(query)})
        changes: list[dict[str, Any]] = []
        for pid in project_ids:
            row = self._load_row(conn, pid)
            before = self._project(row)
            after = before.model_copy(deep=True)
            moved: list[dict[str, Any]] = []
            for d in after.open_deadlines():
                if d.unit not in ("working_days", "calendar_months"):
                    continue
                if not d.provisional and not replace:
                    continue
                old_due, old_prov = d.due, d.provisional
                dl.recompute(d, calendar)
                if (d.due, d.provisional) != (old_due, old_prov):
                    moved.append(
                        {
                            "key": d.key,
                            "old_due": old_due.isoformat(),
                            "new_due": d.due.isoformat(),
                            "provisional": d.provisional,
                        }
                    )
            if not moved:
                continue
            rec = Record(
                "recompute_deadlines",
                actor,
                at,
                after.state,
                after.state,
                {"year": only_year, "moved": moved},
            )
            outcome = Outcome(project=after, records=[rec])
            self._save(conn, row, before, outcome, at)
            changes.extend({"project_id": pid, **m} for m in moved)
        return changes

    def project(self, project_id: int) -> ProjectView:
        """The project's state, version, data, deadlines and payments."""
        with self._read() as conn:
            row = self._load_row(conn, project_id)
        return ProjectView.of(
            self._project(row),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def projects(
        self, *, state: str | None = None, purchaser: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """A summary line per project (id, title, purchaser, state, version), newest first."""
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
        with self._read() as conn:
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

    def available_events(
        self, project_id: int, actor: Actor, at: datetime | None = None
    ) -> list[str]:
        """Events ``actor`` may fire on the project now (state, role and data-free guards)."""
        at = self._at(at)
        _check_actor(actor)
        with self._read() as conn:
            row = self._load_row(conn, project_id)
            project = self._project(row)
            ctx = Context(
                policy=self.policy_named(row.policy), calendar=self.calendar.current(conn)
            )
        return _available(project, actor, ctx, at)

    def history(self, project_id: int) -> list[audit.AuditEntry]:
        """The project's audit trail, oldest first."""
        with self._read() as conn:
            self._load_row(conn, project_id)
            rows = conn.execute(
                select(audit_t)
                .where(audit_t.c.stream == f"project:{project_id}")
                .order_by(audit_t.c.seq)
            )
            return [audit.row_to_entry(r) for r in rows]

    def verify(self, anchor: Mapping[str, Any] | None = None) -> audit.VerifyReport:
        """Recompute every audit chain and replay what it vouches for (project rows, deadline
        rows); with an ``anchor`` from :meth:`anchor`, also check that the log still extends it.
        ``report.problems`` lists every finding with its stream, project and entry."""
        with self._read() as conn:
            return audit.verify(conn, anchor)

    def anchor(self) -> dict[str, Any]:
        """The current head (seq, hash) of every audit stream and one digest over them, as a
        JSON-able dict to keep outside the database (R15): ``verify(anchor=…)`` then finds a
        chain cut back and its head rewritten."""
        with self._read() as conn:
            return audit.anchor(conn, self._now())

    # -- notices --------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> list[Notice]:
        """Write every notice now due into the outbox, once; returns those this call created."""
        return self._notices.tick(self._at(now))

    def relay(
        self, now: datetime | None = None, *, lease_seconds: int = 300, batch: int = 200
    ) -> RelayReport:
        """Deliver pending notices (lease, retry with backoff, dead letter after the limit).

        A relay that dies holding a lease delays those notices until the lease ends: keep
        ``lease_seconds`` above the slowest batch, and short where restarts are frequent.
        """
        return self._notices.relay(self._at(now), lease_seconds=lease_seconds, batch=batch)

    def health(self, now: datetime | None = None, **thresholds: float) -> dict[str, Any]:
        """The engine's health: oldest due stage waiting, outbox by status, last tick/relay,
        and ``ok``/``problems`` against ``max_tick_age``, ``max_relay_age``, ``max_due_wait``
        (seconds; see :meth:`workflow.notices.NoticeEngine.health`)."""
        return self._notices.health(self._at(now), **thresholds)

    def notices(
        self,
        *,
        project_id: int | None = None,
        status: str | None = None,
        stage: str | None = None,
        limit: int = 1000,
    ) -> list[Notice]:
        return self._notices.notices(project_id=project_id, status=status, stage=stage, limit=limit)

    def notice(self, notice_id: int) -> Notice:
        return self._notices.notice(notice_id)

    def deliveries(self, notice_id: int) -> list[dict[str, Any]]:
        return self._notices.deliveries(notice_id)

    def inbox(
        self,
        person: Person | None = None,
        *,
        org: str | None = None,
        role: str | None = None,
        limit: int = 200,
    ) -> list[Notice]:
        """Notices addressed to a person's organisation and role (or to ``org``/``role``)."""
        if person is not None:
            org, role = person.org, person.role
        if not org or not role:
            raise InvalidInput(
                "收件箱需要单位和角色", "the inbox needs an org and a role", field="org"
            )
        return self._notices.inbox(org, role, limit=limit)

    def resend(self, notice_id: int, *, actor: Actor, at: datetime | None = None) -> Notice:
        _check_actor(actor)
        _require_role(actor, {Role.ADMIN, Role.PURCHASER}, "重发通知 / resend notices")
        return self._notices.resend(notice_id, actor=actor, at=self._record_at(at))

    # -- contractors ----------------------------------------------------------------------------

    def register_contractor(
        self,
        *,
        actor: Actor,
        name: str,
        org_type: str,
        sme: bool = False,
        qualifications: Mapping[str, bool],
        at: datetime | None = None,
    ) -> int:
        """Register a contractor (承接主体) with its R4 qualifications. Returns its id."""
        at = self._record_at(at)
        _check_actor(actor)
        reg = parse_model(
            RegisterContractor,
            {
                "name": name,
                "org_type": org_type,
                "sme": sme,
                "qualifications": qualifications,
            },
            what="登记承接主体 / register_contractor",
        )
        _require_role(actor, {Role.PURCHASER, Role.ADMIN}, "登记承接主体 / register contractors")
        with self._write() as conn:
            cid = _new_id(
                conn.execute(
                    contractor_t.insert().values(
                        name=reg.name,
                        org_type=reg.org_type.value,
                        sme=reg.sme,
                        data={"qualifications": reg.qualifications, "bans": []},
                        version=1,
                        created_at=at,
                    )
                )
            )
            audit.log(
                conn,
                f"contractor:{cid}",
                actor=actor,
                at=at,
                event="register_contractor",
                data=reg.model_dump(mode="json"),
            )
        return cid

    def contractor(self, contractor_id: int) -> ContractorView:
        with self._read() as conn:
            row = conn.execute(
                select(contractor_t).where(contractor_t.c.id == contractor_id)
            ).first()
        if row is None:
            raise ContractorNotFound(
                f"承接主体 {contractor_id} 不存在",
                f"contractor {contractor_id} not found",
                field="contractor_id",
            )
        return ContractorView.of(self._contractor(row), row.version)

    def ban_contractor(
        self,
        contractor_id: int,
        *,
        actor: Actor,
        until: date,
        reason: str,
        at: datetime | None = None,
    ) -> ContractorView:
        """Enter a ban in the contractor's credit record, from ``at``'s date until ``until``
        (R12). A banned contractor cannot be awarded (R4)."""
        at = self._record_at(at)
        _check_actor(actor)
        ban = parse_model(
            BanContractor,
            {"until": until, "reason": reason},
            what="禁入 / ban_contractor",
            rule="R12",
        )
        check_dates(ban, dl.business_date(at))
        _require_role(
            actor,
            {Role.PURCHASER, Role.GOVERNMENT, Role.FINANCE, Role.ADMIN},
            "记录禁入 / ban contractors",
        )
        with self._write() as conn:
            self._write_ban(
                conn,
                contractor_id,
                Ban(from_on=dl.business_date(at), until=ban.until, reason=ban.reason),
                actor,
                at,
            )
        return self.contractor(contractor_id)

    def _write_ban(
        self, conn: Connection, contractor_id: int, ban: Ban, actor: Actor, at: datetime
    ) -> None:
        row = conn.execute(select(contractor_t).where(contractor_t.c.id == contractor_id)).first()
        if row is None:
            raise ContractorNotFound(
                f"承接主体 {contractor_id} 不存在",
                f"contractor {contractor_id} not found",
                field="contractor_id",
            )
        data = dict(row.data)
        data["bans"] = [*data.get("bans", []), ban.model_dump(mode="json")]
        done = conn.execute(
            contractor_t.update()
            .where(contractor_t.c.id == contractor_id, contractor_t.c.version == row.version)
            .values(data=data, version=row.version + 1)
        )
        if done.rowcount != 1:
            raise ConcurrentUpdate()
        audit.log(
            conn,
            f"contractor:{contractor_id}",
            actor=actor,
            at=at,
            event="ban",
            data=ban.model_dump(mode="json"),
        )
