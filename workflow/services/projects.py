"""Projects: 立项, events, reads, and deadlines recomputed when the calendar changes.

Every accepted event is one transaction: the project's new state and data, its deadline rows, and
its audit entries (plus any ban it writes into a contractor's credit record) commit together or
not at all. A malformed call is refused before the database is touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from states import deadlines as dl
from states.calendar import WorkingDayCalendar
from states.enums import ProjectState, Role
from states.errors import ConcurrentUpdate, Forbidden, InvalidInput, WorkflowError
from states.machine import EVENTS, Context, Outcome, Record
from states.machine import available_events as _available
from states.machine import fire as _fire
from states.model import Actor, Contractor, Deadline, Project, Supervisors
from states.payloads import Payload, ProjectPlan, check_dates, parse_model, parse_payload
from states.policy import Policy
from workflow import audit
from workflow.db import Database
from workflow.services.access import check_actor, require_role
from workflow.services.calendar import CalendarService
from workflow.services.contractors import ContractorService
from workflow.services.policies import PolicyRegistry
from workflow.store import calendar as calendar_store
from workflow.store import contractors as contractor_store
from workflow.store import facts as facts_store
from workflow.store import parties
from workflow.store import projects as store
from workflow.views import ProjectView

_LOGGER = logging.getLogger("gpw")

#: ``conn.info`` key: the provenance every audit entry of a project written on that connection
#: carries as ``data["imported"]`` (issue #11: the workbook's SHA-256 and row). Only the import
#: service sets it, around one row's events; no payload can carry it (payloads forbid unknown
#: fields), so neither the web nor the API can forge it
PROVENANCE = "gpw_provenance"


def supervisors_for(plan: ProjectPlan, policy: Policy) -> Supervisors:
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


def check_after_last(row: Any, at: datetime) -> None:
    """A project event is not dated before the project's last audit entry (R15). That entry's
    ``at`` is the row's ``updated_at``: both are written by the same transaction (and ``verify``
    reports a row whose ``updated_at`` is not its last entry's ``at``)."""
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


class ProjectService:
    """Creates projects, fires events on them, reads them."""

    def __init__(
        self,
        db: Database,
        policies: PolicyRegistry,
        calendar: CalendarService,
        contractors: ContractorService,
    ) -> None:
        self._db = db
        self._policies = policies
        self._calendar = calendar
        self._contractors = contractors
        #: called in the transaction of every write, after its rows (disclosure, facts,
        #: subscriptions)
        self._written: list[Callable[..., None]] = []
        calendar.on_year_loaded(self.recompute_deadlines)

    def on_written(self, listener: Callable[..., None]) -> None:
        """Call ``listener(conn, project, records, first_seq, contractors, data, version=, row=)``
        inside the transaction of every write, once its rows are written (``first_seq``:
        ``records[0]``'s seq; ``data``: the project's JSON, when the write had it; ``version``:
        the project's version after the write; ``row``: the project's row as the write read it,
        with the revisions an event reads, None for a creation)."""
        self._written.append(listener)

    # -- writes ---------------------------------------------------------------------------------

    def create(
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
        connection: Connection | None = None,
        assistance_funds: Any = None,
    ) -> int:
        """Draft a purchase plan (立项, R1). Returns the new project's id."""
        at = self._db.record_at(at)
        check_actor(actor)
        plan = parse_model(
            ProjectPlan,
            {
                "title": title,
                "purchaser": purchaser,
                "budget": budget,
                "items": items,
                "supervisors": supervisors,
                "assistance_funds": assistance_funds,
            },
            what="立项 / create_project",
        )
        chosen = self._policies.default if policy is None else self._policies.named(policy)
        require_role(actor, {Role.PURCHASER}, "立项 / create a project")
        if actor.org != plan.purchaser:
            raise Forbidden(
                f"{actor.org or '（未填单位）'} 不能代表 {plan.purchaser} 立项：只能为本单位操作",
                f"{actor.org or '(no organisation)'} may not create a project for "
                f"{plan.purchaser}: an actor acts only for its own organisation",
                field="actor.org",
            )
        bodies = supervisors_for(plan, chosen)
        project = Project(
            title=plan.title,
            purchaser=plan.purchaser,
            policy=chosen.name,
            supervisors=bodies,
            budget=plan.budget,
            items=list(plan.items),
            assistance_funds=plan.assistance_funds,
        )
        with self._db.transaction(connection) as conn:
            pid = store.insert(conn, project, at)
            project.id = pid
            parties.insert(conn, pid, project.purchaser, bodies.model_dump())
            recorded = plan.model_dump(mode="json")
            if plan.assistance_funds is None:  # R18: the entry names the funds only if stated
                del recorded["assistance_funds"]
            rec = Record(
                "create_project",
                actor,
                at,
                ProjectState.DRAFT,
                ProjectState.DRAFT,
                recorded,
            )
            self._write(
                conn,
                project,
                [rec],
                version=1,
                created=True,
                at=at,
                head=(0, audit.GENESIS),
                old_deadlines={},
                policy=chosen,
            )
        return pid

    def fire(
        self,
        project_id: int,
        event: str,
        *,
        actor: Actor,
        at: datetime | None = None,
        expected_version: int | None = None,
        connection: Connection | None = None,
        **data: Any,
    ) -> ProjectView:
        """Fire ``event`` on a project, in one transaction (see ``Workflow.fire``)."""
        #: no ``at`` given: the event happens when it gets the project, after every writer that
        #: held it first (a clock read before the lock would date it before theirs, R15)
        server_time = at is None
        at = self._db.record_at(at)
        check_actor(actor)
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
        with self._db.transaction(connection) as conn:
            row = store.load(conn, project_id, lock=True, with_calendar=True)
            if expected_version is not None and row.version != expected_version:
                raise ConcurrentUpdate(
                    f"项目版本已变为 {row.version}（期望 {expected_version}）",
                    f"the project is at version {row.version}, not {expected_version}",
                    field="expected_version",
                    details={"version": row.version},
                )
            if server_time:
                at = max(self._db.now(), row.updated_at or at)
                check_dates(payload, dl.business_date(at))
            check_after_last(row, at)
            project = store.to_project(row)
            known = self._contractors_for(conn, project, event, payload)
            cid = payload.__dict__.get("contractor_id") or project.contractor_id
            policy = self._policies.named(row.policy)
            other_budgets = Decimal(0)
            if event == "approve" and policy.min_budget_percent_of_assistance_funds is not None:
                # R18: the purchaser's other plans of the year count toward the floor
                other_budgets = facts_store.other_budgets(
                    conn,
                    purchaser=project.purchaser,
                    year=dl.business_date(row.created_at).year,
                    project_id=project_id,
                )
            ctx = Context(
                policy=policy,
                calendar=self._calendar.current(conn, revision=calendar_store.revision_of(row)),
                contractor=known.get(cid) if cid is not None else None,
                contractors=known,
                other_budgets=other_budgets,
            )
            # the deadlines as they were (their fields are plain values: a shallow copy each);
            # the project itself is handed to the machine, which then needs no copy of it
            old_deadlines = {d.key: d.model_copy() for d in project.deadlines}
            try:
                outcome = _fire(project, event, payload, actor=actor, at=at, ctx=ctx, copy=False)
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
            data = outcome.project.to_json()  # stored, and shown in the view returned
            self._save(
                conn,
                row,
                old_deadlines,
                outcome,
                at,
                policy=policy,
                calendar=ctx.calendar,
                data=data,
                contractors=known,
            )
        return ProjectView.of(
            outcome.project,
            version=row.version + 1,
            created_at=row.created_at,
            updated_at=at,
            data=data,
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
        return contractor_store.load_many(conn, ids)

    def _save(
        self,
        conn: Connection,
        row: Any,
        old_deadlines: dict[str, Deadline],
        outcome: Outcome,
        at: datetime,
        *,
        policy: Policy,
        calendar: WorkingDayCalendar | None = None,
        data: dict[str, Any] | None = None,
        contractors: Mapping[int, Contractor] | None = None,
    ) -> None:
        self._write(
            conn,
            outcome.project,
            outcome.records,
            version=row.version,
            created=False,
            at=at,
            head=(row.audit_seq, row.audit_head),
            old_deadlines=old_deadlines,
            policy=policy,
            calendar=calendar,
            data=data,
            contractors=contractors,
            row=row,
        )
        for contractor_id, ban in outcome.bans:
            self._contractors.write_ban(conn, contractor_id, ban, outcome.records[-1].actor, at)
        if outcome.project.contractor_id != row.contractor_id:  # awarded, or moved to the past
            parties.set_contractor(conn, row.id, outcome.project.contractor_name)

    def _write(
        self,
        conn: Connection,
        project: Project,
        records: list[Record],
        *,
        version: int,
        created: bool,
        at: datetime,
        head: tuple[int, str],
        old_deadlines: dict[str, Any],
        policy: Policy,
        calendar: WorkingDayCalendar | None = None,
        data: dict[str, Any] | None = None,
        contractors: Mapping[int, Contractor] | None = None,
        row: Any = None,
    ) -> None:
        provenance = conn.info.get(PROVENANCE)
        if provenance is not None:  # an imported row's entries (issue #11)
            for rec in records:
                rec.data["imported"] = dict(provenance)
        earliest = store.save(
            conn,
            project,
            records,
            version=version,
            created=created,
            at=at,
            now=self._db.now(),
            head=head,
            old_deadlines=old_deadlines,
            policy=policy,
            calendar=self._calendar_in(conn, calendar),
            data=data,
        )
        if earliest is not None:
            self._db.schedule(conn, earliest)
        after = 1 if created else version + 1
        for listener in self._written:
            listener(conn, project, records, head[0] + 1, contractors, data, version=after, row=row)

    def _calendar_in(
        self, conn: Connection, known: WorkingDayCalendar | None
    ) -> Callable[[], WorkingDayCalendar]:
        """The calendar the deadlines are placed on, read only if a deadline changed."""

        def calendar() -> WorkingDayCalendar:
            return known if known is not None else self._calendar.current(conn)

        return calendar

    def recompute_deadlines(
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
        changes: list[dict[str, Any]] = []
        for pid in store.with_open_deadlines(conn, provisional_only=not replace):
            row = store.load(conn, pid, lock=True)
            before = store.to_project(row)
            after = before.model_copy(deep=True)
            moved: list[dict[str, Any]] = []
            for d in after.open_deadlines():
                # suspended and extended deadlines count their changes in working days too
                if d.unit not in ("working_days", "calendar_months") and not d.changes:
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
            self._save(
                conn,
                row,
                {d.key: d for d in before.deadlines},
                outcome,
                at,
                policy=self._policies.named(row.policy),
                calendar=calendar,
            )
            changes.extend({"project_id": pid, **m} for m in moved)
        return changes

    # -- reads ----------------------------------------------------------------------------------

    def get(self, project_id: int, *, connection: Connection | None = None) -> ProjectView:
        """The project's state, version, data, deadlines and payments."""
        with self._db.read(connection) as conn:
            row = store.load(conn, project_id)
        return ProjectView.of(
            store.to_project(row),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def summaries(
        self,
        *,
        state: str | None = None,
        purchaser: str | None = None,
        limit: int = 1000,
        connection: Connection | None = None,
    ) -> list[dict[str, Any]]:
        with self._db.read(connection) as conn:
            return store.summaries(conn, state=state, purchaser=purchaser, limit=limit)

    def available_events(
        self,
        project_id: int,
        actor: Actor,
        at: datetime | None = None,
        *,
        connection: Connection | None = None,
    ) -> list[str]:
        """Events ``actor`` may fire on the project now (state, role and data-free guards)."""
        at = self._db.at(at)
        check_actor(actor)
        with self._db.read(connection) as conn:
            row = store.load(conn, project_id)
            project = store.to_project(row)
            ctx = Context(
                policy=self._policies.named(row.policy), calendar=self._calendar.current(conn)
            )
        return _available(project, actor, ctx, at)

    def history(
        self, project_id: int, *, connection: Connection | None = None
    ) -> list[audit.AuditEntry]:
        """The project's audit trail, oldest first."""
        with self._db.read(connection) as conn:
            return store.history(conn, project_id)
